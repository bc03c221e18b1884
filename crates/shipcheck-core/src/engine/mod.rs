//! The phase engine: the walk through a run's phases
//! ([`walk`], actions in [`act`], the watch's part in [`phases`]), the check runner
//! ([`runner`]), rollbacks ([`rollback`]) and emergency stops ([`stop`]).

pub mod act;
pub mod phases;
pub mod runner;
pub mod stop;
pub mod walk;

pub use walk::{Need, StepOptions, StepReport};

/// Signs the record of a completed run ([`crate::runs::Session::sign`]), then adds the
/// statuses it calls for to GitHub's deployment record (`success` when it was not rolled
/// back) and sends the CDEvents not delivered yet (`pipelinerun.finished`). Every front end signs through this.
pub async fn sign(
    session: &crate::runs::Session,
    run: &crate::journal::state::RunState,
    by: &str,
) -> Result<crate::journal::state::RunState, crate::runs::RunError> {
    let signed = session.sign(run, by).await?;
    let signed = crate::actions::deployment_record::sync(session, &signed.id).await?;
    crate::actions::cdevents::sync_run(session, signed).await
}
