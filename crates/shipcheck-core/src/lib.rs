//! shipcheck's engine: the checklist as code, the checks that run it, the run record and
//! its store, and the reports. No CLI and no web server live here; front ends drive the
//! engine and render what it emits.
//!
//! Data flows one way: config → checklist → engine → events → (store, terminal, web).

pub mod actions;
pub mod changes;
pub mod checklist;
pub mod checks;
pub mod clock;
pub mod conditions;
pub mod config;
pub mod duration;
pub mod engine;
pub mod exec;
pub mod http;
pub mod integrations;
pub mod loadtest;
pub mod logscan;
pub mod monitor;
pub mod redact;
pub mod report;
pub mod run;
pub mod store;
#[cfg(test)]
pub(crate) mod testrepo;

/// The version of every JSON document shipcheck prints (`--json`, `report --format json`).
pub const JSON_SCHEMA: &str = "shipcheck/v1";
