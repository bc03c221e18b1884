//! Running inside GitHub Actions (`GITHUB_ACTIONS=true`, or `--ci github`): reporting commands
//! also write their result where the job's page shows it — the checklist, its evidence and the
//! watch as Markdown in `$GITHUB_STEP_SUMMARY` (GitHub keeps at most 1 MiB per step, so a longer
//! one is cut with a pointer to the full record), workflow annotations for the worst failures
//! (GitHub shows at most 10 of each kind per step and drops the rest silently, so shipcheck
//! picks the 10 and says how many more there are), and step outputs in `$GITHUB_OUTPUT` (run
//! id, phase, status, verdict, time to detect and to recover). Nothing here prompts.

use std::io::Write as _;
use std::path::PathBuf;

use shipcheck_core::journal::state::{ItemState, RunState};
use shipcheck_core::model::outcome::{Outcome, Status};

use crate::cli::{CiMode, Global};

/// GitHub's cap on one step's summary.
pub const SUMMARY_CAP: usize = 1024 * 1024;
/// How many annotations of one level GitHub shows per step.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

/// Where GitHub Actions reads a step's results.
pub struct Github {
    summary: Option<PathBuf>,
    output: Option<PathBuf>,
}

/// GitHub Actions mode, when `--ci github` or (without `--ci`) `GITHUB_ACTIONS=true`.
pub fn github(g: &Global) -> Option<Github> {
    let on = match g.ci {
        Some(CiMode::Github) => true,
        Some(CiMode::None) => false,
        None => std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
    };
    on.then(|| Github {
        summary: std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        output: std::env::var_os("GITHUB_OUTPUT").map(PathBuf::from),
    })
}

/// Whether prompts are off because shipcheck runs in CI.
pub fn in_ci(g: &Global) -> bool {
    github(g).is_some()
}

/// An annotation's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One annotation: its level, title and message.
pub struct Annotation {
    pub level: Level,
    pub title: String,
    pub message: String,
}

impl Github {
    /// Prints the annotations, worst first, at most [`ANNOTATIONS_PER_LEVEL`] of each level;
    /// the rest are counted in one notice.
    pub fn annotate(&self, mut notes: Vec<Annotation>) {
        notes.sort_by_key(|a| a.level);
        let mut shown = [0usize; 3];
        let mut dropped = 0usize;
        for a in notes {
            let n = &mut shown[a.level as usize];
            if *n >= ANNOTATIONS_PER_LEVEL {
                dropped += 1;
                continue;
            }
            *n += 1;
            say!(
                "::{} title={}::{}",
                a.level.command(),
                escape_property(&a.title),
                escape_data(&a.message)
            );
        }
        if dropped > 0 && shown[Level::Notice as usize] < ANNOTATIONS_PER_LEVEL {
            say!(
                "::notice title=shipcheck::{}",
                escape_data(&format!(
                    "{dropped} more finding(s) not annotated (GitHub shows {ANNOTATIONS_PER_LEVEL} of each kind per step): see the step summary"
                ))
            );
        }
    }

    /// Appends `markdown` to the step summary, cut to GitHub's cap with `pointer` saying where
    /// the whole record is.
    pub fn summary(&self, markdown: &str, pointer: &str) {
        let Some(path) = &self.summary else { return };
        let text = crate::output::clean(markdown);
        let text = cap(&text, pointer);
        if let Err(e) = append(path, &text) {
            say_err!(
                "warning: cannot write the step summary {}: {e}",
                path.display()
            );
        }
    }

    /// Appends `name=value` step outputs (one line each; values are single lines).
    pub fn outputs(&self, pairs: &[(&str, String)]) {
        let Some(path) = &self.output else { return };
        let mut text = String::new();
        for (k, v) in pairs {
            let v = crate::output::clean(v).replace(['\n', '\r'], " ");
            text.push_str(&format!("{k}={v}\n"));
        }
        if let Err(e) = append(path, &text) {
            say_err!(
                "warning: cannot write the step outputs {}: {e}",
                path.display()
            );
        }
    }

    /// A run's record: the summary, its failed items as annotations, and the outputs.
    pub fn run(&self, run: &RunState, tz: &str) {
        let record = shipcheck_core::report::markdown::render(run, tz);
        self.summary(
            &record,
            &format!(
                "the whole record: `shipcheck report {} --format markdown`",
                run.id
            ),
        );
        let mut notes = Vec::new();
        for r in &run.items {
            let level = match r.state {
                ItemState::Fail => Level::Error,
                ItemState::Error => Level::Warning,
                _ => continue,
            };
            notes.push(Annotation {
                level,
                title: r.item.id.clone(),
                message: r.summary.clone().unwrap_or_else(|| r.item.title.clone()),
            });
        }
        self.annotate(notes);
        let watch = shipcheck_core::report::watch::summary(run);
        let secs = |s: Option<u64>| s.map(|s| s.to_string()).unwrap_or_default();
        self.outputs(&[
            ("run_id", run.id.clone()),
            (
                "phase",
                run.current_phase()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            ),
            ("status", run.status.as_str().to_string()),
            ("verdict", watch.verdict.verdict.as_str().to_string()),
            ("time_to_detect_s", secs(watch.time_to_detect_s)),
            ("time_to_recover_s", secs(watch.time_to_recover_s)),
        ]);
    }

    /// `shipcheck check`'s results: a table, annotations for what failed, the counts.
    pub fn checks(&self, results: &[(String, Outcome)], titles: &dyn Fn(&str) -> String) {
        let mut md =
            String::from("## shipcheck check\n\n| item | result | summary |\n|---|---|---|\n");
        let mut notes = Vec::new();
        for (id, o) in results {
            let mark = match o.status {
                Status::Pass => "✅ pass",
                Status::Fail => "❌ fail",
                Status::Error => "⚠️ error",
            };
            md.push_str(&format!(
                "| `{id}` {} | {mark} | {} |\n",
                table_cell(&titles(id)),
                table_cell(&o.summary)
            ));
            let level = match o.status {
                Status::Pass => continue,
                Status::Fail => Level::Error,
                Status::Error => Level::Warning,
            };
            notes.push(Annotation {
                level,
                title: id.clone(),
                message: o.summary.clone(),
            });
        }
        self.summary(&md, "the whole result: `shipcheck check --json`");
        self.annotate(notes);
        let count = |s: Status| results.iter().filter(|(_, o)| o.status == s).count();
        let (fail, error) = (count(Status::Fail), count(Status::Error));
        let verdict = if fail > 0 {
            "fail"
        } else if error > 0 {
            "error"
        } else {
            "pass"
        };
        self.outputs(&[
            ("passed", count(Status::Pass).to_string()),
            ("failed", fail.to_string()),
            ("errors", error.to_string()),
            ("verdict", verdict.to_string()),
        ]);
    }
}

/// `text` cut to [`SUMMARY_CAP`] (on a line boundary) with `pointer` saying where the rest is.
fn cap(text: &str, pointer: &str) -> String {
    if text.len() <= SUMMARY_CAP {
        return format!("{text}\n");
    }
    let note = format!("\n\n> **Cut at GitHub's 1 MiB summary limit.** {pointer}\n");
    let mut end = SUMMARY_CAP.saturating_sub(note.len() + 1);
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!("{}{note}", &text[..end])
}

fn append(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// A Markdown table cell: one line, pipes escaped.
fn table_cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// An annotation's message, as GitHub's workflow commands want it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// An annotation's property (its title).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_summary_is_cut_under_the_cap_with_a_pointer() {
        let text = "line of the record\n".repeat(80_000);
        let out = cap(&text, "see `shipcheck report`");
        assert!(out.len() <= SUMMARY_CAP, "{}", out.len());
        assert!(out.ends_with("see `shipcheck report`\n"));
        assert_eq!(cap("short", "x"), "short\n");
    }

    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(escape_data("50% of\nrequests"), "50%25 of%0Arequests");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
