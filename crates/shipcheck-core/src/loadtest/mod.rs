//! The built-in load test: HTTP/1.1 keep-alive connections hammering one URL, with a fixed
//! number of connections (the closed model, like wrk and oha) or a constant arrival rate (the
//! open model), by duration or by request count, into an HDR histogram.
//!
//! **Why hyper and not [`crate::clients::http`]**: every other request shipcheck makes goes through the
//! one reqwest client built in `http.rs`. The load generator is the one exception. It needs
//! one connection per worker that it owns and drives itself (no pool deciding which
//! connection a request takes), no per-request work beyond what hyper needs, and the exact
//! moment each request was meant to leave. reqwest adds a pool, a redirect policy, URL
//! parsing and a boxed future per request; hyper's `client::conn::http1` is the layer under
//! it without those. TLS (for `https://` staging URLs) uses the same rustls provider and the
//! platform verifier, as `http.rs` does.
//!
//! **The open model** (`rate`): request *i* is due at `start + i / rate`. Its latency is
//! measured from that due time, not from when a connection was free to send it, so a server
//! that stalls shows up in the percentiles instead of silently lowering the request rate
//! ("coordinated omission"). Requests still unsent when the run's time is up count as
//! timeouts (`unsent` says how many). Timer resolution (about 1 ms) adds to open-model
//! latencies; it is the generator's lateness and is counted, not hidden.
//!
//! **Bounds**: every run stops at a request count and a time limit (at most
//! [`MAX_REQUESTS`] requests and [`MAX_DURATION`]), every request has a timeout, and only
//! loopback addresses or hosts the caller allows (the configured staging hosts) are targets.

mod client;
mod report;
mod target;

#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

pub use report::{
    Comparison, ErrorCounts, Latency, Report, StatusCounts, Thresholds, Violation, compare,
    evaluate,
};
pub use target::{Allowed, Target, resolve};

pub use crate::model::loadtest::{
    DEFAULT_CONCURRENCY, DEFAULT_DURATION, DEFAULT_TIMEOUT, MAX_CONCURRENCY, MAX_DURATION,
    MAX_RATE, MAX_REQUESTS, MAX_TIMEOUT, Options, Plan,
};

/// What the load test could not do.
#[derive(Debug, thiserror::Error)]
pub enum LoadtestError {
    /// The URL cannot be load-tested as written.
    #[error("{url:?} is not a URL the load test can use: {why}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// The target is neither loopback nor an allowed host.
    #[error(
        "refusing to load-test {host}: the load test only targets loopback (127.0.0.1, ::1, localhost){}",
        allowed_hosts(.allowed)
    )]
    Refused {
        /// The host asked for.
        host: String,
        /// The hosts that are allowed besides loopback.
        allowed: Vec<String>,
    },
    /// The host name does not resolve.
    #[error("cannot resolve {host}: {why}")]
    Resolve {
        /// The host.
        host: String,
        /// Why.
        why: String,
    },
    /// The options contradict each other or exceed the bounds.
    #[error("{0}")]
    InvalidOptions(String),
    /// TLS could not be set up for an `https://` target.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

fn allowed_hosts(allowed: &[String]) -> String {
    if allowed.is_empty() {
        " or a staging app's host from shipcheck.toml (none configured here)".into()
    } else {
        format!(" or the configured staging hosts ({})", allowed.join(", "))
    }
}

/// What the progress callback is told, a few times a second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snapshot {
    /// Since the start.
    pub elapsed: Duration,
    /// Requests finished (answered or failed).
    pub completed: u64,
    /// Of which failed or answered 4xx/5xx.
    pub errors: u64,
    /// The request count the run stops at, when it is a count (or the open model).
    pub planned: Option<u64>,
    /// How long the run is planned to last.
    pub planned_duration: Duration,
}

/// How often the progress callback is called.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Runs the load test against `opts.url`, which must be loopback or one of `allowed`.
/// `progress` is called every [`PROGRESS_EVERY`] from the caller's task.
pub async fn run(
    opts: &Options,
    allowed: &Allowed,
    progress: &(dyn Fn(&Snapshot) + Send + Sync),
) -> Result<Report, LoadtestError> {
    let plan = opts.plan()?;
    let target = resolve(&opts.url, allowed).await?;
    let tls = if target.https {
        Some(client::tls_connector()?)
    } else {
        None
    };
    let start = Instant::now();
    let shared = Arc::new(client::Shared::new(target, tls, plan, start));
    let mut set = JoinSet::new();
    for id in 0..plan.concurrency {
        set.spawn(client::worker(shared.clone(), id));
    }
    let planned = (opts.requests.is_some() || plan.rate.is_some()).then_some(plan.total);
    let snapshot = |s: &client::Shared| Snapshot {
        elapsed: start.elapsed(),
        completed: s.completed.load(Ordering::Relaxed),
        errors: s.errors.load(Ordering::Relaxed),
        planned,
        planned_duration: plan.stop_after,
    };
    let mut tally = client::Tally::default();
    let mut ticker = tokio::time::interval_at(start + PROGRESS_EVERY, PROGRESS_EVERY);
    // Workers bound themselves by the time limit; this is the safety net.
    let limit = tokio::time::sleep_until(start + plan.time_limit() + Duration::from_secs(2));
    tokio::pin!(limit);
    loop {
        tokio::select! {
            joined = set.join_next() => match joined {
                Some(Ok(t)) => tally.add(&t),
                Some(Err(_)) => tally.io += 1,
                None => break,
            },
            _ = ticker.tick() => progress(&snapshot(&shared)),
            _ = &mut limit => {
                set.abort_all();
                tally.timeout += set.len() as u64;
                break;
            }
        }
    }
    progress(&snapshot(&shared));
    let claimed = shared.next_ticket.load(Ordering::Relaxed).min(plan.total);
    let unsent = if planned.is_some() {
        plan.total - claimed
    } else {
        0
    };
    let histogram = shared.merged_histogram();
    Ok(Report::build(
        &shared.target,
        &plan,
        &tally,
        unsent,
        &histogram,
        tally.last_done.map(|t| t.duration_since(start)),
    ))
}

/// A counter shared by the workers.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl From<crate::model::loadtest::InvalidOptions> for LoadtestError {
    fn from(e: crate::model::loadtest::InvalidOptions) -> Self {
        LoadtestError::InvalidOptions(e.0)
    }
}

impl crate::model::error::HasKind for LoadtestError {
    fn kind(&self) -> crate::model::error::ErrorKind {
        use crate::model::error::ErrorKind;
        match self {
            LoadtestError::Resolve { .. } | LoadtestError::Tls(_) => ErrorKind::Integration,
            LoadtestError::InvalidUrl { .. }
            | LoadtestError::Refused { .. }
            | LoadtestError::InvalidOptions(_) => ErrorKind::Usage,
        }
    }
}
