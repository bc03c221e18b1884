//! The error patterns: an app's own error lines, found in the *message* of a Fly log entry.
//!
//! Fly's log shipper labels every line an app prints `info`; the app's own level is inside
//! the message, written the way its logger writes it. Each pattern below is matched against
//! the message alone (`^` is the message's start), never against the entry's envelope
//! (`"level":"info"`, `meta.Error`, `status_code: 0`).
//!
//! - `level:error`, `level:fatal`, `level:critical`: the level word at the start of the
//!   message, after timestamps, `[tags]`, Ruby's `E,` and ANSI colours (`ERROR …`,
//!   `2024-01-01T10:00:00Z ERROR …`, `[error] …`, `E, [ts #1] ERROR -- …`, Elixir's
//!   `10:00:00.123 [error] …`, `error: …`); logfmt (`level=error`); a JSON message's own
//!   level (`"level":"error"`, `"severity":"ERROR"`, pino/bunyan's `"level":50`, `60`).
//! - `panic`: Rust's `thread '…' panicked at`, Go's `panic: `, `goroutine N [running]:` and
//!   `fatal error: `.
//! - `exception`: Python's `Traceback (most recent call last):`, a message that starts with an
//!   error or exception class (`TypeError: …`, `java.lang.IllegalStateException: …`),
//!   `Uncaught …`, unhandled rejections and exceptions.
//! - `fly:proxy`: Fly's proxy error codes at the start of the message (`[PU02] could not
//!   complete HTTP request to instance`, `[PR03] … instance refused connection`).
//! - `status:5xx`: an HTTP 5xx in an access-log message: after a method and a path
//!   (`GET /x 503 12ms`, `"GET /x HTTP/1.1" 502 0`, `POST /x - 500 (3ms)`), `Sent 500 in`,
//!   `Completed 500`, or a status key (`status=503`, `"status":503`, `"statusCode":500`).
//!
//! Numbers alone never match: `took 503ms`, `id=500123`, `size=5001`, `/api/v1/errors`,
//! `error_count=0`, `"errors":[]`, `no error` are clean.

use crate::logscan::Pattern;

/// The levels matched by default.
pub const DEFAULT_LEVELS: [&str; 3] = ["error", "fatal", "critical"];
/// The statuses matched by default.
pub const DEFAULT_STATUSES: [&str; 1] = ["5xx"];

/// What may come before a level word at the start of a message: timestamps (ISO 8601, Go's
/// `2006/01/02 15:04:05`, a bare time), `[bracketed]` tags, `key=value` metadata (Elixir's
/// `request_id=…`), Ruby Logger's `E,`, ANSI colours; at most six of them.
const LEAD: &str = concat!(
    r"^\s*(?:(?:",
    r"\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?",
    r"|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?",
    r"|\[[^\]]{1,64}\]",
    r"|\w+=[^\s\[]*",
    r"|[DIWEFA],",
    r"|\x1b\[[0-9;]*m",
    r")\s*){0,6}",
);

/// `re` with ASCII classes (`\w`, `\s`, `\b` of ASCII): log prefixes are ASCII, and Unicode
/// classes make the automata many times larger and slower.
fn ascii(re: &str) -> String {
    format!("(?-u){re}")
}

/// The spellings of a level (lowercase), and pino/bunyan's numbers for it.
fn spellings(level: &str) -> (Vec<String>, Option<&'static str>) {
    match level {
        "error" | "err" => (vec!["error".into()], Some("5[0-9]")),
        "fatal" => (vec!["fatal".into()], Some("60")),
        "critical" | "crit" => (vec!["critical".into(), "crit".into()], None),
        "warn" | "warning" => (vec!["warning".into(), "warn".into()], Some("40")),
        other => (vec![other.to_string()], None),
    }
}

/// The pattern of one level (compared without case), named `level:NAME`.
pub fn level_pattern(level: &str) -> Pattern {
    let level = level.trim().to_ascii_lowercase();
    let (words, pino) = spellings(&level);
    let esc: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    let any_case = format!("(?i:{})", esc.join("|"));
    let upper = esc
        .iter()
        .map(|w| w.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("|");
    let mut alts = vec![
        // The word at the start: `ERROR …`, `app.ERROR: …`, `[error]`, `error: …`.
        format!(r"{LEAD}(?:(?:\w+\.)?(?:{upper})\b|\[{any_case}\]|{any_case}:)"),
        // logfmt.
        format!(r#"\b(?:level|lvl|severity)="?{any_case}\b"#),
        // A JSON message's own level.
        format!(r#""(?:level|lvl|severity|levelname|log\.level)"\s*:\s*"{any_case}""#),
    ];
    if let Some(n) = pino {
        alts.push(format!(r#""level"\s*:\s*{n}\b"#));
    }
    Pattern::new(format!("level:{level}"), ascii(&alts.join("|")))
}

/// The crash patterns: `panic`, `exception`, `fly:proxy`.
pub fn crash_patterns() -> Vec<Pattern> {
    vec![
        Pattern::new(
            "panic",
            ascii(
                r"\bpanicked at\b|^\s*panic: |^\s*goroutine [0-9]+ \[running\]:|^\s*fatal error: ",
            ),
        ),
        Pattern::new(
            "exception",
            ascii(concat!(
                r"^\s*Traceback \(most recent call last\):",
                r"|^\s*Uncaught\b",
                r"|\bUnhandled(?:PromiseRejection| promise rejection| rejection| exception)",
                r"|^\s*Exception in thread ",
                r"|^\s*(?:[a-z][\w$]*\.)*(?:[A-Z][\w$]*)?(?:Error|Exception)(?: \[\w+\])?: ",
            )),
        ),
        Pattern::new("fly:proxy", ascii(r"^\s*\[P[A-Z][0-9]{2}\]")),
    ]
}

/// The pattern of an HTTP status entry (`"5xx"` a class, `"503"` one code), named
/// `status:ENTRY`; `None` for an entry that is neither.
pub fn status_pattern(entry: &str) -> Option<Pattern> {
    let s = entry.trim().to_ascii_lowercase();
    let code = if let Some(d) = s.strip_suffix("xx") {
        match d.parse::<u8>() {
            Ok(d @ 1..=5) => format!("{d}[0-9]{{2}}"),
            _ => return None,
        }
    } else if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) && s.as_bytes()[0] != b'0' {
        s.clone()
    } else {
        return None;
    };
    let re = [
        // An access line: method, path, (protocol), (a dash), the status.
        format!(
            r#"\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE) \S+(?: HTTP/[0-9.]+)?"?(?: -)? {code}\b"#
        ),
        // Phoenix's `Sent 500 in 3ms`, Rails' `Completed 500 Internal Server Error`.
        format!(r"\b(?:Sent|Completed) {code}\b"),
        // A status key: logfmt, JSON, `status: 503`.
        format!(
            r#"\b(?:status|status_?code|statusCode|http_status|http\.status_code)"?\s*[=:]\s*"?{code}\b"#
        ),
    ]
    .join("|");
    Some(Pattern::new(format!("status:{s}"), ascii(&re)))
}

/// Patterns for Fly error settings: log `levels` ([`level_pattern`]), the crash patterns when
/// `crashes`, `messages` (regular expressions of one's own, case-insensitive, named
/// `message:RE`) and `statuses` ([`status_pattern`]; invalid entries are skipped).
pub fn fly_error_patterns<L, M, S>(
    levels: &[L],
    crashes: bool,
    messages: &[M],
    statuses: &[S],
) -> Vec<Pattern>
where
    L: AsRef<str>,
    M: AsRef<str>,
    S: AsRef<str>,
{
    let mut out: Vec<Pattern> = levels.iter().map(|l| level_pattern(l.as_ref())).collect();
    if crashes {
        out.extend(crash_patterns());
    }
    for m in messages {
        let m = m.as_ref();
        out.push(Pattern::new(format!("message:{m}"), format!("(?i:{m})")));
    }
    out.extend(statuses.iter().filter_map(|s| status_pattern(s.as_ref())));
    out
}

/// The default error patterns, the same as `[fly.error_patterns]`'s defaults: levels
/// `error`, `fatal`, `critical`; panics, exceptions and Fly proxy errors; HTTP 5xx.
pub fn default_patterns() -> Vec<Pattern> {
    fly_error_patterns(&DEFAULT_LEVELS, true, &[] as &[&str], &DEFAULT_STATUSES)
}
