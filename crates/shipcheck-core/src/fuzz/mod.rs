//! The bodies of the fuzz targets (`fuzz/` at the repository root, `docs/fuzzing.md`): each
//! takes arbitrary bytes, feeds them to one family of readers the way shipcheck would, and
//! touches what those readers return. None of them may panic on any input; that is the
//! whole contract, and the fuzzer checks it.
//!
//! They live here, not in the fuzz crate, so that the normal test suite runs every one of
//! them on its seed corpus (`seeds_tests.rs`) without the nightly toolchain.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::checks::window::Window;
use crate::clients::{api, api_error, fly, github, prometheus, sentry, slack};
use crate::logscan::{Pattern, ScanOptions, Scanner};
use crate::model::config::{self, WindowConfig, discover};
use crate::model::duration;

/// A target: its name (the fuzz crate's binary) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name: the fuzz crate's binaries and the seed test use this list.
pub const TARGETS: &[Target] = &[
    ("config", config),
    ("flytoml", flytoml),
    ("fly_json", fly_json),
    ("fly_logs", fly_logs),
    ("github", github),
    ("sentry", sentry),
    ("prometheus", prometheus),
    ("slack", slack),
    ("logscan", logscan),
    ("duration", duration),
    ("window", window),
    ("journal", journal),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// `shipcheck.toml`: the loader (syntax, deserializing with every problem located), the
/// validator and the checklist it resolves, and the error renderer.
pub fn config(data: &[u8]) {
    let source = text(data);
    match config::load_str(Path::new("shipcheck.toml"), &source) {
        Ok(loaded) => {
            // What the checks then build from a config that loaded: the deploy window and
            // the log scanner of `[fly] error_patterns` (its regexes are the user's).
            let c = &loaded.config;
            let zone = c.window.timezone.as_deref().unwrap_or(&c.project.timezone);
            if let Ok(w) = Window::parse(&c.window, zone) {
                let _ = w.describe();
            }
            let p = &c.fly.error_patterns;
            let patterns = crate::logscan::fly_error_patterns(
                &p.levels,
                p.crashes,
                &p.messages,
                &p.status_codes,
            );
            if let Ok(s) = Scanner::new(patterns) {
                let _ = s.scan_bytes(b"2026-01-01T00:00:00Z app[1] fra [error] boom 503\n");
            }
            let _ = loaded.checklist.ids().count();
        }
        Err(e) => {
            let rendered = e.render();
            assert!(!rendered.is_empty(), "a config error renders as nothing");
            let _ = e.to_string();
            for p in e.problems() {
                let _ = p.to_string();
            }
        }
    }
}

/// Fly config files as `shipcheck init` finds them: the same text as a repository's only
/// `fly.toml`, and as a production/staging pair, then init's plan and the file it writes.
pub fn flytoml(data: &[u8]) {
    let source = text(data).into_owned();
    let answers = discover::Answers::default();
    let single = vec![(PathBuf::from("fly.toml"), source.clone())];
    let pair = vec![
        (PathBuf::from("fly.production.toml"), source.clone()),
        (PathBuf::from("apps/web/fly-staging.yml"), source),
    ];
    for files in [single, pair] {
        let d = discover::discover_texts(&files, &answers);
        let plan = config::plan(&d, &config::FlyRegions::default());
        let _ = config::init_template_from("UTC", "fuzz", &d, &plan);
        for f in &d.files {
            let _ = f.file_name();
        }
    }
}

/// Every flyctl `--json` reader: `status`, `machines list`, `releases`, `secrets list` and
/// `config show`, with the accessors the checks call on what they read.
pub fn fly_json(data: &[u8]) {
    let source = text(data);
    let machines = |ms: &[fly::Machine]| {
        for m in ms {
            let _ = (m.release_version(), m.process_group(), m.is_special_group());
            let _ = (m.is_detached(), m.standby_for(), m.autostop().idles());
            let _ = (m.has_services(), m.image(), m.image_tag(), m.is_active());
            let _ = (m.failing_checks(), m.since());
            let _ = (m.state.kind(), m.state.wedged_after(), m.state.as_str());
            for e in &m.events {
                let _ = e.at();
            }
        }
    };
    if let Ok(s) = fly::parse_json::<Option<fly::AppStatus>>("status", &source) {
        machines(&s.unwrap_or_default().machines);
    }
    if let Ok(Some(ms)) = fly::parse_json::<Option<Vec<fly::Machine>>>("machines", &source) {
        machines(&ms);
    }
    if let Ok(Some(rs)) = fly::parse_json::<Option<Vec<fly::Release>>>("releases", &source) {
        for r in &rs {
            let _ = (r.is_complete(), r.is_in_flight(), r.is_known_status());
            let _ = (r.created(), fly::image_tag(&r.image_ref));
        }
    }
    if let Ok(Some(ss)) = fly::parse_json::<Option<Vec<fly::Secret>>>("secrets", &source) {
        for s in &ss {
            if let Some(st) = &s.status {
                let _ = (st.as_str(), st.is_pending());
            }
        }
    }
    if let Ok(raw) = fly::parse_json::<serde_json::Value>("config", &source) {
        let _ = fly::AppConfig::from_json(raw);
    }
    let _ = fly::snippet(&source);
}

/// `flyctl logs --json`: a stream of indented objects, possibly cut mid-object; what was
/// read goes through the log scanner as the `fly.logs` check sends it.
pub fn fly_logs(data: &[u8]) {
    let source = text(data);
    let (entries, err) = fly::parse_log_stream(&source);
    if let Some(e) = err {
        let _ = e.message.len();
    }
    for e in &entries {
        let _ = (e.status_code(), e.at());
    }
    if let Some(scanner) = default_scanner() {
        let report = scanner.scan_messages(entries.iter().map(|e| e.message.as_bytes()));
        let _ = report.count("crash");
    }
}

/// The GitHub answers: every list the client pages through (as an array and as an object's
/// array), one run, the pending deployments, the combined status and a commit.
pub fn github(data: &[u8]) {
    let body = text(data);
    let _ = github::read_page::<github::PullRequest>(&body, None);
    let _ = github::read_page::<github::Review>(&body, None);
    let _ = github::read_page::<github::Deployment>(&body, None);
    let _ = github::read_page::<github::CheckRun>(&body, Some("check_runs"));
    let _ = github::read_page::<github::Job>(&body, Some("jobs"));
    if let Ok(runs) = github::read_page::<github::WorkflowRun>(&body, Some("workflow_runs")) {
        runs.iter().for_each(workflow_run);
    }
    if let Ok(run) = api::read_json::<github::WorkflowRun>(&body) {
        workflow_run(&run);
    }
    if let Ok(pending) = api::read_json::<Vec<github::PendingDeployment>>(&body) {
        for p in &pending {
            let _ = (p.timer_ends_at(), p.who_can_approve());
            for r in &p.reviewers {
                let _ = (r.name(), r.describe());
            }
        }
    }
    let _ = api::read_json::<github::CombinedStatus>(&body);
    let _ = github::read_commit_sha(&body);
    error_readers(&body);
}

fn workflow_run(r: &github::WorkflowRun) {
    let _ = (r.state(), r.workflow_file(), r.label(), r.started_by());
    let _ = (
        r.is_of("deploy.yml"),
        r.is_of(".github/workflows/deploy.yml"),
        r.is_of("7"),
    );
}

/// The Sentry answers: a project, an error-count time series (in minutes, hours and days),
/// a page of issues, and deploys.
pub fn sentry(data: &[u8]) {
    let body = text(data);
    let _ = sentry::read_project_id(&body);
    for interval in [1, 5, 60, 1440] {
        if let Ok(c) = sentry::read_error_count(&body, interval) {
            let _ = (c.minutes(), c.per_minute());
        }
    }
    let _ = sentry::read_issues(&body);
    let _ = api::read_json::<Vec<sentry::Deploy>>(&body);
    let _ = api::read_json::<sentry::Deploy>(&body);
    error_readers(&body);
}

/// The Prometheus (and VictoriaMetrics) instant-query answer, and sample values.
pub fn prometheus(data: &[u8]) {
    let body = text(data);
    let _ = prometheus::read_query(&body);
    let _ = prometheus::parse_value(body.trim());
    error_readers(&body);
}

/// The Slack webhook's answer (`ok` or a plain-text code) and the error readers every
/// service's failures go through, and the CDEvents sink's answers (`sink::judge`).
pub fn slack(data: &[u8]) {
    let body = text(data);
    let _ = slack::read_answer(&body);
    // The CDEvents sink's answers are judged by the same error readers.
    for status in [200, 202, 302, 400, 429, 503] {
        let _ = crate::clients::sink::judge(status, &body, None, Some(&body));
    }
    error_readers(&body);
}

/// What an error answer is summarised to: the service's message, an HTML page's title.
fn error_readers(body: &str) {
    let _ = api_error::api_message(body);
    if api_error::looks_html(body) {
        let _ = (api_error::html_summary(body), api_error::html_title(body));
    }
}

/// The built-in patterns, compiled once (they always compile; a unit test says so).
fn default_scanner() -> Option<&'static Scanner> {
    static SCANNER: OnceLock<Option<Scanner>> = OnceLock::new();
    SCANNER
        .get_or_init(|| Scanner::new(crate::logscan::default_patterns()).ok())
        .as_ref()
}

/// The log scanner: the built-in patterns over the bytes as a log (read in chunks, and line
/// by line); and the first line, when short, as a pattern of the user's over the rest.
pub fn logscan(data: &[u8]) {
    if let Some(scanner) = default_scanner() {
        let _ = scanner.scan_bytes(data).count("crash");
        let _ = scanner
            .scan_lines(data.split(|b| *b == b'\n'))
            .matched_lines;
    }
    let (first, rest) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if first.len() <= 64 {
        let regex = text(first).into_owned();
        let opts = ScanOptions {
            keep_first: 3,
            max_kept_line: 40,
            whole_line: first.first().is_some_and(|b| b % 2 == 1),
            // The smallest buffer, so that a long input exercises lines longer than it.
            buffer_size: 64 * 1024,
            ..ScanOptions::default()
        };
        if let Ok(s) = Scanner::with_options([Pattern::new("fuzz", regex)], opts) {
            let _ = s.scan_bytes(rest);
        }
    }
}

/// Durations as written in the config and on the command line; a parsed one formats to text
/// that parses again.
pub fn duration(data: &[u8]) {
    let source = text(data);
    if let Ok(d) = duration::parse(&source) {
        let shown = duration::format(d);
        assert!(
            duration::parse(&shown).is_ok(),
            "{source:?} parsed to {d:?}, shown as {shown:?}, which does not parse"
        );
    }
}

/// The deploy window: `[window]` as TOML (its days, start, end and zone) and an instant from
/// the first 8 bytes; where the window is, and when it next opens.
pub fn window(data: &[u8]) {
    let (head, rest) = data.split_at(data.len().min(8));
    let mut secs = [0u8; 8];
    secs[..head.len()].copy_from_slice(head);
    let secs = i64::from_le_bytes(secs);
    let Ok(at) = jiff::Timestamp::from_second(secs.rem_euclid(jiff::Timestamp::MAX.as_second()))
    else {
        return;
    };
    let Ok(cfg) = toml::from_str::<WindowConfig>(&text(rest)) else {
        return;
    };
    let zone = cfg.timezone.clone().unwrap_or_else(|| "UTC".into());
    if let Ok(w) = Window::parse(&cfg, &zone) {
        let _ = (
            w.describe(),
            w.containing(at),
            w.next_opening(at),
            w.local(at),
        );
    }
}

/// A run's journal as the store holds it, one event's JSON a line — whoever can write the
/// store can write anything there: each line read as an event the way the store reads one,
/// chained, folded (whole, and as a fold of the first half extended by the rest), and every
/// report, the success criteria, the markers, the DORA figures, the watch's summary and the
/// CDEvents derived from what folded. `verify`, `status`, `report` and the team's page do no more.
pub fn journal(data: &[u8]) {
    use crate::journal::state::RunState;
    use crate::model::event::{Event, GENESIS_HASH, StoredEvent, chain_hash};
    use crate::report::{self, Format};

    let text = text(data);
    let run_id = "01a24cb7-1670-704b-8afc-425c1dfa07e5";
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut prev = GENESIS_HASH.to_string();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            continue;
        };
        let seq = i64::try_from(events.len()).unwrap_or(i64::MAX - 1) + 1;
        // Times mostly forward, sometimes back an hour (a clock that jumped).
        let back = if line.len() % 5 == 0 { 3_600 } else { 0 };
        let Ok(at) = jiff::Timestamp::from_second(1_765_000_000 + seq * 37 - back) else {
            continue;
        };
        let hash = chain_hash(&prev, run_id, seq, &at.to_string(), line);
        events.push(StoredEvent {
            run_id: run_id.into(),
            seq,
            at,
            event,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    let Ok(run) = RunState::fold(&events) else {
        return;
    };
    for format in [Format::Markdown, Format::Json, Format::Junit] {
        let _ = report::render(&run, format, "Africa/Nairobi");
    }
    let _ = report::watch::markdown(&run, "UTC");
    let _ = (
        report::criteria::evaluate(&run),
        report::markers::markers(&run),
        report::watch::summary(&run),
        report::watch::verdict_line(&run),
        report::dora::compute([&run]),
    );
    let ctx = report::cdevents::Context {
        source: "/shipcheck/maishapoa/production".into(),
        apps: vec![(
            "internal-api".into(),
            Some("maishapoa-production-internal-api".into()),
        )],
        run_url: None,
    };
    let _ = report::cdevents::derive(run_id, &events, &ctx);
    // Folded in two steps, the way the team's page catches up: the same state.
    let half = events.len() / 2;
    if let Ok(mut first) = RunState::fold(&events[..half])
        && first.extend(&events[half..]).is_ok()
    {
        assert_eq!(
            first.event_count, run.event_count,
            "a fold extended by the rest differs from the whole fold"
        );
    }
}

#[cfg(test)]
mod seeds_tests;
#[cfg(test)]
mod smoke_tests;
