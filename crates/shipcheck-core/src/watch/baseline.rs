//! The baseline: what the release before this one looked like, measured in `preflight`
//! before the merge. Small apps have no side-by-side canary, so the previous release is the
//! control the watch compares with (Kayenta's control, Keptn's `compare_with`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checks::{CheckContext, join_all};
use crate::watch::rules::percentile;
use crate::watch::signal::{Metric, Reading, SeriesKey, Signal};

/// The least time between two baseline probes of one signal.
pub const PROBE_SPACING: Duration = Duration::from_millis(200);

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

/// Samples every signal (health endpoints `probes` times, rate-limited APIs once),
/// concurrently across signals, and summarises each series.
pub async fn capture(ctx: &CheckContext, signals: &[Box<dyn Signal>], probes: u32) -> Baseline {
    summarise(readings(ctx, signals, probes).await, probes)
}

/// The raw readings [`capture`] summarises: each signal's in the order they were taken.
pub async fn readings(
    ctx: &CheckContext,
    signals: &[Box<dyn Signal>],
    probes: u32,
) -> Vec<Reading> {
    let per_signal = join_all(
        signals
            .iter()
            .map(|s| async move {
                let n = s.baseline_samples(probes).clamp(1, 1000);
                let spacing = s.min_interval().max(PROBE_SPACING);
                let mut readings = Vec::new();
                for i in 0..n {
                    if i > 0 {
                        ctx.clock.sleep(spacing).await;
                    }
                    readings.extend(s.baseline_sample(ctx).await);
                }
                readings
            })
            .collect(),
    )
    .await;
    per_signal.into_iter().flatten().collect()
}

/// Summarises raw readings into baseline values.
pub fn summarise(readings: Vec<Reading>, probes: u32) -> Baseline {
    let mut by_key: BTreeMap<SeriesKey, (Vec<f64>, Option<String>)> = BTreeMap::new();
    for r in readings {
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
            Metric::Health | Metric::HttpErrors => {
                let mean = (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64);
                if key.metric == Metric::Health {
                    mean.map(|m| m * 100.0)
                } else {
                    mean
                }
            }
            _ => p50,
        };
        values.push(BaselineValue {
            value,
            p50,
            p95,
            samples: vals.len() as u32,
            note: match value {
                None => Some(detail.unwrap_or_else(|| "nothing was measured".into())),
                Some(v) if key.metric == Metric::HttpErrors && v > 0.0 => Some(format!(
                    "{v:.1} % of the probes failed before the release; the watch compares with that"
                )),
                Some(_) => None,
            },
            key,
        });
    }
    values.sort_by(|a, b| a.key.cmp(&b.key));
    Baseline { probes, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(metric: Metric, value: Option<f64>) -> Reading {
        Reading {
            key: SeriesKey::new(metric, Some("api")),
            value,
            detail: value.is_none().then(|| "connection refused".to_string()),
        }
    }

    #[test]
    fn summarises_latency_percentiles_and_the_failed_probe_rate() {
        let mut readings = Vec::new();
        for ms in [3.0, 4.0, 5.0, 4.0, 30.0] {
            readings.push(r(Metric::Health, Some(1.0)));
            readings.push(r(Metric::HttpErrors, Some(0.0)));
            readings.push(r(Metric::Latency, Some(ms)));
        }
        readings.push(r(Metric::Health, Some(0.0)));
        readings.push(r(Metric::HttpErrors, Some(100.0)));
        let b = summarise(readings, 6);
        let lat = b
            .get(&SeriesKey::new(Metric::Latency, Some("api")))
            .unwrap();
        assert_eq!(lat.p50, Some(4.0));
        assert_eq!(lat.p95, Some(30.0));
        assert_eq!(lat.value, Some(30.0));
        let errs = b
            .value(&SeriesKey::new(Metric::HttpErrors, Some("api")))
            .unwrap();
        assert!((errs - 100.0 / 6.0).abs() < 1e-9);
        let note = b
            .get(&SeriesKey::new(Metric::HttpErrors, Some("api")))
            .and_then(|v| v.note.clone())
            .unwrap();
        assert!(note.contains("16.7 % of the probes failed"), "{note}");
    }

    #[test]
    fn an_app_that_never_answered_has_no_latency_baseline() {
        let b = summarise(vec![r(Metric::Health, Some(0.0))], 1);
        let lat = b
            .get(&SeriesKey::new(Metric::Latency, Some("api")))
            .unwrap();
        assert_eq!(lat.value, None);
        assert!(lat.note.as_deref().unwrap().contains("never answered"));
        assert!(b.summary().contains("no data"));
    }
}
