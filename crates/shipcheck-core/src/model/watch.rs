//! The watch's vocabulary as the journal records it: what is measured (metrics, series,
//! readings), how a sample or tick went (grades), the baseline, a watch's purpose and
//! schedule, its ticks and how it ended.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::duration::Span;

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The share of a sample's health probes answered with the expected status (1: all,
    /// 0: none); up when at least half answered.
    Health,
    /// Percent of failed health probes (of a sample; in the watch, over its rolling window).
    HttpErrors,
    /// Response time of the health probe, milliseconds.
    Latency,
    /// p95 response time of real traffic at the edge (Prometheus), milliseconds.
    P95,
    /// Percent of real requests Fly's edge answered with a 5xx since the last sample
    /// (Prometheus, `fly_edge_http_responses_count` by status).
    EdgeErrors,
    /// Application errors per minute (Sentry).
    ErrorRate,
    /// CPU busy, percent.
    Cpu,
    /// Memory used, percent.
    Memory,
    /// Database connections, percent of the server's maximum.
    DbConnections,
}

/// Which checklist item a metric belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `watch.error-rates`: health, failed probes, application errors.
    Errors,
    /// `watch.metrics`: latency and resources.
    Metrics,
}

impl Metric {
    /// The name used in JSON and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Health => "health",
            Metric::HttpErrors => "http_errors",
            Metric::Latency => "latency",
            Metric::P95 => "p95",
            Metric::EdgeErrors => "edge_errors",
            Metric::ErrorRate => "error_rate",
            Metric::Cpu => "cpu",
            Metric::Memory => "memory",
            Metric::DbConnections => "db_connections",
        }
    }

    /// The item the metric is judged under.
    pub fn family(self) -> Family {
        match self {
            Metric::Health | Metric::HttpErrors | Metric::EdgeErrors | Metric::ErrorRate => {
                Family::Errors
            }
            Metric::Latency
            | Metric::P95
            | Metric::Cpu
            | Metric::Memory
            | Metric::DbConnections => Family::Metrics,
        }
    }

    /// A value with its unit: `320ms`, `12.5%`, `3.0/min`, `up`.
    pub fn show(self, value: f64) -> String {
        match self {
            Metric::Health if value >= 0.5 => "up".into(),
            Metric::Health => "down".into(),
            Metric::Latency | Metric::P95 => format!("{value:.0}ms"),
            Metric::ErrorRate => format!("{value:.1}/min"),
            _ => format!("{value:.1}%"),
        }
    }
}

/// One measured series: a metric of an app (or of the whole deployment).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    /// What.
    pub metric: Metric,
    /// Of which app (`None`: the deployment as a whole, e.g. the database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

impl SeriesKey {
    /// A series of `metric` for `app`.
    pub fn new(metric: Metric, app: Option<&str>) -> SeriesKey {
        SeriesKey {
            metric,
            app: app.map(str::to_string),
        }
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.app {
            Some(app) => write!(f, "{} of {app}", self.metric.as_str()),
            None => f.write_str(self.metric.as_str()),
        }
    }
}

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The series.
    pub key: SeriesKey,
    /// The value; `None` when the source could not say (unreachable, no data) — never a pass.
    pub value: Option<f64>,
    /// What was seen (`answered 500`, `connection refused`, `Sentry answered 429`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The raw observations behind the value, for the sequential tests: one per health probe
    /// (`http_errors`: 1 failed, 0 answered; `latency`: each answer's milliseconds). Empty
    /// for sources that only give a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<f64>,
    /// Requests counted behind the value (`edge_errors`: the requests the edge answered since
    /// the last sample, and how many with a 5xx), for the sequential tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
}

/// Requests counted over a span of time, and how many of them failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Requests answered.
    pub total: u64,
    /// Of which failed (5xx).
    pub failed: u64,
    /// The span they were counted over, milliseconds.
    pub span_ms: u64,
}

/// One watch sample of one app's health probes, kept raw so that any policy can re-judge
/// the watch (`shipcheck replay`): how many probes went out and failed, and each answer's
/// latency in whole milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeSample {
    /// When the sample was taken.
    pub at: Timestamp,
    /// The app.
    pub app: String,
    /// Probes sent.
    pub sent: u32,
    /// Probes that failed (wrong status, refused, timed out).
    pub failed: u32,
    /// Each answer's latency, milliseconds (rounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ms: Vec<u32>,
    /// The real requests Fly's edge answered for the app since the previous sample, and how
    /// many with a 5xx (when the watch reads the edge's counters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<Counts>,
}

/// How a sample, a tick or a watch went. Ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// Within its criterion.
    Pass,
    /// Past half of its allowed margin.
    Warn,
    /// Nothing could be measured (never a pass).
    NoData,
    /// Beyond its criterion.
    Fail,
}

impl Grade {
    /// `pass`, `warn`, `no_data`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Pass => "pass",
            Grade::Warn => "warn",
            Grade::NoData => "no_data",
            Grade::Fail => "fail",
        }
    }
}

/// The baseline of one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineValue {
    /// The series.
    pub key: SeriesKey,
    /// The value criteria compare with (latency: its p95; a rate: the rate; a resource: the
    /// median); `None` when nothing could be measured.
    pub value: Option<f64>,
    /// Median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 95th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    /// Samples it is made of.
    pub samples: u32,
    /// Why there is no value, or what to know about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every series' baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Health probes per app it was measured with.
    pub probes: u32,
    /// One entry per series.
    pub values: Vec<BaselineValue>,
}

impl Baseline {
    /// The baseline value of a series, when there is one.
    pub fn value(&self, key: &SeriesKey) -> Option<f64> {
        self.get(key)?.value.filter(|v| v.is_finite())
    }

    /// The entry of a series.
    pub fn get(&self, key: &SeriesKey) -> Option<&BaselineValue> {
        self.values.iter().find(|v| &v.key == key)
    }

    /// One line: `latency of api p50 3ms p95 5ms; http_errors of api 0.0%`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .values
            .iter()
            .filter(|v| v.key.metric != Metric::Health)
            .map(|v| match (v.key.metric, v.value) {
                (Metric::Latency, Some(_)) if v.samples > 1 => format!(
                    "{} p50 {} p95 {}",
                    v.key,
                    v.p50.map(|x| Metric::Latency.show(x)).unwrap_or_default(),
                    v.p95.map(|x| Metric::Latency.show(x)).unwrap_or_default()
                ),
                (m, Some(x)) => format!("{} {}", v.key, m.show(x)),
                (_, None) => format!(
                    "{} no data ({})",
                    v.key,
                    v.note.as_deref().unwrap_or("nothing measured")
                ),
            })
            .collect();
        if parts.is_empty() {
            "no signal to measure".into()
        } else {
            parts.join("; ")
        }
    }
}

/// Summarises raw readings into baseline values.
pub fn summarise(readings: Vec<Reading>, probes: u32) -> Baseline {
    let mut by_key: BTreeMap<SeriesKey, (Vec<f64>, Option<String>)> = BTreeMap::new();
    // Requests counted behind a series (the edge's): its baseline is made of them.
    let mut requests: BTreeMap<SeriesKey, u64> = BTreeMap::new();
    for r in readings {
        if let Some(c) = r.counts {
            *requests.entry(r.key.clone()).or_default() += c.total;
        }
        let e = by_key.entry(r.key.clone()).or_default();
        match r.value.filter(|v| v.is_finite()) {
            Some(v) => e.0.push(v),
            None if e.1.is_none() => e.1 = r.detail.clone(),
            None => {}
        }
    }
    let mut values = Vec::new();
    let health: Vec<(SeriesKey, Vec<f64>)> = by_key
        .iter()
        .filter(|(k, _)| k.metric == Metric::Health)
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();
    for (key, _) in health {
        let latency = SeriesKey::new(Metric::Latency, key.app.as_deref());
        by_key.entry(latency).or_insert_with(|| {
            (
                Vec::new(),
                Some("the health endpoint never answered during the baseline".into()),
            )
        });
    }
    for (key, (vals, detail)) in by_key {
        let (p50, p95) = (percentile(&vals, 50.0), percentile(&vals, 95.0));
        let value = match key.metric {
            Metric::Latency | Metric::P95 => p95,
            // The mean, in the readings' own unit: health the share of probes answered
            // (0–1, as every tick's series shows it), the error series in percent.
            Metric::Health | Metric::HttpErrors | Metric::EdgeErrors => {
                (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
            }
            _ => p50,
        };
        values.push(BaselineValue {
            value,
            p50,
            p95,
            samples: match requests.get(&key) {
                Some(n) => u32::try_from(*n).unwrap_or(u32::MAX),
                None => vals.len() as u32,
            },
            note: match value {
                None => Some(detail.unwrap_or_else(|| "nothing was measured".into())),
                Some(v) if key.metric == Metric::HttpErrors && v > 0.0 => Some(format!(
                    "{v:.1} % of the probes failed before the release; the watch compares with that"
                )),
                Some(v) if key.metric == Metric::EdgeErrors && v > 0.0 => Some(format!(
                    "{v:.2} % of real requests were answered 5xx before the release; the watch compares with that"
                )),
                Some(_) => None,
            },
            key,
        });
    }
    values.sort_by(|a, b| a.key.cmp(&b.key));
    Baseline { probes, values }
}

/// What a watch is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The release: `[monitor] duration` after it went live.
    Release,
    /// After a rollback: verify it and keep watching `[incident] after_rollback_watch`.
    AfterRollback,
}

/// How a watch runs. Recorded when it starts, so a resumed watch keeps its schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Time between ticks.
    pub interval: Span,
    /// How long it lasts.
    pub duration: Span,
    /// Time between samples.
    pub sample_every: Span,
    /// Consecutive failing samples before a signal counts.
    pub consecutive_failures: u32,
}

impl Schedule {
    /// How many ticks the watch has (the last one at the end of `duration`).
    pub fn ticks(&self) -> u32 {
        let i = self.interval.get().as_secs_f64().max(0.001);
        ((self.duration.get().as_secs_f64() / i).ceil() as u32).max(1)
    }

    /// When tick `n` is due, for a watch started at `start`.
    pub fn due(&self, start: Timestamp, n: u32) -> Timestamp {
        let at = self
            .interval
            .get()
            .saturating_mul(n)
            .min(self.duration.get());
        crate::model::clock::add(start, at)
    }

    /// The tick the time `now` has reached (0 before the first).
    pub fn reached(&self, start: Timestamp, now: Timestamp) -> u32 {
        let elapsed = now.duration_since(start).as_secs_f64().max(0.0);
        if elapsed >= self.duration.get().as_secs_f64() {
            return self.ticks();
        }
        let i = self.interval.get().as_secs_f64().max(0.001);
        ((elapsed / i).floor() as u32).min(self.ticks())
    }
}

/// One series over one tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesSummary {
    /// The series.
    pub key: SeriesKey,
    /// The worst counted state of its samples (`no_data` when none could be judged).
    pub grade: Grade,
    /// Samples judged in the tick.
    pub samples: u32,
    /// Of which failed (counted or not).
    pub failed: u32,
    /// The last value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<f64>,
    /// The 95th percentile of the tick's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    /// The fail limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    /// The baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Why there was no data, or the last failure's detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A tick: the summary of one interval's samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    /// The watch it belongs to.
    pub leg: u32,
    /// 1, 2, … `of`.
    pub n: u32,
    /// Ticks in the watch.
    pub of: u32,
    /// When it was due.
    pub due_at: Timestamp,
    /// The worst counted state of its samples.
    pub grade: Grade,
    /// Ticks before it that were missed (the process was not running) and are folded into
    /// this one.
    #[serde(default)]
    pub missed: u32,
    /// Sampling rounds in it.
    pub samples: u32,
    /// Each series.
    pub series: Vec<SeriesSummary>,
}

/// How a watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The final tick passed and every earlier tick was at least warn.
    Pass,
    /// It did not.
    Fail,
    /// The release was rolled back during the watch.
    RolledBack,
    /// The run ended (aborted) before the watch did.
    Stopped,
}

impl Outcome {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::RolledBack => "rolled_back",
            Outcome::Stopped => "stopped",
        }
    }
}

/// The value at percentile `p` (0–100) of `values`, nearest rank; `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v.get(rank.min(v.len()) - 1).copied()
}
