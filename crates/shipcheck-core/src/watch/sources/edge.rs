//! Real traffic: the requests Fly's edge answered for an app, by status, from its managed
//! Prometheus (`fly_edge_http_responses_count`, a counter labelled `app`, `region`, `host`,
//! `status`). Each sample reads the counters and counts what happened since the previous
//! sample — requests, and how many were answered 5xx — for the same sequential failure test
//! as the health probes (`watch::evidence`); the series is `edge_errors`, percent.
//!
//! Why the counters and not `increase(…[W])`: the watch samples every few seconds, and
//! overlapping windows would count a request several times (the sequential tests need each
//! request once). The difference of two reads counts every request once, whenever its scrape
//! arrives; a counter that went down was reset (a restarted edge), and counts from zero, as
//! Prometheus' `increase` does. A series not seen before counts in full: it began after the
//! previous read (the first 500 of a release that starts failing is such a series).
//!
//! No data is never a pass: a failed query is a reading without a value. A first read
//! (nothing to compare with yet) and an interval without a single request give no reading at
//! all — nothing happened to judge, and nothing is claimed — and no evidence.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use crate::clients::prometheus::Sample;
use crate::model::watch::{Counts, Metric, Reading, SeriesKey};
use crate::watch::WatchContext;
use crate::watch::signal::{BoxFuture, Signal};

/// The counters of one app (`{app}`: its Fly app name); `[prometheus.queries] edge_responses`
/// replaces it (it must return counters with a `status` label).
pub const EDGE_QUERY: &str = r#"fly_edge_http_responses_count{app="{app}"}"#;

/// How far back the baseline counts the edge's requests (before the merge).
pub const BASELINE_WINDOW: Duration = Duration::from_secs(600);

/// The least time between two reads: one scrape a few seconds apart.
pub const EDGE_INTERVAL: Duration = Duration::from_secs(5);

/// One read of an app's counters: each series (its labels but the name) and its value.
type Counters = BTreeMap<String, (bool, f64)>;

/// One app's real traffic at the edge.
pub struct EdgeSignal {
    /// The app's short name (the series' app).
    pub app: String,
    /// The name `{app}` stands for in the query (the Fly app).
    pub target: String,
    /// The previous read, and when it was taken.
    last: Mutex<Option<(Timestamp, Counters)>>,
}

impl EdgeSignal {
    /// The signal of `app` (Fly app `target`).
    pub fn new(app: &str, target: &str) -> EdgeSignal {
        EdgeSignal {
            app: app.to_string(),
            target: target.to_string(),
            last: Mutex::new(None),
        }
    }

    fn reading(&self, value: Option<f64>, detail: String, counts: Option<Counts>) -> Reading {
        Reading {
            key: SeriesKey::new(Metric::EdgeErrors, Some(&self.app)),
            value,
            detail: Some(detail),
            observations: Vec::new(),
            counts,
        }
    }

    async fn read(&self, ctx: &WatchContext, at: Option<Timestamp>) -> Result<Counters, String> {
        let prom = ctx.prometheus().map_err(|e| e.to_string())?;
        let promql = prom
            .cfg
            .queries
            .get("edge_responses")
            .map(String::as_str)
            .unwrap_or(EDGE_QUERY)
            .replace("{app}", &self.target);
        let samples = prom.query(&promql, at).await.map_err(|e| e.to_string())?;
        counters(&samples)
    }
}

/// The counters of a query's answer, keyed by their labels; whether each counts failures.
/// An answer whose series have no `status` label is nonsense for this signal.
pub fn counters(samples: &[Sample]) -> Result<Counters, String> {
    let mut out = Counters::new();
    for s in samples {
        let Some(status) = s.labels.get("status") else {
            return Err(
                "the edge's response counters have no `status` label (the query must return fly_edge_http_responses_count by status)"
                    .into(),
            );
        };
        if !s.value.is_finite() || s.value < 0.0 {
            return Err(format!(
                "the edge's response counter for status {status} is {} (a counter is a finite number ≥ 0)",
                s.value
            ));
        }
        let key = s
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        // "500", "503" or a class "5xx": a server error.
        let failed = status.len() == 3 && status.starts_with('5');
        out.insert(key, (failed, s.value));
    }
    Ok(out)
}

/// Requests (and failed ones) between two reads: each series' increase; a counter that went
/// down was reset and counts from zero; a new series counts in full.
pub fn increase(before: &Counters, now: &Counters) -> (u64, u64) {
    let (mut total, mut failed) = (0.0, 0.0);
    for (key, (is_failed, v)) in now {
        let d = match before.get(key) {
            Some((_, b)) if v >= b => v - b,
            _ => *v,
        };
        total += d;
        if *is_failed {
            failed += d;
        }
    }
    (total.round() as u64, failed.round() as u64)
}

fn describe(total: u64, failed: u64, span: Duration) -> String {
    format!(
        "{failed} of {total} requests answered 5xx at the edge in {:.0}s",
        span.as_secs_f64()
    )
}

impl Signal for EdgeSignal {
    fn name(&self) -> String {
        format!("edge traffic of {}", self.app)
    }
    fn app(&self) -> Option<&str> {
        Some(&self.app)
    }
    fn min_interval(&self) -> Duration {
        EDGE_INTERVAL
    }
    fn sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let now = ctx.clock.now();
            let read = match self.read(ctx, None).await {
                Ok(c) => c,
                Err(e) => return vec![self.reading(None, e, None)],
            };
            let before = self
                .last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .replace((now, read.clone()));
            let Some((then, before)) = before else {
                // The first read: counting from now; nothing to judge yet.
                return Vec::new();
            };
            let span = now.duration_since(then).unsigned_abs();
            let (total, failed) = increase(&before, &read);
            let counts = Counts {
                total,
                failed,
                span_ms: span.as_millis() as u64,
            };
            if total == 0 {
                // No request since the last read: nothing to judge (no reading, not a pass).
                return Vec::new();
            }
            vec![self.reading(
                Some(failed as f64 * 100.0 / total as f64),
                describe(total, failed, span),
                Some(counts),
            )]
        })
    }
    fn baseline_sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let now = ctx.clock.now();
            let Some(then) = now
                .checked_sub(jiff::SignedDuration::try_from(BASELINE_WINDOW).unwrap_or_default())
                .ok()
            else {
                return vec![self.reading(None, "the clock is out of range".into(), None)];
            };
            let (before, after) = match (
                self.read(ctx, Some(then)).await,
                self.read(ctx, Some(now)).await,
            ) {
                (Ok(b), Ok(a)) => (b, a),
                (Err(e), _) | (_, Err(e)) => return vec![self.reading(None, e, None)],
            };
            let (total, failed) = increase(&before, &after);
            let counts = Counts {
                total,
                failed,
                span_ms: BASELINE_WINDOW.as_millis() as u64,
            };
            if total == 0 {
                return vec![self.reading(
                    None,
                    format!(
                        "no requests at the edge in the {} min before the release",
                        BASELINE_WINDOW.as_secs() / 60
                    ),
                    Some(counts),
                )];
            }
            vec![self.reading(
                Some(failed as f64 * 100.0 / total as f64),
                describe(total, failed, BASELINE_WINDOW),
                Some(counts),
            )]
        })
    }
}

#[cfg(test)]
mod tests;
