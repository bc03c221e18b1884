//! The `loadtest` check (`prepare.load-test`): the built-in load test ([`crate::loadtest`])
//! against an explicit `url` or every staging app's health URL, one after another (so the
//! apps' figures do not disturb each other), judged against the thresholds and compared with
//! the previous run's load test of the same URL, read from the store through a [`History`]
//! (given in a run, and by `shipcheck check` when a store exists). Without a store the
//! comparison is skipped and the evidence says so.

use std::time::Duration;

use serde_json::{Value, json};

use crate::journal::state::RunState;
use crate::loadtest::{self, Allowed, Report, Thresholds};
use crate::model::checklist::{CheckSpec, LoadtestCheck};
use crate::model::config::Environments;
use crate::model::loadtest::options;
use crate::model::outcome::{Outcome, Status};
use crate::store::Store;

/// How many earlier runs are searched for a previous load test.
pub const PREVIOUS_RUNS_SEARCHED: usize = 20;

/// The thresholds of `spec`.
pub fn thresholds(spec: &LoadtestCheck) -> Thresholds {
    Thresholds {
        max_p95: spec.max_p95.map(|d| d.get()),
        max_p99: spec.max_p99.map(|d| d.get()),
        max_error_rate: spec.max_error_rate,
        min_rps: spec.min_rps,
    }
}

/// The environment whose apps are targets.
fn env(spec: &LoadtestCheck) -> &str {
    spec.env.as_deref().unwrap_or("staging")
}

/// The targets: (app name, URL).
fn targets(spec: &LoadtestCheck, environments: &Environments) -> Vec<(Option<String>, String)> {
    if let Some(url) = &spec.url {
        return vec![(None, url.trim().to_string())];
    }
    environments
        .get(env(spec))
        .map(|e| e.apps.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            let url = a.health_url.as_deref()?.trim();
            (!url.is_empty()).then(|| (Some(a.name.clone()), url.to_string()))
        })
        .collect()
}

/// The longest the check can take: each target's run and its time limit, one after another.
pub fn limit(spec: &LoadtestCheck, environments: &Environments) -> Duration {
    let n = targets(spec, environments).len().max(1) as u32;
    let per = options(spec, "http://127.0.0.1/")
        .plan()
        .map(|p| p.time_limit())
        .unwrap_or(loadtest::MAX_DURATION);
    // Resolving and connecting to each target, plus reading the previous result.
    (per + Duration::from_secs(5)).saturating_mul(n) + Duration::from_secs(10)
}

/// The newest load-test reports of runs other than `current`, with the run's id: the evidence
/// of any `loadtest` item of the project's newest run (by start time) that has one.
pub async fn previous_reports(
    store: &Store,
    project: &str,
    current: Option<&RunState>,
) -> Result<Option<(String, Vec<Report>)>, String> {
    let runs = store
        .list_runs(Some(project), PREVIOUS_RUNS_SEARCHED + 1)
        .await
        .map_err(|e| e.to_string())?;
    for r in runs {
        if current.is_some_and(|cur| cur.id == r.id) {
            continue;
        }
        let events = store.events(&r.id).await.map_err(|e| e.to_string())?;
        let Ok(state) = RunState::fold(&events) else {
            continue;
        };
        let reports: Vec<Report> = state
            .items
            .iter()
            .filter(|rec| matches!(rec.item.check, Some(CheckSpec::Loadtest(_))))
            .filter_map(|rec| rec.evidence.get("targets")?.as_array().cloned())
            .flatten()
            .filter_map(|t| serde_json::from_value(t.get("report")?.clone()).ok())
            .collect();
        if !reports.is_empty() {
            return Ok(Some((r.id, reports)));
        }
    }
    Ok(None)
}

/// Where earlier runs' load tests are read from.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    /// The store of the runs.
    pub store: &'a Store,
    /// The project whose runs count (`[project] name`).
    pub project: &'a str,
    /// The run the check belongs to (not compared with itself).
    pub run: Option<&'a RunState>,
}

/// The check, on the apps of `environments`; compared with the newest earlier result in
/// `history` when there is one.
pub async fn run(
    spec: &LoadtestCheck,
    environments: &Environments,
    history: Option<History<'_>>,
) -> Outcome {
    let targets = targets(spec, environments);
    if targets.is_empty() {
        let env = env(spec);
        return Outcome::error(
            format!(
                "nothing to load-test: no url in the check and no app of environment {env} has a health_url"
            ),
            json!({ "env": env }),
        );
    }
    let allowed = Allowed::staging(environments);
    let limits = thresholds(spec);
    let previous = match history {
        Some(h) => match previous_reports(h.store, h.project, h.run).await {
            Ok(Some((id, reports))) => Ok((id, reports)),
            Ok(None) => Err("no earlier run has a load test to compare with".to_string()),
            Err(e) => Err(format!("the earlier runs could not be read: {e}")),
        },
        None => Err("not compared: no store here".to_string()),
    };

    let mut status = Status::Pass;
    let mut lines = Vec::new();
    let mut evidence_targets = Vec::new();
    for (app, url) in &targets {
        let label = app.clone().unwrap_or_else(|| url.clone());
        let opts = options(spec, url);
        let report = match loadtest::run(&opts, &allowed, &|_| {}).await {
            Ok(r) => r,
            Err(e) => {
                status = Status::Error;
                lines.push(format!("{label}: {e}"));
                evidence_targets.push(json!({ "app": app, "url": url, "error": e.to_string() }));
                continue;
            }
        };
        let mut violations = loadtest::evaluate(&report, &limits);
        let comparison = previous.as_ref().ok().and_then(|(_, before)| {
            let b = before.iter().find(|b| b.url == report.url)?;
            Some(loadtest::compare(b, &report))
        });
        if let (Some(max), Some(c)) = (spec.max_p95_increase, &comparison)
            && let Some(change) = c.p95_change
            && change > max
        {
            violations.push(loadtest::Violation {
                threshold: "max_p95_increase".into(),
                limit: max,
                actual: change,
                text: format!(
                    "p95 {:+.0}% since the previous run (more than {:.0}%)",
                    change * 100.0,
                    max * 100.0
                ),
            });
        }
        let this = if report.responses == 0 {
            Status::Error
        } else if violations.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        status = status.worst(this);
        let mut line = format!("{label}: {}", report.summary());
        if report.responses == 0 {
            line.push_str(" — no answers at all");
        }
        if !violations.is_empty() {
            let v: Vec<_> = violations.iter().map(|v| v.text.as_str()).collect();
            line.push_str(&format!(" — {}", v.join(", ")));
        }
        if let Some(c) = &comparison {
            line.push_str(&format!("; vs previous: {}", c.text));
        }
        lines.push(line);
        evidence_targets.push(json!({
            "app": app,
            "url": report.url,
            "result": this.as_str(),
            "report": report,
            "violations": violations,
            "comparison": comparison,
        }));
    }
    let previous_evidence = match &previous {
        Ok((id, _)) => json!({ "run": id }),
        Err(why) => json!({ "run": Value::Null, "note": why }),
    };
    Outcome::new(
        status,
        lines.join("; "),
        json!({
            "thresholds": {
                "max_p95_ms": limits.max_p95.map(|d| d.as_millis() as u64),
                "max_p99_ms": limits.max_p99.map(|d| d.as_millis() as u64),
                "max_error_rate": limits.max_error_rate,
                "min_rps": limits.min_rps,
                "max_p95_increase": spec.max_p95_increase,
            },
            "targets": evidence_targets,
            "previous": previous_evidence,
        }),
    )
}

#[cfg(test)]
#[path = "loadtest_tests.rs"]
mod tests;
