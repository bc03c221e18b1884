//! The sequential tests ([`crate::watch::sequential`]) in a running watch: each app's failed
//! health probes against its baseline rate, its answers' latencies against its baseline p95,
//! and after a rollback the test that its rate is back. They decide the health probes'
//! series (`health`, `http_errors`, `latency`) unless `[monitor.sequential] shadow = true`;
//! the slower signals (Sentry, Prometheus, the database) keep the N-consecutive-samples
//! rule and never hold a decision of these.

use std::collections::BTreeMap;

use serde_json::json;

use crate::incidents::respond::Asker;
use crate::incidents::respond::decide;
use crate::incidents::respond::raise_incident;
use crate::model::config::MonitorConfig;
use crate::model::incident::{Decision, IncidentInput, Severity, Source};
use crate::model::watch::{Baseline, Metric, ProbeSample, Reading, SeriesKey};
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};
use crate::watch::sequential::{
    CountTest, Crossing, Verify, VerifyTest, slow_threshold, watch_observations,
};
use crate::watch::watcher::WATCHER;

/// A test crossed its bound (first, or at a higher severity than before).
#[derive(Clone, Debug)]
pub(super) struct Finding {
    /// The series it is raised on (`health` when most probes fail).
    pub key: SeriesKey,
    /// The numbers.
    pub crossing: Crossing,
    /// What the observations are (`probes`, `answers`).
    pub what: &'static str,
    /// What the probes saw (`5 probes: answered 500 ×3, answered 200 ×2`).
    pub detail: Option<String>,
}

impl Finding {
    /// The incident's summary.
    pub fn summary(&self) -> String {
        let app = self.key.app.as_deref().unwrap_or("app");
        let numbers = self.crossing.describe(self.what);
        match self.key.metric {
            Metric::Health => format!(
                "{app}: health endpoint failing ({}); {numbers}",
                self.detail.as_deref().unwrap_or("no answer")
            ),
            Metric::Latency => format!("{app}: answers slower than the baseline: {numbers}"),
            Metric::EdgeErrors => format!("{app}: failed requests above the baseline: {numbers}"),
            _ if self.what == "probes" => {
                format!("{app}: failed probes above the baseline: {numbers}")
            }
            _ => format!("{app}: failed requests above the baseline: {numbers}"),
        }
    }
}

/// The sequential tests of one watch (kept in memory; rebuilt from the samples on resume).
pub(super) struct Evidence {
    /// Judged and recorded, never acted on.
    pub shadow: bool,
    floor: f64,
    alpha: f64,
    n_watch: f64,
    /// The watch's length, seconds (the edge's requests per watch from its baseline rate).
    duration_s: f64,
    critical: f64,
    latency_increase: f64,
    latency_min_ms: f64,
    /// The rate the incidents saw (for the rollback's verification), a fraction.
    bad: f64,
    errors: BTreeMap<String, CountTest>,
    latency: BTreeMap<String, (f64, CountTest)>,
    verify: BTreeMap<String, VerifyTest>,
    verified: BTreeMap<String, String>,
    raised: BTreeMap<SeriesKey, Severity>,
    health_detail: BTreeMap<String, String>,
    /// Apps whose failure test has counted real requests (the edge's).
    edge_apps: std::collections::BTreeSet<String>,
    /// An app's rate was verified back at its baseline in the last round.
    pub verified_now: bool,
}

impl Evidence {
    /// The tests of a watch of `duration` sampling `probes` probes per app every
    /// `sample_every`, over `apps` apps; `bad` the failed-probe rate the run's incidents
    /// saw (0 when none).
    pub fn new(
        cfg: &MonitorConfig,
        duration: std::time::Duration,
        sample_every: std::time::Duration,
        probes: usize,
        apps: usize,
        bad: f64,
    ) -> Evidence {
        let s = &cfg.sequential;
        let per_second = probes as f64 / sample_every.as_secs_f64().max(0.001);
        Evidence {
            shadow: s.shadow,
            floor: s.error_floor / 100.0,
            // Both tests of every app share the watch's false-alarm probability.
            alpha: s.false_alarm / (2.0 * apps.max(1) as f64),
            n_watch: watch_observations(duration, per_second),
            duration_s: duration.as_secs_f64(),
            critical: cfg.error_rate_critical_factor,
            latency_increase: cfg.latency_p95_increase,
            latency_min_ms: cfg.latency_min_increase.get().as_secs_f64() * 1000.0,
            bad,
            errors: BTreeMap::new(),
            latency: BTreeMap::new(),
            verify: BTreeMap::new(),
            verified: BTreeMap::new(),
            raised: BTreeMap::new(),
            health_detail: BTreeMap::new(),
            edge_apps: std::collections::BTreeSet::new(),
            verified_now: false,
        }
    }

    /// Whether these tests decide `key` (rather than the N-consecutive-samples rule).
    pub fn decides(&self, key: &SeriesKey) -> bool {
        !self.shadow
            && matches!(
                key.metric,
                Metric::Health | Metric::HttpErrors | Metric::EdgeErrors | Metric::Latency
            )
    }

    /// Whether they decide at all.
    pub fn deciding(&self) -> bool {
        !self.shadow
    }

    /// Feeds a reading; a finding when a test crossed its bound for the first time or more
    /// severely than before. Readings without observations (other sources, no data) are no
    /// evidence.
    pub fn observe(&mut self, r: &Reading, baseline: Option<&Baseline>) -> Option<Finding> {
        let app = r.key.app.clone()?;
        match r.key.metric {
            Metric::Health => {
                if let Some(d) = &r.detail {
                    self.health_detail.insert(app, d.clone());
                }
                None
            }
            Metric::HttpErrors | Metric::EdgeErrors => {
                // One test per app counts its failed requests, the probes' and the real
                // traffic's at the edge (`edge_errors`) alike.
                let (failed, n, what) = match (r.key.metric, r.counts) {
                    (Metric::EdgeErrors, Some(c)) if c.total > 0 => {
                        self.edge_apps.insert(app.clone());
                        (c.failed.min(c.total), c.total, "requests")
                    }
                    (Metric::HttpErrors, _) if !r.observations.is_empty() => (
                        r.observations.iter().filter(|x| **x >= 0.5).count() as u64,
                        r.observations.len() as u64,
                        "probes",
                    ),
                    _ => return None,
                };
                let what = if self.edge_apps.contains(&app) {
                    "requests and probes"
                } else {
                    what
                };
                let (p0, edge_rate) = base_rate(&app, baseline, self.floor);
                let (floor, n_watch, alpha, critical, bad) = (
                    self.floor,
                    self.n_watch + edge_rate * self.duration_s,
                    self.alpha,
                    self.critical,
                    self.bad,
                );
                let v = self
                    .verify
                    .entry(app.clone())
                    .or_insert_with(|| VerifyTest::new(p0, floor, bad, alpha));
                match v.push(failed, n) {
                    Verify::Accepted if !self.verified.contains_key(&app) => {
                        self.verified.insert(app.clone(), v.describe(what));
                        self.verified_now = true;
                    }
                    Verify::Rejected => {
                        self.verified.remove(&app);
                    }
                    _ => {}
                }
                let test = self
                    .errors
                    .entry(app.clone())
                    .or_insert_with(|| CountTest::errors(p0, floor, n_watch, alpha, critical));
                let c = test.push(failed, n)?;
                let key = if c.observed() >= 0.5 {
                    SeriesKey::new(Metric::Health, Some(&app))
                } else {
                    r.key.clone()
                };
                let detail = self.health_detail.get(&app).cloned();
                self.found(key, c, what, detail)
            }
            Metric::Latency if !r.observations.is_empty() => {
                let p95 = baseline.and_then(|b| b.value(&r.key))?;
                let (n_watch, alpha) = (self.n_watch, self.alpha);
                let limit = slow_threshold(p95, self.latency_increase, self.latency_min_ms);
                let (limit, test) = self
                    .latency
                    .entry(app)
                    .or_insert_with(|| (limit, CountTest::latency(n_watch, alpha)));
                let slow = r.observations.iter().filter(|ms| **ms > *limit).count() as u64;
                let c = test.push(slow, r.observations.len() as u64)?;
                let key = r.key.clone();
                let detail = Some(format!("slower than {:.0}ms", *limit));
                self.found(key, c, "answers", detail)
            }
            _ => None,
        }
    }

    fn found(
        &mut self,
        key: SeriesKey,
        crossing: Crossing,
        what: &'static str,
        detail: Option<String>,
    ) -> Option<Finding> {
        // Raised once per app and kind, again only when more severe.
        let slot = SeriesKey::new(
            if key.metric == Metric::Latency {
                Metric::Latency
            } else {
                Metric::HttpErrors
            },
            key.app.as_deref(),
        );
        if self
            .raised
            .get(&slot)
            .is_some_and(|s| *s >= crossing.severity)
        {
            return None;
        }
        self.raised.insert(slot, crossing.severity);
        Some(Finding {
            key,
            crossing,
            what,
            detail,
        })
    }

    /// Whether any failure-count test is above its bound now.
    pub fn failing(&self) -> bool {
        self.errors.values().any(|t| t.crossing().is_some())
    }

    /// The verification of `app`'s rate, when its test accepted the baseline.
    pub fn verified(&self, app: &str) -> Option<&str> {
        self.verified.get(app).map(String::as_str)
    }
}

/// The readings a journaled sample stands for (failed probes, latencies, the edge's counts),
/// as the sequential tests saw them live: replay and a resumed watch feed them back in this
/// order.
pub(super) fn readings(s: &ProbeSample) -> Vec<Reading> {
    let mut out = Vec::with_capacity(3);
    if s.sent > 0 {
        out.push(Reading {
            key: SeriesKey::new(Metric::HttpErrors, Some(&s.app)),
            value: None,
            detail: Some(format!("{} of {} probes failed", s.failed, s.sent)),
            observations: (0..s.sent)
                .map(|i| if i < s.failed { 1.0 } else { 0.0 })
                .collect(),
            counts: None,
        });
        out.push(Reading {
            key: SeriesKey::new(Metric::Latency, Some(&s.app)),
            value: None,
            detail: None,
            observations: s.ms.iter().map(|ms| f64::from(*ms)).collect(),
            counts: None,
        });
    }
    if let Some(c) = s.edge {
        out.push(Reading {
            key: SeriesKey::new(Metric::EdgeErrors, Some(&s.app)),
            value: (c.total > 0).then(|| c.failed as f64 * 100.0 / c.total as f64),
            detail: None,
            observations: Vec::new(),
            counts: Some(c),
        });
    }
    out
}

impl Evidence {
    /// Feeds back the samples a watch journaled before it was interrupted, so a resumed
    /// watch judges with all its evidence, as if it had never stopped. Returns the findings
    /// the journal does not show acted on (the process died between journaling the samples
    /// and raising the incident); the caller acts on them.
    pub fn rebuild(
        &mut self,
        samples: &[ProbeSample],
        baseline: Option<&Baseline>,
        run: &crate::journal::state::RunState,
        since: jiff::Timestamp,
    ) -> Vec<Finding> {
        let mut pending = Vec::new();
        for s in samples {
            for r in readings(s) {
                if let Some(f) = self.observe(&r, baseline)
                    && !acted_on(&f, run, since)
                {
                    pending.push(f);
                }
            }
        }
        self.verified_now = false;
        pending
    }
}

/// Whether the journal shows `f` acted on: an incident of its kind, at least as severe,
/// raised since `since`, for its app or noting its app as also failing.
fn acted_on(f: &Finding, run: &crate::journal::state::RunState, since: jiff::Timestamp) -> bool {
    let family = f.key.metric.family();
    let prefix = format!("{} ", f.key);
    run.monitor.incidents.iter().any(|i| {
        i.raised_at >= since
            && i.record.severity >= f.crossing.severity
            && i.record.source == Source::Watch
            && i.record.series.as_ref().is_some_and(|k| {
                k.metric.family() == family
                    && (k.app == f.key.app
                        || i.decisions.iter().any(|d| {
                            d.decision == Decision::AlsoFailing && d.reason.starts_with(&prefix)
                        }))
            })
    })
}

/// An app's baseline failure rate (a fraction): the higher of its health probes' and its real
/// requests' at the edge (so real traffic's usual 5xx is not news), and the edge's requests a
/// second before the release (0 without an edge baseline).
fn base_rate(app: &str, baseline: Option<&Baseline>, floor: f64) -> (f64, f64) {
    let get = |m| baseline.and_then(|b| b.get(&SeriesKey::new(m, Some(app))));
    let probes = get(Metric::HttpErrors).and_then(|v| v.value);
    let edge = get(Metric::EdgeErrors).filter(|v| v.value.is_some_and(f64::is_finite));
    let p0 = match (probes, edge.and_then(|v| v.value)) {
        (None, None) => floor * 100.0,
        (a, b) => a.unwrap_or(0.0).max(b.unwrap_or(0.0)),
    };
    let rate = edge.map_or(0.0, |v| {
        f64::from(v.samples) / crate::watch::sources::edge::BASELINE_WINDOW.as_secs_f64()
    });
    (p0 / 100.0, rate)
}

/// The failed-probe rate the run's incidents saw (their sequential evidence), a fraction.
pub(super) fn bad_rate(run: &crate::journal::state::RunState) -> f64 {
    run.monitor
        .incidents
        .iter()
        .filter_map(|i| {
            let c = i.record.evidence.get("sequential")?;
            let f = c.get("failed")?.as_f64()?;
            let n = c.get("samples")?.as_f64()?;
            (n > 0.0).then(|| f / n)
        })
        .fold(0.0, f64::max)
}

/// Acts on a finding: an incident (the policy then acts on its severity), or a note on the
/// incident of the same kind already open; in shadow, only a note.
pub(super) async fn act(
    session: &Session,
    run_id: &str,
    f: Finding,
    shadow: bool,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    if shadow {
        ask.observer.on_watch(&WatchEvent::Note(format!(
            "shadow ({}, not acted on): {}",
            f.crossing.severity.as_str(),
            f.summary()
        )));
        return Ok(());
    }
    let run = session.load(run_id).await?;
    let family = f.key.metric.family();
    let severity = f.crossing.severity;
    let covering = run.monitor.open_incidents().find(|i| {
        i.record.severity >= severity
            && i.record
                .series
                .as_ref()
                .is_some_and(|k| k.metric.family() == family && i.record.source == Source::Watch)
    });
    if let Some(i) = covering {
        let same_app = i.record.series.as_ref().map(|k| &k.app) == Some(&f.key.app);
        let prefix = format!("{} ", f.key);
        let noted = i
            .decisions
            .iter()
            .any(|d| d.decision == Decision::AlsoFailing && d.reason.starts_with(&prefix));
        if !same_app && !noted {
            let reason = format!(
                "{}: {} ({}); part of this incident",
                f.key,
                f.crossing.describe(f.what),
                severity.as_str()
            );
            decide(
                session,
                run_id,
                i.record.id,
                Decision::AlsoFailing,
                WATCHER,
                &reason,
                None,
                ask.observer,
            )
            .await?;
        }
        return Ok(());
    }
    let report = raise_incident(
        session,
        run_id,
        IncidentInput {
            severity,
            summary: f.summary(),
            by: WATCHER.into(),
            source: Source::Watch,
            series: Some(f.key.clone()),
            evidence: json!({
                "sequential": f.crossing,
                "detail": f.detail,
            }),
        },
        ask,
    )
    .await?;
    ask.observer
        .on_watch(&WatchEvent::Incident(Box::new(report)));
    Ok(())
}
