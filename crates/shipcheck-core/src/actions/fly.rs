//! Fly actions: the `platform` rollback (every app redeployed with the image recorded in
//! `preflight.rollback-ready`) and the emergency stop ([`stop`]).
//!
//! flyctl has no rollback command (superfly/flyctl#579): a rollback is
//! `flyctl deploy --image <ImageRef of the older release> -a APP`. It only works while the
//! image is still in Fly's registry, it runs with the app's *current* config, env and
//! secrets, and it does not roll the database back. [`plan_rollback_platform`] says so
//! before anything runs.

mod stop;

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

pub use stop::{ScaleCounts, StopPlan, plan_stop, plan_stop_undo, stop, stop_undo};

use crate::actions::{ActionContext, ActionError, ActionResult};
use crate::checks::fly::machines::{FleetStatus, Wanted, judge_fleet};
use crate::checks::fly::{RollbackTarget, recorded_targets, rollback_command};
use crate::clients::fly::{Fly, FlyError, Release};
use crate::journal::state::ItemState;
use crate::model::config::App;

/// A target older than this may have been pruned from Fly's registry.
const PRUNE_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// One app of a platform rollback.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollbackStep {
    /// Short name.
    pub app: String,
    /// Fly app.
    pub fly_app: String,
    /// The recorded release.
    pub target_version: u64,
    /// Its image.
    pub image_ref: String,
    /// The exact command.
    pub command: String,
    /// The app's newest release now, when flyctl could say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// Why the app is not redeployed (already on the target image), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
}

/// What a platform rollback will do, and what to know first.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RollbackPlan {
    /// Apps in config order.
    pub steps: Vec<RollbackStep>,
    /// Shown before confirming: migrations, pruned images, config used.
    pub warnings: Vec<String>,
}

impl RollbackPlan {
    /// The commands that will run (skipped apps left out).
    pub fn commands(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.skip.is_none())
            .map(|s| s.command.clone())
            .collect()
    }
}

pub(crate) fn fly_error(e: FlyError) -> ActionError {
    ActionError::integration(e.to_string())
}

/// The apps to roll back, in config order, each with its recorded target.
fn selected(
    ctx: &ActionContext,
    apps: Option<&[String]>,
) -> Result<Vec<(App, RollbackTarget)>, ActionError> {
    let run = ctx.run.as_deref().ok_or_else(|| {
        ActionError::new("a platform rollback needs the run whose releases were recorded (preflight.rollback-ready); none is open")
    })?;
    let targets = recorded_targets(run).ok_or_else(|| {
        ActionError::new(
            "this run recorded no rollback targets (preflight.rollback-ready has none); roll back by hand: \
             `flyctl releases -a APP --image`, then `flyctl deploy --image REF -a APP --yes`",
        )
    })?;
    let env_name = if ctx.clients.config.environments.contains_key(&run.env) {
        run.env.as_str()
    } else {
        "production"
    };
    let env_apps: Vec<App> = ctx
        .clients
        .config
        .environments
        .get(env_name)
        .map(|e| e.apps.clone())
        .unwrap_or_default();
    if let Some(wanted) = apps {
        for w in wanted {
            if !env_apps
                .iter()
                .any(|a| &a.name == w || a.fly_app.as_ref() == Some(w))
            {
                let known: Vec<&str> = env_apps.iter().map(|a| a.name.as_str()).collect();
                return Err(ActionError::new(format!(
                    "unknown app {w:?} in [environments.{env_name}] (have: {})",
                    known.join(", ")
                )));
            }
        }
    }
    let mut out = Vec::new();
    for app in env_apps {
        let Some(fly_app) = app.fly_app.clone() else {
            continue;
        };
        if let Some(wanted) = apps
            && !wanted.iter().any(|w| *w == app.name || *w == fly_app)
        {
            continue;
        }
        match targets.iter().find(|t| t.fly_app == fly_app) {
            Some(t)
                if !t.status.is_empty() && !t.status.trim().eq_ignore_ascii_case("complete") =>
            {
                return Err(ActionError::new(format!(
                    "the target recorded for {} ({fly_app}) is v{}, whose status was {:?}; a rollback goes back only to a complete release: roll back by hand",
                    app.name, t.version, t.status
                )));
            }
            Some(t) => out.push((app, t.clone())),
            None if apps.is_some() => {
                return Err(ActionError::new(format!(
                    "no rollback target was recorded for {} ({fly_app})",
                    app.name
                )));
            }
            None => {}
        }
    }
    if out.is_empty() {
        return Err(ActionError::new("no app to roll back"));
    }
    Ok(out)
}

/// What `rollback --strategy platform [--app A]` would do: each app's recorded image and
/// command (apps already on it marked skipped), and the warnings to show first. Reads
/// only.
pub async fn plan_rollback_platform(
    ctx: &ActionContext,
    apps: Option<&[String]>,
) -> Result<RollbackPlan, ActionError> {
    let chosen = selected(ctx, apps)?;
    let fly = ctx.clients.fly();
    let mut plan = RollbackPlan::default();
    plan.warnings.extend(migration_warning(ctx));
    let now = ctx.clients.clock.now();
    for (app, target) in &chosen {
        let releases = fly.releases(&target.fly_app).await.map_err(fly_error)?;
        let newest = releases.first();
        let skip = newest.filter(|r| on_target(r, target)).map(|r| {
            format!(
                "already runs the target image (v{}, {})",
                r.version, r.status
            )
        });
        if let Some(r) = releases
            .iter()
            .find(|r| r.version == target.version && !r.is_complete())
        {
            return Err(ActionError::new(format!(
                "{}: the recorded target v{} is {} now, not complete; a rollback never redeploys a release that did not complete: roll back by hand",
                app.name, r.version, r.status
            )));
        }
        if !releases.iter().any(|r| r.version == target.version) {
            plan.warnings.push(format!(
                "{}: v{} is no longer among the last {} releases; its image may have been pruned from Fly's registry",
                app.name, target.version, releases.len()
            ));
        } else if let Ok(created) = target.created_at.parse::<jiff::Timestamp>()
            && Duration::try_from(now.duration_since(created)).is_ok_and(|age| age > PRUNE_AGE)
        {
            plan.warnings.push(format!(
                "{}: v{} is from {}; an image that old may have been pruned from Fly's registry (the deploy then fails and the app stays as it is)",
                app.name, target.version, target.created_at
            ));
        }
        plan.steps.push(RollbackStep {
            app: app.name.clone(),
            fly_app: target.fly_app.clone(),
            target_version: target.version,
            image_ref: target.image_ref.clone(),
            command: rollback_command(&fly, target),
            current_version: newest.map(|r| r.version),
            skip,
        });
    }
    plan.warnings.push(
        "Fly redeploys the old image with each app's current config, env and secrets, not the old release's".into(),
    );
    Ok(plan)
}

fn on_target(r: &Release, t: &RollbackTarget) -> bool {
    r.image_ref == t.image_ref && r.is_complete()
}

fn migration_warning(ctx: &ActionContext) -> Option<String> {
    let run = ctx.run.as_deref()?;
    // Items whose condition is "migrations changed" (whatever they are called): when one of
    // them is required in the run, the release carried migrations the rollback does not undo.
    let records: Vec<_> = run
        .items
        .iter()
        .filter(|r| {
            r.item
                .when
                .as_ref()
                .is_some_and(|w| w.path_groups.iter().any(|g| g == "migrations"))
        })
        .collect();
    if records.is_empty() {
        return Some("cannot tell whether this release changed migrations (no migration item in the run); a rollback does not undo migrations".into());
    }
    if records.iter().all(|r| r.state == ItemState::NotRequired) {
        return None;
    }
    let plan = records.iter().find_map(|r| r.note.clone());
    Some(match plan {
        Some(p) => format!("migrations changed in this release and the old image does not undo them; the DB rollback plan: {p}"),
        None => "migrations changed in this release (or may have); the old image does not undo them: follow the DB rollback plan (prepare.db-rollback-plan) first".into(),
    })
}

/// `rollback --strategy platform`: every chosen app redeployed with its recorded image, in
/// config order, each verified (a new release with that image, `complete`, machines started
/// on it with checks passing) before the next. Stops at the first app that fails, saying what
/// was done. Idempotent: an app whose newest release already runs the target image is
/// skipped, so after a crash a second run deploys each app at most once. With
/// `ctx.dry_run`, returns the plan and changes nothing.
pub async fn rollback_platform(
    ctx: &ActionContext,
    apps: Option<&[String]>,
) -> Result<ActionResult, ActionError> {
    let plan = plan_rollback_platform(ctx, apps).await?;
    if ctx.dry_run {
        return Ok(ActionResult {
            summary: format!("dry run: would redeploy {} app(s)", plan.commands().len()),
            evidence: json!({ "strategy": "platform", "dry_run": true, "plan": plan }),
            facts: Vec::new(),
        });
    }
    let fly = ctx.clients.fly();
    let mut done: Vec<serde_json::Value> = Vec::new();
    let mut lines = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        match roll_one(ctx, &fly, step).await {
            Ok((line, evidence)) => {
                lines.push(line);
                done.push(evidence);
            }
            Err(e) => {
                let rest: Vec<&str> = plan.steps[i + 1..].iter().map(|s| s.app.as_str()).collect();
                let mut msg = format!("rollback of {} failed: {}", step.app, e.message);
                if !lines.is_empty() {
                    msg.push_str(&format!("; already rolled back: {}", lines.join(", ")));
                }
                if !rest.is_empty() {
                    msg.push_str(&format!(
                        "; not attempted: {} (run `shipcheck rollback --strategy platform` again to continue)",
                        rest.join(", ")
                    ));
                }
                return Err(ActionError {
                    message: msg,
                    integration: e.integration,
                });
            }
        }
    }
    Ok(ActionResult {
        summary: format!("rolled back: {}", lines.join(", ")),
        evidence: json!({ "strategy": "platform", "apps": done, "warnings": plan.warnings }),
        facts: Vec::new(),
    })
}

async fn roll_one(
    ctx: &ActionContext,
    fly: &Fly,
    step: &RollbackStep,
) -> Result<(String, serde_json::Value), ActionError> {
    let target = RollbackTarget {
        app: step.app.clone(),
        fly_app: step.fly_app.clone(),
        version: step.target_version,
        image_ref: step.image_ref.clone(),
        status: String::new(),
        created_at: String::new(),
    };
    // A deploy still running (ours, before a crash, or someone's) settles first.
    let newest = settled_newest(ctx, fly, &step.fly_app).await?;
    if let Some(r) = newest.as_ref().filter(|r| on_target(r, &target)) {
        return Ok((
            format!(
                "{} already on v{} ({} image)",
                step.app,
                r.version,
                short(&step.image_ref)
            ),
            json!({ "app": step.app, "fly_app": step.fly_app, "result": "skipped", "version": r.version, "image_ref": step.image_ref }),
        ));
    }
    let before = newest.map(|r| r.version).unwrap_or(0);
    fly.deploy_image(&step.fly_app, &step.image_ref)
        .await
        .map_err(|e| match e {
            FlyError::Failed { .. } => ActionError::new(e.to_string()),
            other => fly_error(other),
        })?;
    let version = verify(ctx, fly, &target, before).await?;
    Ok((
        format!("{} v{} as v{version}", step.app, step.target_version),
        json!({ "app": step.app, "fly_app": step.fly_app, "result": "deployed", "target_version": step.target_version, "new_version": version, "image_ref": step.image_ref, "command": step.command }),
    ))
}

fn short(image: &str) -> &str {
    image.rsplit(':').next().unwrap_or(image)
}

/// How often and how long to look again while Fly settles.
pub(crate) const POLL: Duration = Duration::from_secs(5);

/// The newest release once it is not `running` (bounded by `[fly] deploy_timeout`).
async fn settled_newest(
    ctx: &ActionContext,
    fly: &Fly,
    fly_app: &str,
) -> Result<Option<Release>, ActionError> {
    let limit = ctx.clients.config.fly.deploy_timeout.get();
    let mut waited = Duration::ZERO;
    loop {
        let releases = fly.releases(fly_app).await.map_err(fly_error)?;
        let newest = releases.into_iter().next();
        match &newest {
            Some(r) if r.is_in_flight() && waited < limit => {
                ctx.clients.clock.sleep(POLL).await;
                waited += POLL;
            }
            _ => return Ok(newest),
        }
    }
}

/// After the deploy: a release newer than `before` with the target image, complete, and
/// every Machine that should run it on it, started with checks passing or idle by design
/// (auto-stop, standby). Looks again for up to two minutes while Machines come up.
async fn verify(
    ctx: &ActionContext,
    fly: &Fly,
    target: &RollbackTarget,
    before: u64,
) -> Result<u64, ActionError> {
    let mut problem = String::new();
    for attempt in 0..24 {
        if attempt > 0 {
            ctx.clients.clock.sleep(POLL).await;
        }
        let releases = fly.releases(&target.fly_app).await.map_err(fly_error)?;
        let Some(newest) = releases.first() else {
            problem = "flyctl lists no releases".into();
            continue;
        };
        if newest.version <= before || newest.image_ref != target.image_ref {
            problem = format!(
                "no new release with {} (newest v{})",
                target.image_ref, newest.version
            );
            continue;
        }
        if !newest.is_complete() {
            problem = format!("v{} is {}", newest.version, newest.status);
            if newest.is_in_flight() {
                continue;
            }
            break;
        }
        let machines = fly
            .machines_list(&target.fly_app)
            .await
            .map_err(fly_error)?;
        let wanted = Wanted {
            version: newest.version,
            image: &newest.image_ref,
        };
        let fleet = judge_fleet(&machines, wanted, ctx.clients.clock.now());
        if fleet.status == FleetStatus::Pass {
            return Ok(newest.version);
        }
        problem = fleet
            .result(
                String::new(),
                &format!("v{}", newest.version),
                json!({}),
                false,
            )
            .line;
    }
    Err(ActionError::new(format!(
        "{} was deployed but is not verified: {problem}",
        target.fly_app
    )))
}
