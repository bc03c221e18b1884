//! shipcheck's engine: the checklist as code, the checks that run it, the run record and
//! its store, and the reports. No CLI and no web server live here; front ends drive the
//! engine and render what it emits.
//!
//! The folders are layers; each depends only on the layers above it in this list
//! (`ARCHITECTURE.md` is the map; `cargo test -p shipcheck-core layers` enforces it):
//!
//! 1. [`model`]: plain data — config, checklist (with its conditions), durations, the clock,
//!    the change set, the journal's event types and the run's typed facts.
//! 2. [`journal`]: the fold of a run's events into its state, and the hash chain.
//! 3. [`store`] (SQLite, PostgreSQL) and [`report`] (Markdown, JSON, JUnit): on the journal.
//! 4. [`clients`] of the outside world (git, flyctl, GitHub, Sentry, Slack, Prometheus,
//!    PostgreSQL) and two instruments ([`loadtest`], [`logscan`]): each built from its own
//!    config section and a token, knowing nothing of checks or runs.
//! 5. [`runs`]: a session over the store — reading a run, appending to it, and what a person
//!    does to a run (start, tick, waive, note, abort, sign).
//! 6. [`checks`], [`actions`], [`incidents`] and the [`watch`].
//! 7. [`engine`]: the phase engine that walks a run and emits every change as an event.
//! 8. [`fuzz`]: the bodies of the fuzz targets (`fuzz/`), one per family of readers.
//!
//! Data flows one way: config → checklist → engine → events → (store, terminal, web).

pub mod model;

pub mod journal;

pub mod report;
pub mod store;

pub mod clients;
pub mod loadtest;
pub mod logscan;

pub mod runs;

pub mod actions;
pub mod checks;
pub mod incidents;
pub mod watch;

pub mod engine;

pub mod fuzz;

#[cfg(test)]
mod layers_tests;
#[cfg(test)]
pub(crate) mod testkit;

/// The version of every JSON document shipcheck prints (`--json`, `report --format json`).
pub const JSON_SCHEMA: &str = "shipcheck/v1";
