//! The seed's Success Criteria, computed from what the run recorded.

use serde::Serialize;

use crate::run::{ItemState, RunState, RunStatus};

/// Whether a criterion is met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Met {
    /// Yes, with evidence.
    Met,
    /// No.
    NotMet,
    /// Nothing recorded decides it yet ("no data" is never met).
    Unknown,
}

/// One criterion.
#[derive(Clone, Debug, Serialize)]
pub struct Criterion {
    /// The seed's wording.
    pub title: &'static str,
    /// Met or not.
    pub met: Met,
    /// Why.
    pub because: String,
}

/// The six criteria of the seed.
pub fn evaluate(run: &RunState) -> Vec<Criterion> {
    vec![
        from_items(
            run,
            "All health checks pass",
            &["prepare.staging-health", "verify.health-200"],
        ),
        from_items(
            run,
            "No increase in error rates",
            &["verify.sentry-rate", "watch.error-rates"],
        ),
        from_items(
            run,
            "Response times within normal range",
            &["verify.response-times"],
        ),
        from_items(
            run,
            "Critical user flows working",
            &["verify.critical-flows", "verify.e2e-transaction"],
        ),
        no_rollback(run),
        team_confirms(run),
    ]
}

fn from_items(run: &RunState, title: &'static str, ids: &[&str]) -> Criterion {
    let mut parts = Vec::new();
    let mut met = Met::Met;
    let mut any = false;
    for id in ids {
        let Some(r) = run.record(id) else { continue };
        any = true;
        let state = r.state;
        parts.push(format!("{id} {}", state.as_str()));
        met = match (met, state) {
            (Met::NotMet, _) | (_, ItemState::Fail | ItemState::Error) => Met::NotMet,
            (_, ItemState::Pending) => Met::Unknown,
            (m, _) => m,
        };
    }
    if !any {
        return Criterion {
            title,
            met: Met::Unknown,
            because: "no item of this run measures it".into(),
        };
    }
    Criterion {
        title,
        met,
        because: parts.join(", "),
    }
}

fn no_rollback(run: &RunState) -> Criterion {
    if let Some(r) = run.rollbacks.first() {
        return Criterion {
            title: "No rollback needed within 2 hours",
            met: Met::NotMet,
            because: format!("rolled back ({}) by {}: {}", r.strategy, r.by, r.reason),
        };
    }
    let watched = run.completed.contains(&crate::checklist::Phase::Watch);
    Criterion {
        title: "No rollback needed within 2 hours",
        met: if run.status == RunStatus::Aborted {
            Met::NotMet
        } else if watched {
            Met::Met
        } else {
            Met::Unknown
        },
        because: if run.status == RunStatus::Aborted {
            "the run was aborted".into()
        } else if watched {
            "the watch phase completed without a rollback".into()
        } else {
            "the watch phase has not completed".into()
        },
    }
}

fn team_confirms(run: &RunState) -> Criterion {
    let stable = run.record("close.announce-stable").map(|r| r.state);
    match (&run.signed, stable) {
        (Some((by, _)), _) => Criterion {
            title: "Team confirms stability",
            met: Met::Met,
            because: format!("signed by {by}"),
        },
        (None, Some(s)) if s.is_settled() => Criterion {
            title: "Team confirms stability",
            met: Met::Unknown,
            because: "\"Deployment stable\" announced; waiting for the signature".into(),
        },
        _ => Criterion {
            title: "Team confirms stability",
            met: Met::Unknown,
            because: "not signed yet".into(),
        },
    }
}
