//! Clients of the outside world. Programs (git, flyctl) run through [`exec`]; HTTP APIs
//! through [`api`] over the one client from [`http`]. Each client is built from its own config
//! section and a token, and knows nothing of checks or runs.

pub mod api;
pub mod api_error;
pub mod exec;
pub mod fly;
pub mod git;
pub mod github;
pub mod http;
pub mod prometheus;
pub mod sentry;
pub mod slack;
#[cfg(test)]
pub mod testing;
