//! The markers a run wrote in other services — the statuses of GitHub's deployment record,
//! Sentry's release deploys and the CDEvents sent to `[events] sink` — as the record lists them ("Markers" in Markdown,
//! `markers` in JSON).

use serde::Serialize;

use crate::journal::state::{ItemState, RunState};
use crate::model::checklist::ActionSpec;

/// One marker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Marker {
    /// `github`, `sentry` or `cdevents`.
    pub service: &'static str,
    /// What it marks (`deployment 2210000001`, `release 3f2a… deploy of internal-api`).
    pub target: String,
    /// The state or the deploy's span.
    pub what: String,
    /// `written`, `found after an interruption`, `failed: …`, `in flight`.
    pub outcome: String,
}

/// Every marker of the run, GitHub's in the order posted, then Sentry's.
pub fn markers(run: &RunState) -> Vec<Marker> {
    let mut out: Vec<Marker> = Vec::new();
    for r in &run.items {
        if matches!(r.item.action, Some(ActionSpec::GithubDeploymentStatus(_)))
            && r.state == ItemState::Done
            && let Some(d) = r.evidence["deployment_id"].as_i64()
        {
            out.push(Marker {
                service: "github",
                target: format!("deployment {d}"),
                what: r.evidence["state"]
                    .as_str()
                    .unwrap_or("in_progress")
                    .to_string(),
                outcome: if r.summary.as_deref().is_some_and(|s| {
                    s.contains("(already)") || s.ends_with("(found done after an interruption)")
                }) {
                    "found after an interruption".into()
                } else {
                    "written".into()
                },
            });
        }
    }
    for s in &run.deployment_statuses {
        out.push(Marker {
            service: "github",
            target: format!("deployment {}", s.deployment),
            what: s.state.clone(),
            outcome: match (s.status_id, s.in_flight, s.errors.last()) {
                (Some(id), ..) => format!("written (status {id})"),
                (None, true, _) => "in flight (interrupted; looked for on resume)".into(),
                (None, false, Some(e)) => format!("failed: {e}"),
                (None, false, None) => "not written".into(),
            },
        });
    }
    for r in &run.items {
        if !matches!(r.item.action, Some(ActionSpec::SentryRelease(_)))
            || r.state != ItemState::Done
        {
            continue;
        }
        let version = r.evidence["version"].as_str().unwrap_or_default();
        let short = &version[..version.len().min(12)];
        for m in r.evidence["markers"].as_array().into_iter().flatten() {
            let app = m["app"].as_str().unwrap_or("the [sentry] projects");
            out.push(Marker {
                service: "sentry",
                target: format!("release {short} deploy of {app}"),
                what: format!(
                    "{} to {}",
                    m["dateStarted"].as_str().unwrap_or("?"),
                    m["dateFinished"].as_str().unwrap_or("?")
                ),
                outcome: match m["written"].as_str() {
                    Some("now") => "written".into(),
                    Some(other) => other.to_string(),
                    None => "written".into(),
                },
            });
        }
    }
    cdevents(run, &mut out);
    out
}

/// One marker per CDEvent the journal says something about: delivered, or failed (and
/// whether it is given up).
fn cdevents(run: &RunState, out: &mut Vec<Marker>) {
    let short = |id: &str| id.split_once('/').map_or(id, |(_, k)| k).to_string();
    let c = &run.cdevents;
    for id in &c.delivered {
        let tries = c.failures_of(id);
        out.push(Marker {
            service: "cdevents",
            target: short(id),
            what: "to [events] sink".into(),
            outcome: if tries == 0 {
                "delivered".into()
            } else {
                format!("delivered after {tries} failed send(s)")
            },
        });
    }
    for (id, errors) in &c.failures {
        if c.is_delivered(id) {
            continue;
        }
        let last = errors.last().map(String::as_str).unwrap_or_default();
        out.push(Marker {
            service: "cdevents",
            target: short(id),
            what: "to [events] sink".into(),
            outcome: if errors.len() >= crate::report::cdevents::MAX_FAILURES {
                format!("failed {} times, given up: {last}", errors.len())
            } else {
                format!(
                    "failed ({} so far; sent again at a later step): {last}",
                    errors.len()
                )
            },
        });
    }
}
