//! The rules that judge a sample: relative criteria against the baseline, absolute ceilings,
//! the minimum-data guard, N consecutive failures before a signal counts, and what severity
//! a counted failure is.

use crate::model::error::Invalid;
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::model::config::MonitorConfig;
use crate::model::incident::Severity;
use crate::model::watch::Baseline;
use crate::model::watch::Grade;
use crate::model::watch::{Metric, SeriesKey};

/// Where a series passes, warns, fails and becomes critical.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Above this (or at, for ceilings) a sample warns.
    pub warn: f64,
    /// Above this (or at, for ceilings) a sample fails.
    pub fail: f64,
    /// At or above this a counted failure is critical (error rates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<f64>,
    /// Ceilings fail *at* the limit ("CPU < 80 %"); relative limits fail *above* it.
    pub inclusive: bool,
}

impl Limits {
    fn judge(&self, v: f64) -> Grade {
        let over = |limit: f64| {
            if self.inclusive {
                v >= limit
            } else {
                v > limit
            }
        };
        if over(self.fail) {
            Grade::Fail
        } else if over(self.warn) {
            Grade::Warn
        } else {
            Grade::Pass
        }
    }
}

/// The rules of one watch, from `[monitor]` and its schedule.
#[derive(Clone, Debug)]
pub struct Rules {
    /// N consecutive failing samples before a series counts.
    pub consecutive: u32,
    /// Samples in a failed-probe rate's rolling window.
    pub window: usize,
    /// Health probes per app in one sample.
    pub probes: usize,
    /// The minimum-data guard for failed-probe rates, in probes.
    pub min_probes: usize,
    cfg: MonitorConfig,
}

/// A sample judged.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// pass, warn, fail, or no data.
    pub grade: Grade,
    /// The limit it was judged against.
    pub limits: Option<Limits>,
    /// Why there is no data.
    pub no_data: Option<String>,
}

impl Rules {
    /// Rules for a watch sampling every `sample_every` and ticking every `interval`: the
    /// minimum-data guard is capped at the probes of the samples one interval holds (and at
    /// the window's), so every tick can judge.
    pub fn new(
        cfg: &MonitorConfig,
        interval: std::time::Duration,
        sample_every: std::time::Duration,
        consecutive: u32,
    ) -> Rules {
        let per_interval =
            (interval.as_secs_f64() / sample_every.as_secs_f64().max(0.001)).floor() as usize;
        let window = (cfg.window as usize).max(1);
        let probes = cfg.probes_within_budget(sample_every) as usize;
        Rules {
            consecutive: consecutive.max(1),
            window,
            probes,
            min_probes: (cfg.min_probes as usize).clamp(1, per_interval.clamp(1, window) * probes),
            cfg: cfg.clone(),
        }
    }

    /// The limits of a series, from its baseline; `Err` says why it cannot be judged.
    pub fn limits(&self, key: &SeriesKey, baseline: Option<&Baseline>) -> Result<Limits, Invalid> {
        let c = &self.cfg;
        let base = || {
            baseline
                .and_then(|b| b.value(key))
                .ok_or_else(|| format!("no baseline for {key} was recorded before the release"))
        };
        let relative = |b: f64, increase_pct: f64, min_delta: f64| {
            let fail = (b * (1.0 + increase_pct / 100.0)).max(b + min_delta);
            Limits {
                warn: b + (fail - b) / 2.0,
                fail,
                critical: None,
                inclusive: false,
            }
        };
        let ceiling = |max: f64| Limits {
            warn: (max - 10.0).max(max / 2.0),
            fail: max,
            critical: None,
            inclusive: true,
        };
        Ok(match key.metric {
            Metric::Health => Limits {
                warn: 0.5,
                fail: 0.5,
                critical: None,
                inclusive: false,
            },
            Metric::HttpErrors | Metric::EdgeErrors => {
                let b = base()?;
                let inc = c.error_rate_increase;
                let mut l = relative(b, inc, inc);
                l.critical = Some(
                    (b * c.error_rate_critical_factor)
                        .max(b + c.error_rate_critical_factor * inc)
                        .min(100.0),
                );
                l
            }
            Metric::ErrorRate => {
                let b = base()?;
                let mut l = relative(b, c.error_rate_increase, 1.0);
                l.critical =
                    Some((b * c.error_rate_critical_factor).max(b + c.error_rate_critical_factor));
                l
            }
            Metric::Latency | Metric::P95 => {
                let b = base()?;
                let min = c.latency_min_increase.get().as_secs_f64() * 1000.0;
                relative(b, c.latency_p95_increase, min)
            }
            Metric::Cpu => ceiling(c.cpu_max),
            Metric::Memory => ceiling(c.memory_max),
            Metric::DbConnections => ceiling(c.db_connections_max.unwrap_or(80.0)),
        })
    }

    /// Judges one value of a series.
    pub fn judge(
        &self,
        key: &SeriesKey,
        value: Option<f64>,
        baseline: Option<&Baseline>,
    ) -> Judged {
        let Some(v) = value.filter(|v| v.is_finite()) else {
            return Judged {
                grade: Grade::NoData,
                limits: None,
                no_data: Some("no value".into()),
            };
        };
        if key.metric == Metric::Health {
            let grade = if v >= 0.5 { Grade::Pass } else { Grade::Fail };
            return Judged {
                grade,
                limits: None,
                no_data: None,
            };
        }
        match self.limits(key, baseline) {
            Ok(l) => Judged {
                grade: l.judge(v),
                limits: Some(l),
                no_data: None,
            },
            Err(why) => Judged {
                grade: Grade::NoData,
                limits: None,
                no_data: Some(why.to_string()),
            },
        }
    }

    /// The severity of a counted failure of `key` at `value` (the classification:
    /// health failing or an error rate at its critical limit → critical; an error rate over
    /// its criterion → high; latency or resources → medium).
    pub fn classify(
        &self,
        key: &SeriesKey,
        value: Option<f64>,
        limits: Option<&Limits>,
    ) -> Severity {
        match key.metric {
            Metric::Health => Severity::Critical,
            Metric::HttpErrors | Metric::EdgeErrors | Metric::ErrorRate => {
                match (value, limits.and_then(|l| l.critical)) {
                    (Some(v), Some(c)) if v >= c => Severity::Critical,
                    _ => Severity::High,
                }
            }
            _ => Severity::Medium,
        }
    }
}

/// The rolling window of one app's samples, giving the failed-probe rate over the last
/// `window` samples.
#[derive(Clone, Debug, Default)]
pub struct ProbeWindow {
    /// (failed, sent) probes of each sample, oldest first.
    samples: VecDeque<(u32, u32)>,
}

impl ProbeWindow {
    /// Adds a sample of `sent` probes of which `failed` failed; returns the percent failed
    /// over the window once it holds `min` probes.
    pub fn push(&mut self, failed: u32, sent: u32, window: usize, min: usize) -> Option<f64> {
        self.samples.push_back((failed.min(sent), sent));
        while self.samples.len() > window.max(1) {
            self.samples.pop_front();
        }
        let (failed, sent) = self.samples.iter().fold((0u64, 0u64), |(f, n), (a, b)| {
            (f + u64::from(*a), n + u64::from(*b))
        });
        (sent > 0 && sent >= min.max(1) as u64).then(|| failed as f64 * 100.0 / sent as f64)
    }
}

/// What one sample did to a series' streaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Transition {
    /// The series just reached N consecutive failing samples.
    pub now_failing: bool,
    /// The series just reached N consecutive passing samples.
    pub now_passing: bool,
}

/// A series' streaks across samples: a failure counts only after N in a row.
#[derive(Clone, Debug, Default)]
pub struct Streaks {
    fail: u32,
    bad: u32,
    pass: u32,
}

impl Streaks {
    /// Records a sample's grade; returns the counted grade (what the tick sees) and the
    /// transition.
    pub fn push(&mut self, grade: Grade, n: u32) -> (Grade, Transition) {
        let n = n.max(1);
        let mut t = Transition::default();
        match grade {
            Grade::Fail => {
                self.fail += 1;
                self.bad += 1;
                self.pass = 0;
                t.now_failing = self.fail == n;
            }
            Grade::Warn => {
                self.fail = 0;
                self.bad += 1;
                self.pass = 0;
            }
            Grade::Pass => {
                self.fail = 0;
                self.bad = 0;
                self.pass += 1;
                t.now_passing = self.pass == n;
            }
            Grade::NoData => {
                self.fail = 0;
                self.bad = 0;
                self.pass = 0;
            }
        }
        let counted = match grade {
            Grade::NoData => Grade::NoData,
            _ if self.fail >= n => Grade::Fail,
            _ if self.bad >= n => Grade::Warn,
            _ => Grade::Pass,
        };
        (counted, t)
    }

    /// Consecutive passing samples so far.
    pub fn passing(&self) -> u32 {
        self.pass
    }

    /// Whether the series counts as failing now.
    pub fn failing(&self, n: u32) -> bool {
        self.fail >= n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::watch::{Baseline, BaselineValue, percentile};

    fn baseline(key: SeriesKey, value: f64) -> Baseline {
        Baseline {
            probes: 10,
            values: vec![BaselineValue {
                key,
                value: Some(value),
                p50: None,
                p95: Some(value),
                samples: 10,
                note: None,
            }],
        }
    }

    fn rules() -> Rules {
        Rules::new(
            &MonitorConfig::default(),
            std::time::Duration::from_secs(900),
            std::time::Duration::from_secs(30),
            3,
        )
    }

    #[test]
    fn latency_needs_both_the_factor_and_the_minimum_increase() {
        let key = SeriesKey::new(Metric::Latency, Some("api"));
        let r = rules();
        // 2 ms baseline: 1.25× is 2.5 ms, but the floor is +50 ms.
        let b = baseline(key.clone(), 2.0);
        assert_eq!(r.judge(&key, Some(20.0), Some(&b)).grade, Grade::Pass);
        assert_eq!(r.judge(&key, Some(40.0), Some(&b)).grade, Grade::Warn);
        assert_eq!(r.judge(&key, Some(60.0), Some(&b)).grade, Grade::Fail);
        // 400 ms baseline: the factor decides (limit 500 ms).
        let b = baseline(key.clone(), 400.0);
        assert_eq!(r.judge(&key, Some(490.0), Some(&b)).grade, Grade::Warn);
        assert_eq!(r.judge(&key, Some(510.0), Some(&b)).grade, Grade::Fail);
        // No baseline: no data, never a pass.
        let j = r.judge(&key, Some(1.0), None);
        assert_eq!(j.grade, Grade::NoData);
        assert!(j.no_data.unwrap().contains("no baseline"));
    }

    #[test]
    fn error_rates_are_relative_with_a_floor_and_a_critical_limit() {
        let key = SeriesKey::new(Metric::HttpErrors, Some("api"));
        let r = rules();
        let b = baseline(key.clone(), 0.0);
        assert_eq!(r.judge(&key, Some(4.0), Some(&b)).grade, Grade::Pass);
        assert_eq!(r.judge(&key, Some(10.0), Some(&b)).grade, Grade::Warn);
        let j = r.judge(&key, Some(25.0), Some(&b));
        assert_eq!(j.grade, Grade::Fail);
        assert_eq!(
            r.classify(&key, Some(25.0), j.limits.as_ref()),
            Severity::High
        );
        let j = r.judge(&key, Some(60.0), Some(&b));
        assert_eq!(
            r.classify(&key, Some(60.0), j.limits.as_ref()),
            Severity::Critical
        );
    }

    #[test]
    fn ceilings_fail_at_the_limit() {
        let key = SeriesKey::new(Metric::Cpu, Some("api"));
        let r = rules();
        assert_eq!(r.judge(&key, Some(79.9), None).grade, Grade::Warn);
        assert_eq!(r.judge(&key, Some(80.0), None).grade, Grade::Fail);
        assert_eq!(r.judge(&key, Some(50.0), None).grade, Grade::Pass);
        assert_eq!(r.judge(&key, None, None).grade, Grade::NoData);
        assert_eq!(r.judge(&key, Some(f64::NAN), None).grade, Grade::NoData);
    }

    #[test]
    fn a_failure_counts_after_n_in_a_row() {
        let mut s = Streaks::default();
        assert_eq!(s.push(Grade::Fail, 3), (Grade::Pass, Transition::default()));
        assert_eq!(s.push(Grade::Pass, 3).0, Grade::Pass);
        assert_eq!(s.push(Grade::Fail, 3).0, Grade::Pass);
        assert_eq!(s.push(Grade::Fail, 3).0, Grade::Pass);
        let (g, t) = s.push(Grade::Fail, 3);
        assert_eq!(g, Grade::Fail);
        assert!(t.now_failing);
        assert!(!s.push(Grade::Fail, 3).1.now_failing, "only once");
    }

    #[test]
    fn probe_window_guards_minimum_data() {
        // One probe a sample, four samples a window, judged from three probes.
        let mut w = ProbeWindow::default();
        assert_eq!(w.push(1, 1, 4, 3), None);
        assert_eq!(w.push(0, 1, 4, 3), None);
        assert_eq!(w.push(0, 1, 4, 3).map(|v| v.round()), Some(33.0));
        assert_eq!(w.push(0, 1, 4, 3), Some(25.0));
        assert_eq!(w.push(0, 1, 4, 3), Some(0.0), "the failure left the window");
    }

    #[test]
    fn probe_window_of_one_sample_judges_each_sample_on_its_own() {
        let mut w = ProbeWindow::default();
        assert_eq!(w.push(6, 20, 1, 10), Some(30.0));
        assert_eq!(
            w.push(0, 20, 1, 10),
            Some(0.0),
            "the errors left with their sample"
        );
        assert_eq!(w.push(3, 5, 1, 10), None, "five probes are under the guard");
        // Two samples a window pool their probes.
        let mut w = ProbeWindow::default();
        assert_eq!(w.push(0, 10, 2, 10), Some(0.0));
        assert_eq!(w.push(5, 10, 2, 10), Some(25.0));
        assert_eq!(
            w.push(25, 10, 2, 10),
            Some(75.0),
            "failed is capped at sent"
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), Some(19.0));
        assert_eq!(percentile(&v, 50.0), Some(10.0));
        assert_eq!(percentile(&[], 95.0), None);
    }
}
