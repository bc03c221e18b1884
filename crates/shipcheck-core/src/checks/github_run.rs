//! The workflow run of the release: `github.workflow` (`release.workflow-triggered`,
//! `approve.find-run`) and `github.jobs` (`rollout.actions-logs`, `verify.actions-health`);
//! `github.pending` is in [`crate::checks::github_pending`]. Which run deploys the merge
//! commit is decided in [`crate::checks::github_find`]. Every poll is bounded by a timeout
//! and a count.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::checks::github::{merge_commit, merged_at, recorded_run, short};
use crate::checks::github_find::{self, EnvState, Link};
use crate::clients::api::ApiError;
use crate::clients::github::{GitHub, Job, WorkflowRun};
use crate::journal::state::RunState;
use crate::model::checklist::GithubJobsCheck;
use crate::model::clock::SharedClock;
use crate::model::facts::Fact;
use crate::model::outcome::Outcome;

/// The most polls of one loop, whatever the timeout and interval say.
pub const MAX_POLLS: u64 = 2_000;

/// Polls that fit in `timeout` at `interval` (at least 100 ms), plus two.
pub fn polls(timeout: Duration, interval: Duration) -> u64 {
    let interval = interval.max(Duration::from_millis(100));
    (timeout.as_millis() / interval.as_millis()) as u64 + 2
}

/// The deploy run of the merge commit, tied to it and placed with the environment.
#[derive(Clone, Debug)]
pub struct Located {
    /// The run.
    pub run: WorkflowRun,
    /// How it is tied to the merge commit.
    pub link: Link,
    /// Where it stands with the configured environment.
    pub env: EnvState,
    /// Why this run.
    pub why: String,
    /// What else was considered (evidence).
    pub considered: Value,
}

/// What [`locate`] found.
#[derive(Clone, Debug)]
pub enum Locate {
    /// The run.
    Found(Box<Located>),
    /// No run qualifies (yet): why, and what was seen.
    NotYet(String, Value),
    /// The run recorded earlier is not the merge commit's (any more): do not approve it.
    NotLinked(Box<WorkflowRun>, String),
}

/// The deploy run of `merge`: the one a `github.workflow` item recorded (tied to the merge
/// commit again), else found by [`github_find::search`].
/// `production` is the production branch (`[git] production`), `run` the run's facts.
pub async fn locate(
    gh: &GitHub,
    production: &str,
    run: Option<&RunState>,
    merge: &str,
) -> Result<Locate, ApiError> {
    locate_with(gh, production, run, merge, true).await
}

/// [`locate`]; a recorded run's environment is asked only with `confirm_env` (the jobs
/// check does not need it).
pub async fn locate_with(
    gh: &GitHub,
    production: &str,
    run: Option<&RunState>,
    merge: &str,
    confirm_env: bool,
) -> Result<Locate, ApiError> {
    let env = gh.cfg.environment.clone();
    if let Some((id, link, item)) = recorded_run(run, merge) {
        let run = gh.run(id).await?;
        return Ok(
            match github_find::relink(gh, &run, merge, link.as_ref()).await? {
                Ok(link) => {
                    let state = if confirm_env {
                        github_find::env_state(gh, &run, &env).await?
                    } else {
                        EnvState::Unknown
                    };
                    Locate::Found(Box::new(Located {
                        why: format!("recorded by {item}; {}", link.describe()),
                        considered: Value::Null,
                        run,
                        link,
                        env: state,
                    }))
                }
                Err(reason) => Locate::NotLinked(Box::new(run), reason),
            },
        );
    }
    Ok(
        match github_find::search(gh, merge, production, merged_at(run)).await? {
            Ok(f) => Locate::Found(Box::new(Located {
                run: f.candidate.run,
                link: f.candidate.link,
                env: f.candidate.env,
                why: f.why,
                considered: f.considered,
            })),
            Err((reason, considered)) => Locate::NotYet(reason, considered),
        },
    )
}

/// The evidence every run item records.
pub fn run_evidence(run: &WorkflowRun, merge: &str) -> Value {
    json!({
        "workflow_run_id": run.id,
        "html_url": run.html_url,
        "head_sha": run.head_sha,
        "merge_commit": merge,
        "workflow": run.label(),
        "path": run.path,
        "event": run.event,
        "branch": run.head_branch,
        "status": run.status,
        "conclusion": run.conclusion,
        "run_number": run.run_number,
        "run_attempt": run.run_attempt,
        "display_title": run.display_title,
        "created_at": run.created_at,
    })
}

/// [`run_evidence`] with the link, the environment and the choice.
pub fn located_evidence(l: &Located, merge: &str, env: &str) -> Value {
    let mut e = run_evidence(&l.run, merge);
    e["link"] = json!(l.link);
    e["environment_state"] = l.env.to_json(env);
    e["chosen_because"] = json!(l.why);
    if !l.considered.is_null() {
        e["considered"] = l.considered.clone();
    }
    e
}

/// The merge commit the run recorded, or the `error` outcome that says which item records it.
pub(crate) fn merge_of(run: Option<&RunState>) -> Result<String, Outcome> {
    merge_commit(run).map_err(|e| Outcome::error(e, Value::Null))
}

/// `github.workflow`: the run that deploys the merge commit appears within
/// `[github] workflow_timeout`.
pub async fn workflow(
    gh: &GitHub,
    production: &str,
    run: Option<&RunState>,
    clock: &SharedClock,
) -> Outcome {
    let merge = match merge_of(run) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let timeout = gh.cfg.workflow_timeout.get();
    let interval = gh.cfg.poll_interval.get();
    let deadline = clock.now() + jiff::SignedDuration::try_from(timeout).unwrap_or_default();
    let env = gh.cfg.environment.clone();
    let mut last = ("nothing listed yet".to_string(), Value::Null);
    for n in 1..=polls(timeout, interval).min(MAX_POLLS) {
        match locate(gh, production, run, &merge).await {
            Err(e) => return Outcome::error(e.to_string(), json!({ "merge_commit": merge })),
            Ok(Locate::Found(l)) => {
                let mut evidence = located_evidence(&l, &merge, &env);
                evidence["polls"] = json!(n);
                return Outcome::pass(
                    format!(
                        "workflow run {} ({}, {}) deploys merge commit {} to {env}: {} — {}. Chosen: {}",
                        l.run.id,
                        l.run.label(),
                        l.run.event,
                        short(&merge),
                        l.run.state(),
                        l.run.html_url,
                        l.why
                    ),
                    evidence,
                )
                .with_fact(run_fact(&l.run, &merge));
            }
            Ok(Locate::NotLinked(run, reason)) => {
                return Outcome::fail(
                    format!(
                        "workflow run {} is not the merge commit's: {reason}",
                        run.id
                    ),
                    run_evidence(&run, &merge),
                );
            }
            Ok(Locate::NotYet(reason, considered)) => last = (reason, considered),
        }
        if clock.now() >= deadline {
            break;
        }
        clock.sleep(interval).await;
    }
    Outcome::fail(
        format!(
            "no workflow run{} deploying merge commit {} to {env} appeared within {}: {}",
            gh.cfg
                .workflow
                .as_deref()
                .map(|w| format!(" of {w}"))
                .unwrap_or_default(),
            short(&merge),
            crate::model::duration::format(timeout),
            last.0
        ),
        json!({ "merge_commit": merge, "considered": last.1 }),
    )
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
pub async fn jobs(
    spec: &GithubJobsCheck,
    gh: &GitHub,
    production: &str,
    facts: Option<&RunState>,
    clock: &SharedClock,
) -> Outcome {
    let merge = match merge_of(facts) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let mut run = match locate_with(gh, production, facts, &merge, false).await {
        Ok(Locate::Found(l)) => l.run,
        Ok(Locate::NotYet(reason, considered)) => {
            return Outcome::fail(
                format!(
                    "no workflow run deploys merge commit {}: {reason}",
                    short(&merge)
                ),
                json!({ "merge_commit": merge, "considered": considered }),
            );
        }
        Ok(Locate::NotLinked(run, reason)) => {
            return Outcome::fail(
                format!(
                    "workflow run {} is not the merge commit's: {reason}",
                    run.id
                ),
                run_evidence(&run, &merge),
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
