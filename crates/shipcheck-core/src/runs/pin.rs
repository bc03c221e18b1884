//! A pinned config. A run keeps the config text it started with (in its `run_started`
//! event); every command that acts on the run compares the config on disk with it and
//! refuses, with a diff of what changed, when they differ — a checkout of another branch, or
//! the release merge bringing a new `shipcheck.toml`, never silently changes the rules (or
//! the programs and URLs) of a run under way. A person who means the change accepts it with
//! `shipcheck config accept --reason TEXT`, journaled; the run uses the new text from then on.
//!
//! Runs started by versions that stored only the digest are compared by digest (no diff can
//! be shown; the message says so).

use crate::journal::state::RunState;
use crate::model::event::Event;
use crate::runs::{RunError, Session, digest};

/// At most this many lines of a diff are shown.
const DIFF_LINES: usize = 60;

/// Refuses when the config on disk is not the one the run uses.
pub fn check(session: &Session, run: &RunState) -> Result<(), RunError> {
    let disk = &session.loaded.source;
    if digest(disk) == run.config_digest {
        return Ok(());
    }
    let path = session.loaded.path.display();
    let accept = format!(
        "if the change is meant, `shipcheck config accept --reason TEXT` makes run {} use it (journaled); otherwise restore the run's config",
        run.id
    );
    let message = match &run.config_text {
        Some(pinned) => format!(
            "{path} differs from the config run {} uses (digest {} → {}):\n{}\n{accept}",
            run.id,
            short(&run.config_digest),
            short(&digest(disk)),
            line_diff(pinned, disk)
        ),
        None => format!(
            "{path} differs from the config run {} started with (digest {} → {}); the run was started by a shipcheck that kept only the digest, so what changed cannot be shown; {accept}",
            run.id,
            short(&run.config_digest),
            short(&digest(disk))
        ),
    };
    Err(RunError::ConfigChanged { message })
}

/// Makes the run use the config on disk from now on.
pub async fn accept(
    session: &Session,
    run: &RunState,
    by: &str,
    reason: &str,
) -> Result<(RunState, String), RunError> {
    if reason.trim().is_empty() {
        return Err(RunError::Refused {
            message: "accepting a changed config needs a reason: --reason TEXT".into(),
        });
    }
    if !run.status.is_open() {
        return Err(RunError::Refused {
            message: format!(
                "run {} is {}; its config no longer matters",
                run.id,
                run.status.as_str()
            ),
        });
    }
    let disk = session.loaded.source.clone();
    let new = digest(&disk);
    if new == run.config_digest {
        return Err(RunError::Refused {
            message: format!(
                "{} is already the config run {} uses; nothing to accept",
                session.loaded.path.display(),
                run.id
            ),
        });
    }
    let diff = match &run.config_text {
        Some(pinned) => line_diff(pinned, &disk),
        None => "(the run kept only the digest of its config; no diff)".into(),
    };
    let run = session
        .append(
            &run.id,
            Event::ConfigAccepted {
                digest: new,
                config: disk,
                by: by.to_string(),
                reason: reason.trim().to_string(),
            },
        )
        .await?;
    Ok((run, diff))
}

fn short(d: &str) -> &str {
    &d[..d.len().min(12)]
}

/// A line diff of `a` → `b`: `-` removed, `+` added, with line numbers of `b` (an LCS;
/// config files are small, and a huge pair falls back to listing the differing lines).
pub fn line_diff(a: &str, b: &str) -> String {
    let x: Vec<&str> = a.lines().collect();
    let y: Vec<&str> = b.lines().collect();
    let mut out: Vec<String> = Vec::new();
    if x.len().saturating_mul(y.len()) > 4_000_000 {
        for l in x.iter().filter(|l| !y.contains(l)) {
            out.push(format!("  - {l}"));
        }
        for l in y.iter().filter(|l| !x.contains(l)) {
            out.push(format!("  + {l}"));
        }
    } else {
        // lcs[i][j]: the longest common subsequence of x[i..] and y[j..].
        let (n, m) = (x.len(), y.len());
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if x[i] == y[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && x[i] == y[j] {
                i += 1;
                j += 1;
            } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
                out.push(format!("  + {:>4}: {}", j + 1, y[j]));
                j += 1;
            } else {
                out.push(format!("  - {:>4}: {}", i + 1, x[i]));
                i += 1;
            }
        }
    }
    let more = out.len().saturating_sub(DIFF_LINES);
    out.truncate(DIFF_LINES);
    if more > 0 {
        out.push(format!("  … and {more} more changed line(s)"));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn the_diff_names_removed_and_added_lines() {
        let a = "[project]\nname = \"a\"\n[fly]\ncommand = \"flyctl\"\n";
        let b = "[project]\nname = \"a\"\n[fly]\ncommand = \"./evil.sh\"\n";
        let d = line_diff(a, b);
        assert!(d.contains("-    4: command = \"flyctl\""), "{d}");
        assert!(d.contains("+    4: command = \"./evil.sh\""), "{d}");
        assert!(!d.contains("name"), "{d}");
        assert_eq!(line_diff(a, a), "");
    }
}
