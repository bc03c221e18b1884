//! Checks a deserialized config for what its types cannot say: time zones that exist,
//! `HH:MM` times, URLs, status codes, unique names, commands that name something to run.
//! Each problem carries the key path it concerns; the loader turns it into a span.

use crate::model::error::Invalid;
use std::collections::BTreeMap;

use crate::model::checklist::Item;
use crate::model::checklist::{
    ActionSpec, CheckSpec, CommandCheck, Condition, HttpCheck, StatusSpec,
};

use crate::model::config::describe::near;

use crate::model::config::model::{App, Config, ItemOverride, VersionSource};

/// Highest `[engine] concurrency` accepted.
pub const MAX_CONCURRENCY: usize = 256;

/// HTTP methods an `http` check may use.
pub const HTTP_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A problem found after deserializing: the key path, what is wrong, what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Issue {
    /// Key path, as `span::parse_path` reads it.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    /// Mark the key rather than its value.
    pub at_key: bool,
    /// Short label next to the mark.
    pub label: &'static str,
}

impl Issue {
    pub(crate) fn value(
        path: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Issue {
            path: path.into(),
            message: message.into(),
            help: Some(help.into()),
            at_key: false,
            label: "here",
        }
    }

    fn labelled(mut self, label: &'static str) -> Self {
        self.label = label;
        self
    }
}

/// Parses a local time written `HH:MM` (24-hour clock, two digits each).
pub fn parse_hhmm(text: &str) -> Result<jiff::civil::Time, Invalid> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 5 || b[2] != b':' || !digits(0..2) || !digits(3..5) {
        return Err(format!("{text:?} is not a time written HH:MM").into());
    }
    let hour = i8::try_from((b[0] - b'0') * 10 + (b[1] - b'0')).unwrap_or(i8::MAX);
    let minute = i8::try_from((b[3] - b'0') * 10 + (b[4] - b'0')).unwrap_or(i8::MAX);
    jiff::civil::Time::new(hour, minute, 0, 0)
        .map_err(|_| format!("{text:?} is not a time of day (00:00 to 23:59)"))
        .map_err(Invalid)
}

/// Checks that `name` is an IANA time zone jiff knows; the error says what to write instead.
pub fn check_timezone(name: &str) -> Result<(), (String, String)> {
    if jiff::tz::TimeZone::get(name).is_ok() {
        return Ok(());
    }
    let db = jiff::tz::db();
    if db.is_definitively_empty() {
        return Err((
            format!("cannot check time zone {name:?}: this machine has no time zone database"),
            "install the tz database (the `tzdata` package) or write \"UTC\"".into(),
        ));
    }
    let names: Vec<String> = db.available().map(|n| n.as_str().to_string()).collect();
    let help = match near(name, names.iter().map(String::as_str)) {
        Some(s) => format!(
            "did you mean {s:?}? write an IANA time zone name, like \"Europe/Berlin\" or \"UTC\""
        ),
        None => {
            "write an IANA time zone name, like \"Europe/Berlin\", \"Africa/Nairobi\" or \"UTC\""
                .into()
        }
    };
    Err((format!("unknown time zone {name:?}"), help))
}

/// Every problem in `config` that deserializing could not catch.
pub(crate) fn validate(config: &Config) -> Vec<Issue> {
    let mut out = Vec::new();
    let p = &config.project;
    if p.name.trim().is_empty() {
        out.push(Issue::value(
            "project.name",
            "the project name is empty",
            "write the project's name, like name = \"maishapoa\"; the deploy lock is per project",
        ));
    }
    timezone(&mut out, "project.timezone", &p.timezone);

    let g = &config.git;
    for (key, value, example) in [
        ("staging", &g.staging, "staging"),
        ("production", &g.production, "production"),
        ("remote", &g.remote, "origin"),
        ("repo", &g.repo, "."),
    ] {
        if value.trim().is_empty() {
            out.push(Issue::value(
                format!("git.{key}"),
                format!("git {key} is empty"),
                format!("write {key} = \"{example}\", or remove the key for that default"),
            ));
        }
    }
    if !g.staging.is_empty() && g.staging == g.production {
        out.push(Issue::value(
            "git.production",
            format!(
                "staging and production are the same branch {:?}",
                g.production
            ),
            "production must be its own branch, like production = \"production\"",
        ));
    }

    window(&mut out, config);

    for (path, message, help) in config.clock.problems() {
        out.push(Issue::value(path, message, help));
    }
    for (path, message, help) in config.team.problems() {
        out.push(Issue::value(path, message, help));
    }

    for (env, e) in &config.environments {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (n, app) in e.apps.iter().enumerate() {
            let at = format!("environments.{}.apps[{n}]", quote_key(env));
            self::app(&mut out, &at, env, app);
            if app.name.trim().is_empty() {
                continue;
            }
            if let Some(first) = seen.get(app.name.as_str()) {
                out.push(
                    Issue::value(
                        format!("{at}.name"),
                        format!(
                            "duplicate app name {:?} in environment {env} (also apps[{first}])",
                            app.name
                        ),
                        "give each app of an environment its own name",
                    )
                    .labelled("duplicate"),
                );
            } else {
                seen.insert(app.name.as_str(), n);
            }
        }
    }

    let c = config.engine.concurrency;
    if c == 0 || c > MAX_CONCURRENCY {
        out.push(Issue::value(
            "engine.concurrency",
            format!("concurrency {c} is out of range"),
            format!(
                "write a number from 1 to {MAX_CONCURRENCY}, like concurrency = 16 (the default)"
            ),
        ));
    }

    for (n, item) in config.checklist.items.iter().enumerate() {
        self::item(&mut out, &format!("checklist.items[{n}]"), item);
    }
    for (id, o) in &config.checklist.overrides {
        override_(
            &mut out,
            &format!("checklist.override.{}", quote_key(id)),
            o,
        );
    }
    crate::model::config::monitor::validate(&mut out, &config.monitor, &config.incident);
    if let Some(d) = &config.database {
        let r = d.max_connections_ratio;
        if !r.is_finite() || r <= 0.0 || r > 1.0 {
            out.push(Issue::value(
                "database.max_connections_ratio",
                format!(
                    "max_connections_ratio {r} is out of range: it is a fraction of max_connections"
                ),
                "a number above 0 and at most 1, like max_connections_ratio = 0.8",
            ));
        }
    }
    if let Some(e) = &config.events {
        crate::model::config::events::validate(&mut out, e);
    }
    if let Some(s) = &config.sentry {
        let w = s.watch_window.get();
        if w < std::time::Duration::from_secs(60) || w > std::time::Duration::from_secs(3600) {
            out.push(Issue::value(
                "sentry.watch_window",
                format!(
                    "watch_window {} is out of range: Sentry counts in one-minute buckets",
                    crate::model::duration::format(w)
                ),
                "a span from 1m to 1h, like watch_window = \"3m\"",
            ));
        }
    }
    out
}

fn quote_key(k: &str) -> String {
    crate::model::config::span::format_path(&[crate::model::config::span::Seg::Key(k.to_string())])
}

fn timezone(out: &mut Vec<Issue>, path: &str, name: &str) {
    if let Err((message, help)) = check_timezone(name) {
        out.push(Issue::value(path, message, help).labelled("unknown time zone"));
    }
}

fn window(out: &mut Vec<Issue>, config: &Config) {
    let w = &config.window;
    if let Some(tz) = &w.timezone {
        timezone(out, "window.timezone", tz);
    }
    if w.days.is_empty() {
        out.push(Issue::value(
            "window.days",
            "no days given",
            "list at least one day, like days = [\"tue\", \"wed\", \"thu\"]",
        ));
    }
    for (n, day) in w.days.iter().enumerate() {
        if let Some(first) = w.days[..n].iter().position(|d| d == day) {
            out.push(
                Issue::value(
                    format!("window.days[{n}]"),
                    format!(
                        "{:?} is listed twice (also days[{first}])",
                        format!("{day:?}").to_lowercase()
                    ),
                    "list each day once",
                )
                .labelled("duplicate"),
            );
        }
    }
    let mut times = Vec::new();
    for (key, text) in [("start", &w.start), ("end", &w.end)] {
        match parse_hhmm(text) {
            Ok(t) => times.push(t),
            Err(e) => out.push(Issue::value(
                format!("window.{key}"),
                e,
                format!(
                    "write a 24-hour time with two digits each, like {key} = \"{}\"",
                    if key == "start" { "10:00" } else { "14:00" }
                ),
            )),
        }
    }
    if let [start, end] = times[..]
        && start >= end
    {
        out.push(Issue::value(
            "window.end",
            format!("the window ends at {} but starts at {}", w.end, w.start),
            "end must be after start on the same day, like start = \"10:00\", end = \"14:00\"",
        ));
    }
}

fn app(out: &mut Vec<Issue>, at: &str, env: &str, app: &App) {
    let example = if app.name.trim().is_empty() {
        "internal-api"
    } else {
        app.name.as_str()
    };
    if app.name.trim().is_empty() {
        out.push(Issue::value(
            format!("{at}.name"),
            "the app name is empty",
            "write the short name the app has in every environment, like name = \"internal-api\"",
        ));
    }
    if let Some(fly) = &app.fly_app
        && fly.trim().is_empty()
    {
        out.push(Issue::value(
            format!("{at}.fly_app"),
            "fly_app is empty",
            format!("write the Fly app's name, like fly_app = \"myproject-{env}-{example}\", or remove the key"),
        ));
    }
    if let Some(region) = &app.region
        && region.trim().is_empty()
    {
        out.push(Issue::value(
            format!("{at}.region"),
            "region is empty",
            "write a Fly region code, like region = \"fra\", or remove the key",
        ));
    }
    if let Some(url) = &app.health_url {
        let host = app.fly_app.as_deref().unwrap_or(example);
        http_url(
            out,
            &format!("{at}.health_url"),
            url,
            &format!("https://{host}.fly.dev/health"),
        );
    }
    if !(100..=599).contains(&app.expect_status) {
        out.push(status_issue(
            &format!("{at}.expect_status"),
            app.expect_status,
        ));
    }
    if let Some(v) = &app.version {
        version_source(out, at, app, v);
    }
    for (n, s) in app.required_secrets.iter().enumerate() {
        if s.trim().is_empty() {
            out.push(Issue::value(
                format!("{at}.required_secrets[{n}]"),
                "empty secret name",
                "write the secret's name, like \"DATABASE_URL\", or remove the entry",
            ));
        }
    }
}

fn version_source(out: &mut Vec<Issue>, at: &str, app: &App, v: &VersionSource) {
    let has = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    for (message, help) in v.problems(has(&app.health_url), app.fly_app.is_some()) {
        out.push(Issue::value(format!("{at}.version"), message, help));
    }
}

fn status_issue(path: &str, status: u16) -> Issue {
    Issue::value(
        path,
        format!("{status} is not an HTTP status code"),
        "write a status from 100 to 599, like expect_status = 200",
    )
}

pub(crate) fn http_url(out: &mut Vec<Issue>, path: &str, url: &str, example: &str) {
    let problem = match reqwest::Url::parse(url) {
        Err(e) => Some(format!("{url:?} is not a URL ({e})")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => Some(format!(
            "{url:?} is not an http or https URL (scheme {:?})",
            u.scheme()
        )),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some(format!("{url:?} has no host")),
        Ok(_) => None,
    };
    if let Some(message) = problem {
        out.push(
            Issue::value(
                path,
                message,
                format!("write a full http(s) URL, like \"{example}\""),
            )
            .labelled("not an http(s) URL"),
        );
    }
}

fn item(out: &mut Vec<Issue>, at: &str, item: &Item) {
    if item.title.trim().is_empty() {
        out.push(Issue::value(
            format!("{at}.title"),
            "the title is empty",
            "write what a person reads on the checklist, like title = \"Login flow answers\"",
        ));
    }
    if let Some(check) = &item.check {
        check_spec(out, &format!("{at}.check"), check);
    }
    if let Some(ActionSpec::Command(cmd)) = &item.action {
        command(out, &format!("{at}.action"), cmd);
    }
    if let Some(w) = &item.when {
        condition(out, &format!("{at}.when"), w);
    }
}

fn override_(out: &mut Vec<Issue>, at: &str, o: &ItemOverride) {
    if let Some(t) = &o.title
        && t.trim().is_empty()
    {
        out.push(Issue::value(
            format!("{at}.title"),
            "the title is empty",
            "write the new title, or remove the key to keep the built-in one",
        ));
    }
    if let Some(check) = &o.check {
        check_spec(out, &format!("{at}.check"), check);
    }
    if let Some(w) = &o.when {
        condition(out, &format!("{at}.when"), w);
    }
}

fn check_spec(out: &mut Vec<Issue>, at: &str, spec: &CheckSpec) {
    match spec {
        CheckSpec::Http(h) => http(out, at, h),
        CheckSpec::Command(c) => command(out, at, c),
        CheckSpec::Health(h) if h.env.trim().is_empty() => out.push(Issue::value(
            format!("{at}.env"),
            "the environment is empty",
            "write an environment under [environments], like env = \"staging\"",
        )),
        CheckSpec::Loadtest(l) => {
            for (key, problem, help) in crate::model::loadtest::problems(l) {
                out.push(Issue::value(format!("{at}.{key}"), problem, help));
            }
        }
        CheckSpec::Rerun(r) if r.items.is_empty() => out.push(Issue::value(
            format!("{at}.items"),
            "rerun names no items",
            "list the item ids whose checks run again, like items = [\"prepare.tests\"]",
        )),
        _ => {}
    }
}

fn http(out: &mut Vec<Issue>, at: &str, h: &HttpCheck) {
    http_url(
        out,
        &format!("{at}.url"),
        &h.url,
        "https://example.com/health",
    );
    if !HTTP_METHODS.contains(&h.method.as_str()) {
        let upper = h.method.to_ascii_uppercase();
        let help = if HTTP_METHODS.contains(&upper.as_str()) {
            format!("write it in capitals: method = {upper:?}")
        } else {
            match near(&upper, HTTP_METHODS.into_iter()) {
                Some(s) => format!("did you mean {s:?}? methods: {}", HTTP_METHODS.join(", ")),
                None => format!("write one of {}", HTTP_METHODS.join(", ")),
            }
        };
        out.push(
            Issue::value(
                format!("{at}.method"),
                format!("unknown HTTP method {:?}", h.method),
                help,
            )
            .labelled("unknown method"),
        );
    }
    match &h.expect_status {
        StatusSpec::One(s) if !(100..=599).contains(s) => {
            out.push(status_issue(&format!("{at}.expect_status"), *s));
        }
        StatusSpec::Any(list) if list.is_empty() => out.push(Issue::value(
            format!("{at}.expect_status"),
            "the list of expected statuses is empty",
            "write one status like expect_status = 200, or a list like [200, 204]",
        )),
        StatusSpec::Any(list) => {
            for (n, s) in list.iter().enumerate() {
                if !(100..=599).contains(s) {
                    out.push(status_issue(&format!("{at}.expect_status[{n}]"), *s));
                }
            }
        }
        StatusSpec::One(_) => {}
    }
    match (&h.json_pointer, &h.json_equals) {
        (Some(p), _) if !p.is_empty() && !p.starts_with('/') => out.push(Issue::value(
            format!("{at}.json_pointer"),
            format!("{p:?} is not a JSON pointer"),
            "a JSON pointer starts with \"/\", like json_pointer = \"/status\"",
        )),
        (Some(_), None) => out.push(Issue::value(
            format!("{at}.json_pointer"),
            "json_pointer without json_equals",
            "add the value it must equal, like json_equals = \"ok\"",
        )),
        (None, Some(_)) => out.push(Issue::value(
            format!("{at}.json_equals"),
            "json_equals without json_pointer",
            "add where to look in the body, like json_pointer = \"/status\"",
        )),
        _ => {}
    }
}

fn command(out: &mut Vec<Issue>, at: &str, c: &CommandCheck) {
    let example =
        "argv = [\"pnpm\", \"test\"] (run directly) or shell = \"pnpm test && pnpm lint\"";
    match (c.argv.is_empty(), &c.shell) {
        (true, None) => out.push(Issue::value(
            at,
            "a command needs `argv` or `shell`; it has neither",
            format!("write {example}"),
        )),
        (false, Some(_)) => out.push(Issue::value(
            format!("{at}.shell"),
            "a command takes `argv` or `shell`, not both",
            "keep one: argv runs the program directly, shell runs the line with sh -c",
        )),
        (true, Some(s)) if s.trim().is_empty() => out.push(Issue::value(
            format!("{at}.shell"),
            "the shell line is empty",
            format!("write {example}"),
        )),
        (false, None) if c.argv[0].trim().is_empty() => out.push(Issue::value(
            format!("{at}.argv[0]"),
            "the program name is empty",
            "argv starts with the program, like argv = [\"pnpm\", \"test\"]",
        )),
        _ => {}
    }
}

fn condition(out: &mut Vec<Issue>, at: &str, w: &Condition) {
    for (n, glob) in w.paths_changed.iter().enumerate() {
        if let Err(e) = globset::Glob::new(glob) {
            out.push(Issue::value(
                format!("{at}.paths_changed[{n}]"),
                format!("invalid glob {glob:?}: {}", e.kind()),
                "write a glob like \"src/auth/**\" or \"migrations/*.sql\"",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhmm_parses_only_hhmm() {
        assert_eq!(
            parse_hhmm("09:30").map(|t| (t.hour(), t.minute())),
            Ok((9, 30))
        );
        for bad in [
            "9:30", "0930", "24:00", "12:60", "ab:cd", "", "12:00:00", "１2:00",
        ] {
            assert!(parse_hhmm(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timezones_are_looked_up() {
        assert!(check_timezone("UTC").is_ok());
        let (message, help) = check_timezone("Mars/Olympus").unwrap_err();
        assert!(message.contains("Mars/Olympus"), "{message}");
        assert!(!help.is_empty());
    }
}
