//! `fly.releases` (record the rollback targets; later, each app deployed anew) and
//! `fly.status` (machines started, on the current release, checks passing).

use serde_json::{Value, json};

use crate::checks::fly::{AppResult, combine, fly_apps, with};
use crate::checks::{CheckContext, join_all};
use crate::clients::fly::{Fly, Release};
use crate::journal::state::RunState;
use crate::model::checklist::{FlyReleasesCheck, FlyStatusCheck, ReleasesMode};
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
pub async fn releases(spec: &FlyReleasesCheck, ctx: &CheckContext) -> Outcome {
    match spec.mode {
        ReleasesMode::Record => record(spec, ctx).await,
        ReleasesMode::Deployed => deployed(spec, ctx).await,
    }
}

async fn record(spec: &FlyReleasesCheck, ctx: &CheckContext) -> Outcome {
    let apps = match fly_apps(ctx, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let fly = ctx.fly();
    let futs = apps
        .iter()
        .map(|(app, fly_app)| record_app(&fly, &app.name, fly_app));
    let results = join_all(futs.collect()).await;
    let mut targets = Vec::new();
    let mut parts = Vec::new();
    for (_, t) in &results {
        if let Some(t) = t {
            parts.push(format!("{} v{}", t.app, t.version));
            targets.push(t.clone());
        }
    }
    let commands: Vec<String> = targets.iter().map(|t| rollback_command(&fly, t)).collect();
    let mut extra = serde_json::Map::new();
    extra.insert("targets".into(), json!(targets));
    extra.insert("commands".into(), json!(commands));
    let outcome = combine(
        ctx,
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
    let list = match fly.releases(fly_app).await {
        Ok(l) => l,
        Err(e) => {
            return (
                AppResult::new(
                    Status::Error,
                    e.to_string(),
                    with(base, "error", json!(e.to_string())),
                ),
                None,
            );
        }
    };
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
    if newest.status.eq_ignore_ascii_case("running") {
        return (
            AppResult::new(
                Status::Fail,
                format!(
                    "{fly_app}: a deploy is in progress (v{} running); record the target when it has finished",
                    newest.version
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
                    "{fly_app} has no complete release among its last {}",
                    list.len()
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
    if newest.version != current.version {
        evidence = with(
            evidence,
            "note",
            json!(format!(
                "the newest release v{} is {}; the target is v{}, the newest complete one",
                newest.version, newest.status, current.version
            )),
        );
    }
    (
        AppResult::new(
            Status::Pass,
            format!("{name} v{}", current.version),
            evidence,
        ),
        Some(target),
    )
}

fn release_json(r: &Release) -> Value {
    json!({ "version": r.version, "status": r.status, "image_ref": r.image_ref, "created_at": r.created_at })
}

fn targets_of(ctx: &CheckContext) -> Option<Vec<RollbackTarget>> {
    ctx.run.as_deref().and_then(recorded_targets)
}

async fn deployed(spec: &FlyReleasesCheck, ctx: &CheckContext) -> Outcome {
    let apps = match fly_apps(ctx, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let targets = match ctx.run.as_deref().map(|r| r.rollback_targets()) {
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
    let fly = ctx.fly();
    let futs = apps.iter().map(|(app, fly_app)| {
        let target = targets.iter().find(|t| t.fly_app == *fly_app).cloned();
        deployed_app(&fly, &app.name, fly_app, target)
    });
    let results = join_all(futs.collect()).await;
    combine(
        ctx,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("every app deployed: {}", parts.join(", "))
        },
        serde_json::Map::new(),
    )
}

async fn deployed_app(
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
    let list = match fly.releases(fly_app).await {
        Ok(l) => l,
        Err(e) => {
            return AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            );
        }
    };
    let Some(newest) = list.first() else {
        return AppResult::new(Status::Error, format!("{fly_app} lists no releases"), base);
    };
    let evidence = with(base, "newest", release_json(newest));
    if newest.version <= target.version {
        AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: no release since v{} (newest v{})",
                target.version, newest.version
            ),
            evidence,
        )
    } else if !newest.is_complete() {
        AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: v{} is {}, not complete",
                newest.version, newest.status
            ),
            evidence,
        )
    } else {
        AppResult::new(
            Status::Pass,
            format!("{name} v{}→v{}", target.version, newest.version),
            evidence,
        )
    }
}

/// `fly.status` (`rollout.fly-status`): each app's machines started, on the app's current
/// release (and that release newer than the recorded target, when the run has one), every
/// health check passing.
pub async fn status(spec: &FlyStatusCheck, ctx: &CheckContext) -> Outcome {
    let apps = match fly_apps(ctx, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let targets = targets_of(ctx).unwrap_or_default();
    let fly = ctx.fly();
    let wait = spec
        .wait
        .map(|w| w.get())
        .unwrap_or(FlyStatusCheck::DEFAULT_WAIT);
    let started = ctx.clock.now();
    // Bounded in time (`wait`) and in count (one read every 10 s).
    let max_reads = (wait.as_secs() / STATUS_POLL.as_secs())
        .saturating_add(1)
        .min(1000);
    let mut reads = 0;
    let results = loop {
        let futs = apps.iter().map(|(app, fly_app)| {
            let before = targets
                .iter()
                .find(|t| t.fly_app == *fly_app)
                .map(|t| t.version);
            status_app(&fly, &app.name, fly_app, before)
        });
        let results = join_all(futs.collect()).await;
        reads += 1;
        // Only a deploy that is still landing is waited for; an error (flyctl could not
        // answer) is reported at once.
        let landing = results.iter().any(|r| r.status == Status::Fail)
            && results.iter().all(|r| r.status != Status::Error);
        let waited = ctx.clock.now().duration_since(started).unsigned_abs();
        if !landing || reads >= max_reads || waited + STATUS_POLL > wait {
            break results;
        }
        ctx.clock.sleep(STATUS_POLL).await;
    };
    combine(
        ctx,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("machines healthy: {}", parts.join(", "))
        },
        serde_json::Map::new(),
    )
}

/// How often `fly.status` reads again while a deploy lands.
const STATUS_POLL: std::time::Duration = std::time::Duration::from_secs(10);

async fn status_app(fly: &Fly, name: &str, fly_app: &str, before: Option<u64>) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "version_before": before });
    let s = match fly.status(fly_app).await {
        Ok(s) => s,
        Err(e) => {
            return AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            );
        }
    };
    let machines: Vec<_> = s.machines.iter().filter(|m| m.is_active()).collect();
    let mut problems = Vec::new();
    let listed: Vec<Value> = machines
        .iter()
        .map(|m| {
            let failing: Vec<String> = m
                .failing_checks()
                .iter()
                .map(|c| format!("{} {}", c.name, c.status))
                .collect();
            let mut why = Vec::new();
            if m.state != "started" {
                why.push(m.state.clone());
            }
            match m.release_version() {
                Some(v) if v == s.version => {}
                Some(v) => why.push(format!("on v{v}")),
                None => why.push("release unknown".into()),
            }
            why.extend(failing.iter().cloned());
            if !why.is_empty() {
                problems.push(format!("machine {} {}", m.id, why.join(", ")));
            }
            json!({ "id": m.id, "state": m.state, "region": m.region, "release": m.release_version(), "failing_checks": failing })
        })
        .collect();
    let evidence = with(
        with(base, "version", json!(s.version)),
        "machines",
        Value::Array(listed),
    );
    if machines.is_empty() {
        return AppResult::new(Status::Fail, format!("{fly_app} has no machines"), evidence);
    }
    if let Some(b) = before
        && s.version <= b
    {
        problems.insert(
            0,
            format!(
                "still on v{} (v{b} was current before the deploy)",
                s.version
            ),
        );
    }
    if problems.is_empty() {
        AppResult::new(
            Status::Pass,
            format!("{name} {}× started on v{}", machines.len(), s.version),
            evidence,
        )
    } else {
        AppResult::new(
            Status::Fail,
            format!("{fly_app}: {}", problems.join("; ")),
            evidence,
        )
    }
}
