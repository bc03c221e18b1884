//! The Fly checks and actions against the flyctl stand-in, including every fault knob.

// Tests say a failure by panicking: unwrap, expect and panic are how they assert.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use serde_json::Value;
use shipcheck_core::actions::ActionContext;
use shipcheck_core::actions::fly::{
    ScaleCounts, plan_rollback_platform, plan_stop, rollback_platform, stop, stop_undo,
};
use shipcheck_core::clients::Clients;
use shipcheck_core::clients::fly::{Fly, FlyError};
use shipcheck_core::engine::runner::Deps;
use shipcheck_core::journal::state::RunState;
use shipcheck_core::model::checklist::{
    CheckSpec, Checklist, FlyEnvCheck, FlyLogsCheck, FlyRegionCheck, FlyReleasesCheck,
    FlySecretsCheck, FlyStatusCheck, ReleasesMode,
};
use shipcheck_core::model::clock::ManualClock;
use shipcheck_core::model::config::{App, Config, Environment};
use shipcheck_core::model::duration::Span;
use shipcheck_core::model::event::{Event, StoredEvent};
use shipcheck_core::model::outcome::{Outcome, Status};
use shipcheck_sandbox::FlyWorld;
use shipcheck_sandbox::fly::SecretsShape;
use tempfile::TempDir;

const STANDIN: &str = env!("CARGO_BIN_EXE_flyctl-standin");
const NAMES: [&str; 3] = ["internal-api", "agent-registration", "public-api"];
/// Builder-made releases are at 09:00; an hour later the 5-minute log window is over.
const NOW: &str = "2026-11-24T10:00:00Z";

fn prod(name: &str) -> String {
    format!("acme-production-{name}")
}

/// A seeded world in a temporary directory.
fn seeded() -> (TempDir, FlyWorld) {
    let tmp = tempfile::tempdir().unwrap();
    let world = FlyWorld::new(tmp.path().join("fly")).seed("acme");
    (tmp, world)
}

fn config(world: &FlyWorld) -> Config {
    let mut c = Config::default();
    c.fly.command = world.command([STANDIN]);
    c.fly.timeout = Span::secs(10);
    for env in ["staging", "production"] {
        let apps = NAMES
            .iter()
            .map(|n| App {
                name: n.to_string(),
                fly_app: Some(format!("acme-{env}-{n}")),
                health_url: None,
                expect_status: 200,
                region: Some("fra".into()),
                required_secrets: vec!["DATABASE_URL".into()],
                version: None,
                sentry_project: None,
            })
            .collect();
        c.environments.insert(env.into(), Environment { apps });
    }
    c
}

fn ctx_at(config: Config, now: &str) -> Deps {
    let clock = Arc::new(ManualClock::new(now.parse().unwrap()));
    let mut clients = Clients::new(Arc::new(config), std::env::temp_dir(), clock);
    clients.secrets = Arc::new(Vec::new());
    Deps::new(clients, Arc::new(Checklist::builtin()))
}

fn ctx(world: &FlyWorld) -> Deps {
    world.save().unwrap();
    ctx_at(config(world), NOW)
}

async fn check(spec: CheckSpec, ctx: &Deps) -> Outcome {
    shipcheck_core::engine::runner::run_check(&spec, ctx).await
}

fn region() -> CheckSpec {
    CheckSpec::FlyRegion(FlyRegionCheck {
        env: "production".into(),
        regions: vec![],
    })
}
fn secrets(fail_on_pending: bool) -> CheckSpec {
    CheckSpec::FlySecrets(FlySecretsCheck {
        env: "production".into(),
        compare_with: "staging".into(),
        fail_on_pending,
    })
}
fn env_diff() -> CheckSpec {
    CheckSpec::FlyEnv(FlyEnvCheck {
        env: "production".into(),
        compare_with: "staging".into(),
    })
}
fn releases(mode: ReleasesMode) -> CheckSpec {
    CheckSpec::FlyReleases(FlyReleasesCheck {
        env: "production".into(),
        mode,
    })
}
fn status() -> CheckSpec {
    CheckSpec::FlyStatus(FlyStatusCheck {
        env: "production".into(),
        // Three reads while a deploy lands (the clock is manual: no real waiting).
        wait: Some(Span::secs(20)),
    })
}
fn logs() -> CheckSpec {
    CheckSpec::FlyLogs(FlyLogsCheck {
        env: "production".into(),
        max_lines: None,
    })
}

/// A run whose events are `run_started` and then the given item evidence / not-required
/// items.
fn run_with(checks: &[(&str, &Outcome)], not_required: &[&str]) -> Arc<RunState> {
    let at = NOW.parse().unwrap();
    let ev = |seq, event| StoredEvent {
        run_id: "r1".into(),
        seq,
        at,
        event,
        prev_hash: String::new(),
        hash: String::new(),
    };
    let mut events = vec![ev(
        1,
        Event::RunStarted {
            project: "acme".into(),
            env: "production".into(),
            by: "ana".into(),
            scheduled_at: None,
            config_digest: "x".into(),
            config: None,
            items: Checklist::builtin().items,
        },
    )];
    for (item, o) in checks {
        let seq = events.len() as i64 + 1;
        events.push(ev(
            seq,
            Event::CheckFinished {
                item: item.to_string(),
                status: o.status,
                summary: o.summary.clone(),
                evidence: o.evidence.clone(),
                duration_ms: 1,
                facts: o.facts.clone(),
            },
        ));
    }
    for item in not_required {
        let seq = events.len() as i64 + 1;
        events.push(ev(
            seq,
            Event::ItemNotRequired {
                item: item.to_string(),
                reason: "no migration changed".into(),
            },
        ));
    }
    Arc::new(RunState::fold(&events).unwrap())
}

/// Records the rollback targets, then "deploys" v2 of every production app.
async fn recorded_then_deployed(world: FlyWorld) -> (FlyWorld, Deps) {
    let mut c = ctx(&world);
    let recorded = check(releases(ReleasesMode::Record), &c).await;
    assert_eq!(recorded.status, Status::Pass, "{}", recorded.summary);
    let mut world = world;
    for n in NAMES {
        world = world.release(&prod(n), "complete");
    }
    world.save().unwrap();
    c.run = Some(run_with(
        &[("preflight.rollback-ready", &recorded)],
        &["prepare.db-rollback-plan", "prepare.migrations-tested"],
    ));
    (world, c)
}

fn actx(c: &Deps, dry_run: bool) -> ActionContext {
    ActionContext {
        clients: c.clients.clone(),
        run: c.run.clone(),
        by: "ana".into(),
        message: None,
        dry_run,
    }
}

fn deploys(world: &FlyWorld) -> Vec<Vec<String>> {
    world
        .invocations()
        .into_iter()
        .filter(|a| a.first().map(String::as_str) == Some("deploy"))
        .collect()
}

#[path = "fly/checks.rs"]
mod each_check;
#[path = "fly/actions.rs"]
mod rollback_and_stop;
#[path = "fly/shapes.rs"]
mod shapes;
#[path = "fly/world.rs"]
mod world;
