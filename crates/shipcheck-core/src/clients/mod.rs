//! Clients of the outside world. Programs (git, flyctl) run through [`exec`]; HTTP APIs
//! through [`api`] over the one client from [`http`]. Each client is built from its own config
//! section and a token, and knows nothing of checks or runs.

pub mod api;
pub mod api_error;
pub mod bounds;
pub mod exec;
pub mod factory;
pub mod fly;
pub mod git;
pub mod github;
pub mod http;
pub mod prometheus;
pub mod sentry;
pub mod sink;
pub mod slack;
pub mod ssh;

use std::sync::Arc;

pub use factory::Clients;

use crate::model::clock::SharedClock;

/// What every HTTP client is built with: the one HTTP client ([`http::client`]), time (for
/// rate limits and backoff), and the secrets that must never appear in what a client reports.
#[derive(Clone, Debug)]
pub struct Kit {
    /// The HTTP client for APIs ([`http::api_client`]: it follows no redirect by itself, so
    /// [`api::Api`] decides which it follows and where credentials go).
    pub http: reqwest::Client,
    /// Time.
    pub clock: SharedClock,
    /// Values that must never appear in evidence (secrets read from the environment).
    pub secrets: Arc<Vec<String>>,
}

/// Why a client could not be built: its config section is missing or wrong, or its token is
/// not in the environment. The message names what to add or set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(pub String);

impl ClientError {
    /// The config has no table for this integration.
    pub fn not_configured(what: impl Into<String>) -> Self {
        ClientError(what.into())
    }
}

impl From<ClientError> for String {
    fn from(e: ClientError) -> String {
        e.0
    }
}

impl crate::model::error::HasKind for ClientError {
    /// A missing table or token is the config's (or the environment's) to fix.
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Config
    }
}

#[cfg(test)]
#[path = "origin_tests.rs"]
mod origin_tests;
