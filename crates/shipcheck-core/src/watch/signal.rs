//! Signals: what the watch samples. A [`Signal`] is one source of measurements (one app's
//! health endpoint, one Sentry project, one Prometheus app, one database); each sample returns
//! [`Reading`]s of one or more [`Metric`]s. An integration adds a signal by implementing the
//! trait in a small adapter file and listing it in [`signals`].

use std::pin::Pin;
use std::time::Duration;

use crate::model::checklist::{HttpCheck, StatusSpec};
use crate::model::watch::Metric;
use crate::model::watch::Reading;
use crate::model::watch::SeriesKey;
use crate::watch::WatchContext;

/// A future a signal returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of measurements the watch samples.
pub trait Signal: Send + Sync {
    /// A name for people (`health of internal-api`).
    fn name(&self) -> String;
    /// The app it measures, if one.
    fn app(&self) -> Option<&str>;
    /// The shortest time between two samples its API allows (rate limits).
    fn min_interval(&self) -> Duration;
    /// How many samples the baseline takes when `probes` are configured (a health endpoint
    /// takes all of them; a rate-limited API one).
    fn baseline_samples(&self, probes: u32) -> u32 {
        let _ = probes;
        1
    }
    /// Takes one sample. Never panics; a failure is a reading without a value.
    fn sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>>;
    /// One sample for the baseline (a source that can look back, like Sentry, measures the
    /// time before the release instead of the last minutes).
    fn baseline_sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        self.sample(ctx)
    }
}

/// One app's health endpoint: `probes` probes (no retries) give its health, its failed-probe
/// rate and its latency.
#[derive(Clone, Debug)]
pub struct HealthSignal {
    /// The app's short name.
    pub app: String,
    /// The probe.
    pub check: HttpCheck,
    /// Probes per sample (at least 1).
    pub probes: u32,
    /// The least time between two samples: the probe budget's (`[monitor] probe_budget`).
    pub spacing: Duration,
}

/// Timeout of one watch probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Probes of one sample in flight at once, per app.
pub const PROBES_IN_FLIGHT: usize = 5;

impl HealthSignal {
    /// The signal of an app with a health URL, `probes` probes a sample.
    pub fn new(app: &str, url: &str, expect: u16, probes: u32) -> HealthSignal {
        HealthSignal {
            app: app.to_string(),
            check: HttpCheck {
                url: url.trim().to_string(),
                method: "GET".into(),
                expect_status: StatusSpec::One(expect),
                timeout: Some(crate::model::duration::Span(PROBE_TIMEOUT)),
                retries: Some(0),
                backoff: None,
                body_contains: None,
                json_pointer: None,
                json_equals: None,
                headers: Default::default(),
            },
            probes: probes.max(1),
            spacing: Duration::ZERO,
        }
    }

    /// One probe: answered as expected, what was seen, and the latency of an answer.
    async fn probe_once(&self, ctx: &WatchContext) -> (bool, String, Option<f64>) {
        let p = crate::checks::http::probe(&ctx.http, &self.check).await;
        let ms = p.latency.as_secs_f64() * 1000.0;
        match (&p.error, p.status) {
            (Some(e), _) => (false, e.to_string(), None),
            (None, Some(s)) if self.check.expect_status.accepts(s) => {
                (true, format!("answered {s}"), Some(ms))
            }
            (None, Some(s)) => (false, format!("answered {s}"), None),
            (None, None) => (false, "no answer".into(), None),
        }
    }
}

/// What a sample's probes saw, most frequent first: `answered 200 ×14, answered 500 ×6`.
fn tally(seen: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in seen {
        match counts.iter_mut().find(|(k, _)| *k == s.as_str()) {
            Some(c) => c.1 += 1,
            None => counts.push((s.as_str(), 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .map(|(k, n)| {
            if *n == 1 {
                (*k).to_string()
            } else {
                format!("{k} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Signal for HealthSignal {
    fn name(&self) -> String {
        format!("health of {}", self.app)
    }
    fn app(&self) -> Option<&str> {
        Some(&self.app)
    }
    fn min_interval(&self) -> Duration {
        self.spacing
    }
    fn baseline_samples(&self, probes: u32) -> u32 {
        probes.div_ceil(self.probes).max(1)
    }
    fn sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let n = self.probes.max(1) as usize;
            let mut results = Vec::with_capacity(n);
            let mut left = n;
            while left > 0 {
                let batch = left.min(PROBES_IN_FLIGHT);
                results.extend(
                    crate::checks::join_all((0..batch).map(|_| self.probe_once(ctx)).collect())
                        .await,
                );
                left -= batch;
            }
            let app = Some(self.app.as_str());
            let answered = results.iter().filter(|r| r.0).count();
            let failed = n - answered;
            let seen: Vec<String> = results.iter().map(|r| r.1.clone()).collect();
            let detail = if n == 1 {
                seen.concat()
            } else {
                format!("{n} probes: {}", tally(&seen))
            };
            let mut out = vec![
                Reading {
                    key: SeriesKey::new(Metric::Health, app),
                    value: Some(answered as f64 / n as f64),
                    detail: Some(crate::model::redact::redact(&detail, &ctx.secrets)),
                    observations: Vec::new(),
                    counts: None,
                },
                Reading {
                    key: SeriesKey::new(Metric::HttpErrors, app),
                    value: Some(failed as f64 * 100.0 / n as f64),
                    detail: Some(format!("{failed} of {n} probes failed")),
                    observations: results
                        .iter()
                        .map(|r| if r.0 { 0.0 } else { 1.0 })
                        .collect(),
                    counts: None,
                },
            ];
            // A latency only means something for answers; failures are the health's.
            let latencies: Vec<f64> = results.iter().filter_map(|r| r.2).collect();
            if let Some(p95) = crate::model::watch::percentile(&latencies, 95.0) {
                out.push(Reading {
                    key: SeriesKey::new(Metric::Latency, app),
                    value: Some(p95),
                    detail: (latencies.len() > 1)
                        .then(|| format!("p95 of {} answers", latencies.len())),
                    observations: latencies,
                    counts: None,
                });
            }
            out
        })
    }
}
