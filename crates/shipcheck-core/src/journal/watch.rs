//! What the journal says about the watch: the baseline, each watch (the release's, and the one
//! after a rollback) with its ticks, the incidents and their decisions, the rollback's
//! verification, and the run's verdict. Folded with the rest of the run.

use crate::model::error::Invalid;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::journal::state::{RunState, RunStatus};
use crate::model::checklist::Phase;
use crate::model::event::Event;
use crate::model::incident::{DecisionRecord, Incident, Notice, Severity};
use crate::model::outcome::{Outcome as CheckOutcome, Status};
use crate::model::watch::Baseline;
use crate::model::watch::Grade;
use crate::model::watch::Metric;
use crate::model::watch::Outcome;
use crate::model::watch::Purpose;
use crate::model::watch::Schedule;
use crate::model::watch::Tick;

/// A watch and its ticks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// 0, 1, …
    pub leg: u32,
    /// Release, or after a rollback.
    pub purpose: Purpose,
    /// Its schedule.
    pub schedule: Schedule,
    /// When it started.
    pub started_at: Timestamp,
    /// Rollbacks the run had when it started (later ones happened during it).
    pub rollbacks_before: usize,
    /// Its ticks.
    pub ticks: Vec<Tick>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
}

/// The rollback verified like a deploy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Healthy again.
    pub ok: bool,
    /// One line.
    pub summary: String,
    /// What was measured.
    #[serde(default)]
    pub evidence: serde_json::Value,
    /// When.
    pub at: Timestamp,
}

/// The watch's part of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorState {
    /// Measured before the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_at: Option<Timestamp>,
    /// When the release went live (the rollout phase completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_live_at: Option<Timestamp>,
    /// The watches.
    #[serde(default)]
    pub legs: Vec<Leg>,
    /// The incidents.
    #[serde(default)]
    pub incidents: Vec<Incident>,
    /// The rollback's verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

impl MonitorState {
    /// Applies one event (every event passes through; the watch's own change this state).
    /// `rollbacks` is how many rollbacks the run had before the event.
    pub fn apply(&mut self, event: &Event, at: Timestamp, rollbacks: usize) -> Result<(), Invalid> {
        match event {
            Event::PhaseCompleted {
                phase: Phase::Rollout,
            } => {
                self.release_live_at.get_or_insert(at);
            }
            Event::BaselineRecorded { baseline } => {
                self.baseline = Some(baseline.clone());
                self.baseline_at = Some(at);
            }
            Event::WatchStarted {
                leg,
                purpose,
                schedule,
            } => {
                if *leg as usize != self.legs.len() {
                    return Err(format!("starts watch {leg}, expected {}", self.legs.len()).into());
                }
                if self.legs.last().is_some_and(|l| l.outcome.is_none()) {
                    return Err("starts a watch while another is running".into());
                }
                self.legs.push(Leg {
                    leg: *leg,
                    purpose: *purpose,
                    schedule: *schedule,
                    started_at: at,
                    rollbacks_before: rollbacks,
                    ticks: Vec::new(),
                    outcome: None,
                    reason: None,
                    ended_at: None,
                });
            }
            Event::WatchTick { tick } => {
                let leg = self.open_leg_mut(tick.leg)?;
                if leg.ticks.last().is_some_and(|t| t.n >= tick.n) {
                    return Err(format!("tick {} of watch {} runs twice", tick.n, tick.leg).into());
                }
                leg.ticks.push(tick.clone());
            }
            Event::WatchEnded {
                leg,
                outcome,
                reason,
            } => {
                let l = self.open_leg_mut(*leg)?;
                l.outcome = Some(*outcome);
                l.reason = Some(reason.clone());
                l.ended_at = Some(at);
            }
            Event::IncidentRaised { incident } => {
                if incident.id as usize != self.incidents.len() + 1 {
                    return Err(format!("raises incident {} out of order", incident.id).into());
                }
                self.incidents.push(Incident {
                    record: incident.clone(),
                    raised_at: at,
                    decisions: Vec::new(),
                    notified: None,
                    open: true,
                });
            }
            Event::IncidentDecision {
                incident,
                decision,
                by,
                reason,
                until,
            } => {
                let i = self.incident_mut(*incident)?;
                i.decisions.push(DecisionRecord {
                    decision: *decision,
                    by: by.clone(),
                    reason: reason.clone(),
                    until: *until,
                    at,
                });
                if *decision == crate::model::incident::Decision::Resolved {
                    i.open = false;
                }
            }
            Event::IncidentNotified {
                incident,
                posted,
                detail,
            } => {
                self.incident_mut(*incident)?.notified = Some(Notice {
                    posted: *posted,
                    detail: detail.clone(),
                    at,
                });
            }
            Event::RollbackVerified {
                ok,
                summary,
                evidence,
            } => {
                self.verification = Some(Verification {
                    ok: *ok,
                    summary: summary.clone(),
                    evidence: evidence.clone(),
                    at,
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn open_leg_mut(&mut self, leg: u32) -> Result<&mut Leg, String> {
        match self.legs.get_mut(leg as usize) {
            Some(l) if l.outcome.is_none() => Ok(l),
            Some(_) => Err(format!("names watch {leg}, which has ended")),
            None => Err(format!("names watch {leg}, which never started")),
        }
    }

    fn incident_mut(&mut self, id: u32) -> Result<&mut Incident, String> {
        self.incidents
            .iter_mut()
            .find(|i| i.record.id == id)
            .ok_or_else(|| format!("names incident {id}, which was never raised"))
    }

    /// The running watch.
    pub fn open_leg(&self) -> Option<&Leg> {
        self.legs.last().filter(|l| l.outcome.is_none())
    }

    /// The release's watch.
    pub fn release_leg(&self) -> Option<&Leg> {
        self.legs.iter().find(|l| l.purpose == Purpose::Release)
    }

    /// Open incidents.
    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.iter().filter(|i| i.open)
    }

    /// An incident by id.
    pub fn incident(&self, id: u32) -> Option<&Incident> {
        self.incidents.iter().find(|i| i.record.id == id)
    }

    /// Release live → first incident.
    pub fn time_to_detect(&self) -> Option<std::time::Duration> {
        let live = self.release_live_at?;
        let first = self.incidents.first()?.raised_at;
        Some(first.duration_since(live).unsigned_abs())
    }

    /// First incident → rollback verified.
    pub fn time_to_recover(&self) -> Option<std::time::Duration> {
        let v = self.verification.as_ref().filter(|v| v.ok)?;
        let first = self.incidents.first()?.raised_at;
        Some(v.at.duration_since(first).unsigned_abs())
    }
}

/// The run's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Not decided yet (the watch has not ended).
    Pending,
    /// The watch passed.
    Success,
    /// The watch failed and the release was not rolled back.
    Failed,
    /// The release was rolled back.
    RolledBack,
    /// The run was abandoned.
    Aborted,
}

impl VerdictKind {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Pending => "pending",
            VerdictKind::Success => "success",
            VerdictKind::Failed => "failed",
            VerdictKind::RolledBack => "rolled_back",
            VerdictKind::Aborted => "aborted",
        }
    }
}

/// The verdict and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// What.
    pub verdict: VerdictKind,
    /// Why.
    pub reason: String,
}

/// The run's verdict from what it recorded.
pub fn verdict(run: &RunState) -> Verdict {
    let v = |verdict, reason: String| Verdict { verdict, reason };
    if let Some(r) = run.rollbacks.iter().find(|r| r.succeeded == Some(true)) {
        let verified = match &run.monitor.verification {
            Some(x) if x.ok => "; verified: ",
            Some(_) => "; not verified: ",
            None => "",
        };
        let detail = run
            .monitor
            .verification
            .as_ref()
            .map(|x| x.summary.as_str())
            .unwrap_or("");
        return v(
            VerdictKind::RolledBack,
            format!(
                "rolled back ({}) by {}: {}{verified}{detail}",
                r.strategy, r.by, r.reason
            ),
        );
    }
    if run.status == RunStatus::Aborted {
        let why = run
            .aborted
            .as_ref()
            .map(|(by, reason)| format!("aborted by {by}: {reason}"))
            .unwrap_or_else(|| "aborted".into());
        return v(VerdictKind::Aborted, why);
    }
    match run.monitor.release_leg() {
        Some(l) => match l.outcome {
            Some(Outcome::Pass) => v(
                VerdictKind::Success,
                l.reason
                    .clone()
                    .unwrap_or_else(|| "the watch passed".into()),
            ),
            Some(Outcome::Fail) => v(
                VerdictKind::Failed,
                l.reason
                    .clone()
                    .unwrap_or_else(|| "the watch failed".into()),
            ),
            Some(o) => v(
                VerdictKind::Pending,
                format!("the watch ended: {}", o.as_str()),
            ),
            None => v(
                VerdictKind::Pending,
                format!(
                    "the watch is running: {} of {} ticks",
                    l.ticks.len(),
                    l.schedule.ticks()
                ),
            ),
        },
        None => {
            let critical = run
                .monitor
                .open_incidents()
                .any(|i| i.record.severity == Severity::Critical);
            v(
                VerdictKind::Pending,
                if critical {
                    "a critical incident is open and the watch has not run".into()
                } else {
                    "the watch has not run".into()
                },
            )
        }
    }
}

/// A short tick line: `tick 3/8 pass (60 samples)`.
pub fn tick_line(t: &Tick) -> String {
    let mut s = format!(
        "tick {}/{} {} ({} samples)",
        t.n,
        t.of,
        t.grade.as_str(),
        t.samples
    );
    if t.missed > 0 {
        s.push_str(&format!(", {} missed tick(s) folded in", t.missed));
    }
    let bad: Vec<String> = t
        .series
        .iter()
        .filter(|x| x.grade != Grade::Pass)
        .map(|x| {
            let mut d = format!("{} {}", x.key, x.grade.as_str());
            if let Some(v) = x.last {
                d.push_str(&format!(" ({})", x.key.metric.show(v)));
            }
            d
        })
        .collect();
    if !bad.is_empty() {
        s.push_str(": ");
        s.push_str(&bad.join(", "));
    }
    s
}

/// Kayenta's rule over the release watch's ticks, counting only the series `keep` selects.
/// Pass or fail from what was recorded; an error when there is nothing to judge (no data is
/// never a pass).
pub fn judge_watch(run: &RunState, keep: &dyn Fn(Metric) -> bool, what: &str) -> CheckOutcome {
    let Some(leg) = run.monitor.release_leg() else {
        return CheckOutcome::error(
            "the watch has not run; `shipcheck monitor` (or `shipcheck next`) runs it",
            serde_json::Value::Null,
        );
    };
    match leg.outcome {
        None => {
            return CheckOutcome::error(
                format!(
                    "the watch is still running ({} of {} ticks); `shipcheck monitor` resumes it",
                    leg.ticks.len(),
                    leg.schedule.ticks()
                ),
                serde_json::Value::Null,
            );
        }
        Some(Outcome::Stopped) => {
            return CheckOutcome::error(
                format!("the watch stopped: {}", leg.reason.as_deref().unwrap_or("")),
                serde_json::Value::Null,
            );
        }
        Some(Outcome::RolledBack) => {
            let failed: Vec<String> = run
                .monitor
                .incidents
                .iter()
                .filter(|i| i.record.series.as_ref().is_some_and(|k| keep(k.metric)))
                .map(|i| format!("incident #{}: {}", i.record.id, i.record.summary))
                .collect();
            let reason = leg.reason.as_deref().unwrap_or("rolled back");
            return if failed.is_empty() {
                CheckOutcome::error(
                    format!(
                        "{what}: the watch was cut short ({reason}); nothing of {what} failed before"
                    ),
                    serde_json::Value::Null,
                )
            } else {
                CheckOutcome::fail(
                    format!("{what}: {}; {reason}", failed.join("; ")),
                    serde_json::Value::Null,
                )
            };
        }
        _ => {}
    }
    let ticks: Vec<Tick> = leg
        .ticks
        .iter()
        .filter_map(|t| {
            let series: Vec<_> = t
                .series
                .iter()
                .filter(|s| keep(s.key.metric))
                .cloned()
                .collect();
            (!series.is_empty()).then(|| Tick {
                grade: series
                    .iter()
                    .map(|s| s.grade)
                    .max()
                    .unwrap_or(Grade::NoData),
                series,
                ..t.clone()
            })
        })
        .collect();
    if ticks.is_empty() {
        return CheckOutcome::error(
            format!(
                "the watch measured nothing of {what} (no app with a health_url, no integration)"
            ),
            json!({ "ticks": leg.ticks.len(), "measured": [] }),
        );
    }
    let (outcome, mut reason) = kayenta(&ticks);
    let no_data: Vec<String> = ticks
        .iter()
        .flat_map(|t| &t.series)
        .filter(|s| s.grade == Grade::NoData)
        .map(|s| {
            format!(
                "{} ({})",
                s.key,
                s.note.as_deref().unwrap_or("nothing measured")
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if outcome != Outcome::Pass && !no_data.is_empty() {
        reason.push_str(&format!("; no data for {}", no_data.join(", ")));
    }
    let mut measured: Vec<&str> = ticks
        .iter()
        .flat_map(|t| t.series.iter().map(|s| s.key.metric.as_str()))
        .collect();
    measured.sort_unstable();
    measured.dedup();
    let evidence = json!({
        "watch": leg_evidence(leg),
        "ticks": ticks.iter().map(|t| json!({
            "n": t.n, "grade": t.grade, "due_at": t.due_at, "missed": t.missed,
            "series": t.series,
        })).collect::<Vec<_>>(),
        "measured": measured,
    });
    let status = if outcome == Outcome::Pass {
        Status::Pass
    } else {
        Status::Fail
    };
    CheckOutcome::new(
        status,
        format!("{what}: {reason}; measured {}", measured.join(", ")),
        evidence,
    )
}

/// Kayenta's multi-interval rule: the final tick passes, every earlier one is at least warn.
pub fn kayenta(ticks: &[Tick]) -> (Outcome, String) {
    let Some((last, earlier)) = ticks.split_last() else {
        return (Outcome::Fail, "no tick was recorded".into());
    };
    let bad: Vec<String> = earlier
        .iter()
        .filter(|t| t.grade > Grade::Warn)
        .map(|t| format!("tick {} was {}", t.n, t.grade.as_str()))
        .collect();
    if last.grade != Grade::Pass {
        let mut r = format!(
            "the final tick ({}/{}) was {}, not pass",
            last.n,
            last.of,
            last.grade.as_str()
        );
        if !bad.is_empty() {
            r.push_str(&format!("; {}", bad.join(", ")));
        }
        return (Outcome::Fail, r);
    }
    if !bad.is_empty() {
        return (
            Outcome::Fail,
            format!(
                "{} (every tick before the last must be at least warn)",
                bad.join(", ")
            ),
        );
    }
    (
        Outcome::Pass,
        format!(
            "the final tick passed and every earlier tick was at least warn ({} ticks)",
            ticks.len()
        ),
    )
}

fn leg_evidence(leg: &Leg) -> serde_json::Value {
    json!({
        "started_at": leg.started_at, "schedule": leg.schedule, "outcome": leg.outcome,
        "reason": leg.reason, "ended_at": leg.ended_at,
    })
}
