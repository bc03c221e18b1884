//! The watch: the baseline before the release, the first five minutes after it, the watch
//! that samples every signal continuously and ticks every interval, incidents and the
//! severity policy, the rollback and its verification, and the end-of-day close.
//!
//! - [`context`]: what the signals and items read ([`WatchContext`]: the clients, the run).
//! - [`signal`]: what is sampled (a [`Signal`] per source; the health endpoint here,
//!   integrations add theirs).
//! - [`baseline`]: the previous release's values, measured in `preflight`.
//! - [`rules`]: pass/warn/fail of a sample, N consecutive failures, severity.
//! - [`watcher`]: the schedule (samples, ticks, Kayenta's final rule), resumable; [`round`]:
//!   one round of samples, journaled, judged and acted on.
//! - [`incident`], [`policy`], [`respond`]: incidents, the seed's ladder, acting on it.
//! - [`phases`]: what the walk does in `preflight`, `verify` and `watch`.
//! - [`checks`], [`review`], [`ics`], [`report`]: the checklist items, the review invitation
//!   and its iCalendar text, the record.
//! - [`sources`]: the integrations' signals (Sentry, Prometheus, PostgreSQL).
//!
//! The engine never prints: progress goes to an [`crate::runs::stream::Observer`] as
//! [`WatchEvent`]s.

pub mod baseline;
pub mod context;
mod evidence;
pub mod items;
mod react;
pub mod replay;
mod round;
pub mod rules;
pub mod sequential;
pub mod signal;
pub mod simulate;
pub mod sources;
mod tick;
pub mod watcher;

#[cfg(test)]
mod tests;

pub use context::WatchContext;
pub use signal::Signal;

pub use watcher::{WatchOptions, WatchReport};
