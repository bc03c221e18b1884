//! `sentry.release`: Sentry's deploy markers. Registers the release (version = the merge
//! commit) for the apps' projects, then one deploy of it per app of the run's environment
//! (its `sentry_project`; without any, one deploy for `[sentry] projects`), each with the
//! run's start (`dateStarted`) and end (`dateFinished`: when the item runs, in `close`).
//!
//! Exactly once: each deploy is named after its app and the run (`internal-api · shipcheck
//! run ID`), and the release's deploys are read before any is posted — after a crash only the
//! missing ones are written. An existing release is fine.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::actions::{ActionError, ActionResult};
use crate::checks::github::merge_commit;
use crate::clients::sentry::{Deploy, NewDeploy, Sentry};
use crate::journal::state::RunState;
use crate::model::clock::SharedClock;
use crate::model::config::Config;

/// One marker: the app (or `None` for `[sentry] projects`) and its projects.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// The app's name.
    pub app: Option<String>,
    /// The projects its deploy is for.
    pub projects: Vec<String>,
}

impl Marker {
    /// The deploy's name for run `run_id`.
    pub fn name(&self, run_id: &str) -> String {
        match &self.app {
            Some(app) => format!("{app} · shipcheck run {run_id}"),
            None => format!("shipcheck run {run_id}"),
        }
    }
}

/// The markers of the run's environment: one per app with a `sentry_project`, else one for
/// `[sentry] projects`.
pub fn markers(sentry: &Sentry, config: &Config, env: &str) -> Vec<Marker> {
    let apps: Vec<Marker> = config
        .environments
        .get(env)
        .map(|e| {
            e.apps
                .iter()
                .filter_map(|a| {
                    a.sentry_project.as_ref().map(|p| Marker {
                        app: Some(a.name.clone()),
                        projects: vec![p.clone()],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if apps.is_empty() {
        vec![Marker {
            app: None,
            projects: sentry.cfg.projects.clone(),
        }]
    } else {
        apps
    }
}

/// What every request needs: the version, the environment, the run, the markers.
struct Setup<'a> {
    version: String,
    env: String,
    run: &'a RunState,
    markers: Vec<Marker>,
}

impl Setup<'_> {
    fn projects(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for m in &self.markers {
            for p in &m.projects {
                if !all.contains(p) {
                    all.push(p.clone());
                }
            }
        }
        all
    }
}

fn setup<'a>(
    sentry: &Sentry,
    config: &Config,
    run: Option<&'a RunState>,
) -> Result<Setup<'a>, ActionError> {
    let version = merge_commit(run).map_err(ActionError::new)?;
    let Some(run) = run else {
        return Err(ActionError::new("this action belongs to a run"));
    };
    let env = sentry
        .cfg
        .environment
        .clone()
        .unwrap_or_else(|| "production".into());
    Ok(Setup {
        version,
        env,
        markers: markers(sentry, config, &run.env),
        run,
    })
}

fn workflow_url(run: &RunState) -> Option<String> {
    let (_, _, url) = run.workflow_run().ok()?;
    url.map(str::to_string)
}

fn new_deploy<'a>(
    s: &'a Setup<'_>,
    m: &'a Marker,
    name: &'a str,
    url: Option<&'a str>,
    finished: Timestamp,
) -> NewDeploy<'a> {
    NewDeploy {
        environment: &s.env,
        name,
        url,
        started: s.run.started_at,
        finished: Some(finished),
        projects: &m.projects,
    }
}

/// The requests: the release, then each app's deploy (`dateFinished` is when it runs).
pub async fn plan(
    sentry: &Sentry,
    config: &Config,
    run: Option<&RunState>,
    clock: &SharedClock,
) -> Result<Vec<String>, ActionError> {
    let s = setup(sentry, config, run)?;
    let url = workflow_url(s.run);
    let now = clock.now();
    let mut out = vec![format!(
        "POST {} {}",
        sentry.api.url(&format!(
            "/api/0/organizations/{}/releases/",
            sentry.cfg.org
        )),
        json!({ "version": s.version, "projects": s.projects() })
    )];
    for m in &s.markers {
        let name = m.name(&s.run.id);
        out.push(format!(
            "POST {} {}",
            sentry.deploys_url(&s.version),
            new_deploy(&s, m, &name, url.as_deref(), now).body()
        ));
    }
    Ok(out)
}

/// The release's deploys (none when the release does not exist yet).
async fn existing(sentry: &Sentry, version: &str) -> Result<Vec<Deploy>, ActionError> {
    match sentry.deploys(version).await {
        Ok(d) => Ok(d),
        Err(e) if e.status() == Some(404) => Ok(Vec::new()),
        Err(e) => Err(ActionError::integration(e.to_string())),
    }
}

fn marker_json(m: &Marker, d: &Deploy, written: bool) -> Value {
    json!({
        "app": m.app,
        "projects": m.projects,
        "deploy_id": d.id,
        "name": d.name,
        "dateStarted": d.date_started,
        "dateFinished": d.date_finished,
        "written": if written { "now" } else { "before (found after an interruption)" },
    })
}

fn result(s: &Setup<'_>, release_status: Option<u16>, markers: Vec<Value>) -> ActionResult {
    let apps: Vec<String> = markers
        .iter()
        .map(|m| {
            m["app"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| "the [sentry] projects".into())
        })
        .collect();
    ActionResult {
        summary: format!(
            "Sentry release {} and its deploy to {} for {} recorded",
            &s.version[..s.version.len().min(12)],
            s.env,
            apps.join(", ")
        ),
        evidence: json!({
            "version": s.version,
            "release_status": release_status,
            "environment": s.env,
            "markers": markers,
        }),
        facts: Vec::new(),
    }
}

/// Creates the release and each missing deploy.
pub async fn perform(
    sentry: &Sentry,
    config: &Config,
    run: Option<&RunState>,
    clock: &SharedClock,
) -> Result<ActionResult, ActionError> {
    let s = setup(sentry, config, run)?;
    let before = existing(sentry, &s.version).await?;
    let status = sentry
        .create_release(&s.version, &s.projects())
        .await
        .map_err(|e| ActionError::integration(e.to_string()))?;
    let url = workflow_url(s.run);
    let now = clock.now();
    let mut written = Vec::new();
    for m in &s.markers {
        let name = m.name(&s.run.id);
        if let Some(d) = find(&before, &s.env, &name) {
            written.push(marker_json(m, d, false));
            continue;
        }
        let d = sentry
            .create_deploy(&s.version, &new_deploy(&s, m, &name, url.as_deref(), now))
            .await
            .map_err(|e| {
                ActionError::integration(format!(
                    "{e}; {} of {} deploy markers written (retrying writes only the missing ones)",
                    written.len(),
                    s.markers.len()
                ))
            })?;
        written.push(marker_json(m, &d, true));
    }
    Ok(result(&s, Some(status), written))
}

fn find<'a>(deploys: &'a [Deploy], env: &str, name: &str) -> Option<&'a Deploy> {
    deploys
        .iter()
        .find(|d| d.environment == env && d.name.as_deref() == Some(name))
}

/// `Some` when every app's deploy of the release is there already; `None` when one is
/// missing (performing writes only the missing ones).
pub async fn reconcile(
    sentry: &Sentry,
    config: &Config,
    run: Option<&RunState>,
) -> Result<Option<ActionResult>, ActionError> {
    let s = setup(sentry, config, run)?;
    let deploys = existing(sentry, &s.version).await?;
    let mut found = Vec::new();
    for m in &s.markers {
        match find(&deploys, &s.env, &m.name(&s.run.id)) {
            Some(d) => found.push(marker_json(m, d, false)),
            None => return Ok(None),
        }
    }
    Ok(Some(result(&s, None, found)))
}
