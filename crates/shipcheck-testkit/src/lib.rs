//! Test support for the whole workspace, used only as a dev-dependency: one loopback HTTP
//! test server ([`http`]) for the behaviours an API mock cannot give (connection-level
//! faults, keep-alive, stalls, answers that depend on time or on a barrier), and one git
//! fixture ([`git`]): hermetic git calls and a bare origin with `production` and `staging`.
//!
//! JSON APIs (GitHub, Sentry, Slack, Prometheus) are mocked with `wiremock` in the tests that
//! read them; everything here is plain tokio and `git`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod git;
pub mod http;
