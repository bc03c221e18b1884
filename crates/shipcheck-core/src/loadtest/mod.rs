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

/// At most this many connections.
pub const MAX_CONCURRENCY: usize = 1024;
/// No run lasts longer than this (plus one request timeout to finish what is in flight).
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// No run makes more requests than this.
pub const MAX_REQUESTS: u64 = 10_000_000;
/// The highest arrival rate, requests per second.
pub const MAX_RATE: f64 = 100_000.0;
/// The longest request timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections unless set.
pub const DEFAULT_CONCURRENCY: usize = 10;
/// Duration unless a duration or a request count is set.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Request timeout unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// How to load-test one URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// `http://` or `https://` URL; GET requests.
    pub url: String,
    /// Connections (the closed model's concurrency; in the open model, how many requests can
    /// be outstanding at once).
    pub concurrency: usize,
    /// Requests per second (the open model); `None` sends as fast as answers come back.
    pub rate: Option<f64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Timeout of one request (connecting included).
    pub timeout: Duration,
}

impl Options {
    /// Defaults: [`DEFAULT_CONCURRENCY`] connections, the closed model, [`DEFAULT_DURATION`].
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            concurrency: DEFAULT_CONCURRENCY,
            rate: None,
            duration: None,
            requests: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Checks the bounds and works out when and after how many requests the run stops.
    pub fn plan(&self) -> Result<Plan, LoadtestError> {
        let bad = |m: String| Err(LoadtestError::InvalidOptions(m));
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return bad(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY} (got {})",
                self.concurrency
            ));
        }
        if self.timeout.is_zero() || self.timeout > MAX_TIMEOUT {
            return bad(format!(
                "the request timeout must be above 0 and at most {} (got {})",
                crate::model::duration::format(MAX_TIMEOUT),
                crate::model::duration::format(self.timeout)
            ));
        }
        if let Some(d) = self.duration
            && (d.is_zero() || d > MAX_DURATION)
        {
            return bad(format!(
                "the duration must be above 0 and at most {} (got {})",
                crate::model::duration::format(MAX_DURATION),
                crate::model::duration::format(d)
            ));
        }
        if let Some(n) = self.requests
            && (n == 0 || n > MAX_REQUESTS)
        {
            return bad(format!(
                "the request count must be between 1 and {MAX_REQUESTS} (got {n})"
            ));
        }
        let duration = match (self.duration, self.requests) {
            (None, None) => Some(DEFAULT_DURATION),
            (d, _) => d,
        };
        match self.rate {
            Some(r) if !(r.is_finite() && r > 0.0 && r <= MAX_RATE) => bad(format!(
                "the rate must be above 0 and at most {MAX_RATE} requests per second (got {r})"
            )),
            Some(rate) => {
                // The schedule: every request has a due time inside the run.
                let by_time = duration.map(|d| (d.as_secs_f64() * rate).floor() as u64);
                let total = match (self.requests, by_time) {
                    (Some(n), Some(t)) => n.min(t),
                    (Some(n), None) => n,
                    (None, Some(t)) => t,
                    (None, None) => 0,
                };
                if total == 0 {
                    return bad(format!(
                        "a rate of {rate}/s sends no request in {}; raise the rate or the duration",
                        crate::model::duration::format(duration.unwrap_or_default())
                    ));
                }
                let secs = total as f64 / rate;
                if !secs.is_finite() || secs > MAX_DURATION.as_secs_f64() {
                    return bad(format!(
                        "{total} requests at {rate}/s take {secs:.0}s, more than the limit of {}",
                        crate::model::duration::format(MAX_DURATION)
                    ));
                }
                let span = Duration::from_secs_f64(secs);
                Ok(Plan {
                    total,
                    rate: Some(rate),
                    stop_after: span,
                    timeout: self.timeout,
                    concurrency: self.concurrency,
                })
            }
            None => Ok(Plan {
                total: self.requests.unwrap_or(MAX_REQUESTS),
                rate: None,
                stop_after: duration.unwrap_or(MAX_DURATION),
                timeout: self.timeout,
                concurrency: self.concurrency,
            }),
        }
    }
}

/// When a run stops, as [`Options::plan`] works it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Requests at most (the count asked for, the open model's schedule, or
    /// [`MAX_REQUESTS`]).
    pub total: u64,
    /// The open model's rate.
    pub rate: Option<f64>,
    /// No new request starts after this (the closed model), or the last one is due by then
    /// (the open model).
    pub stop_after: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// Connections.
    pub concurrency: usize,
}

impl Plan {
    /// The hard limit: nothing runs past it.
    pub fn time_limit(&self) -> Duration {
        self.stop_after + self.timeout + Duration::from_secs(1)
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
