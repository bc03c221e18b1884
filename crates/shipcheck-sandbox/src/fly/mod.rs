//! A stand-in for `flyctl`: it answers the commands shipcheck uses from a state directory,
//! printing Fly's documented JSON shapes (`reference/external-apis.md` §1: 4-space
//! indented, PascalCase and snake_case keys where flyctl has them), executes
//! `deploy --image` and `scale count` against that state, and appends every invocation to
//! `invocations.jsonl` in the directory.
//!
//! The state directory is given as `--state DIR` before the flyctl arguments, or in
//! `SHIPCHECK_SANDBOX_FLY_STATE`. Commands: `status`, `releases` (`apps releases`),
//! `secrets list`, `machines list`, `logs`, `config show`, `deploy`, `scale count`, plus
//! `info` (deprecated, as in flyctl) and `version`. Like flyctl, `releases rollback` does
//! not exist, `scale count` refuses to run without `--yes`, and `logs --no-tail` never
//! returns while the app has no log lines.

mod logs;
mod read;
pub mod state;
mod world;
mod write;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use state::{
    AppState, CheckState, ClockSpec, Faults, FlyState, LogLine, MachineState, ReleaseState,
    SecretState, SecretsShape, StateLock,
};
pub use world::FlyWorld;

/// The environment variable naming the state directory (when `--state` is not given).
pub const STATE_ENV: &str = "SHIPCHECK_SANDBOX_FLY_STATE";

/// What one command answers.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    /// After printing, never return (until killed, or `hang_seconds`).
    pub hang: bool,
}

impl Reply {
    pub fn out(stdout: String) -> Reply {
        Reply {
            stdout,
            ..Reply::default()
        }
    }
    pub fn error(message: impl std::fmt::Display) -> Reply {
        Reply {
            stderr: format!("Error: {message}\n"),
            code: 1,
            ..Reply::default()
        }
    }
}

/// A parsed command line.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Canonical command: `status`, `releases`, `secrets`, `machines`, `logs`, `config`,
    /// `deploy`, `scale`, `info`, `version`.
    pub command: &'static str,
    /// Long flag name → value (`"true"` for booleans).
    pub flags: BTreeMap<String, String>,
    /// Arguments after the command words.
    pub positional: Vec<String>,
}

impl Parsed {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }
    pub fn has(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }
}

const COMMANDS: &[(&[&str], &str)] = &[
    (&["status"], "status"),
    (&["releases"], "releases"),
    (&["apps", "releases"], "releases"),
    (&["secrets", "list"], "secrets"),
    (&["secrets", "ls"], "secrets"),
    (&["machines", "list"], "machines"),
    (&["machines", "ls"], "machines"),
    (&["machine", "list"], "machines"),
    (&["machine", "ls"], "machines"),
    (&["logs"], "logs"),
    (&["config", "show"], "config"),
    (&["deploy"], "deploy"),
    (&["scale", "count"], "scale"),
    (&["info"], "info"),
    (&["version"], "version"),
];

/// (value flags, boolean flags) of a command, beyond the global ones.
fn flag_spec(command: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match command {
        "status" => (
            &["app", "config", "rate"],
            &["json", "all", "deployment", "watch"],
        ),
        "releases" => (&["app", "config"], &["json", "image"]),
        "secrets" | "machines" => (&["app", "config"], &["json", "quiet"]),
        "logs" => (
            &["app", "config", "region", "machine", "select"],
            &["json", "no-tail"],
        ),
        "config" => (&["app", "config"], &["local", "yaml", "toml"]),
        "deploy" => (
            &[
                "app",
                "config",
                "image",
                "strategy",
                "wait-timeout",
                "max-unavailable",
                "regions",
                "release-command-timeout",
                "image-label",
                "primary-region",
            ],
            &[
                "yes",
                "detach",
                "now",
                "skip-release-command",
                "update-only",
                "ha",
                "smoke-checks",
            ],
        ),
        "scale" => (
            &["app", "config", "process-group", "region", "max-per-region"],
            &["yes", "with-new-volumes"],
        ),
        "info" => (&["app"], &["json"]),
        _ => (&[], &["json"]),
    }
}

fn long_name(short: char) -> Option<&'static str> {
    Some(match short {
        'a' => "app",
        'c' => "config",
        'j' => "json",
        'y' => "yes",
        'i' => "image",
        'n' => "no-tail",
        'r' => "region",
        'm' => "machine",
        's' => "select",
        'q' => "quiet",
        't' => "access-token",
        _ => return None,
    })
}

pub(crate) fn parse(args: &[String]) -> Result<Parsed, String> {
    let words: Vec<&str> = args
        .iter()
        .take_while(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let (path, command) = COMMANDS
        .iter()
        .filter(|(p, _)| words.len() >= p.len() && words[..p.len()] == **p)
        .max_by_key(|(p, _)| p.len())
        .ok_or_else(|| match words.first() {
            Some(w) => format!("unknown command \"{w}\" for \"flyctl\""),
            None => "no command given".to_string(),
        })?;
    let (values, bools) = flag_spec(command);
    let mut parsed = Parsed {
        command,
        ..Parsed::default()
    };
    let mut rest = args[path.len()..].iter();
    while let Some(a) = rest.next() {
        let (name, inline) = if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }
        } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            let c = short.chars().next().unwrap_or('?');
            let name =
                long_name(c).ok_or_else(|| format!("unknown shorthand flag: '{c}' in {a}"))?;
            let inline = (short.len() > 1).then(|| short[1..].trim_start_matches('=').to_string());
            (name.to_string(), inline)
        } else {
            parsed.positional.push(a.clone());
            continue;
        };
        let name = if name == "auto-confirm" {
            "yes".to_string()
        } else {
            name
        };
        if values.contains(&name.as_str()) || name == "access-token" {
            let v = match inline {
                Some(v) => v,
                None => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: --{name}"))?,
            };
            parsed.flags.insert(name, v);
        } else if bools.contains(&name.as_str()) || ["verbose", "debug"].contains(&name.as_str()) {
            parsed
                .flags
                .insert(name, inline.unwrap_or_else(|| "true".into()));
        } else {
            return Err(format!("unknown flag: --{name}"));
        }
    }
    Ok(parsed)
}

/// Go's `encoding/json` with `SetIndent("", "    ")`: 4-space indent, trailing newline.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if value.serialize(&mut ser).is_err() {
        return "null\n".into();
    }
    let mut s = String::from_utf8(buf).unwrap_or_default();
    s.push('\n');
    s
}

/// Runs the stand-in with flyctl's arguments (no program name), printing to this process's
/// stdout and stderr; returns the exit code. `--state DIR` may come first.
pub fn flyctl_main(args: Vec<String>) -> i32 {
    let (dir, args) = match args.split_first() {
        Some((first, rest)) if first == "--state" && !rest.is_empty() => {
            (Some(PathBuf::from(&rest[0])), rest[1..].to_vec())
        }
        _ => (std::env::var_os(STATE_ENV).map(PathBuf::from), args),
    };
    let Some(dir) = dir else {
        eprintln!(
            "Error: flyctl stand-in: no state directory; pass --state DIR first or set {STATE_ENV}"
        );
        return 2;
    };
    if let Some(delay) = crate::world::serve::added_delay() {
        std::thread::sleep(delay);
    }
    let _ = state::log_invocation(&dir, &args);
    let (reply, hang_secs) = answer(&dir, &args);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(reply.stdout.as_bytes());
    let _ = out.flush();
    drop(out);
    let _ = std::io::stderr().write_all(reply.stderr.as_bytes());
    if reply.hang {
        std::thread::sleep(std::time::Duration::from_secs(hang_secs));
    }
    reply.code
}

/// What one in-process call of the stand-in printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
    /// Its exit code.
    pub code: i32,
}

/// Runs the stand-in in this process (logged like any invocation): what a world's CI
/// workflow does when it deploys. A command that would hang (`logs` with nothing to print)
/// returns what it printed instead.
pub fn invoke(dir: &Path, args: &[String]) -> Invocation {
    let _ = state::log_invocation(dir, args);
    let (reply, _) = answer(dir, args);
    Invocation {
        stdout: reply.stdout,
        stderr: reply.stderr,
        code: reply.code,
    }
}

/// The reply to one command line, and how long a hang lasts.
fn answer(dir: &Path, args: &[String]) -> (Reply, u64) {
    let parsed = match parse(args) {
        Ok(p) => p,
        Err(e) => return (Reply::error(e), 0),
    };
    // Commands that change the state hold the directory's lock from load to save, so two
    // deploys at once (a workflow and a person) never lose each other's release.
    let _lock = if matches!(parsed.command, "deploy" | "scale") {
        match StateLock::acquire(dir) {
            Ok(l) => Some(l),
            Err(e) => {
                return (
                    Reply::error(format!("flyctl stand-in: cannot lock its state: {e}")),
                    0,
                );
            }
        }
    } else {
        None
    };
    let mut state = match FlyState::load(dir) {
        Ok(s) => s,
        Err(e) => {
            return (
                Reply::error(format!("flyctl stand-in: bad state: {}", e.0)),
                0,
            );
        }
    };
    let hang = state.hang_seconds.unwrap_or(300);
    match parsed.command {
        "version" => {
            return (
                Reply::out("flyctl v0.4.87 (shipcheck sandbox stand-in)\n".into()),
                hang,
            );
        }
        "info" => {
            return (
                Reply {
                    stderr: "Command \"info\" is deprecated, Replaced by 'status', 'ips list', and 'services list'\n".into(),
                    ..Reply::default()
                },
                hang,
            );
        }
        _ => {}
    }
    let Some(app) = parsed.flag("app").map(str::to_string) else {
        return (
            Reply::error(
                "the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag",
            ),
            hang,
        );
    };
    if !state.apps.contains_key(&app) {
        return (
            Reply::error(format!("failed to get app: Could not find App \"{app}\"")),
            hang,
        );
    }
    let faults = state.apps[&app].faults.clone();
    if let Some(msg) = faults.fail.get(parsed.command) {
        return (Reply::error(msg), hang);
    }
    let reply = match parsed.command {
        "deploy" => write::deploy(dir, &mut state, &app, &parsed),
        "scale" => write::scale(dir, &mut state, &app, &parsed),
        "logs" => logs::logs(dir, &state, &app, &parsed),
        "releases" if !parsed.positional.is_empty() => Reply::error(format!(
            "unknown command \"{}\" for \"flyctl releases\"",
            parsed.positional[0]
        )),
        _ => read::answer(&state, &app, &parsed),
    };
    (apply_output_faults(reply, &faults, parsed.command), hang)
}

fn apply_output_faults(mut reply: Reply, faults: &Faults, command: &str) -> Reply {
    if reply.code != 0 {
        return reply;
    }
    if faults.garbage.iter().any(|c| c == command) {
        reply.stdout = "<html><head><title>502 Bad Gateway</title></head>\n<body>upstream sent garbage</body></html>\n".into();
    } else if faults.truncate.iter().any(|c| c == command) {
        let cut = reply.stdout.len() / 2;
        let cut = (0..=cut)
            .rev()
            .find(|i| reply.stdout.is_char_boundary(*i))
            .unwrap_or(0);
        reply.stdout.truncate(cut);
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_like_cobra() {
        let p = parse(&a("releases -a x --json --image")).unwrap();
        assert_eq!(
            (p.command, p.flag("app"), p.has("image")),
            ("releases", Some("x"), true)
        );
        let p = parse(&a("deploy --image reg/x:1 -a x --yes --strategy immediate")).unwrap();
        assert_eq!(p.flag("image"), Some("reg/x:1"));
        let p = parse(&a("scale count app=2 worker=1 -a=x -y")).unwrap();
        assert_eq!(p.positional, vec!["app=2", "worker=1"]);
        assert_eq!(p.flag("app"), Some("x"));
        assert!(
            parse(&a("status --bogus"))
                .unwrap_err()
                .contains("unknown flag")
        );
        assert!(
            parse(&a("rollback"))
                .unwrap_err()
                .contains("unknown command")
        );
        assert_eq!(
            parse(&a("machine ls -a x --json")).unwrap().command,
            "machines"
        );
    }
}
