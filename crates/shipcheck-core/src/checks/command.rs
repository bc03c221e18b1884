//! Command checks: a program with arguments (run directly) or a shell line the user wrote
//! (`sh -c LINE`), in a working directory, with a timeout and extra environment. Pass on
//! exit 0. Evidence: the command as displayed, exit code, duration and the last lines of
//! output, redacted. Runs through [`crate::clients::exec`], the one subprocess wrapper.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::checks::http::fmt_latency;
use crate::clients::exec::{Cmd, ExecError};
use crate::model::checklist::{CheckSpec, Checklist, CommandCheck};
use crate::model::outcome::Outcome;
use crate::model::redact::{redact, redact_json};

/// Timeout unless the check sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// How many lines of output the evidence keeps.
pub const TAIL_LINES: usize = 20;
/// The last output line quoted in a failure summary is cut at this many characters.
const SUMMARY_LINE_CHARS: usize = 120;

/// Runs the command and judges its exit code. A relative `dir` is relative to `base_dir` (the
/// config's directory); without one the command runs in `repo_dir` (the git repository). The
/// `checklist` names the item to retune when the program is missing; `secrets` are removed
/// from what is shown.
pub async fn run(
    c: &CommandCheck,
    base_dir: &Path,
    repo_dir: &Path,
    checklist: &Checklist,
    secrets: &[String],
) -> Outcome {
    let timeout = c.timeout.map(|s| s.get()).unwrap_or(DEFAULT_TIMEOUT);
    let (cmd, shown, program) = match (c.argv.split_first(), c.shell.as_deref()) {
        (Some(_), Some(_)) => {
            return Outcome::error(
                "the command check sets both argv and shell; keep one of the two",
                serde_json::Value::Null,
            );
        }
        (Some((program, args)), None) if !program.trim().is_empty() => {
            let cmd = Cmd::new(program.clone(), args.iter().cloned());
            let shown = cmd.display();
            (cmd, shown, program.clone())
        }
        (None, Some(line)) if !line.trim().is_empty() => (
            Cmd::new("sh", ["-c", line]),
            line.trim().to_string(),
            "sh".to_string(),
        ),
        _ => {
            return Outcome::error(
                "the command check has nothing to run: set argv (a program and its arguments) \
                 or shell (a line for sh -c)",
                serde_json::Value::Null,
            );
        }
    };
    let shown = redact(&shown, secrets);
    let dir = match &c.dir {
        Some(d) => base_dir.join(d),
        None => repo_dir.to_path_buf(),
    };
    let mut evidence = json!({
        "command": shown,
        "dir": dir.display().to_string(),
        "timeout": crate::model::duration::format(timeout),
        "env": c.env.keys().collect::<Vec<_>>(),
    });
    if !dir.is_dir() {
        let hint = match &c.dir {
            Some(d) => format!("dir = {d:?} is relative to {}", base_dir.display()),
            None => "the default is the git repository ([git] repo)".into(),
        };
        return finish(
            Outcome::error(
                format!(
                    "cannot run `{shown}`: the working directory {} does not exist ({hint})",
                    dir.display()
                ),
                evidence,
            ),
            secrets,
        );
    }
    let mut cmd = cmd
        .dir(&dir)
        .timeout(timeout)
        .reason(format!("run the check `{shown}`"));
    for (k, v) in &c.env {
        cmd = cmd.env(k, v);
    }

    let outcome = match cmd.run().await {
        Ok(out) => {
            let tail = redact(&out.tail(TAIL_LINES), secrets);
            let took = fmt_latency(out.duration);
            evidence["exit_code"] = json!(out.code);
            evidence["duration_ms"] = json!(out.duration.as_millis() as u64);
            evidence["tail"] = json!(tail);
            if let Some(cut) = out.cut(&shown) {
                evidence["output_cut"] = json!(cut);
            }
            let last = last_line(&tail);
            match out.code {
                Some(0) => Outcome::pass(format!("`{shown}` exited 0 in {took}"), evidence),
                Some(code) => Outcome::fail(
                    format!("`{shown}` exited {code} after {took}{last}"),
                    evidence,
                ),
                None => Outcome::fail(
                    format!("`{shown}` was killed by a signal after {took}{last}"),
                    evidence,
                ),
            }
        }
        Err(e) if e.is_not_found() => Outcome::error(
            format!(
                "cannot run `{shown}`: the program `{program}` was not found; install {program} \
                 or {}",
                retune_hint(c, checklist)
            ),
            evidence,
        ),
        Err(ExecError::Timeout { timeout, .. }) => {
            evidence["timed_out"] = json!(true);
            Outcome::error(
                format!(
                    "`{shown}` timed out after {} and was killed",
                    crate::model::duration::format(timeout)
                ),
                evidence,
            )
        }
        Err(e) => Outcome::error(format!("cannot run `{shown}`: {e}"), evidence),
    };
    finish(outcome, secrets)
}

/// `retune prepare.tests in shipcheck.toml ([checklist.override."prepare.tests"])`, naming the
/// item whose check this is when the checklist has it.
fn retune_hint(c: &CommandCheck, checklist: &Checklist) -> String {
    let item = checklist
        .items
        .iter()
        .find(|i| matches!(&i.check, Some(CheckSpec::Command(x)) if x == c));
    match item {
        Some(i) => format!(
            "retune {id} in shipcheck.toml ([checklist.override.\"{id}\"])",
            id = i.id
        ),
        None => "change the check's command in shipcheck.toml".into(),
    }
}

/// `: <the last non-empty output line>`, or nothing.
fn last_line(tail: &str) -> String {
    match tail.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
        Some(l) => {
            let mut cut: String = l.chars().take(SUMMARY_LINE_CHARS).collect();
            if l.chars().nth(SUMMARY_LINE_CHARS).is_some() {
                cut.push('…');
            }
            format!(": {cut}")
        }
        None => String::new(),
    }
}

fn finish(mut o: Outcome, secrets: &[String]) -> Outcome {
    o.summary = redact(&o.summary, secrets);
    redact_json(&mut o.evidence, secrets);
    o
}

#[cfg(test)]
mod tests;
