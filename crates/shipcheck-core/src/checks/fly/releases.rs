//! `fly.releases`: record the rollback targets (`preflight.rollback-ready`), and later each app
//! deployed anew (`verify.apps-deployed`). Only a `complete` release counts as deployed, and
//! only a `complete` one is a rollback target: `flyctl releases --json` lists failed,
//! interrupted, pending and running releases too (`fixtures/api/README.md` F8).

use serde_json::{Value, json};

use crate::checks::fly::FlyApps;
use crate::checks::fly::machines::{Wanted, judge_fleet, running_versions};
use crate::checks::fly::{AppResult, combine, fly_apps, with};
use crate::checks::join_all;
use crate::clients::fly::{Fly, Machine, Release};
use crate::journal::state::RunState;
use crate::model::checklist::{FlyReleasesCheck, ReleasesMode};
use crate::model::facts::Fact;
pub use crate::model::facts::RollbackTarget;
use crate::model::outcome::{Outcome, Status};

/// The rollback targets recorded in the run (by its item that records them), if any.
pub fn recorded_targets(run: &RunState) -> Option<Vec<RollbackTarget>> {
    run.rollback_targets().ok().map(<[RollbackTarget]>::to_vec)
}

/// The exact command that rolls `target`'s app back to it.
pub fn rollback_command(fly: &Fly, target: &RollbackTarget) -> String {
    fly.display(&Fly::deploy_args(&target.fly_app, &target.image_ref))
}

/// `fly.releases`: `record` (`preflight.rollback-ready`) or `deployed` (`verify.apps-deployed`).
pub async fn releases(
    spec: &FlyReleasesCheck,
    flyapps: &FlyApps<'_>,
    run: Option<&RunState>,
) -> Outcome {
    match spec.mode {
        ReleasesMode::Record => record(spec, flyapps).await,
        ReleasesMode::Deployed => deployed(spec, flyapps, run).await,
    }
}

async fn record(spec: &FlyReleasesCheck, flyapps: &FlyApps<'_>) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let fly = &flyapps.fly;
    let futs = apps
        .iter()
        .map(|(app, fly_app)| record_app(fly, &app.name, fly_app));
    let results = join_all(futs.collect()).await;
    let mut targets = Vec::new();
    let mut parts = Vec::new();
    for (_, t) in &results {
        if let Some(t) = t {
            parts.push(format!("{} v{}", t.app, t.version));
            targets.push(t.clone());
        }
    }
    let commands: Vec<String> = targets.iter().map(|t| rollback_command(fly, t)).collect();
    let mut extra = serde_json::Map::new();
    extra.insert("targets".into(), json!(targets));
    extra.insert("commands".into(), json!(commands));
    let outcome = combine(
        flyapps,
        results.into_iter().map(|(r, _)| r).collect(),
        |_| {
            format!(
                "rollback targets recorded: {}; roll back with `shipcheck rollback --strategy platform`",
                parts.join(", ")
            )
        },
        extra,
    );
    if outcome.status == Status::Pass && !targets.is_empty() {
        outcome.with_fact(Fact::RollbackTargets { targets })
    } else {
        outcome
    }
}

async fn record_app(fly: &Fly, name: &str, fly_app: &str) -> (AppResult, Option<RollbackTarget>) {
    let base = json!({ "app": name, "fly_app": fly_app });
    match fly.releases(fly_app).await {
        Ok(list) => pick_target(name, fly_app, &list),
        Err(e) => (
            AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            ),
            None,
        ),
    }
}

/// The rollback target among `list` (newest first): the newest `complete` release, never
/// one that failed, was interrupted or is still under way; none while a deploy is in flight.
pub(crate) fn pick_target(
    name: &str,
    fly_app: &str,
    list: &[Release],
) -> (AppResult, Option<RollbackTarget>) {
    let base = json!({ "app": name, "fly_app": fly_app });
    let Some(newest) = list.first() else {
        return (
            AppResult::new(
                Status::Error,
                format!("{fly_app} has no releases; nothing to roll back to"),
                base,
            ),
            None,
        );
    };
    if newest.is_in_flight() {
        return (
            AppResult::new(
                Status::Fail,
                format!(
                    "{fly_app}: a deploy is in progress (v{} {}); record the target when it has finished",
                    newest.version, newest.status
                ),
                with(base, "newest", release_json(newest)),
            ),
            None,
        );
    }
    let Some(current) = list.iter().find(|r| r.is_complete()) else {
        return (
            AppResult::new(
                Status::Error,
                format!(
                    "{fly_app} has no complete release among its last {} (newest v{} {}); there is nothing to roll back to",
                    list.len(),
                    newest.version,
                    newest.status
                ),
                with(base, "newest", release_json(newest)),
            ),
            None,
        );
    };
    if current.image_ref.is_empty() {
        return (
            AppResult::new(
                Status::Error,
                format!(
                    "{fly_app} v{}: flyctl gave no ImageRef; it cannot be redeployed by image",
                    current.version
                ),
                with(base, "current", release_json(current)),
            ),
            None,
        );
    }
    let target = RollbackTarget {
        app: name.to_string(),
        fly_app: fly_app.to_string(),
        version: current.version,
        image_ref: current.image_ref.clone(),
        status: current.status.clone(),
        created_at: current.created_at.clone(),
    };
    let mut evidence = with(base, "current", release_json(current));
    let mut line = format!("{name} v{}", current.version);
    if newest.version != current.version {
        let note = format!(
            "the newest release v{} is {}; the target is v{}, the newest complete one",
            newest.version, newest.status, current.version
        );
        line = format!("{line} (v{} {})", newest.version, newest.status);
        evidence = with(evidence, "note", json!(note));
    }
    (AppResult::new(Status::Pass, line, evidence), Some(target))
}

pub(crate) fn release_json(r: &Release) -> Value {
    json!({ "version": r.version, "status": r.status, "image_ref": r.image_ref, "created_at": r.created_at })
}

pub(crate) fn targets_of(run: Option<&RunState>) -> Option<Vec<RollbackTarget>> {
    run.and_then(recorded_targets)
}

async fn deployed(
    spec: &FlyReleasesCheck,
    flyapps: &FlyApps<'_>,
    run: Option<&RunState>,
) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let targets = match run.map(|r| r.rollback_targets()) {
        Some(Ok(t)) => t.to_vec(),
        Some(Err(missing)) => {
            return Outcome::error(
                format!("{missing}; without it a new release cannot be told from the old one"),
                Value::Null,
            );
        }
        None => {
            return Outcome::error(
                "this check belongs to a run: it compares with the releases recorded before the deploy; run it with `shipcheck next`",
                Value::Null,
            );
        }
    };
    let fly = &flyapps.fly;
    let futs = apps.iter().map(|(app, fly_app)| {
        let target = targets.iter().find(|t| t.fly_app == *fly_app).cloned();
        deployed_app(flyapps, fly, &app.name, fly_app, target)
    });
    let results = join_all(futs.collect()).await;
    combine(
        flyapps,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("every app deployed: {}", parts.join(", "))
        },
        serde_json::Map::new(),
    )
}

async fn deployed_app(
    flyapps: &FlyApps<'_>,
    fly: &Fly,
    name: &str,
    fly_app: &str,
    target: Option<RollbackTarget>,
) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "before": target });
    let Some(target) = target else {
        return AppResult::new(
            Status::Error,
            format!("{fly_app}: no release recorded before the deploy"),
            base,
        );
    };
    let (list, machines) = tokio::join!(fly.releases(fly_app), fly.machines_list(fly_app));
    match (list, machines) {
        (Ok(list), Ok(machines)) => judge_deployed(
            name,
            fly_app,
            &target,
            &list,
            &machines,
            flyapps.clock.now(),
        ),
        (Err(e), _) | (_, Err(e)) => AppResult::new(
            Status::Error,
            e.to_string(),
            with(base, "error", json!(e.to_string())),
        ),
    }
}

/// Deployed: a release newer than `target`, `complete`, and every Machine that should run it
/// on it (started, or idle by design).
pub(crate) fn judge_deployed(
    name: &str,
    fly_app: &str,
    target: &RollbackTarget,
    list: &[Release],
    machines: &[Machine],
    now: jiff::Timestamp,
) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "before": target });
    let Some(newest) = list.first() else {
        return AppResult::new(Status::Error, format!("{fly_app} lists no releases"), base);
    };
    let evidence = with(base, "newest", release_json(newest));
    let running = running_versions(machines);
    if newest.version <= target.version {
        return AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: no release since v{} (newest v{}); {running}",
                target.version, newest.version
            ),
            evidence,
        );
    }
    if !newest.is_complete() {
        let odd = if newest.is_known_status() {
            ""
        } else {
            " (a status shipcheck does not know)"
        };
        return AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: v{} is {}{odd}, not complete; {running}",
                newest.version, newest.status
            ),
            evidence,
        );
    }
    let wanted = Wanted {
        version: newest.version,
        image: &newest.image_ref,
    };
    let fleet = judge_fleet(machines, wanted, now);
    let ok = format!(
        "{name} v{}→v{} ({})",
        target.version, newest.version, fleet.fine
    );
    fleet.result(
        ok,
        &format!("{fly_app} v{}", newest.version),
        evidence,
        false,
    )
}

#[cfg(test)]
#[path = "releases_tests.rs"]
mod tests;
