//! Anchoring the journal's head outside the store. The hash chain alone proves only that the
//! journal is self-consistent: whoever can write the store can rewrite an event and recompute
//! every hash after it. Before a run is signed, its head (the last event's sequence number and
//! hash) is written as a line of a git note on the release's merge commit
//! (`refs/notes/shipcheck`) and pushed to the remote — where the store's owner cannot change
//! it without a trace in the remote's history — and the anchoring is journaled. `verify` reads
//! the remote's note back and compares it with the store.
//!
//! Idempotent: a note that already holds the line is not written again; a push of a ref the
//! remote already has is a no-op; a run whose last event is its anchor is not anchored again.

use crate::clients::git::{Git, GitError};
use crate::journal::state::RunState;
use crate::model::event::{AnchorPlace, Event, JournalAnchor, anchor_line, anchors_in_note};
use crate::runs::{RunError, Session};

/// The notes ref shipcheck writes.
pub const NOTES_REF: &str = "refs/notes/shipcheck";
/// Where `verify` fetches the remote's notes to (never written by anything else).
const VERIFY_REF: &str = "refs/notes/shipcheck-verify";

/// What `verify` found for one anchor.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AnchorCheck {
    /// `git-note`, `slack`, `team-view`.
    pub kind: String,
    /// Where.
    pub location: String,
    /// `match`, `mismatch`, `absent`, `unreachable`, `not_checkable`.
    pub result: String,
    /// What was compared.
    pub detail: String,
}

impl AnchorCheck {
    /// Whether this anchor proves the journal was rewritten.
    pub fn is_mismatch(&self) -> bool {
        self.result == "mismatch"
    }
}

fn git_of(session: &Session) -> Git {
    Git::new(
        session
            .loaded
            .base_dir()
            .join(&session.loaded.config.git.repo),
    )
}

/// Anchors the run's head before it is signed (a completed run with a release merge); the
/// result, written or not, is journaled. A run without a merge commit is not anchored.
pub async fn anchor_before_signing(
    session: &Session,
    run: &RunState,
) -> Result<RunState, RunError> {
    let Ok(merge) = run.merge_commit() else {
        return Ok(run.clone());
    };
    let last_is_anchor = run
        .anchors
        .last()
        .is_some_and(|a| a.seq + 1 == run.event_count as i64);
    if last_is_anchor {
        return Ok(run.clone());
    }
    let seq = run.event_count as i64;
    let head = run.head_hash.clone();
    let remote = session.loaded.config.git.remote.clone();
    let git = git_of(session);
    let line = anchor_line(&run.id, seq, &head);
    let location = format!("{remote} {NOTES_REF} on {}", short(merge));
    let place = match write_note(&git, &remote, merge, &line).await {
        Ok(detail) => AnchorPlace {
            kind: "git-note".into(),
            location,
            ok: true,
            detail,
        },
        Err(e) => AnchorPlace {
            kind: "git-note".into(),
            location,
            ok: false,
            detail: format!("not anchored: {e}"),
        },
    };
    session
        .append(
            &run.id,
            Event::JournalAnchored {
                anchor: JournalAnchor {
                    seq,
                    head,
                    places: vec![place],
                },
            },
        )
        .await
}

/// Adds `line` to the merge commit's note (unless it is there) and pushes the notes ref.
async fn write_note(git: &Git, remote: &str, merge: &str, line: &str) -> Result<String, GitError> {
    crate::clients::git::check_name("remote", remote)?;
    // The remote's notes first, so the push is a fast-forward (absent on a first anchor).
    let refspec = format!("+{NOTES_REF}:{NOTES_REF}");
    let _ = git
        .output(
            &["fetch", remote, &refspec],
            "fetch the remote's shipcheck notes",
        )
        .await;
    let notes_ref = format!("--ref={NOTES_REF}");
    let existing = git
        .output(
            &["notes", &notes_ref, "show", merge],
            "read the merge commit's shipcheck note",
        )
        .await?;
    let present = existing.success() && existing.stdout.lines().any(|l| l.trim() == line);
    if !present {
        git.run(
            &["notes", &notes_ref, "append", "-m", line, merge],
            "anchor the journal's head in a git note on the merge commit",
        )
        .await?;
    }
    git.run(
        &["push", remote, NOTES_REF],
        "push the shipcheck notes to the remote",
    )
    .await?;
    Ok(format!(
        "{} the note on {} and pushed {NOTES_REF} to {remote}",
        if present { "found" } else { "wrote" },
        short(merge)
    ))
}

/// Checks every anchor `verify` can reach for `run` against the store's events (`hashes`:
/// seq → hash, as stored): the remote's git note on the merge commit, and the closing Slack
/// message (only as journaled: the channel itself cannot be read with a webhook).
pub async fn check_anchors(
    session: &Session,
    run: &RunState,
    hashes: &std::collections::BTreeMap<i64, String>,
) -> Vec<AnchorCheck> {
    let mut out = Vec::new();
    let compare = |seq: i64, head: &str| match hashes.get(&seq) {
        Some(h) if h == head => (
            "match",
            format!("event {seq}'s hash {} is the store's", short(head)),
        ),
        Some(h) => (
            "mismatch",
            format!(
                "the anchor says event {seq}'s hash is {}, the store has {}: the journal was rewritten after it was anchored",
                short(head),
                short(h)
            ),
        ),
        None => (
            "mismatch",
            format!("the anchor names event {seq}, which the store does not have"),
        ),
    };
    match run.merge_commit() {
        Ok(merge) => {
            let remote = session.loaded.config.git.remote.clone();
            let location = format!("{remote} {NOTES_REF} on {}", short(merge));
            let git = git_of(session);
            match read_remote_note(&git, &remote, merge).await {
                Err(e) => out.push(AnchorCheck {
                    kind: "git-note".into(),
                    location,
                    result: "unreachable".into(),
                    detail: format!("could not read the remote's note: {e}"),
                }),
                Ok(None) => out.push(AnchorCheck {
                    kind: "git-note".into(),
                    location,
                    result: "absent".into(),
                    detail: if run.anchors.is_empty() {
                        "no note: the run was not anchored (signed by an older shipcheck, or not signed yet)".into()
                    } else {
                        "no note for this run, though the journal says one was written: the note was removed".into()
                    },
                }),
                Ok(Some(text)) => {
                    let found = anchors_in_note(&text, &run.id);
                    if found.is_empty() {
                        out.push(AnchorCheck {
                            kind: "git-note".into(),
                            location: location.clone(),
                            result: "absent".into(),
                            detail: "the note has no line for this run".into(),
                        });
                    }
                    for (seq, head) in found {
                        let (result, detail) = compare(seq, &head);
                        out.push(AnchorCheck {
                            kind: "git-note".into(),
                            location: location.clone(),
                            result: result.into(),
                            detail,
                        });
                    }
                }
            }
        }
        Err(_) => out.push(AnchorCheck {
            kind: "git-note".into(),
            location: "(no merge commit)".into(),
            result: "absent".into(),
            detail: "the run has no release merge to carry a note".into(),
        }),
    }
    if let Some((seq, head)) = slack_head(run) {
        let (result, detail) = compare(seq, &head);
        out.push(AnchorCheck {
            kind: "slack".into(),
            location: "the closing Slack message, as journaled".into(),
            result: if result == "match" {
                "not_checkable".into()
            } else {
                result.into()
            },
            detail: format!(
                "{detail}; the channel itself cannot be read with a webhook: compare the message in the channel (journal head {} at event {seq})",
                short(&head)
            ),
        });
    }
    out.push(AnchorCheck {
        kind: "team-view".into(),
        location: "the team-view issue".into(),
        result: "not_checkable".into(),
        detail: "shipcheck does not sign a team-view issue yet".into(),
    });
    out
}

/// The head the closing Slack message carried, from its journaled text.
fn slack_head(run: &RunState) -> Option<(i64, String)> {
    run.items.iter().find_map(|r| {
        let text = r.evidence.get("text")?.as_str()?;
        let rest = text.split("journal head ").nth(1)?;
        let mut w = rest.split_whitespace();
        let head = w.next()?;
        if w.next()? != "at" || w.next()? != "event" {
            return None;
        }
        let seq = w.next()?.trim_end_matches(|c: char| !c.is_ascii_digit());
        Some((seq.parse().ok()?, head.to_string()))
    })
}

/// The remote's note on `merge` (fetched into a ref of verify's own), `None` without one.
async fn read_remote_note(
    git: &Git,
    remote: &str,
    merge: &str,
) -> Result<Option<String>, GitError> {
    crate::clients::git::check_name("remote", remote)?;
    let refspec = format!("+{NOTES_REF}:{VERIFY_REF}");
    let fetched = git
        .output(
            &["fetch", remote, &refspec],
            "fetch the remote's shipcheck notes",
        )
        .await?;
    if !fetched.success() {
        let err = fetched.stderr.to_lowercase();
        if err.contains("couldn't find remote ref") || err.contains("could not find remote ref") {
            return Ok(None);
        }
        return Err(git.failed(&["fetch", remote, &refspec], &fetched));
    }
    let notes_ref = format!("--ref={VERIFY_REF}");
    let shown = git
        .output(
            &["notes", &notes_ref, "show", merge],
            "read the remote's shipcheck note",
        )
        .await?;
    Ok(shown.success().then_some(shown.stdout))
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}
