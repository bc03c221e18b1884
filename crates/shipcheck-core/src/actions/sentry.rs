//! `sentry.release`: registers the release (version = the merge commit) for the configured
//! projects, then its deploy to the environment. An existing release is fine; a deploy of the
//! version to the environment that already exists is not recorded twice.

use serde_json::json;

use crate::actions::{ActionError, ActionResult};
use crate::checks::github::merge_commit;
use crate::clients::sentry::Sentry;
use crate::journal::state::RunState;
use crate::model::clock::SharedClock;

/// The version (the run's merge commit) and the environment.
fn setup(sentry: &Sentry, run: Option<&RunState>) -> Result<(String, String), ActionError> {
    let version = merge_commit(run).map_err(ActionError::new)?;
    let env = sentry
        .cfg
        .environment
        .clone()
        .unwrap_or_else(|| "production".into());
    Ok((version, env))
}

/// The two requests.
pub async fn plan(sentry: &Sentry, run: Option<&RunState>) -> Result<Vec<String>, ActionError> {
    let (version, env) = setup(sentry, run)?;
    Ok(vec![
        format!(
            "POST {} {}",
            sentry.api.url(&format!(
                "/api/0/organizations/{}/releases/",
                sentry.cfg.org
            )),
            json!({ "version": version, "projects": sentry.cfg.projects })
        ),
        format!(
            "POST {} {}",
            sentry.api.url(&format!(
                "/api/0/organizations/{}/releases/{version}/deploys/",
                sentry.cfg.org
            )),
            json!({ "environment": env })
        ),
    ])
}

fn workflow_url(run: Option<&RunState>) -> Option<String> {
    let run = run?;
    let (_, _, url) = run.workflow_run().ok()?;
    url.map(str::to_string)
}

/// Creates the release and its deploy.
pub async fn perform(
    sentry: &Sentry,
    run: Option<&RunState>,
    clock: &SharedClock,
) -> Result<ActionResult, ActionError> {
    if let Some(done) = reconcile(sentry, run).await? {
        return Ok(done);
    }
    let (version, env) = setup(sentry, run)?;
    let status = sentry
        .create_release(&version)
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?;
    let name = run
        .map(|r| format!("shipcheck run {}", r.id))
        .unwrap_or_else(|| "shipcheck".into());
    let deploy = sentry
        .create_deploy(
            &version,
            &env,
            &name,
            workflow_url(run).as_deref(),
            clock.now(),
        )
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?;
    Ok(ActionResult {
        summary: format!(
            "Sentry release {} {} and its deploy to {env} recorded",
            &version[..version.len().min(12)],
            if status == 201 {
                "created"
            } else {
                "already existed"
            }
        ),
        evidence: json!({
            "version": version,
            "release_status": status,
            "environment": env,
            "deploy_id": deploy.id,
        }),
        facts: Vec::new(),
    })
}

/// `Some` when the release already has a deploy to the environment.
pub async fn reconcile(
    sentry: &Sentry,
    run: Option<&RunState>,
) -> Result<Option<ActionResult>, ActionError> {
    let (version, env) = setup(sentry, run)?;
    let deploys = match sentry.deploys(&version).await {
        Ok(d) => d,
        Err(e) if e.status() == Some(404) => return Ok(None),
        Err(e) => return Err(ActionError::integration(e.to_string())),
    };
    Ok(deploys
        .iter()
        .find(|d| d.environment == env)
        .map(|d| ActionResult {
            summary: format!("Sentry release {version} already has a deploy to {env}"),
            evidence: json!({ "version": version, "environment": env, "deploy_id": d.id }),
            facts: Vec::new(),
        }))
}
