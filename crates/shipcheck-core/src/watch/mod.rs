//! The watch: the baseline before the release, the first five minutes after it, the watch
//! that samples every signal continuously and ticks every interval, incidents and the
//! severity policy, the rollback and its verification, and the end-of-day close.
//!
//! - [`signal`]: what is sampled (a [`Signal`] per source; the health endpoint here,
//!   integrations add theirs).
//! - [`baseline`]: the previous release's values, measured in `preflight`.
//! - [`rules`]: pass/warn/fail of a sample, N consecutive failures, severity.
//! - [`watch`]: the schedule (samples, ticks, Kayenta's final rule), resumable.
//! - [`incident`], [`policy`], [`respond`]: incidents, the seed's ladder, acting on it.
//! - [`phases`]: what the walk does in `preflight`, `verify` and `watch`.
//! - [`checks`], [`review`], [`ics`], [`report`]: the checklist items, the review invitation
//!   and its iCalendar text, the record.
//! - [`sources`]: the integrations' signals (Sentry, Prometheus, PostgreSQL).
//!
//! The engine never prints: progress goes to an [`crate::engine::runner::Observer`] as
//! [`WatchEvent`]s.

pub mod baseline;
pub mod items;
mod react;
pub mod rules;
pub mod signal;
pub mod sources;
mod tick;
pub mod watcher;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::incidents::{Decision, IncidentReport};
use crate::model::watch::{Outcome, Purpose, Schedule, Tick};

pub use signal::Signal;
pub use tick::kayenta;
pub use watcher::{WatchOptions, WatchReport};

/// What the watch reports while it runs.
#[derive(Clone, Debug)]
pub enum WatchEvent {
    /// Waiting (the first five minutes after the deploy).
    Waiting {
        /// For what.
        what: String,
        /// How long still.
        remaining: Duration,
    },
    /// The baseline was measured.
    Baseline {
        /// One line.
        summary: String,
    },
    /// A watch started or resumed.
    Started {
        /// Which.
        leg: u32,
        /// What for.
        purpose: Purpose,
        /// Its schedule.
        schedule: Schedule,
        /// The next tick.
        next_tick: u32,
        /// Ticks in all.
        of: u32,
        /// What it samples.
        signals: Vec<String>,
        /// It had started before (a resumed watch).
        resumed: bool,
    },
    /// One round of samples; the series that count as failing.
    Sampled {
        /// Rounds in this tick so far.
        round: u32,
        /// Series failing (counted), with their value.
        failing: Vec<String>,
    },
    /// A tick was recorded.
    Tick(Tick),
    /// An incident was raised.
    Incident(Box<IncidentReport>),
    /// A decision about an incident.
    Decision {
        /// The incident.
        incident: u32,
        /// What.
        decision: Decision,
        /// Why.
        reason: String,
    },
    /// The rollback was verified (or not).
    Verified {
        /// Healthy again.
        ok: bool,
        /// One line.
        summary: String,
    },
    /// A watch ended.
    Ended {
        /// Which.
        leg: u32,
        /// How.
        outcome: Outcome,
        /// Why.
        reason: String,
    },
    /// Anything else worth a line.
    Note(String),
}

/// The contacts printed in every incident: `[contacts]`, then Fly.io support.
pub fn contacts(config: &crate::model::config::Config) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = config
        .contacts
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !out.iter().any(|(k, _)| k.contains("fly")) {
        out.push((
            "Fly.io Support".into(),
            "https://fly.io/docs/about/support/".into(),
        ));
    }
    out
}
