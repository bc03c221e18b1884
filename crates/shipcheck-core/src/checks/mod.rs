//! Automatic checks. Each kind of check is a module that turns a check spec
//! ([`crate::model::checklist::CheckSpec`]) into an [`crate::model::outcome::Outcome`]: pass,
//! fail or error, with a one-line summary, structured evidence and how long it took. An
//! integration that answers nonsense is an `error` with the reason; "no data" is never a pass.
//!
//! A check takes only what it uses: its spec, its client (a [`crate::clients::git::Repo`],
//! [`fly::FlyApps`], a `GitHub`, `Sentry` or `Prometheus` client, the HTTP client), the
//! clock, the run's facts (`Option<&RunState>`) and the config section it reads. The engine's
//! dispatcher ([`crate::engine::runner::run_check`]) builds those from
//! [`crate::clients::Clients`]; a client that cannot be built is the item's `error` outcome.

pub mod command;
pub mod fly;
pub mod git;
pub mod github;
pub mod github_find;
pub mod github_pending;
pub mod github_run;
pub mod gitlog;
pub mod http;
pub mod loadtest;
pub mod postgres;
pub mod prometheus;
pub mod sentry;
pub mod window;

/// Awaits all futures concurrently, keeping their order. Each wake-up polls only the future
/// that was woken (futures-util's `join_all`), so a health check over 1,000 apps does not
/// poll 1,000 futures for each of the 1,000 answers.
pub async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    futures_util::future::join_all(futs).await
}
