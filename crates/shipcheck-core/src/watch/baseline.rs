//! The baseline: what the release before this one looked like, measured in `preflight`
//! before the merge. Small apps have no side-by-side canary, so the previous release is the
//! control the watch compares with (Kayenta's control, Keptn's `compare_with`).

use std::time::Duration;

use crate::checks::join_all;
use crate::model::watch::Baseline;
use crate::model::watch::Reading;
use crate::model::watch::summarise;
use crate::watch::WatchContext;
use crate::watch::signal::Signal;

/// The least time between two baseline probes of one signal.
pub const PROBE_SPACING: Duration = Duration::from_millis(200);

/// Samples every signal (health endpoints `probes` times, rate-limited APIs once),
/// concurrently across signals, and summarises each series.
pub async fn capture(ctx: &WatchContext, signals: &[Box<dyn Signal>], probes: u32) -> Baseline {
    summarise(readings(ctx, signals, probes).await, probes)
}

/// The raw readings [`capture`] summarises: each signal's in the order they were taken.
pub async fn readings(
    ctx: &WatchContext,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::watch::{Metric, SeriesKey};

    fn r(metric: Metric, value: Option<f64>) -> Reading {
        Reading {
            key: SeriesKey::new(metric, Some("api")),
            value,
            detail: value.is_none().then(|| "connection refused".to_string()),
            observations: Vec::new(),
            counts: None,
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
        // Health in the unit every tick shows it in: the share of probes answered (it was
        // stored as a percentage, 100 beside ticks of 1.0, and the page's chart of health
        // drew the series flat at the bottom of a 0–100 axis).
        let health = b
            .value(&SeriesKey::new(Metric::Health, Some("api")))
            .unwrap();
        assert!((health - 5.0 / 6.0).abs() < 1e-9, "{health}");
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
