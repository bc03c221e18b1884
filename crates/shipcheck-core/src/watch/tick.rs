//! A tick in the making (the samples of one interval, per series), what a running watch keeps
//! in memory, and Kayenta's rule over the ticks.

use std::collections::BTreeMap;

use crate::journal::watch::Leg;
use crate::model::incident::Severity;
use crate::model::watch::Baseline;
use crate::model::watch::Grade;
use crate::model::watch::percentile;
use crate::model::watch::{Reading, SeriesKey};
use crate::model::watch::{SeriesSummary, Tick};
use crate::watch::rules::{Judged, ProbeWindow, Rules, Streaks};

/// The series that failed the watch, and its severity (no data → medium, inconclusive).
pub(super) fn worst_series(leg: &Leg, live: &Live) -> (Severity, Option<SeriesKey>) {
    let mut best: Option<(Severity, SeriesKey)> = None;
    for s in leg.ticks.iter().flat_map(|t| &t.series) {
        let sev = match s.grade {
            Grade::Fail => {
                let limits = live.rules.limits(&s.key, live.baseline.as_ref()).ok();
                live.rules.classify(&s.key, s.last, limits.as_ref())
            }
            Grade::NoData | Grade::Warn => Severity::Medium,
            Grade::Pass => continue,
        };
        if best.as_ref().is_none_or(|(b, _)| sev > *b) {
            best = Some((sev, s.key.clone()));
        }
    }
    match best {
        Some((s, k)) => (s, Some(k)),
        None => (Severity::Medium, None),
    }
}

/// What a running watch keeps in memory (not journaled; rebuilt on resume).
pub(super) struct Live {
    pub rules: Rules,
    pub baseline: Option<Baseline>,
    pub streaks: BTreeMap<SeriesKey, Streaks>,
    /// Each series' last `consecutive` values, newest last: a failure's severity is that of
    /// its mildest sample, so one extreme sample does not make an incident critical.
    pub recent: BTreeMap<SeriesKey, std::collections::VecDeque<f64>>,
    /// The severity each failing series was raised at: it is raised again when it worsens.
    pub raised: BTreeMap<SeriesKey, Severity>,
    pub windows: BTreeMap<String, ProbeWindow>,
    pub last_sampled: Vec<Option<jiff::Timestamp>>,
    pub acc: TickAcc,
    /// After a rollback: health is back, but the version check did not find the commit the
    /// rollback went back to (why); verification is tried again each round.
    pub version_pending: Option<String>,
    /// After a rollback, until it is verified: the version check runs beside each round's
    /// sampling (a real app's status takes seconds to read; the verification does not wait
    /// for it once the health is back). Kept once it found the rollback's commit live
    /// (`Some(None)`: no app says which commit it runs, nothing to check).
    pub version_live: Option<Option<crate::model::outcome::Outcome>>,
    /// This round's version check, when it ran and did not find the commit live yet: the
    /// verification uses it rather than asking again in the same round.
    pub version_this_round: Option<crate::model::outcome::Outcome>,
    /// The sequential tests.
    pub evidence: crate::watch::evidence::Evidence,
    /// Raw health samples not journaled yet.
    pub samples: Vec<crate::model::watch::ProbeSample>,
    /// Resumed from journaled samples: the first round checks recoveries and verification
    /// whatever it sampled.
    pub recheck: bool,
}

#[derive(Default)]
struct SeriesAcc {
    grade: Option<Grade>,
    samples: u32,
    failed: u32,
    values: Vec<f64>,
    last: Option<f64>,
    limit: Option<f64>,
    note: Option<String>,
}

/// The samples of the tick being collected.
#[derive(Default)]
pub(super) struct TickAcc {
    pub rounds: u32,
    series: BTreeMap<SeriesKey, SeriesAcc>,
}

impl TickAcc {
    pub fn add(&mut self, r: &Reading, j: &Judged, counted: Grade) {
        let s = self.series.entry(r.key.clone()).or_default();
        s.samples += 1;
        s.grade = Some(s.grade.map_or(counted, |g| g.max(counted)));
        if j.grade == Grade::Fail {
            s.failed += 1;
            if r.detail.is_some() {
                s.note = r.detail.clone();
            }
        }
        if let Some(v) = r.value.filter(|v| v.is_finite()) {
            s.values.push(v);
            s.last = Some(v);
        }
        if let Some(l) = j.limits {
            s.limit = Some(l.fail);
        }
        if let Some(why) = &j.no_data {
            s.note = Some(why.clone());
        }
    }

    pub fn finish(
        &mut self,
        leg: &Leg,
        n: u32,
        of: u32,
        due_at: jiff::Timestamp,
        missed: u32,
        baseline: Option<&Baseline>,
    ) -> Tick {
        let acc = std::mem::take(self);
        let series: Vec<SeriesSummary> = acc
            .series
            .into_iter()
            .map(|(key, s)| SeriesSummary {
                grade: s.grade.unwrap_or(Grade::NoData),
                samples: s.samples,
                failed: s.failed,
                last: s.last,
                p95: percentile(&s.values, 95.0),
                limit: s.limit,
                baseline: baseline.and_then(|b| b.value(&key)),
                note: s.note,
                key,
            })
            .collect();
        let grade = series
            .iter()
            .map(|s| s.grade)
            .max()
            .unwrap_or(Grade::NoData);
        Tick {
            leg: leg.leg,
            n,
            of,
            due_at,
            grade,
            missed,
            samples: acc.rounds,
            series,
        }
    }
}

impl Live {
    /// The severity of `reading`'s series failing now: that of the mildest of its last N
    /// samples, so it is critical only when every one of them reached the critical limit.
    pub fn severity(&self, reading: &Reading, judged: &Judged) -> Severity {
        let mildest = self
            .recent
            .get(&reading.key)
            .and_then(|r| r.iter().copied().reduce(f64::min))
            .or(reading.value);
        self.rules
            .classify(&reading.key, mildest, judged.limits.as_ref())
    }
}
