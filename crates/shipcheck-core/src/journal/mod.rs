//! The journal: a run's events folded into its state ([`state`], the watch's part in
//! [`watch`]). What the store keeps is the journal; this fold is the only reading of it.

pub mod facts;
pub mod state;
pub mod watch;
