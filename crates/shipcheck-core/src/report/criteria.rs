//! The seed's Success Criteria, computed from what the run recorded.

use crate::model::checklist::{ActionSpec, CheckSpec, Item, ItemKind, Phase, SlackMessage};
use serde::Serialize;

use crate::journal::state::{ItemState, RunState, RunStatus};

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
    use crate::model::watch::Metric;
    vec![
        with_watch(
            run,
            from_items(run, "All health checks pass", &|i| {
                matches!(i.check, Some(CheckSpec::Health(_)))
            }),
            &|m| m == Metric::Health,
            "health endpoints",
        ),
        with_watch(
            run,
            from_items(run, "No increase in error rates", &|i| {
                matches!(i.check, Some(CheckSpec::SentryRate(_)))
            }),
            &|m| {
                matches!(
                    m,
                    Metric::HttpErrors | Metric::EdgeErrors | Metric::ErrorRate
                )
            },
            "error rates",
        ),
        with_watch(
            run,
            from_items(run, "Response times within normal range", &|i| {
                matches!(i.check, Some(CheckSpec::MonitorResponseTimes(_)))
            }),
            &|m| matches!(m, Metric::Latency | Metric::P95),
            "response times",
        ),
        // The people's checks right after the deploy (the seed's critical flows and
        // end-to-end transaction), whatever a team calls them.
        from_items(run, "Critical user flows working", &|i| {
            i.phase == Phase::Verify && i.kind == ItemKind::Manual
        }),
        no_rollback(run),
        team_confirms(run),
    ]
}

/// A criterion from the run's items of one role (`pick`).
fn from_items(run: &RunState, title: &'static str, pick: &dyn Fn(&Item) -> bool) -> Criterion {
    let mut parts = Vec::new();
    let mut met = Met::Met;
    let mut any = false;
    for r in run.items.iter().filter(|r| pick(&r.item)) {
        let id = &r.item.id;
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

/// Adds what the watch measured of `keep` to a criterion from items: a failure there is not
/// met; a pass there confirms the items; nothing measured leaves the items to decide.
fn with_watch(
    run: &RunState,
    mut c: Criterion,
    keep: &dyn Fn(crate::model::watch::Metric) -> bool,
    what: &str,
) -> Criterion {
    use crate::model::outcome::Status;
    let judged = crate::journal::watch::judge_watch(run, keep, what);
    let note = match judged.status {
        Status::Fail => {
            c.met = Met::NotMet;
            format!("watch: {}", judged.summary)
        }
        Status::Pass => {
            if c.because == "no item of this run measures it" {
                c.met = Met::Met;
                c.because.clear();
            }
            format!("watch: {}", judged.summary)
        }
        Status::Error if run.monitor.release_leg().is_some() => {
            if c.met == Met::Met {
                c.met = Met::Unknown;
            }
            format!("watch: {}", judged.summary)
        }
        Status::Error => return c,
    };
    c.because = if c.because.is_empty() {
        note
    } else {
        format!("{}; {note}", c.because)
    };
    c
}

fn no_rollback(run: &RunState) -> Criterion {
    if let Some(r) = run.rollbacks.first() {
        return Criterion {
            title: "No rollback needed within 2 hours",
            met: Met::NotMet,
            because: format!("rolled back ({}) by {}: {}", r.strategy, r.by, r.reason),
        };
    }
    let watched = run
        .completed
        .contains(&crate::model::checklist::Phase::Watch);
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
    // The closing "Deployment stable" message, whatever its item is called.
    let stable = run
        .items
        .iter()
        .find(|r| {
            matches!(&r.item.action, Some(ActionSpec::SlackNotify(a)) if a.message == SlackMessage::Stable)
        })
        .map(|r| r.state);
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
