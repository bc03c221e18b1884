//! Whether each Machine of an app runs the release it should, as a deploy sees it — shared
//! by `fly.status`, `fly.releases` (`deployed`) and the platform rollback's verification.
//!
//! Facts (`fixtures/api/README.md` F1–F5): `fly deploy` updates stopped Machines without
//! starting them; auto-stop (`stop`/`suspend`) leaves idle Machines `stopped`/`suspended`;
//! standbys (`config.standbys`, `FLY_STANDBY_FOR`) are stopped by design; process groups run
//! different commands, often without a service. So a stopped Machine on the new release is a
//! healthy deploy when auto-stop or standby explains it, and a Machine is judged by its
//! release first, its state second.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::checks::fly::{AppResult, with};
use crate::clients::fly::{Machine, MachineState, StateKind};
use crate::model::outcome::Status;

/// The release the Machines should run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wanted<'a> {
    /// Its version (`config.metadata.fly_release_version`).
    pub version: u64,
    /// Its image (read when a Machine has no release version).
    pub image: &'a str,
}

/// What one Machine is, for a deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    /// On the release, started (checks passing) or idle by design.
    Ok,
    /// Not part of the fleet (gone, flyctl's own groups, not made by `fly deploy`).
    Ignored,
    /// Passing through a state, within the time Fly allows it.
    Passing,
    /// On another release (while a deploy lands, it may still get there).
    Behind,
    /// Wrong: failed, wedged, stopped with nothing to explain it, checks failing.
    Bad,
    /// Cannot be judged: an unknown state, no release metadata, an unreachable host.
    Unknown,
}

/// One Machine judged.
#[derive(Clone, Debug)]
pub(crate) struct Judged {
    pub verdict: Verdict,
    /// `machine ID [group] state: why`.
    pub line: String,
    pub evidence: Value,
}

/// Judges `m` against `wanted` at `now`.
pub(crate) fn judge(m: &Machine, wanted: Wanted, now: Timestamp) -> Judged {
    let group = m.process_group();
    let (verdict, why) = verdict(m, wanted, now);
    let line = format!("machine {} [{group}] {}: {why}", m.id, m.state);
    let evidence = json!({
        "id": m.id,
        "group": group,
        "state": m.state,
        "region": m.region,
        "release": m.release_version(),
        "image_tag": m.image_tag(),
        "verdict": format!("{verdict:?}").to_ascii_lowercase(),
        "why": why,
    });
    Judged {
        verdict,
        line,
        evidence,
    }
}

fn verdict(m: &Machine, wanted: Wanted, now: Timestamp) -> (Verdict, String) {
    if m.state.kind() == StateKind::Gone {
        return (Verdict::Ignored, "no longer part of the app".into());
    }
    if m.is_special_group() {
        return (Verdict::Ignored, "one of flyctl's own Machines".into());
    }
    if m.is_detached() {
        return (
            Verdict::Ignored,
            "not made by fly deploy (no release metadata)".into(),
        );
    }
    if m.config.is_none() {
        let host = if m.host_status.is_empty() {
            "unknown"
        } else {
            &m.host_status
        };
        return (
            Verdict::Unknown,
            format!("host {host}: flyctl could not read its config, so its release is unknown"),
        );
    }
    let on = match m.release_version() {
        Some(v) => v == wanted.version,
        None if !m.image().is_empty() => m.image() == wanted.image,
        None => {
            return (
                Verdict::Unknown,
                "neither a release version nor an image in its config".into(),
            );
        }
    };
    if !on {
        let on_what = match m.release_version() {
            Some(v) => format!("v{v}"),
            None => "another image".into(),
        };
        return (
            Verdict::Behind,
            format!(
                "on {on_what} ({}), not v{}",
                shown_tag(&m.image_tag()),
                wanted.version
            ),
        );
    }
    state_verdict(m, now)
}

fn state_verdict(m: &Machine, now: Timestamp) -> (Verdict, String) {
    let age = m
        .since()
        .map(|t| now.duration_since(t).unsigned_abs())
        .filter(|d| !d.is_zero());
    let for_how_long = || {
        age.map(|d| format!(" for {}", crate::model::duration::format(round(d))))
            .unwrap_or_default()
    };
    match m.state.kind() {
        StateKind::Running => {
            let failing: Vec<String> = m
                .failing_checks()
                .iter()
                .map(|c| {
                    let out = c.output.trim();
                    if out.is_empty() {
                        format!("check {} {}", c.name, c.status)
                    } else {
                        format!("check {} {} ({out})", c.name, c.status)
                    }
                })
                .collect();
            if failing.is_empty() {
                (Verdict::Ok, "started".into())
            } else {
                (Verdict::Bad, failing.join(", "))
            }
        }
        StateKind::Idle => {
            let standby = m.standby_for();
            let autostop = m.autostop();
            if !standby.is_empty() {
                (
                    Verdict::Ok,
                    format!("a standby for {}: idle by design", standby.join(", ")),
                )
            } else if autostop.idles() && m.state != MachineState::Created {
                (
                    Verdict::Ok,
                    format!("auto-stop ({}): idle by design", autostop.as_str()),
                )
            } else {
                transitional_or_bad(
                    m,
                    age,
                    for_how_long(),
                    "neither auto-stop nor a standby explains it",
                )
            }
        }
        StateKind::Transitional => transitional_or_bad(m, age, for_how_long(), ""),
        StateKind::Broken => (Verdict::Bad, "the Machine failed".into()),
        StateKind::Gone => (Verdict::Ignored, "no longer part of the app".into()),
        StateKind::Unknown => (
            Verdict::Unknown,
            format!(
                "a state shipcheck does not know ({:?}); look with `flyctl machine status {}`",
                m.state.as_str(),
                m.id
            ),
        ),
    }
}

/// A state that may pass (within Fly's wedge time) or is wrong for good.
fn transitional_or_bad(
    m: &Machine,
    age: Option<std::time::Duration>,
    for_how_long: String,
    idle_why: &str,
) -> (Verdict, String) {
    match m.state.wedged_after() {
        Some(limit) if age.is_none_or(|a| a <= limit) => {
            let what = if m.state == MachineState::Created {
                "not started yet"
            } else {
                "passing through"
            };
            (Verdict::Passing, format!("{what}{for_how_long}"))
        }
        Some(limit) => (
            Verdict::Bad,
            format!(
                "{}{for_how_long}; Fly calls a Machine wedged after {}",
                m.state,
                crate::model::duration::format(limit)
            ),
        ),
        None => (Verdict::Bad, idle_why.to_string()),
    }
}

fn round(d: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_secs(d.as_secs().max(1))
}

/// An image tag as shown in a line (`image tag deployment-01J…`), or that there is none.
pub(crate) fn shown_tag(tag: &str) -> String {
    if tag.is_empty() {
        "no image tag".into()
    } else {
        format!("image tag {tag}")
    }
}

/// How a fleet stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FleetStatus {
    /// Every Machine that counts is on the release, as it should be.
    Pass,
    /// Some are still on their way (another release, a passing state).
    Landing,
    /// Some are wrong.
    Fail,
    /// Some cannot be judged, or there is nothing to judge.
    Error,
}

/// Every Machine of an app judged.
#[derive(Clone, Debug)]
pub(crate) struct Fleet {
    pub status: FleetStatus,
    /// Machines that count (not ignored).
    pub counted: usize,
    /// How the ones that are fine are (`2 started, 1 idle by auto-stop`).
    pub fine: String,
    /// Lines of the Machines that are not fine, worst first.
    pub problems: Vec<String>,
    pub machines: Vec<Value>,
}

impl Fleet {
    /// One app's part of a check: `ok` when the fleet passes, else `prefix: ` and the
    /// Machines that are not fine. A fleet still landing is read again when `wait` (a
    /// deploy being followed), else it fails.
    pub(crate) fn result(
        &self,
        ok: String,
        prefix: &str,
        evidence: Value,
        wait: bool,
    ) -> AppResult {
        let problems = format!("{prefix}: {}", self.problems.join("; "));
        let evidence = with(evidence, "machines", Value::Array(self.machines.clone()));
        match self.status {
            FleetStatus::Pass => AppResult::new(Status::Pass, ok, evidence),
            FleetStatus::Landing if wait => AppResult::landing(problems, evidence),
            FleetStatus::Landing | FleetStatus::Fail => {
                AppResult::new(Status::Fail, problems, evidence)
            }
            FleetStatus::Error if self.counted == 0 => AppResult::new(
                Status::Error,
                format!("{prefix}: no Machine runs a release"),
                evidence,
            ),
            FleetStatus::Error => AppResult::new(Status::Error, problems, evidence),
        }
    }
}

/// Judges every Machine.
pub(crate) fn judge_fleet(machines: &[Machine], wanted: Wanted, now: Timestamp) -> Fleet {
    let judged: Vec<Judged> = machines.iter().map(|m| judge(m, wanted, now)).collect();
    let counted = judged
        .iter()
        .filter(|j| j.verdict != Verdict::Ignored)
        .count();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (m, j) in machines.iter().zip(&judged) {
        if j.verdict == Verdict::Ok {
            let how = match m.state.kind() {
                StateKind::Running => "started".to_string(),
                _ if !m.standby_for().is_empty() => format!("{} standby", m.state),
                _ => format!("{} by auto-stop", m.state),
            };
            *kinds.entry(how).or_default() += 1;
        }
    }
    let fine = kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut bad: Vec<&Judged> = judged
        .iter()
        .filter(|j| !matches!(j.verdict, Verdict::Ok | Verdict::Ignored))
        .collect();
    bad.sort_by_key(|j| std::cmp::Reverse(j.verdict));
    let worst = bad.first().map(|j| j.verdict);
    let status = match worst {
        _ if counted == 0 => FleetStatus::Error,
        None => FleetStatus::Pass,
        Some(Verdict::Unknown) => FleetStatus::Error,
        Some(Verdict::Bad) => FleetStatus::Fail,
        Some(_) => FleetStatus::Landing,
    };
    Fleet {
        status,
        counted,
        fine,
        problems: bad.iter().map(|j| j.line.clone()).collect(),
        machines: judged.into_iter().map(|j| j.evidence).collect(),
    }
}

/// What the Machines that count run, for a line: `2 Machines on v1 (image tag …)`.
pub(crate) fn running_versions(machines: &[Machine]) -> String {
    let mut by: BTreeMap<(Option<u64>, String), usize> = BTreeMap::new();
    for m in machines
        .iter()
        .filter(|m| m.is_active() && !m.is_special_group() && !m.is_detached())
    {
        *by.entry((m.release_version(), m.image_tag())).or_default() += 1;
    }
    if by.is_empty() {
        return "no Machine runs".into();
    }
    by.iter()
        .map(|((v, tag), n)| {
            let v = v
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "an unknown release".into());
            format!(
                "{n} Machine{} on {v} ({})",
                if *n == 1 { "" } else { "s" },
                shown_tag(tag)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "machines_tests.rs"]
mod tests;
