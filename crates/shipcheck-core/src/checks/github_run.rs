//! The workflow run of the release: `github.workflow` (`release.workflow-triggered`,
//! `approve.find-run`), `github.pending` (`approve.review-deployments`,
//! `approve.verify-commit`) and `github.jobs` (`rollout.actions-logs`,
//! `verify.actions-health`). Every poll is bounded by a timeout and a count.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::checks::CheckContext;
use crate::checks::github::{merge_commit, recorded_run_id, short};
use crate::checks::gitlog;
use crate::clients::api::ApiError;
use crate::clients::github::{GitHub, Job, WorkflowRun};
use crate::model::checklist::GithubJobsCheck;
use crate::model::facts::Fact;
use crate::model::outcome::Outcome;

/// The most polls of one loop, whatever the timeout and interval say.
const MAX_POLLS: u64 = 2_000;

fn polls(timeout: Duration, interval: Duration) -> u64 {
    let interval = interval.max(Duration::from_millis(100));
    (timeout.as_millis() / interval.as_millis()) as u64 + 2
}

/// The run for `merge`: the one a `github.workflow` item recorded, else the newest push run of
/// `merge` on the production branch. `None` when there is none (yet).
pub async fn locate_run(
    gh: &GitHub,
    ctx: &CheckContext,
    merge: &str,
) -> Result<Option<WorkflowRun>, ApiError> {
    if let Some(id) = recorded_run_id(ctx.run.as_deref(), merge) {
        return gh.run(id).await.map(Some);
    }
    let runs = gh.runs_for(merge, &ctx.config.git.production).await?;
    Ok(runs.into_iter().next())
}

fn run_evidence(run: &WorkflowRun, merge: &str) -> Value {
    json!({
        "workflow_run_id": run.id,
        "html_url": run.html_url,
        "head_sha": run.head_sha,
        "merge_commit": merge,
        "workflow": run.name,
        "path": run.path,
        "event": run.event,
        "branch": run.head_branch,
        "status": run.status,
        "conclusion": run.conclusion,
        "run_number": run.run_number,
    })
}

fn setup(ctx: &CheckContext) -> Result<(GitHub, String), Outcome> {
    let gh = ctx.github().map_err(|e| Outcome::error(e, Value::Null))?;
    let merge = merge_commit(ctx.run.as_deref()).map_err(|e| Outcome::error(e, Value::Null))?;
    Ok((gh, merge))
}

/// `github.workflow`: the run appears within `[github] workflow_timeout`.
pub async fn workflow(ctx: &CheckContext) -> Outcome {
    let (gh, merge) = match setup(ctx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let clock = ctx.clock.clone();
    let timeout = gh.cfg.workflow_timeout.get();
    let interval = gh.cfg.poll_interval.get();
    let deadline = clock.now() + jiff::SignedDuration::try_from(timeout).unwrap_or_default();
    let prod = ctx.config.git.production.clone();
    for n in 1..=polls(timeout, interval).min(MAX_POLLS) {
        let runs = match gh.runs_for(&merge, &prod).await {
            Ok(r) => r,
            Err(e) => return Outcome::error(e.to_string(), json!({ "merge_commit": merge })),
        };
        if let Some(run) = runs.first() {
            let mut evidence = run_evidence(run, &merge);
            evidence["polls"] = json!(n);
            return Outcome::pass(
                format!(
                    "workflow run {} ({}) for merge commit {} on {prod}: {} — {}",
                    run.id,
                    run.name.as_deref().unwrap_or("workflow"),
                    short(&merge),
                    run.status.as_deref().unwrap_or("unknown"),
                    run.html_url
                ),
                evidence,
            )
            .with_fact(run_fact(run, &merge));
        }
        if clock.now() >= deadline {
            break;
        }
        clock.sleep(interval).await;
    }
    Outcome::fail(
        format!(
            "no push workflow run{} for merge commit {} on {prod} appeared within {}",
            gh.cfg
                .workflow
                .as_deref()
                .map(|w| format!(" of {w}"))
                .unwrap_or_default(),
            short(&merge),
            crate::model::duration::format(timeout)
        ),
        json!({ "merge_commit": merge }),
    )
}

/// `github.pending`: the run waits for the configured environment and is the merge commit's.
pub async fn pending(ctx: &CheckContext) -> Outcome {
    let (gh, merge) = match setup(ctx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let run = match locate_run(&gh, ctx, &merge).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Outcome::fail(
                format!(
                    "no workflow run for merge commit {} on {}",
                    short(&merge),
                    ctx.config.git.production
                ),
                json!({ "merge_commit": merge }),
            );
        }
        Err(e) => return Outcome::error(e.to_string(), json!({ "merge_commit": merge })),
    };
    let mut evidence = run_evidence(&run, &merge);
    if let Ok(changes) = gitlog::oneline(ctx, &format!("{merge}^1..{merge}"), 50).await {
        evidence["changes"] = json!(changes);
    }
    if run.head_sha != merge {
        return Outcome::fail(
            format!(
                "workflow run {} is for commit {}, not the merge commit {}: do not approve it",
                run.id,
                short(&run.head_sha),
                short(&merge)
            ),
            evidence,
        );
    }
    let list = match gh.pending_deployments(run.id).await {
        Ok(l) => l,
        Err(e) => return Outcome::error(e.to_string(), evidence),
    };
    let env = &gh.cfg.environment;
    evidence["pending"] = json!(
        list.iter()
            .map(|p| json!({
                "environment": p.environment.name,
                "environment_id": p.environment.id,
                "current_user_can_approve": p.current_user_can_approve,
                "reviewers": p.reviewers.iter().map(|r| r.name()).collect::<Vec<_>>(),
                "wait_timer": p.wait_timer,
            }))
            .collect::<Vec<_>>()
    );
    let Some(p) = list.iter().find(|p| &p.environment.name == env) else {
        let others: Vec<&str> = list.iter().map(|p| p.environment.name.as_str()).collect();
        return Outcome::fail(
            format!(
                "workflow run {} (status {}) has no deployment waiting for environment {env}{}",
                run.id,
                run.status.as_deref().unwrap_or("unknown"),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" (waiting: {})", others.join(", "))
                }
            ),
            evidence,
        );
    };
    evidence["environment"] = json!(env);
    evidence["environment_id"] = json!(p.environment.id);
    evidence["current_user_can_approve"] = json!(p.current_user_can_approve);
    let reviewers: Vec<String> = p.reviewers.iter().map(|r| r.name()).collect();
    let who = if p.current_user_can_approve {
        "the token's user can approve it".to_string()
    } else {
        format!(
            "the token's user cannot approve it (reviewers: {})",
            if reviewers.is_empty() {
                "none listed".into()
            } else {
                reviewers.join(", ")
            }
        )
    };
    Outcome::pass(
        format!(
            "workflow run {} for merge commit {} waits for approval of {env}; {who} — {}",
            run.id,
            short(&merge),
            run.html_url
        ),
        evidence,
    )
    .with_fact(run_fact(&run, &merge))
}

/// The run fact of the workflow run that deploys `merge`.
pub fn run_fact(run: &WorkflowRun, merge: &str) -> Fact {
    Fact::WorkflowRun {
        id: run.id,
        sha: merge.to_string(),
        html_url: Some(run.html_url.clone()),
    }
}

fn job_state(j: &Job) -> String {
    match (&j.conclusion, j.status.as_str()) {
        (Some(c), "completed") => format!("completed/{c}"),
        (_, s) => s.to_string(),
    }
}

fn job_ok(j: &Job) -> bool {
    j.status == "completed"
        && matches!(
            j.conclusion.as_deref(),
            Some("success" | "skipped" | "neutral")
        )
}

/// Whether job `name` is the configured health job `h` (exactly, or a matrix leg `h (…)`).
fn is_health_job(name: &str, h: &str) -> bool {
    name == h || name.strip_prefix(h).is_some_and(|r| r.starts_with(" ("))
}

/// `github.jobs`: follows the run's jobs until they finish (or `[github] jobs_timeout`).
pub async fn jobs(spec: &GithubJobsCheck, ctx: &CheckContext) -> Outcome {
    let (gh, merge) = match setup(ctx) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let mut run = match locate_run(&gh, ctx, &merge).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Outcome::fail(
                format!("no workflow run for merge commit {}", short(&merge)),
                json!({ "merge_commit": merge }),
            );
        }
        Err(e) => return Outcome::error(e.to_string(), json!({ "merge_commit": merge })),
    };
    let health = &gh.cfg.health_jobs;
    if spec.health && health.is_empty() {
        return Outcome::error(
            "no [github] health_jobs configured: name the workflow's health-check jobs",
            Value::Null,
        );
    }
    let clock = ctx.clock.clone();
    let timeout = gh.cfg.jobs_timeout.get();
    let interval = gh.cfg.poll_interval.get();
    let deadline = clock.now() + jiff::SignedDuration::try_from(timeout).unwrap_or_default();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut transitions = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut finished = false;
    for _ in 0..polls(timeout, interval).min(MAX_POLLS) {
        jobs = match gh.jobs(run.id).await {
            Ok(j) => j,
            Err(e) => return Outcome::error(e.to_string(), run_evidence(&run, &merge)),
        };
        run = match gh.run(run.id).await {
            Ok(r) => r,
            Err(e) => return Outcome::error(e.to_string(), run_evidence(&run, &merge)),
        };
        for j in &jobs {
            let state = job_state(j);
            if seen.get(&j.name) != Some(&state) {
                transitions.push(json!({
                    "job": j.name,
                    "from": seen.get(&j.name),
                    "to": state,
                    "at": clock.now().to_string(),
                }));
                seen.insert(j.name.clone(), state);
            }
        }
        finished = if spec.health {
            health.iter().all(|h| {
                let matching: Vec<&Job> =
                    jobs.iter().filter(|j| is_health_job(&j.name, h)).collect();
                !matching.is_empty() && matching.iter().all(|j| j.status == "completed")
            }) || run.status.as_deref() == Some("completed")
        } else {
            run.status.as_deref() == Some("completed")
                && jobs.iter().all(|j| j.status == "completed")
        };
        if finished || clock.now() >= deadline {
            break;
        }
        clock.sleep(interval).await;
    }
    let mut evidence = run_evidence(&run, &merge);
    evidence["jobs"] = json!(
        jobs.iter()
            .map(|j| json!({ "name": j.name, "status": j.status, "conclusion": j.conclusion, "url": j.html_url }))
            .collect::<Vec<_>>()
    );
    evidence["transitions"] = json!(transitions);
    let progress = jobs
        .iter()
        .map(|j| format!("{} {}", j.name, job_state(j)))
        .collect::<Vec<_>>()
        .join(", ");
    if !finished {
        return Outcome::error(
            format!(
                "workflow run {} still running after {}: {}",
                run.id,
                crate::model::duration::format(timeout),
                if progress.is_empty() {
                    "no jobs yet".into()
                } else {
                    progress
                }
            ),
            evidence,
        );
    }
    if jobs.is_empty() {
        return Outcome::error(
            format!("workflow run {} has no jobs: no data", run.id),
            evidence,
        );
    }
    let mut problems = Vec::new();
    for h in health {
        let matching: Vec<&Job> = jobs.iter().filter(|j| is_health_job(&j.name, h)).collect();
        if matching.is_empty() {
            problems.push(format!("health job {h:?} is not in the run"));
        }
        for j in matching {
            if !(j.status == "completed" && j.conclusion.as_deref() == Some("success")) {
                problems.push(format!("health job {} {}", j.name, job_state(j)));
            }
        }
    }
    if !spec.health {
        for j in jobs.iter().filter(|j| !job_ok(j)) {
            if !health.iter().any(|h| is_health_job(&j.name, h)) {
                problems.push(format!("job {} {}", j.name, job_state(j)));
            }
        }
        if run.conclusion.as_deref() != Some("success") {
            problems.push(format!(
                "the run concluded {}",
                run.conclusion.as_deref().unwrap_or("without a conclusion")
            ));
        }
    }
    if problems.is_empty() {
        Outcome::pass(
            format!(
                "workflow run {}: {} — {}",
                run.id,
                if spec.health {
                    format!("health jobs succeeded ({})", health.join(", "))
                } else {
                    progress
                },
                run.html_url
            ),
            evidence,
        )
    } else {
        Outcome::fail(
            format!("workflow run {}: {}", run.id, problems.join("; ")),
            evidence,
        )
    }
}

#[cfg(test)]
#[path = "github_run_tests.rs"]
pub(crate) mod tests;
