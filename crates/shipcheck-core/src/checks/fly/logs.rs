//! `fly.logs` (`verify.logs-clean`): each app's logs since its newest release, read once the
//! first `[fly] logs_window` after that release is over, scanned for `[fly.error_patterns]`.
//!
//! The patterns are matched against each entry's **message** only: Fly labels every line an
//! app prints `info`, so the app's own `ERROR`, `level=error`, `"level":"error"`, panic or
//! 5xx is in the message, and the envelope (`level`, `meta.Error`, `status_code: 0`) says
//! nothing about the app. Fly's own proxy errors are found by their codes in the message.
//!
//! `flyctl logs --no-tail` returns the latest batch of lines and does not exit while there
//! are none, so the call is cut at `[fly] timeout`: lines printed until then are scanned and
//! the evidence says the read was partial; no line at all is an `error` (no data is never a
//! pass).

use crate::model::error::Invalid;
use serde_json::{Value, json};

use crate::checks::fly::FlyApps;
use crate::checks::fly::{AppResult, combine, fly_apps, with};
use crate::checks::join_all;
use crate::clients::fly::{Fly, LogEntry};
use crate::logscan::{ScanOptions, ScanReport, Scanner, fly_error_patterns};
use crate::model::checklist::FlyLogsCheck;
use crate::model::config::{ErrorPatterns, FlyConfig};
use crate::model::outcome::{Outcome, Status};

/// `[fly.error_patterns]`, compiled into the log scanner ([`crate::logscan`]) and matched
/// against each entry's message.
#[derive(Clone, Debug)]
pub struct LogMatcher {
    scanner: Scanner,
}

impl LogMatcher {
    /// Compiles the patterns; the error names the one that is not valid.
    pub fn new(p: &ErrorPatterns) -> Result<LogMatcher, Invalid> {
        for m in &p.messages {
            regex::RegexBuilder::new(m)
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("[fly.error_patterns] messages: {m:?} is not a valid regular expression: {e}"))?;
        }
        for s in &p.status_codes {
            parse_status(s).ok_or_else(|| format!("[fly.error_patterns] status_codes: {s:?} is neither a status (\"503\") nor a class (\"5xx\")"))?;
        }
        let patterns = fly_error_patterns(&p.levels, p.crashes, &p.messages, &p.status_codes);
        if patterns.is_empty() {
            return Err("[fly.error_patterns]: no levels, crashes, messages or status_codes: nothing would count as an error".into());
        }
        let scanner = Scanner::with_options(
            patterns,
            ScanOptions {
                keep_first: 10,
                ..ScanOptions::default()
            },
        )
        .map_err(|e| format!("[fly.error_patterns]: {e}"))?;
        Ok(LogMatcher { scanner })
    }

    /// Scans entries' messages: counts per pattern, the first matches (numbered from 1 in
    /// the order given).
    pub fn scan<'a>(&self, entries: impl IntoIterator<Item = &'a LogEntry>) -> ScanReport {
        self.scanner
            .scan_messages(entries.into_iter().map(|e| e.message.as_bytes()))
    }

    /// Why `entry` is an error line, if it is (the names of the patterns its message matches).
    pub fn matches(&self, entry: &LogEntry) -> Option<String> {
        let report = self.scan([entry]);
        report.first.first().map(|m| m.patterns.join(", "))
    }
}

/// At most this many characters of a message in the evidence.
const MAX_MESSAGE_CHARS: usize = 500;

fn bounded(message: &str) -> String {
    let mut s: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    if message.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        s.push('…');
    }
    s
}

fn parse_status(s: &str) -> Option<(u16, u16)> {
    let s = s.trim().to_ascii_lowercase();
    if let Some(d) = s.strip_suffix("xx") {
        let d: u16 = d.parse().ok().filter(|d| (1..=5).contains(d))?;
        return Some((d * 100, d * 100 + 99));
    }
    let n: u16 = s.parse().ok().filter(|n| (100..=599).contains(n))?;
    Some((n, n))
}

/// `fly.logs`.
pub async fn logs(spec: &FlyLogsCheck, flyapps: &FlyApps<'_>, fly_cfg: &FlyConfig) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let matcher = match LogMatcher::new(&fly_cfg.error_patterns) {
        Ok(m) => m,
        Err(e) => return Outcome::error(e, Value::Null),
    };
    let fly = &flyapps.fly;
    let max_lines = spec.max_lines.unwrap_or(5);
    let futs = apps.iter().map(|(app, fly_app)| {
        logs_app(
            flyapps, fly_cfg, fly, &matcher, &app.name, fly_app, max_lines,
        )
    });
    let results = join_all(futs.collect()).await;
    let mut extra = serde_json::Map::new();
    extra.insert("window".into(), json!(fly_cfg.logs_window));
    combine(
        flyapps,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("no error lines since the deploy: {}", parts.join(", "))
        },
        extra,
    )
}

async fn logs_app(
    flyapps: &FlyApps<'_>,
    fly_cfg: &FlyConfig,
    fly: &Fly,
    matcher: &LogMatcher,
    name: &str,
    fly_app: &str,
    max_lines: usize,
) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app });
    let err = |base: Value, e: String| {
        AppResult::new(Status::Error, e.clone(), with(base, "error", json!(e)))
    };
    let releases = match fly.releases(fly_app).await {
        Ok(r) => r,
        Err(e) => return err(base, e.to_string()),
    };
    let Some((release, since)) = releases.first().and_then(|r| Some((r, r.created()?))) else {
        return err(
            base,
            format!("{fly_app}: no release with a readable time; cannot tell when the deploy was"),
        );
    };
    let window_end = crate::model::clock::add(since, fly_cfg.logs_window.get());
    let base = with(
        with(base, "release", json!(release.version)),
        "since",
        json!(since.to_string()),
    );
    // The seed's "first 5 minutes": wait until they are over before reading.
    if let Ok(left) = std::time::Duration::try_from(window_end.duration_since(flyapps.clock.now()))
        && !left.is_zero()
    {
        flyapps.clock.sleep(left).await;
    }
    let logs = match fly.logs(fly_app).await {
        Ok(l) => l,
        Err(e) => return err(base, e.to_string()),
    };
    let base = with(
        with(base, "lines_read", json!(logs.entries.len())),
        "partial",
        json!(logs.partial),
    );
    if logs.entries.is_empty() {
        return err(
            base,
            format!(
                "{fly_app}: flyctl logs printed no line within {} (it does not exit while there are none)",
                fly_cfg.timeout
            ),
        );
    }
    // Lines without a readable time are scanned too: better a false alarm than a missed error.
    let scanned: Vec<&LogEntry> = logs
        .entries
        .iter()
        .filter(|e| e.at().is_none_or(|t| t >= since))
        .collect();
    if scanned.is_empty() {
        let newest = logs.entries.iter().filter_map(|e| e.at()).max();
        return err(
            base,
            format!(
                "{fly_app}: none of the {} lines flyctl returned is from after the deploy at {since} (newest {})",
                logs.entries.len(),
                newest
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "unknown".into())
            ),
        );
    }
    let report = matcher.scan(scanned.iter().copied());
    // Each kept match is an index into `scanned` (lines are numbered from 1).
    let hits: Vec<(&LogEntry, String)> = report
        .first
        .iter()
        .filter_map(|m| {
            let e = scanned.get(usize::try_from(m.line).ok()?.checked_sub(1)?)?;
            Some((*e, m.patterns.join(", ")))
        })
        .collect();
    let total_hits = usize::try_from(report.matched_lines).unwrap_or(usize::MAX);
    let first: Vec<Value> = hits
        .iter()
        .take(max_lines)
        .map(|(e, why)| json!({ "timestamp": e.timestamp, "level": e.level, "instance": e.instance, "message": bounded(&e.message), "why": why }))
        .collect();
    let counts: serde_json::Map<String, Value> = report
        .patterns
        .iter()
        .map(|p| (p.name.clone(), json!(p.lines)))
        .collect();
    let evidence = with(
        with(
            with(base, "scanned", json!(scanned.len())),
            "errors",
            json!(total_hits),
        ),
        "first_errors",
        Value::Array(first),
    );
    let evidence = with(evidence, "by_pattern", Value::Object(counts));
    let partial = if logs.partial {
        ", read cut at the timeout"
    } else {
        ""
    };
    if total_hits == 0 {
        AppResult::new(
            Status::Pass,
            format!("{name} {} lines{partial}", scanned.len()),
            evidence,
        )
    } else {
        let first = hits
            .first()
            .map(|(e, why)| {
                format!(
                    "; first ({why}): {}",
                    e.message.chars().take(160).collect::<String>()
                )
            })
            .unwrap_or_default();
        AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: {total_hits} error line(s) of {} since the deploy{partial}{first}",
                scanned.len(),
            ),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(level: &str, message: &str, status: u16) -> LogEntry {
        LogEntry {
            level: level.into(),
            message: message.into(),
            meta: json!({ "HTTP": { "Response": { "status_code": status } } }),
            ..LogEntry::default()
        }
    }

    #[test]
    fn default_patterns() {
        let m = LogMatcher::new(&ErrorPatterns::default()).unwrap();
        assert!(m.matches(&entry("info", "GET / 200", 200)).is_none());
        // The envelope's level and status are not the app's.
        assert!(m.matches(&entry("error", "boom", 503)).is_none());
        assert_eq!(
            m.matches(&entry("info", "ERROR boom", 0)).as_deref(),
            Some("level:error")
        );
        assert_eq!(
            m.matches(&entry(
                "info",
                "thread 'main' panicked at src/main.rs:2:5:",
                0
            ))
            .as_deref(),
            Some("panic")
        );
        assert_eq!(
            m.matches(&entry("info", "GET /x 502 3ms", 0)).as_deref(),
            Some("status:5xx")
        );
        assert!(m.matches(&entry("info", "GET /x 404 3ms", 0)).is_none());
        assert!(
            m.matches(&entry("info", "took 503ms id=500123", 0))
                .is_none()
        );
    }

    #[test]
    fn nothing_to_match_is_refused() {
        let p = ErrorPatterns {
            levels: vec![],
            crashes: false,
            messages: vec![],
            status_codes: vec![],
        };
        assert!(
            LogMatcher::new(&p)
                .unwrap_err()
                .contains("nothing would count")
        );
    }

    #[test]
    fn bad_patterns_are_named() {
        let p = ErrorPatterns {
            status_codes: vec!["6xx".into()],
            ..ErrorPatterns::default()
        };
        assert!(LogMatcher::new(&p).unwrap_err().contains("6xx"));
        let p = ErrorPatterns {
            messages: vec!["(".into()],
            ..ErrorPatterns::default()
        };
        assert!(
            LogMatcher::new(&p)
                .unwrap_err()
                .contains("regular expression")
        );
        assert_eq!(parse_status("503"), Some((503, 503)));
    }
}
