//! The record's SSH signature: `shipcheck sign --key` signs the journal's head (after
//! `run_signed`, so the signature covers the whole record, the sign itself included) with
//! `ssh-keygen -Y sign -n shipcheck`, and journals it; `verify` checks each signature against
//! the repository's allowed-signers file (`[team] allowed_signers`, as committed on the
//! production branch) and says who signed.

use std::path::{Path, PathBuf};

use crate::clients::ssh::{SshKeygen, Verdict};
use crate::journal::state::{RunState, RunStatus};
use crate::model::event::{Event, SshSignature, signed_message};
use crate::runs::{RunError, Session};

/// What `verify` found for one SSH signature (or for a required one that is missing).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SignatureCheck {
    /// The event signed (0 when there is no signature).
    pub seq: i64,
    /// `good`, `bad`, `unknown_signer`, `mismatch` (the store's hash is not the one signed),
    /// `missing` (required, absent), `not_checkable` (no allowed-signers file configured or
    /// readable), `error` (ssh-keygen could not run).
    pub result: String,
    /// The principal the allowed-signers file names for the key, when good.
    pub signer: Option<String>,
    /// What was compared, in a sentence.
    pub detail: String,
}

impl SignatureCheck {
    /// Whether this makes the record fail verification.
    pub fn fails(&self) -> bool {
        matches!(
            self.result.as_str(),
            "bad" | "unknown_signer" | "mismatch" | "missing"
        )
    }
}

fn ssh_keygen(session: &Session) -> SshKeygen {
    SshKeygen::new(session.loaded.config.team.ssh_keygen())
}

/// The allowed-signers file, when configured: relative to the repository.
pub fn allowed_signers_path(session: &Session) -> Option<PathBuf> {
    let rel = session.loaded.config.team.allowed_signers.as_ref()?;
    Some(
        session
            .loaded
            .base_dir()
            .join(&session.loaded.config.git.repo)
            .join(rel),
    )
}

/// The allowed-signers file `verify` checks against: the production branch's committed copy
/// (`git show REMOTE/PRODUCTION:PATH`, reviewed and merged like code), so editing the working
/// tree cannot make a key trusted; the working tree's copy only when the production branch
/// has none, and `from` says which.
struct AllowedSigners {
    path: PathBuf,
    from: String,
    _tmp: Option<tempfile::NamedTempFile>,
}

async fn allowed_signers(session: &Session) -> Option<AllowedSigners> {
    let rel = session.loaded.config.team.allowed_signers.as_ref()?;
    let working = allowed_signers_path(session)?;
    let read = crate::runs::trust::on_production(
        &session.loaded,
        rel,
        "read the production branch's allowed signers",
    )
    .await;
    let (spec, committed) = read.unwrap_or_default();
    let Some(text) = committed else {
        return Some(AllowedSigners {
            from: format!(
                "{} (the working tree's copy: the production branch has no committed {rel})",
                working.display()
            ),
            path: working,
            _tmp: None,
        });
    };
    let mut from = format!("{spec} (the production branch's committed copy)");
    if std::fs::read_to_string(&working).is_ok_and(|w| w != text) {
        from.push_str("; the working tree's copy differs and is not used");
    }
    let tmp = tempfile::NamedTempFile::new().ok()?;
    std::fs::write(tmp.path(), text.as_bytes()).ok()?;
    Some(AllowedSigners {
        path: tmp.path().to_path_buf(),
        from,
        _tmp: Some(tmp),
    })
}

/// Whether `run` carries an SSH signature (over its head, or over its head before another
/// signature was added).
pub fn ssh_signed(run: &RunState) -> bool {
    !run.ssh_signatures.is_empty()
}

impl Session {
    /// Adds an SSH signature over the head of a signed run (made with the key at `key`), by
    /// `by`. Refused on a run that is not signed yet, and when that key already signed it
    /// (another key may co-sign: its signature covers the first one too).
    pub async fn ssh_sign(
        &self,
        run: &RunState,
        key: &Path,
        by: &str,
    ) -> Result<RunState, RunError> {
        let run = self.load(&run.id).await?;
        if run.status != RunStatus::Signed {
            return Err(RunError::refused(format!(
                "run {} is {}; only a signed record gets an SSH signature (`shipcheck sign --key PATH` signs a completed run and adds it)",
                run.id,
                run.status.as_str()
            )));
        }
        if !key.exists() {
            return Err(RunError::refused(format!(
                "no key at {}: give the private key (`--key ~/.ssh/id_ed25519`), or the public key of one loaded in ssh-agent",
                key.display()
            )));
        }
        let seq = run.event_count as i64;
        let head = run.head_hash.clone();
        let message = signed_message(&run.id, seq, &head);
        let ssh = ssh_keygen(self);
        let armored = ssh
            .sign(key, &message)
            .await
            .map_err(|e| RunError::Signature {
                message: format!("the record could not be signed: {e}"),
            })?;
        // Which key signed, as ssh-keygen names it (read from the signature itself).
        let key_name = match ssh.key_of_signature(&armored, &message).await {
            Ok(Some(k)) => k,
            Ok(None) | Err(_) => "an SSH key".to_string(),
        };
        // Another person's key may co-sign; the same key signs a record once.
        if let Some(s) = run.ssh_signatures.iter().find(|s| s.key == key_name) {
            return Err(RunError::refused(format!(
                "run {} already carries an SSH signature with {} (event {}, added by {})",
                run.id, s.key, s.seq, s.by
            )));
        }
        self.update(&run.id, |now| {
            if now.event_count as i64 != seq {
                return Err(RunError::refused(format!(
                    "run {} changed while it was being signed (event {} was appended); sign again",
                    now.id, now.event_count
                )));
            }
            Ok(Some(Event::RecordSshSigned {
                signature: SshSignature {
                    seq,
                    head: head.clone(),
                    by: by.to_string(),
                    key: key_name.clone(),
                    signature: armored.clone(),
                },
            }))
        })
        .await
    }
}

/// Checks every SSH signature of `run` against the store's hashes (`hashes`: seq → hash, as
/// stored) and the allowed-signers file. A signed run without one, where `[team]
/// require_ssh_signature` is set, gets a `missing` check.
pub async fn check_signatures(
    session: &Session,
    run: &RunState,
    hashes: &std::collections::BTreeMap<i64, String>,
) -> Vec<SignatureCheck> {
    let mut out = Vec::new();
    if run.ssh_signatures.is_empty() {
        if session.loaded.config.team.require_ssh_signature && run.status == RunStatus::Signed {
            out.push(SignatureCheck {
                seq: 0,
                result: "missing".into(),
                signer: None,
                detail: "[team] require_ssh_signature is set and the record carries no SSH signature: add one with `shipcheck sign --key ~/.ssh/id_ed25519`".into(),
            });
        }
        return out;
    }
    let allowed = allowed_signers(session).await;
    let ssh = ssh_keygen(session);
    for s in &run.ssh_signatures {
        let check = |result: &str, signer: Option<String>, detail: String| SignatureCheck {
            seq: s.seq,
            result: result.into(),
            signer,
            detail,
        };
        match hashes.get(&s.seq) {
            Some(h) if *h == s.head => {}
            Some(h) => {
                out.push(check(
                    "mismatch",
                    None,
                    format!(
                        "the signature covers event {}'s hash {}, the store has {}: the journal was rewritten after it was signed",
                        s.seq,
                        short(&s.head),
                        short(h)
                    ),
                ));
                continue;
            }
            None => {
                out.push(check(
                    "mismatch",
                    None,
                    format!(
                        "the signature covers event {}, which the store does not have",
                        s.seq
                    ),
                ));
                continue;
            }
        }
        let Some(AllowedSigners { path, from, .. }) = &allowed else {
            out.push(check(
                "not_checkable",
                None,
                format!(
                    "signed with {} (added by {}); no allowed-signers file to check it against: set [team] allowed_signers = \".github/allowed_signers\"",
                    s.key, s.by
                ),
            ));
            continue;
        };
        if !path.is_file() {
            out.push(check(
                "not_checkable",
                None,
                format!(
                    "signed with {}; the allowed-signers file {} does not exist ([team] allowed_signers)",
                    s.key,
                    path.display()
                ),
            ));
            continue;
        }
        let message = signed_message(&run.id, s.seq, &s.head);
        match ssh.verify(path, &s.signature, &message).await {
            Ok(Verdict::Good { principal, key }) => out.push(check(
                "good",
                Some(principal.clone()),
                format!(
                    "good signature by {principal} ({key}) over event {} (head {}), checked against {from}",
                    s.seq,
                    short(&s.head)
                ),
            )),
            Ok(Verdict::UnknownSigner { key }) => out.push(check(
                "unknown_signer",
                None,
                format!(
                    "the signature is valid, but {key} is not in {from} for the \"shipcheck\" namespace (added by {})",
                    s.by
                ),
            )),
            Ok(Verdict::Bad { detail }) => out.push(check(
                "bad",
                None,
                format!(
                    "the signature does not verify over event {}'s head: {detail}",
                    s.seq
                ),
            )),
            Err(e) => out.push(check("error", None, format!("could not check it: {e}"))),
        }
    }
    out
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}
