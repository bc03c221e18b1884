//! `github.approve` (`approve.approve`): approves the release run's pending deployment of the
//! configured environment, once. It refuses when the run is not the merge commit's or when
//! the token's user may not approve; after a crash it looks at the run before doing anything.

use serde_json::json;

use crate::actions::{ActionContext, ActionError, ActionResult};
use crate::checks::github::{merge_commit, short};
use crate::checks::github_run::{locate_run, run_fact};
use crate::clients::github::{EnvironmentRef, GitHub, WorkflowRun};
use crate::model::facts::Fact;

/// Where the approval stands.
enum Assessment {
    /// The environment waits for approval in this run.
    Pending {
        gh: Box<GitHub>,
        run: WorkflowRun,
        merge: String,
        environment: EnvironmentRef,
        can_approve: bool,
        reviewers: Vec<String>,
    },
    /// Nothing waits any more and the run went on: someone (or an earlier attempt) approved.
    Approved { run: WorkflowRun },
}

async fn assess(ctx: &ActionContext) -> Result<Assessment, ActionError> {
    let c = &ctx.check;
    let gh = c.github().map_err(ActionError::new)?;
    let merge = merge_commit(c.run.as_deref()).map_err(ActionError::new)?;
    let run = locate_run(&gh, c, &merge)
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?
        .ok_or_else(|| {
            ActionError::new(format!(
                "no workflow run for merge commit {} on {}; nothing to approve",
                short(&merge),
                c.config.git.production
            ))
        })?;
    if run.head_sha != merge {
        return Err(ActionError::new(format!(
            "refusing to approve: workflow run {} is for commit {}, not the merge commit {}",
            run.id,
            short(&run.head_sha),
            short(&merge)
        )));
    }
    let list = gh
        .pending_deployments(run.id)
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?;
    let env = gh.cfg.environment.clone();
    if let Some(p) = list.iter().find(|p| p.environment.name == env) {
        return Ok(Assessment::Pending {
            environment: p.environment.clone(),
            can_approve: p.current_user_can_approve,
            reviewers: p.reviewers.iter().map(|r| r.name()).collect(),
            gh: Box::new(gh),
            run,
            merge,
        });
    }
    let failed = run.status.as_deref() == Some("completed")
        && !matches!(run.conclusion.as_deref(), Some("success"));
    if !list.is_empty() || failed || run.status.as_deref() == Some("waiting") {
        return Err(ActionError::new(format!(
            "workflow run {} has no deployment of {env} waiting for approval (status {}{}{}); look at {}",
            run.id,
            run.status.as_deref().unwrap_or("unknown"),
            run.conclusion
                .as_deref()
                .map(|c| format!(", conclusion {c}"))
                .unwrap_or_default(),
            if list.is_empty() {
                String::new()
            } else {
                format!(
                    ", waiting: {}",
                    list.iter()
                        .map(|p| p.environment.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            run.html_url
        )));
    }
    Ok(Assessment::Approved { run })
}

fn comment(ctx: &ActionContext, run: &WorkflowRun, merge: &str) -> String {
    let shipcheck_run = ctx
        .check
        .run
        .as_ref()
        .map(|r| format!(" (shipcheck run {})", r.id))
        .unwrap_or_default();
    format!(
        "Approved by {} through shipcheck{shipcheck_run}: workflow run {} ({}) for merge commit {}.",
        ctx.by,
        run.id,
        run.html_url,
        short(merge)
    )
}

fn already(run: &WorkflowRun) -> ActionResult {
    ActionResult {
        summary: format!(
            "workflow run {} no longer waits for approval (status {}); nothing sent",
            run.id,
            run.status.as_deref().unwrap_or("unknown")
        ),
        evidence: json!({
            "workflow_run_id": run.id,
            "html_url": run.html_url,
            "status": run.status,
            "already_approved": true,
        }),
        facts: vec![Fact::DeployStarted, run_fact(run, &run.head_sha)],
    }
}

/// The request the approval makes.
pub async fn plan(ctx: &ActionContext) -> Result<Vec<String>, ActionError> {
    match assess(ctx).await? {
        Assessment::Approved { run } => Ok(vec![format!(
            "nothing to send: workflow run {} no longer waits for approval",
            run.id
        )]),
        Assessment::Pending {
            gh,
            run,
            merge,
            environment,
            ..
        } => Ok(vec![format!(
            "POST {} {}",
            gh.api.url(&format!(
                "/repos/{}/actions/runs/{}/pending_deployments",
                gh.cfg.repo, run.id
            )),
            json!({
                "environment_ids": [environment.id],
                "state": "approved",
                "comment": comment(ctx, &run, &merge),
            })
        )]),
    }
}

/// Approves, unless it is already approved (then `done` without a request).
pub async fn perform(ctx: &ActionContext) -> Result<ActionResult, ActionError> {
    let (gh, run, merge, environment, can_approve, reviewers) = match assess(ctx).await? {
        Assessment::Approved { run } => return Ok(already(&run)),
        Assessment::Pending {
            gh,
            run,
            merge,
            environment,
            can_approve,
            reviewers,
        } => (gh, run, merge, environment, can_approve, reviewers),
    };
    if !can_approve {
        return Err(ActionError::new(format!(
            "refusing: GitHub says the token's user cannot approve the {} deployment of workflow run {} (not a required reviewer, or self-review is prevented); ask {} to approve {} and then `shipcheck tick approve.approve`",
            environment.name,
            run.id,
            if reviewers.is_empty() {
                "a required reviewer".to_string()
            } else {
                reviewers.join(" or ")
            },
            run.html_url
        )));
    }
    let text = comment(ctx, &run, &merge);
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
            "approved_by": ctx.by,
            "deployments": deployments.iter().map(|d| d.id).collect::<Vec<_>>(),
        }),
        facts: vec![Fact::DeployStarted, run_fact(&run, &merge)],
    })
}

/// After a crash: `Some` when the run no longer waits (the approval went through); `None`
/// when the environment still waits, so nothing was approved.
pub async fn reconcile(ctx: &ActionContext) -> Result<Option<ActionResult>, ActionError> {
    match assess(ctx).await? {
        Assessment::Approved { run } => Ok(Some(already(&run))),
        Assessment::Pending { .. } => Ok(None),
    }
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
