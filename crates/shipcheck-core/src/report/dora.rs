//! The five DORA metrics of a team, computed from its runs' journals (nothing estimated):
//!
//! - **deployment frequency**: production runs whose release went live
//!   (`release_live_at`), per week over the period;
//! - **lead time for changes**: from the first commit of a deployment's change set (the
//!   author dates `git.pending` recorded) to its release going live; median;
//! - **change fail rate**: deployments rolled back, or with a critical incident, over all;
//! - **time to restore**: from a failed deployment's first incident to its rollback verified
//!   healthy; median;
//! - **rework rate**: deployments made right after a failed one of the same project and
//!   environment (the fix-forward or the retry), over all.
//!
//! A metric without data says so (`None`), never 0.

use jiff::Timestamp;

use crate::journal::state::RunState;
use crate::model::incident::Severity;

/// The metrics over a set of runs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Dora {
    /// Deployments counted (releases that went live).
    pub deployments: usize,
    /// The period's length in days (first to last deployment, at least 1).
    pub period_days: f64,
    /// Deployments per week.
    pub per_week: Option<f64>,
    /// Median lead time, seconds.
    pub lead_time_median_s: Option<i64>,
    /// Deployments rolled back or with a critical incident.
    pub failed: usize,
    /// `failed / deployments`.
    pub change_fail_rate: Option<f64>,
    /// Median time to restore, seconds.
    pub time_to_restore_median_s: Option<i64>,
    /// Deployments right after a failed one.
    pub rework: usize,
    /// `rework / deployments`.
    pub rework_rate: Option<f64>,
}

/// When the release went live.
fn live(run: &RunState) -> Option<Timestamp> {
    run.monitor.release_live_at
}

/// Rolled back, or with a critical incident.
pub fn failed(run: &RunState) -> bool {
    run.rollbacks.iter().any(|r| r.succeeded == Some(true))
        || run
            .monitor
            .incidents
            .iter()
            .any(|i| i.record.severity == Severity::Critical)
}

/// The earliest author date of the change set the run recorded (`commits[].date` in an
/// item's evidence).
pub fn first_commit(run: &RunState) -> Option<Timestamp> {
    run.items
        .iter()
        .filter_map(|r| r.evidence.get("commits")?.as_array().cloned())
        .flatten()
        .filter_map(|c| c.get("date")?.as_str()?.parse::<Timestamp>().ok())
        .min()
}

/// From the first incident to the rollback verified healthy.
pub fn time_to_restore(run: &RunState) -> Option<i64> {
    let first = run.monitor.incidents.iter().map(|i| i.raised_at).min()?;
    let v = run.monitor.verification.as_ref().filter(|v| v.ok)?;
    let s = v.at.as_second() - first.as_second();
    (s >= 0).then_some(s)
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// The metrics over `runs` (any order; only production deployments that went live count).
pub fn compute<'a>(runs: impl IntoIterator<Item = &'a RunState>) -> Dora {
    let mut deployed: Vec<&RunState> = runs
        .into_iter()
        .filter(|r| r.env == "production" && live(r).is_some())
        .collect();
    deployed.sort_by_key(|r| live(r));
    let n = deployed.len();
    let times: Vec<Timestamp> = deployed.iter().filter_map(|r| live(r)).collect();
    let period_days = match (times.first(), times.last()) {
        (Some(a), Some(b)) => ((b.as_second() - a.as_second()) as f64 / 86_400.0).max(1.0),
        _ => 0.0,
    };
    let failed_n = deployed.iter().filter(|r| failed(r)).count();
    let mut rework = 0;
    for (i, r) in deployed.iter().enumerate() {
        if deployed[..i]
            .iter()
            .rev()
            .find(|p| p.project == r.project)
            .is_some_and(|p| failed(p))
        {
            rework += 1;
        }
    }
    let rate = |k: usize| (n > 0).then(|| k as f64 / n as f64);
    Dora {
        deployments: n,
        period_days,
        per_week: (n > 0).then(|| n as f64 / (period_days / 7.0).max(1.0 / 7.0)),
        lead_time_median_s: median(
            deployed
                .iter()
                .filter_map(|r| Some(live(r)?.as_second() - first_commit(r)?.as_second()))
                .filter(|s| *s >= 0)
                .collect(),
        ),
        failed: failed_n,
        change_fail_rate: rate(failed_n),
        time_to_restore_median_s: median(
            deployed.iter().filter_map(|r| time_to_restore(r)).collect(),
        ),
        rework,
        rework_rate: rate(rework),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_runs_is_no_data_not_zero() {
        let d = compute(&[]);
        assert_eq!(d.deployments, 0);
        assert_eq!(d.change_fail_rate, None);
        assert_eq!(d.lead_time_median_s, None);
        assert_eq!(d.per_week, None);
    }

    #[test]
    fn the_median_is_the_middle() {
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
        assert_eq!(median(vec![]), None);
    }
}
