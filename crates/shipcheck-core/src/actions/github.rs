//! `github.approve` (`approve.approve`): approves the release run's pending deployment of the
//! configured environment, once. It refuses when the run is not tied to the merge commit,
//! while the environment's wait timer runs, and when the token's user may not approve (naming
//! who may); after a crash it looks at the run before doing anything.

use serde_json::json;

use crate::actions::{ActionError, ActionResult};
use crate::checks::github::{merge_commit, short};
use crate::checks::github_find::EnvState;
use crate::checks::github_pending::who;
use crate::checks::github_run::run_fact;
use crate::checks::github_run::{Locate, locate};
use crate::clients::github::{EnvironmentRef, GitHub, WorkflowRun};
use crate::journal::state::RunState;
use crate::model::clock::SharedClock;
use crate::model::facts::Fact;

/// Where the approval stands.
enum Assessment {
    /// The environment waits for approval in this run, and the token's user may give it.
    Pending {
        run: WorkflowRun,
        merge: String,
        environment: EnvironmentRef,
    },
    /// Nothing waits any more and the run reached the environment: someone (or an earlier
    /// attempt) approved, or its rules passed.
    Approved { run: WorkflowRun, deployment: i64 },
    /// The environment still waits, but shipcheck may not approve now (a wait timer runs,
    /// or the token's user is not allowed): nothing was or will be sent.
    Blocked(ActionError),
}

/// `production` is `[git] production` (where the run is looked for), `facts` the run's.
async fn assess(
    gh: &GitHub,
    production: &str,
    facts: Option<&RunState>,
    clock: &SharedClock,
) -> Result<Assessment, ActionError> {
    let merge = merge_commit(facts).map_err(ActionError::new)?;
    let env = gh.cfg.environment.clone();
    let l = match locate(gh, production, facts, &merge)
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?
    {
        Locate::Found(l) => l,
        Locate::NotYet(reason, _) => {
            return Err(ActionError::new(format!(
                "no workflow run deploys merge commit {} to {env}: {reason}; nothing to approve",
                short(&merge)
            )));
        }
        Locate::NotLinked(run, reason) => {
            return Err(ActionError::new(format!(
                "refusing to approve: workflow run {} is not the merge commit {}'s: {reason}",
                run.id,
                short(&merge)
            )));
        }
    };
    let run = l.run;
    let status = |run: &WorkflowRun| {
        format!(
            "status {}{}",
            run.state(),
            run.conclusion
                .as_deref()
                .map(|c| format!(", conclusion {c}"))
                .unwrap_or_default()
        )
    };
    match l.env {
        EnvState::Waiting(p) => {
            let now = clock.now();
            if let Some(end) = p.timer_ends_at().filter(|end| *end > now) {
                return Ok(Assessment::Blocked(ActionError::new(format!(
                    "not yet: {env}'s {}-minute wait timer runs until {end}; shipcheck approves after it (`shipcheck retry approve.approve` then) — {}",
                    p.wait_timer, run.html_url
                ))));
            }
            if !p.current_user_can_approve {
                return Ok(Assessment::Blocked(ActionError::new(format!(
                    "refusing: GitHub says the token's user cannot approve the {env} deployment of workflow run {}: {}. Ask them to approve {} and then `shipcheck retry approve.approve` (it sees the approval and sends nothing)",
                    run.id,
                    who(&p, run.started_by()),
                    run.html_url
                ))));
            }
            Ok(Assessment::Pending {
                run,
                merge,
                environment: p.environment.clone(),
            })
        }
        EnvState::Deployed(d) => Ok(Assessment::Approved {
            run,
            deployment: d.id,
        }),
        EnvState::OtherEnvs(names) => Err(ActionError::new(format!(
            "workflow run {} has no deployment of {env} waiting for approval ({}, waiting: {}); look at {}",
            run.id,
            status(&run),
            names.join(", "),
            run.html_url
        ))),
        EnvState::Unknown => Err(ActionError::new(format!(
            "workflow run {} does not wait for approval of {env} ({}){}; look at {}",
            run.id,
            status(&run),
            if run.status.as_deref() == Some("completed") {
                ", and it never reached the environment"
            } else {
                ": it has not reached the environment's job yet; `shipcheck retry approve.approve` when it does"
            },
            run.html_url
        ))),
    }
}

fn comment(by: &str, facts: Option<&RunState>, run: &WorkflowRun, merge: &str) -> String {
    let shipcheck_run = facts
        .map(|r| format!(" (shipcheck run {})", r.id))
        .unwrap_or_default();
    format!(
        "Approved by {} through shipcheck{shipcheck_run}: workflow run {} ({}) for merge commit {}.",
        by,
        run.id,
        run.html_url,
        short(merge)
    )
}

fn already(run: &WorkflowRun, deployment: i64) -> ActionResult {
    ActionResult {
        summary: format!(
            "workflow run {} no longer waits for approval (status {}; deployment {deployment} exists); nothing sent",
            run.id,
            run.state()
        ),
        evidence: json!({
            "workflow_run_id": run.id,
            "html_url": run.html_url,
            "status": run.status,
            "deployment_id": deployment,
            "already_approved": true,
        }),
        facts: vec![Fact::DeployStarted, run_fact(run, &run.head_sha)],
    }
}

/// The request the approval makes.
/// (`by` is who confirmed it.)
pub async fn plan(
    gh: &GitHub,
    production: &str,
    facts: Option<&RunState>,
    clock: &SharedClock,
    by: &str,
) -> Result<Vec<String>, ActionError> {
    match assess(gh, production, facts, clock).await? {
        Assessment::Blocked(e) => Err(e),
        Assessment::Approved { run, .. } => Ok(vec![format!(
            "nothing to send: workflow run {} no longer waits for approval",
            run.id
        )]),
        Assessment::Pending {
            run,
            merge,
            environment,
        } => Ok(vec![format!(
            "POST {} {}",
            gh.api.url(&format!(
                "/repos/{}/actions/runs/{}/pending_deployments",
                gh.cfg.repo, run.id
            )),
            json!({
                "environment_ids": [environment.id],
                "state": "approved",
                "comment": comment(by, facts, &run, &merge),
            })
        )]),
    }
}

/// Approves, unless it is already approved (then `done` without a request).
pub async fn perform(
    gh: &GitHub,
    production: &str,
    facts: Option<&RunState>,
    clock: &SharedClock,
    by: &str,
) -> Result<ActionResult, ActionError> {
    let (run, merge, environment) = match assess(gh, production, facts, clock).await? {
        Assessment::Approved { run, deployment } => return Ok(already(&run, deployment)),
        Assessment::Blocked(e) => return Err(e),
        Assessment::Pending {
            run,
            merge,
            environment,
        } => (run, merge, environment),
    };
    let text = comment(by, facts, &run, &merge);
    let deployments = gh
        .approve(run.id, &[environment.id], &text)
        .await
        .map_err(|e| {
            ActionError::integration(format!(
                "{e} (if GitHub did receive it, `shipcheck retry approve.approve` finds the run approved and sends nothing)"
            ))
        })?;
    Ok(ActionResult {
        summary: format!(
            "approved the {} deployment of workflow run {} for merge commit {} — {}",
            environment.name,
            run.id,
            short(&merge),
            run.html_url
        ),
        evidence: json!({
            "workflow_run_id": run.id,
            "html_url": run.html_url,
            "environment": environment.name,
            "environment_id": environment.id,
            "merge_commit": merge,
            "comment": text,
            "approved_by": by,
            "deployments": deployments.iter().map(|d| d.id).collect::<Vec<_>>(),
        }),
        facts: vec![Fact::DeployStarted, run_fact(&run, &merge)],
    })
}

/// After a crash: `Some` when the run no longer waits (the approval went through); `None`
/// when the environment still waits, so nothing was approved.
pub async fn reconcile(
    gh: &GitHub,
    production: &str,
    facts: Option<&RunState>,
    clock: &SharedClock,
) -> Result<Option<ActionResult>, ActionError> {
    match assess(gh, production, facts, clock).await? {
        Assessment::Approved { run, deployment } => Ok(Some(already(&run, deployment))),
        Assessment::Pending { .. } | Assessment::Blocked(_) => Ok(None),
    }
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
