//! `[monitor]` (the baseline and the watch) and `[incident]` (the severity policy, the
//! rollback it takes, and the post-deployment review), with their validation.

use serde::{Deserialize, Serialize};

use crate::model::config::validate::{Issue, parse_hhmm};
use crate::model::duration::Span;

/// `[monitor]`: how the release is measured before it ships and watched after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    /// How often a tick summarises the samples (the seed's "every 15 minutes").
    #[serde(default = "fifteen_minutes")]
    pub interval: Span,
    /// How long the watch lasts (the seed's "next 1-2 hours").
    #[serde(default = "two_hours")]
    pub duration: Span,
    /// How often every signal is sampled (never faster than the signal allows).
    #[serde(default = "five_seconds")]
    pub sample_every: Span,
    /// How long `verify` waits after the deploy finished before it evaluates ("first 5
    /// minutes").
    #[serde(default = "five_minutes")]
    pub logs_window: Span,
    /// A signal must fail on this many consecutive samples before it counts.
    #[serde(default = "three")]
    pub consecutive_failures: u32,
    /// Health probes per app for the baseline (and for `verify.response-times`).
    #[serde(default = "ten")]
    pub baseline_probes: u32,
    /// Health probes each watch sample sends to each app (five at a time): the share that
    /// failed is the sample's `http_errors`, the p95 of the answers its `latency`, and the
    /// app counts as down only when most of them failed. One probe cannot tell a 30 % error
    /// rate from a fluke; twenty can, within one sample.
    #[serde(default = "twenty")]
    pub probes: u32,
    /// Watch samples the failed-probe rate is computed over (1: each sample on its own
    /// probes, so the onset of errors shows in the next sample and a recovery too).
    #[serde(default = "one")]
    pub window: u32,
    /// The minimum-data guard: a failed-probe rate is judged only over at least this many
    /// probes (capped at `window` × `probes`). Formerly `min_samples`, still accepted.
    #[serde(default = "ten", alias = "min_samples")]
    pub min_probes: u32,
    /// Error rate may exceed its baseline by this many percent (and, for rates measured in
    /// percent, by this many points) before it fails.
    #[serde(default = "ten_f")]
    pub error_rate_increase: f64,
    /// An error rate this many times its baseline is critical.
    #[serde(default = "five_f")]
    pub error_rate_critical_factor: f64,
    /// p95 latency may exceed its baseline by this many percent before it fails.
    #[serde(default = "twenty_five_f")]
    pub latency_p95_increase: f64,
    /// ... and by at least this much (one slow millisecond on a 2 ms endpoint is not a
    /// regression).
    #[serde(default = "fifty_ms")]
    pub latency_min_increase: Span,
    /// CPU ceiling, percent.
    #[serde(default = "eighty_f")]
    pub cpu_max: f64,
    /// Memory ceiling, percent.
    #[serde(default = "eighty_five_f")]
    pub memory_max: f64,
    /// Database connections ceiling, percent of the server's usable maximum. Unset: the
    /// `[database] max_connections_ratio` that `verify.db-connections` uses (× 100), else 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_connections_max: Option<f64>,
    /// The probe budget: health probes a second the watch and the baseline may send to one
    /// app, on average over a sample. A sample sends at most `probe_budget × sample_every`
    /// probes (at least one, and then samples no faster than one probe per budget).
    #[serde(default = "one_f")]
    pub probe_budget: f64,
    /// The sequential tests that judge the health probes (failed probes and latency).
    #[serde(default)]
    pub sequential: SequentialConfig,
}

/// `[monitor.sequential]`: the sequential tests of the fast signals (see `docs/watch.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SequentialConfig {
    /// Judged and recorded, never acted on: the N-consecutive-samples rule decides the
    /// health probes instead (as before these tests).
    #[serde(default)]
    pub shadow: bool,
    /// The probability that a watch of a healthy release raises a false incident from these
    /// tests (all apps, both tests, the whole watch).
    #[serde(default = "half_a_percent")]
    pub false_alarm: f64,
    /// The failed-probe rate, percent, a baseline is assumed to have at least (ten baseline
    /// probes cannot tell 0 % from 0.5 %).
    #[serde(default = "one_f")]
    pub error_floor: f64,
}

impl Default for SequentialConfig {
    fn default() -> Self {
        SequentialConfig {
            shadow: false,
            false_alarm: half_a_percent(),
            error_floor: one_f(),
        }
    }
}

fn half_a_percent() -> f64 {
    0.005
}
fn one_f() -> f64 {
    1.0
}

impl MonitorConfig {
    /// Probes a watch sample sends to one app within the probe budget: `probes`, at most
    /// `probe_budget × sample_every`, at least one.
    pub fn probes_within_budget(&self, sample_every: std::time::Duration) -> u32 {
        let allowed = (self.probe_budget * sample_every.as_secs_f64()).floor();
        let allowed = if allowed.is_finite() {
            allowed.max(1.0)
        } else {
            1.0
        };
        (self.probes.max(1) as f64).min(allowed) as u32
    }

    /// The least time between two samples of one app's `probes` probes within the budget.
    pub fn probe_spacing(&self, probes: u32) -> std::time::Duration {
        let budget = if self.probe_budget.is_finite() && self.probe_budget > 0.0 {
            self.probe_budget
        } else {
            1.0
        };
        std::time::Duration::from_secs_f64(f64::from(probes.max(1)) / budget)
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            interval: fifteen_minutes(),
            duration: two_hours(),
            sample_every: five_seconds(),
            logs_window: five_minutes(),
            consecutive_failures: three(),
            baseline_probes: ten(),
            probes: twenty(),
            window: one(),
            min_probes: ten(),
            error_rate_increase: ten_f(),
            error_rate_critical_factor: five_f(),
            latency_p95_increase: twenty_five_f(),
            latency_min_increase: fifty_ms(),
            cpu_max: eighty_f(),
            memory_max: eighty_five_f(),
            db_connections_max: None,
            probe_budget: one_f(),
            sequential: SequentialConfig::default(),
        }
    }
}

/// The rollback strategy an incident uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackStrategy {
    /// Redeploy every app with the image recorded before the deploy.
    Platform,
    /// Revert the release's merge commit on the production branch and push.
    GitRevert,
}

impl RollbackStrategy {
    /// `git-revert` or `platform`.
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackStrategy::GitRevert => "git-revert",
            RollbackStrategy::Platform => "platform",
        }
    }
    /// Parses `git-revert` / `platform`.
    pub fn parse(s: &str) -> Option<RollbackStrategy> {
        match s {
            "git-revert" => Some(RollbackStrategy::GitRevert),
            "platform" => Some(RollbackStrategy::Platform),
            _ => None,
        }
    }
}

/// `[incident]`: what happens when something goes wrong, and the review after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentConfig {
    /// A critical incident rolls back without a prompt.
    #[serde(default)]
    pub auto_rollback: bool,
    /// How an incident rolls back.
    #[serde(default = "platform")]
    pub rollback_strategy: RollbackStrategy,
    /// A high incident still open after this long escalates to a rollback prompt.
    #[serde(default = "thirty_minutes")]
    pub high_decision_timer: Span,
    /// After a rollback, the watch goes on this long (and verifies the rollback).
    #[serde(default = "thirty_minutes")]
    pub after_rollback_watch: Span,
    /// The post-deployment review: local time (`HH:MM`, project time zone) on the next
    /// working day.
    #[serde(default = "ten_am")]
    #[schemars(regex(pattern = crate::model::config::schema::HHMM_PATTERN))]
    pub review_time: String,
    /// How long the review is.
    #[serde(default = "one_hour")]
    pub review_duration: Span,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            auto_rollback: false,
            rollback_strategy: platform(),
            high_decision_timer: thirty_minutes(),
            after_rollback_watch: thirty_minutes(),
            review_time: ten_am(),
            review_duration: one_hour(),
        }
    }
}

fn fifteen_minutes() -> Span {
    Span::secs(900)
}
fn two_hours() -> Span {
    Span::secs(7200)
}
/// The default `sample_every`: the fast signals (health probes, the edge's counters) every
/// 5 s, 5 probes a sample within the default budget of one a second per app; the slow ones
/// at their own pace. What the detection benchmark measures (docs/benchmarks.md).
fn five_seconds() -> Span {
    Span::secs(5)
}
fn five_minutes() -> Span {
    Span::secs(300)
}
fn thirty_minutes() -> Span {
    Span::secs(1800)
}
fn one_hour() -> Span {
    Span::secs(3600)
}
fn fifty_ms() -> Span {
    Span::millis(50)
}
fn three() -> u32 {
    3
}
fn one() -> u32 {
    1
}
fn ten() -> u32 {
    10
}
fn twenty() -> u32 {
    20
}
fn ten_f() -> f64 {
    10.0
}
fn five_f() -> f64 {
    5.0
}
fn twenty_five_f() -> f64 {
    25.0
}
fn eighty_f() -> f64 {
    80.0
}
fn eighty_five_f() -> f64 {
    85.0
}
fn platform() -> RollbackStrategy {
    RollbackStrategy::Platform
}
fn ten_am() -> String {
    "10:00".into()
}

/// The shortest `sample_every` accepted (rehearsals sample fast; nothing samples faster).
pub const MIN_SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Checks a watch schedule; `Err` says what is wrong. Shared by the config and the CLI's
/// `--interval`/`--duration`/`--sample-every`.
pub fn check_schedule(
    interval: std::time::Duration,
    duration: std::time::Duration,
    sample_every: std::time::Duration,
) -> Result<(), (&'static str, String)> {
    if sample_every < MIN_SAMPLE_EVERY {
        return Err((
            "sample_every",
            format!(
                "sample_every {} is shorter than the shortest accepted ({})",
                crate::model::duration::format(sample_every),
                crate::model::duration::format(MIN_SAMPLE_EVERY)
            ),
        ));
    }
    if interval < sample_every {
        return Err((
            "interval",
            format!(
                "interval {} is shorter than sample_every {}; a tick summarises samples",
                crate::model::duration::format(interval),
                crate::model::duration::format(sample_every)
            ),
        ));
    }
    if duration < interval {
        return Err((
            "duration",
            format!(
                "duration {} is shorter than interval {}",
                crate::model::duration::format(duration),
                crate::model::duration::format(interval)
            ),
        ));
    }
    if duration.as_secs() / interval.as_secs().max(1) > 10_000 {
        return Err(("interval", "more than 10000 ticks in one watch".to_string()));
    }
    Ok(())
}

/// Problems in `[monitor]` and `[incident]`.
pub(crate) fn validate(out: &mut Vec<Issue>, m: &MonitorConfig, i: &IncidentConfig) {
    if let Err((key, message)) =
        check_schedule(m.interval.get(), m.duration.get(), m.sample_every.get())
    {
        out.push(Issue::value(
            format!("monitor.{key}"),
            message,
            "sample_every ≤ interval ≤ duration, like sample_every = \"30s\", interval = \"15m\", duration = \"2h\"",
        ));
    }
    for (key, value, max) in [
        ("consecutive_failures", m.consecutive_failures, 100),
        ("baseline_probes", m.baseline_probes, 1000),
        ("probes", m.probes, 100),
        ("window", m.window, 1000),
        ("min_probes", m.min_probes, 100_000),
    ] {
        if value == 0 || value > max {
            out.push(Issue::value(
                format!("monitor.{key}"),
                format!("{key} {value} is out of range"),
                format!("write a whole number from 1 to {max}"),
            ));
        }
    }
    let in_window = u64::from(m.window) * u64::from(m.probes);
    if u64::from(m.min_probes) > in_window && in_window > 0 {
        out.push(Issue::value(
            "monitor.min_probes",
            format!(
                "min_probes {} is more than the {in_window} probes a window holds (window {} × probes {})",
                m.min_probes, m.window, m.probes
            ),
            "min_probes ≤ window × probes, like probes = 20, window = 1, min_probes = 10",
        ));
    }
    for (key, value, lo, hi) in [
        ("error_rate_increase", m.error_rate_increase, 0.0, 1000.0),
        ("latency_p95_increase", m.latency_p95_increase, 0.0, 1000.0),
        (
            "error_rate_critical_factor",
            m.error_rate_critical_factor,
            1.0,
            1000.0,
        ),
        ("probe_budget", m.probe_budget, 0.01, 1000.0),
        (
            "sequential.false_alarm",
            m.sequential.false_alarm,
            0.000_001,
            0.5,
        ),
        (
            "sequential.error_floor",
            m.sequential.error_floor,
            0.01,
            50.0,
        ),
        ("cpu_max", m.cpu_max, 1.0, 100.0),
        ("memory_max", m.memory_max, 1.0, 100.0),
        (
            "db_connections_max",
            m.db_connections_max.unwrap_or(80.0),
            1.0,
            100.0,
        ),
    ] {
        if !value.is_finite() || value < lo || value > hi {
            out.push(Issue::value(
                format!("monitor.{key}"),
                format!("{key} {value} is out of range"),
                format!("write a number from {lo} to {hi}"),
            ));
        }
    }
    if let Err(e) = parse_hhmm(&i.review_time) {
        out.push(Issue::value(
            "incident.review_time",
            e,
            "write a 24-hour time with two digits each, like review_time = \"10:00\"",
        ));
    }
    for (key, span) in [
        ("high_decision_timer", i.high_decision_timer),
        ("after_rollback_watch", i.after_rollback_watch),
        ("review_duration", i.review_duration),
    ] {
        if span.get().is_zero() {
            out.push(Issue::value(
                format!("incident.{key}"),
                format!("{key} is zero"),
                "write a duration, like \"30m\"",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_problem, load};

    #[test]
    fn the_issues_example_loads_with_defaults_for_the_rest() {
        let c = load(
            "[monitor]\ninterval = \"15m\"\nduration = \"2h\"\nsample_every = \"30s\"\nlogs_window = \"5m\"\nconsecutive_failures = 3\n\n[incident]\nauto_rollback = false\nrollback_strategy = \"platform\"\nhigh_decision_timer = \"30m\"\n",
        )
        .config;
        // The seed's example samples every 30 s; the default samples the fast signals every
        // 5 s (within the probe budget); the rest is the default.
        assert_eq!(
            c.monitor.sample_every.get(),
            std::time::Duration::from_secs(30)
        );
        assert_eq!(
            super::MonitorConfig {
                sample_every: super::MonitorConfig::default().sample_every,
                ..c.monitor
            },
            super::MonitorConfig::default()
        );
        assert_eq!(c.incident, super::IncidentConfig::default());
        let c = load("[incident]\nrollback_strategy = \"git-revert\"\nreview_time = \"09:30\"\n")
            .config;
        assert_eq!(
            c.incident.rollback_strategy,
            super::RollbackStrategy::GitRevert
        );
    }

    #[test]
    fn the_probe_budget_caps_a_samples_probes_and_spaces_them() {
        use std::time::Duration;
        let m = super::MonitorConfig::default();
        assert_eq!(m.probes_within_budget(Duration::from_secs(30)), 20);
        assert_eq!(m.probes_within_budget(Duration::from_secs(10)), 10);
        assert_eq!(m.probes_within_budget(Duration::from_millis(250)), 1);
        assert_eq!(m.probe_spacing(10), Duration::from_secs(10));
        let fast = super::MonitorConfig {
            probe_budget: 4.0,
            ..m
        };
        assert_eq!(fast.probe_spacing(2), Duration::from_millis(500));
    }

    #[test]
    fn schedules_thresholds_and_the_review_time_are_checked() {
        assert_problem(
            "[monitor]\ninterval = \"15m\"\nduration = \"10m\"\n",
            "3:12",
            "monitor.duration",
            "duration 10m is shorter than interval 15m",
        );
        assert_problem(
            "[monitor]\nsample_every = \"20m\"\n",
            "1:1",
            "monitor.interval",
            "shorter than sample_every",
        );
        assert_problem(
            "[monitor]\nconsecutive_failures = 0\n",
            "2:24",
            "monitor.consecutive_failures",
            "out of range",
        );
        assert_problem(
            "[monitor]\nprobe_budget = 0.0\n",
            "2:16",
            "monitor.probe_budget",
            "out of range",
        );
        assert_problem(
            "[monitor]\n[monitor.sequential]\nfalse_alarm = 2.0\n",
            "3:15",
            "monitor.sequential.false_alarm",
            "out of range",
        );
        assert_problem(
            "[monitor]\ncpu_max = 120.0\n",
            "2:11",
            "monitor.cpu_max",
            "out of range",
        );
        assert_problem(
            "[incident]\nreview_time = \"10am\"\n",
            "2:15",
            "incident.review_time",
            "is not a time written HH:MM",
        );
        assert_problem(
            "[incident]\nrollback_strategy = \"revert\"\n",
            "2:21",
            "incident.rollback_strategy",
            "revert",
        );
        assert_problem(
            "[monitor]\nintervall = \"15m\"\n",
            "2:1",
            "monitor.intervall",
            "interval",
        );
    }
}
