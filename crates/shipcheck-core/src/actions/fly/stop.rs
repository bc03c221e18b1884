//! The emergency stop (the seed's `flyctl scale count 0 -a APP`) and its undo.
//!
//! `scale count 0` **destroys** the machines (it does not stop them), so the count per
//! process group (and the region, when there is one) is read first and recorded: the undo
//! scales back to it, creating new machines from the app's newest complete release.
//! flyctl refuses `scale count` without `--yes` when not interactive; shipcheck always passes
//! it, after its own typed confirmation.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actions::fly::{POLL, fly_error};
use crate::actions::{ActionContext, ActionError, ActionResult};
use crate::clients::fly::{Fly, FlyError, Machine};

/// Machines per process group, as recorded before a stop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleCounts {
    /// Process group → machine count (`app` is flyctl's default group).
    pub groups: BTreeMap<String, u32>,
    /// The one region all machines were in, if they were in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl From<u32> for ScaleCounts {
    /// `n` machines in the default group.
    fn from(n: u32) -> Self {
        ScaleCounts {
            groups: [("app".to_string(), n)].into(),
            region: None,
        }
    }
}

impl ScaleCounts {
    /// Counts the active machines.
    pub fn from_machines(machines: &[Machine]) -> ScaleCounts {
        let mut groups = BTreeMap::new();
        let mut regions = BTreeSet::new();
        for m in machines.iter().filter(|m| m.is_active()) {
            *groups.entry(m.process_group()).or_insert(0u32) += 1;
            regions.insert(m.region.clone());
        }
        let region = if regions.len() == 1 {
            regions.into_iter().next().filter(|r| !r.is_empty())
        } else {
            None
        };
        ScaleCounts { groups, region }
    }

    /// All machines.
    pub fn total(&self) -> u32 {
        self.groups.values().sum()
    }

    /// The counts a stop recorded: its evidence (or its [`StopPlan`] as JSON) has them under
    /// `before`.
    pub fn from_evidence(evidence: &Value) -> Option<ScaleCounts> {
        serde_json::from_value(evidence.get("before")?.clone()).ok()
    }

    fn as_args(&self, each: impl Fn(u32) -> u32) -> Vec<(String, u32)> {
        self.groups
            .iter()
            .map(|(g, n)| (g.clone(), each(*n)))
            .collect()
    }
}

/// What a stop will do.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StopPlan {
    /// Short name, as configured.
    pub app: String,
    /// Fly app.
    pub fly_app: String,
    /// The machines now: what the undo restores.
    pub before: ScaleCounts,
    /// The exact command.
    pub command: String,
    /// The command the undo runs.
    pub undo_command: String,
}

/// Finds `app` (a `fly_app` of any environment, or a short name in production).
fn resolve(ctx: &ActionContext, app: &str) -> Result<(String, String), ActionError> {
    let cfg = &ctx.clients.config;
    for env in cfg.environments.values() {
        if let Some(a) = env.apps.iter().find(|a| a.fly_app.as_deref() == Some(app)) {
            return Ok((a.name.clone(), app.to_string()));
        }
    }
    if let Some(a) = cfg
        .environments
        .get("production")
        .and_then(|e| e.apps.iter().find(|a| a.name == app))
        && let Some(f) = &a.fly_app
    {
        return Ok((a.name.clone(), f.clone()));
    }
    Err(ActionError::new(format!(
        "unknown app {app:?}: name a production app or a fly_app from the config"
    )))
}

/// Reads the machines and says what `stop` would run. Changes nothing.
pub async fn plan_stop(ctx: &ActionContext, app: &str) -> Result<StopPlan, ActionError> {
    let (name, fly_app) = resolve(ctx, app)?;
    let fly = ctx.clients.fly();
    let machines = fly.machines_list(&fly_app).await.map_err(fly_error)?;
    let before = ScaleCounts::from_machines(&machines);
    let zero = if before.groups.is_empty() {
        vec![("app".to_string(), 0)]
    } else {
        before.as_args(|_| 0)
    };
    Ok(StopPlan {
        command: fly.display(&Fly::scale_args(&fly_app, &zero, None)),
        undo_command: fly.display(&Fly::scale_args(
            &fly_app,
            &before.as_args(|n| n),
            before.region.as_deref(),
        )),
        app: name,
        fly_app,
        before,
    })
}

/// `shipcheck stop --app A`: records the machine count per group, then
/// `flyctl scale count 0 -a APP --yes` (every group), then checks no machine is left. The
/// evidence holds the count under `before` ([`ScaleCounts::from_evidence`]). An app with no
/// machines is reported as already stopped, with `before` empty: the undo must use the count
/// recorded by the stop that stopped it. With `ctx.dry_run`, returns the plan only.
pub async fn stop(ctx: &ActionContext, app: &str) -> Result<ActionResult, ActionError> {
    let plan = plan_stop(ctx, app).await?;
    let mut evidence = serde_json::to_value(&plan).unwrap_or_default();
    evidence["machines_before"] = json!(plan.before.total());
    if ctx.dry_run {
        evidence["dry_run"] = json!(true);
        return Ok(ActionResult {
            summary: format!("dry run: would run `{}`", plan.command),
            evidence,
            facts: Vec::new(),
        });
    }
    if plan.before.total() == 0 {
        evidence["already_stopped"] = json!(true);
        return Ok(ActionResult {
            summary: format!("{} has no machines; already stopped", plan.fly_app),
            evidence,
            facts: Vec::new(),
        });
    }
    let fly = ctx.clients.fly();
    let zero = plan.before.as_args(|_| 0);
    fly.scale_count(&plan.fly_app, &zero, None)
        .await
        .map_err(|e| scale_error(e, &plan))?;
    let left = wait_for(ctx, &fly, &plan.fly_app, |c| c.total() == 0).await?;
    if left.total() != 0 {
        return Err(ActionError::new(format!(
            "`{}` ran but {} machine(s) are still there; undo with `{}`",
            plan.command,
            left.total(),
            plan.undo_command
        )));
    }
    evidence["machines_after"] = json!(0);
    Ok(ActionResult {
        summary: format!(
            "{} stopped: {} machine(s) destroyed ({}); undo: shipcheck stop --undo --app {}",
            plan.fly_app,
            plan.before.total(),
            groups_text(&plan.before),
            plan.app
        ),
        evidence,
        facts: Vec::new(),
    })
}

fn scale_error(e: FlyError, plan: &StopPlan) -> ActionError {
    let msg = format!(
        "{e} (before: {} machine(s), {}; to restore: `{}`)",
        plan.before.total(),
        groups_text(&plan.before),
        plan.undo_command
    );
    match e {
        FlyError::Failed { .. } => ActionError::new(msg),
        _ => ActionError::integration(msg),
    }
}

fn groups_text(c: &ScaleCounts) -> String {
    let mut s = c
        .groups
        .iter()
        .map(|(g, n)| format!("{g}={n}"))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(r) = &c.region {
        s.push_str(&format!(" in {r}"));
    }
    s
}

/// The command `stop_undo` would run.
pub async fn plan_stop_undo(
    ctx: &ActionContext,
    app: &str,
    counts: &ScaleCounts,
) -> Result<Vec<String>, ActionError> {
    let (_, fly_app) = resolve(ctx, app)?;
    let fly = ctx.clients.fly();
    Ok(vec![fly.display(&Fly::scale_args(
        &fly_app,
        &counts.as_args(|n| n),
        counts.region.as_deref(),
    ))])
}

/// `shipcheck stop --undo --app A`: scales each group back to the recorded count (new
/// machines from the newest complete release; the destroyed ones do not come back). Does
/// nothing when the app already has those counts. With `ctx.dry_run`, returns the plan only.
pub async fn stop_undo(
    ctx: &ActionContext,
    app: &str,
    counts: &ScaleCounts,
) -> Result<ActionResult, ActionError> {
    if counts.total() == 0 {
        return Err(ActionError::new(
            "the recorded machine count is 0; nothing to restore (use the count recorded by the stop that stopped the app)",
        ));
    }
    let (_, fly_app) = resolve(ctx, app)?;
    let command = plan_stop_undo(ctx, app, counts).await?.remove(0);
    let fly = ctx.clients.fly();
    let now = ScaleCounts::from_machines(&fly.machines_list(&fly_app).await.map_err(fly_error)?);
    let evidence =
        json!({ "fly_app": fly_app, "restore": counts, "before_undo": now, "command": command });
    if ctx.dry_run {
        return Ok(ActionResult {
            summary: format!("dry run: would run `{command}`"),
            evidence,
            facts: Vec::new(),
        });
    }
    if now.groups == counts.groups {
        return Ok(ActionResult {
            summary: format!(
                "{fly_app} already has {} machine(s); nothing to do",
                counts.total()
            ),
            evidence,
            facts: Vec::new(),
        });
    }
    fly.scale_count(&fly_app, &counts.as_args(|n| n), counts.region.as_deref())
        .await
        .map_err(|e| match e {
            FlyError::Failed { .. } => ActionError::new(e.to_string()),
            other => fly_error(other),
        })?;
    let after = wait_for(ctx, &fly, &fly_app, |c| c.groups == counts.groups).await?;
    if after.groups != counts.groups {
        return Err(ActionError::new(format!(
            "`{command}` ran but the app has {} (wanted {})",
            groups_text(&after),
            groups_text(counts)
        )));
    }
    Ok(ActionResult {
        summary: format!(
            "{fly_app} restored to {} machine(s) ({})",
            counts.total(),
            groups_text(counts)
        ),
        evidence,
        facts: Vec::new(),
    })
}

/// Reads the machine counts until `done` holds (up to a minute).
async fn wait_for(
    ctx: &ActionContext,
    fly: &Fly,
    fly_app: &str,
    done: impl Fn(&ScaleCounts) -> bool,
) -> Result<ScaleCounts, ActionError> {
    let mut last = ScaleCounts::default();
    for attempt in 0..12 {
        if attempt > 0 {
            ctx.clients.clock.sleep(POLL).await;
        }
        last = ScaleCounts::from_machines(&fly.machines_list(fly_app).await.map_err(fly_error)?);
        if done(&last) {
            break;
        }
    }
    Ok(last)
}
