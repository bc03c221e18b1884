//! The stream: what the engine tells a front end while it works — checks starting, running and
//! finishing, the watch's progress — and the one question it asks, whether to perform a
//! destructive step ([`Confirm`]). The terminal renders it; a web view subscribes to it.

use std::time::Duration;

use crate::model::checklist::Item;
use crate::model::incident::{Decision, IncidentReport};
use crate::model::outcome::Outcome;
use crate::model::watch::{Outcome as WatchOutcome, Purpose, Schedule, Tick};

/// What the engine reports while it runs.
#[derive(Clone, Copy, Debug)]
pub enum EngineEvent<'a> {
    /// The item's check started.
    Started {
        /// The item.
        item: &'a Item,
    },
    /// The item's check is still running (every [`HEARTBEAT`]).
    Progress {
        /// The item.
        item: &'a Item,
        /// Time since it started.
        elapsed: Duration,
    },
    /// The item's check finished (pass, fail or error, including timeouts and crashes).
    Finished {
        /// The item.
        item: &'a Item,
        /// What it found (redacted).
        outcome: &'a Outcome,
    },
}

/// Receives the engine's events, in order, from the task driving the engine. Keep
/// `on_event` quick: checks do not wait for it, but the next events do.
pub trait Observer: Send + Sync {
    /// One event.
    fn on_event(&self, event: EngineEvent<'_>);
    /// What the watch reports (waiting, ticks, incidents, decisions); ignored by default.
    fn on_watch(&self, event: &crate::runs::stream::WatchEvent) {
        let _ = event;
    }
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn on_event(&self, _event: EngineEvent<'_>) {}
}

/// A prompt for a destructive action (a TTY asks the person; otherwise `None`).
pub trait Confirm: Send + Sync {
    /// Asks whether to perform `item` with these commands; `true` performs it.
    fn confirm(&self, item: &Item, plan: &[String]) -> bool;
}

/// Never confirms (non-interactive without `--yes`).
pub struct NoConfirm;

impl Confirm for NoConfirm {
    fn confirm(&self, _item: &Item, _plan: &[String]) -> bool {
        false
    }
}

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
        outcome: WatchOutcome,
        /// Why.
        reason: String,
    },
    /// Anything else worth a line.
    Note(String),
}
