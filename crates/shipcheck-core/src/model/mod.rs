//! Plain data: what `shipcheck.toml` says ([`config`]), the checklist ([`checklist`]),
//! durations and time ([`duration`], [`clock`]), the change set ([`changes`]), the journal's
//! vocabulary ([`event`]) and redaction of secrets from text ([`redact`]). Nothing here
//! performs I/O on the outside world or knows about the layers above.

pub mod changes;
pub mod checklist;
pub mod clock;
pub mod config;
pub mod duration;
pub mod error;
pub mod event;
pub mod facts;
pub mod hex;
pub mod incident;
pub mod loadtest;
pub mod outcome;
pub mod person;
pub mod redact;
pub mod shell;
pub mod watch;
