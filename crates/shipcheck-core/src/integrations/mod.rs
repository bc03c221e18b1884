//! Clients of the outside world. Programs (git, flyctl) run through [`crate::exec`]; HTTP
//! APIs through [`api`] over the one client from [`crate::http`].

pub mod api;
pub mod api_error;
pub mod fly;
pub mod git;
pub mod github;
pub mod gitlog;
pub mod prometheus;
pub mod sentry;
pub mod slack;
#[cfg(test)]
pub mod testing;
