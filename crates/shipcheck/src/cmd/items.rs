//! `tick`, `waive`, `note`, `sign`, `abort`: what a person records on the open run.

use shipcheck_core::journal::state::{RunState, RunStatus};
use shipcheck_core::model::event::NoteKind;

use crate::cli::{Global, NoteKindArg, Who};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};

fn done(g: &Global, kind: &str, run: &RunState, text: String) -> Result<u8, CliError> {
    if g.json {
        json::print(
            kind,
            &docs::RunChange {
                run: run.id.clone(),
                status: run.status,
                phase: run.current_phase(),
            },
        );
    } else {
        say!("{text}");
    }
    Ok(0)
}

pub async fn tick(g: &Global, item: &str, note: Option<String>, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&session, &who.by).await?;
    let run = session.tick(&run, item, &by, note).await?;
    done(
        g,
        "tick",
        &run,
        format!("ticked {item} ({by}); `shipcheck next` continues the run"),
    )
}

pub async fn waive(g: &Global, item: &str, reason: &str, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&session, &who.by).await?;
    let run = session.waive(&run, item, &by, reason).await?;
    done(
        g,
        "waive",
        &run,
        format!("waived {item} ({by}): {}", reason.trim()),
    )
}

pub async fn note(g: &Global, kind: NoteKindArg, text: &str, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&session, &who.by).await?;
    let kind = match kind {
        NoteKindArg::Issue => NoteKind::Issue,
        NoteKindArg::Lesson => NoteKind::Lesson,
        NoteKindArg::General => NoteKind::General,
    };
    let run = session.note(&run, kind, text, &by).await?;
    done(g, "note", &run, "note added".into())
}

pub async fn sign(g: &Global, key: Option<&std::path::Path>, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let by = context::actor(&session, &who.by).await?;
    // `--key` on a signed run adds the SSH signature the sign left to be added.
    if let Some(key) = key {
        let run = session.resolve(who.run.as_deref(), &who.env).await?;
        if run.status == RunStatus::Signed {
            let run = session.ssh_sign(&run, key, &by).await?;
            return done(g, "sign", &run, ssh_signed_line(&run));
        }
    }
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let run = shipcheck_core::engine::sign(&session, &run, &by).await?;
    let mut text = format!("run {} signed by {by}; the deploy lock is released", run.id);
    match key {
        Some(key) => {
            let run = session.ssh_sign(&run, key, &by).await.map_err(|e| {
                CliError::Integration(format!(
                    "{e}\nrun {} is signed, but its SSH signature is not: fix that and run `shipcheck sign --run {} --key {}`",
                    run.id,
                    run.id,
                    shipcheck_core::model::shell::quote(&key.to_string_lossy())
                ))
            })?;
            text = format!("{text}\n{}", ssh_signed_line(&run));
            done(g, "sign", &run, text)
        }
        None => {
            if session.loaded.config.team.require_ssh_signature {
                text = format!(
                    "{text}\nthe record still needs its SSH signature ([team] require_ssh_signature): `shipcheck sign --run {} --key ~/.ssh/id_ed25519`",
                    run.id
                );
            }
            done(g, "sign", &run, text)
        }
    }
}

fn ssh_signed_line(run: &RunState) -> String {
    match run.ssh_signatures.last() {
        Some(s) => format!(
            "SSH signature by {} ({}) over event {} (head {}); `shipcheck verify` checks it against the allowed signers",
            s.by,
            s.key,
            s.seq,
            &s.head[..s.head.len().min(16)]
        ),
        None => "no SSH signature".into(),
    }
}

pub async fn abort(g: &Global, reason: &str, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&session, &who.by).await?;
    let run = session.abort(&run, reason, &by).await?;
    // The run's CDEvents not delivered yet (`pipelinerun.finished`, outcome failure).
    let run = shipcheck_core::actions::cdevents::sync_run(&session, run).await?;
    done(
        g,
        "abort",
        &run,
        format!("run {} aborted; the deploy lock is released", run.id),
    )
}
