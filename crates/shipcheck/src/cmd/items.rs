//! `tick`, `waive`, `note`, `sign`, `abort`: what a person records on the open run.

use shipcheck_core::journal::state::RunState;
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
    let by = context::actor(&who.by).await;
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
    let by = context::actor(&who.by).await;
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
    let by = context::actor(&who.by).await;
    let kind = match kind {
        NoteKindArg::Issue => NoteKind::Issue,
        NoteKindArg::Lesson => NoteKind::Lesson,
        NoteKindArg::General => NoteKind::General,
    };
    let run = session.note(&run, kind, text, &by).await?;
    done(g, "note", &run, "note added".into())
}

pub async fn sign(g: &Global, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&who.by).await;
    let run = session.sign(&run, &by).await?;
    done(
        g,
        "sign",
        &run,
        format!("run {} signed by {by}; the deploy lock is released", run.id),
    )
}

pub async fn abort(g: &Global, reason: &str, who: &Who) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&who.by).await;
    let run = session.abort(&run, reason, &by).await?;
    done(
        g,
        "abort",
        &run,
        format!("run {} aborted; the deploy lock is released", run.id),
    )
}
