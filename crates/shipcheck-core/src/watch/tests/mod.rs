//! The watch against real HTTP apps on loopback that turn bad at a chosen moment, a real
//! SQLite store, real git for the rollback, and a manual clock: the 2-hour watch runs in
//! seconds.

mod app;
mod close;
mod rollback;
mod scenarios;
mod sequential;
mod sources;
mod world;
