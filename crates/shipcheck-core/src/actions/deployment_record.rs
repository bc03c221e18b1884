//! GitHub's deployment record: the statuses shipcheck adds to the deployment that the
//! workflow's environment created for the release (`GET …/deployments?sha=&environment=`).
//!
//! - `in_progress` while shipcheck watches: the action `github.deployment_status`
//!   (`rollout.deployment-record`), which also records the deployment as a run fact;
//! - then, following the run ([`sync`]): `failure` with the summary of the first critical or
//!   high incident, `inactive` after a rollback, `success` when the run is signed without one.
//!
//! Each state is posted at most once per run. [`sync`] journals each status before
//! (`deployment_status_started`, with the exact request) and after
//! (`deployment_status_posted`); a status journaled as started without a result is looked for
//! in the deployment's statuses before it is posted again. Descriptions start with
//! `shipcheck run ID`, which is how shipcheck recognises its own statuses.

use serde_json::{Value, json};

use crate::actions::{ActionError, ActionResult};
use crate::checks::github::merge_commit;
use crate::clients::github::{DeploymentStatus, GitHub};
use crate::journal::state::{RunState, RunStatus};
use crate::model::config::Config;
use crate::model::event::Event;
use crate::model::facts::Fact;
use crate::model::incident::Severity;
use crate::runs::{RunError, Session};

/// GitHub's limit on a status's description.
pub const DESCRIPTION_MAX: usize = 140;
/// Failed attempts at one state before shipcheck leaves it (the record says each error).
pub const MAX_ATTEMPTS: usize = 3;

/// What starts every description shipcheck writes for `run_id`.
pub fn marker(run_id: &str) -> String {
    format!("shipcheck run {run_id}")
}

/// `text` cut to GitHub's 140 characters (on a character boundary, with an ellipsis).
pub fn description(text: &str) -> String {
    if text.chars().count() <= DESCRIPTION_MAX {
        return text.to_string();
    }
    let mut out: String = text.chars().take(DESCRIPTION_MAX - 1).collect();
    out.push('…');
    out
}

/// The status's body: the state, the description, and the links to the run's record — the
/// run's page on the team's page (`[project] web_url`) as both `log_url` and
/// `environment_url`, else the workflow run's page as `log_url`.
pub fn body(config: &Config, run: &RunState, state: &str, text: &str) -> Value {
    let mut b = json!({ "state": state, "description": description(text) });
    match &config.project.web_url {
        Some(web) => {
            let page = format!("{}/runs/{}", web.trim_end_matches('/'), run.id);
            b["log_url"] = json!(page);
            b["environment_url"] = json!(page);
        }
        None => {
            if let Ok((_, _, Some(url))) = run.workflow_run() {
                b["log_url"] = json!(url);
            }
        }
    }
    b
}

/// The deployment of the release to `[github] environment`: the newest deployment of the
/// merge commit, else of the recorded workflow run's head commit (a `workflow_run` deploy
/// runs on the default branch's tip) created since that run was.
pub async fn find_deployment(
    gh: &GitHub,
    run: Option<&RunState>,
) -> Result<crate::clients::github::Deployment, ActionError> {
    let merge = merge_commit(run).map_err(ActionError::new)?;
    let env = gh.cfg.environment.clone();
    let mut candidates = vec![(merge.clone(), None)];
    if let Some(Ok((id, _, _))) = run.map(|r| r.workflow_run()) {
        let wr = gh
            .run(id)
            .await
            .map_err(|e| ActionError::integration(e.to_string()))?;
        if wr.head_sha != merge {
            candidates.push((wr.head_sha.clone(), wr.created_at));
        }
    }
    for (sha, since) in &candidates {
        let list = gh
            .deployments(sha, &env)
            .await
            .map_err(|e| ActionError::integration(e.to_string()))?;
        let found = list.into_iter().find(|d| match (since, d.created_at) {
            (Some(s), Some(c)) => c >= *s,
            _ => true,
        });
        if let Some(d) = found {
            return Ok(d);
        }
    }
    Err(ActionError::new(format!(
        "no GitHub deployment of {} to {env} yet: the workflow's `environment: {env}` job creates it when it reaches the environment; `shipcheck retry` this item once the deploy job has started",
        &merge[..merge.len().min(12)]
    )))
}

/// Ours of `state` among a deployment's statuses.
fn ours<'a>(
    list: &'a [DeploymentStatus],
    run_id: &str,
    state: &str,
) -> Option<&'a DeploymentStatus> {
    let mark = marker(run_id);
    list.iter().find(|s| {
        s.state == state
            && s.description
                .as_deref()
                .is_some_and(|d| d.starts_with(&mark))
    })
}

fn in_progress_text(run: &RunState) -> String {
    format!("{}: watching the release", marker(&run.id))
}

/// The two requests (`--dry-run` and the intent journaled first). The deployment is looked
/// up (a read) so the request shown is the exact one.
pub async fn plan(
    gh: &GitHub,
    config: &Config,
    run: Option<&RunState>,
) -> Result<Vec<String>, ActionError> {
    let merge = merge_commit(run).map_err(ActionError::new)?;
    let Some(run) = run else {
        return Err(ActionError::new("this action belongs to a run"));
    };
    let body = body(config, run, "in_progress", &in_progress_text(run));
    let target = match find_deployment(gh, Some(run)).await {
        Ok(d) => gh.deployment_statuses_url(d.id),
        Err(_) => gh
            .deployment_statuses_url(0)
            .replace("/0/", "/{deployment_id}/"),
    };
    Ok(vec![
        format!("GET {}", gh.deployments_url(&merge, &gh.cfg.environment)),
        format!("POST {target} {body}"),
    ])
}

fn result_of(d: i64, statuses_url: String, s: &DeploymentStatus, already: bool) -> ActionResult {
    ActionResult {
        summary: format!(
            "GitHub deployment {d} marked {}{}",
            s.state,
            if already { " (already)" } else { "" }
        ),
        evidence: json!({
            "deployment_id": d,
            "status_id": s.id,
            "state": s.state,
            "description": s.description,
            "log_url": s.log_url,
            "environment_url": s.environment_url,
        }),
        facts: vec![Fact::GithubDeployment {
            id: d,
            statuses_url,
        }],
    }
}

/// Marks the deployment `in_progress` (unless it already carries ours).
pub async fn perform(
    gh: &GitHub,
    config: &Config,
    run: Option<&RunState>,
) -> Result<ActionResult, ActionError> {
    if let Some(done) = reconcile(gh, run).await? {
        return Ok(done);
    }
    let Some(run) = run else {
        return Err(ActionError::new("this action belongs to a run"));
    };
    let d = find_deployment(gh, Some(run)).await?;
    let s = gh
        .create_deployment_status(
            d.id,
            body(config, run, "in_progress", &in_progress_text(run)),
        )
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?;
    Ok(result_of(d.id, gh.deployment_statuses_url(d.id), &s, false))
}

/// `Some` when the deployment already carries this run's `in_progress` status.
pub async fn reconcile(
    gh: &GitHub,
    run: Option<&RunState>,
) -> Result<Option<ActionResult>, ActionError> {
    let Some(r) = run else {
        return Ok(None);
    };
    let d = find_deployment(gh, run).await?;
    let list = gh
        .deployment_statuses(d.id)
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?;
    Ok(ours(&list, &r.id, "in_progress")
        .map(|s| result_of(d.id, gh.deployment_statuses_url(d.id), s, true)))
}

/// The statuses the run calls for after `in_progress`, in order: (state, description).
pub fn due(run: &RunState) -> Vec<(&'static str, String)> {
    let mark = marker(&run.id);
    let mut out = Vec::new();
    if let Some(i) = run
        .monitor
        .incidents
        .iter()
        .find(|i| matches!(i.record.severity, Severity::Critical | Severity::High))
    {
        out.push((
            "failure",
            format!(
                "{mark}: incident #{} ({}): {}",
                i.record.id,
                i.record.severity.as_str(),
                i.record.summary
            ),
        ));
    }
    let rolled_back = run.rollbacks.iter().find(|r| r.succeeded == Some(true));
    if let Some(r) = rolled_back {
        out.push((
            "inactive",
            format!("{mark}: rolled back ({}): {}", r.strategy, r.reason),
        ));
    }
    if run.status == RunStatus::Signed
        && rolled_back.is_none()
        && let Some((by, _)) = &run.signed
    {
        out.push(("success", format!("{mark}: stable, signed by {by}")));
    }
    out
}

/// Whether `run` owes GitHub's deployment record a status ([`sync`] has work to do).
pub fn owes(run: &RunState) -> bool {
    let Ok((deployment, _)) = run.github_deployment() else {
        return false;
    };
    due(run).iter().any(|(state, _)| {
        !run.deployment_statuses.iter().any(|d| {
            d.deployment == deployment
                && d.state == *state
                && (d.status_id.is_some() || d.errors.len() >= MAX_ATTEMPTS)
        })
    })
}

/// [`sync`] when `run` (as the caller last saw it) owes a status; otherwise `run` as it is,
/// without reading the store.
pub async fn sync_run(session: &Session, run: RunState) -> Result<RunState, RunError> {
    if owes(&run) {
        sync(session, &run.id).await
    } else {
        Ok(run)
    }
}

/// Posts the statuses the run calls for and has not posted yet ([`due`]), each journaled
/// before and after; an interrupted one is looked for first. Nothing happens until the
/// `in_progress` status recorded the deployment, or without `[github]`. A failure is
/// journaled (the record shows it) and tried again at the next call, at most
/// [`MAX_ATTEMPTS`] times; it never stops the run.
pub async fn sync(session: &Session, run_id: &str) -> Result<RunState, RunError> {
    let mut run = session.load(run_id).await?;
    let Ok((deployment, _)) = run.github_deployment() else {
        return Ok(run);
    };
    let wanted = due(&run);
    if wanted.is_empty() || session.loaded.config.github.is_none() {
        return Ok(run);
    }
    let Ok(gh) = session.clients().github() else {
        return Ok(run);
    };
    for (state, text) in wanted {
        let rec = run
            .deployment_statuses
            .iter()
            .find(|d| d.deployment == deployment && d.state == state)
            .cloned();
        if let Some(r) = &rec
            && (r.status_id.is_some() || r.errors.len() >= MAX_ATTEMPTS)
        {
            continue;
        }
        if rec.as_ref().is_some_and(|r| r.in_flight) {
            match gh.deployment_statuses(deployment).await {
                Ok(list) => {
                    if let Some(s) = ours(&list, run_id, state) {
                        run = session
                            .append(
                                run_id,
                                Event::DeploymentStatusPosted {
                                    deployment,
                                    state: state.into(),
                                    status_id: s.id,
                                    description: s.description.clone().unwrap_or_default(),
                                },
                            )
                            .await?;
                        continue;
                    }
                }
                Err(e) => {
                    run = session
                        .append(
                            run_id,
                            Event::DeploymentStatusFailed {
                                deployment,
                                state: state.into(),
                                error: format!("interrupted, and its statuses cannot be read: {e}"),
                            },
                        )
                        .await?;
                    continue;
                }
            }
        }
        let body = body(&session.loaded.config, &run, state, &text);
        let intent = format!("POST {} {body}", gh.deployment_statuses_url(deployment));
        session
            .append(
                run_id,
                Event::DeploymentStatusStarted {
                    deployment,
                    state: state.into(),
                    intent,
                },
            )
            .await?;
        let event = match gh.create_deployment_status(deployment, body).await {
            Ok(s) => Event::DeploymentStatusPosted {
                deployment,
                state: state.into(),
                status_id: s.id,
                description: s.description.unwrap_or_default(),
            },
            Err(e) => Event::DeploymentStatusFailed {
                deployment,
                state: state.into(),
                error: e.to_string(),
            },
        };
        run = session.append(run_id, event).await?;
    }
    Ok(run)
}

#[cfg(test)]
#[path = "deployment_record_tests.rs"]
mod tests;
