//! The Fly checks and actions against the flyctl stand-in, including every fault knob.

use std::sync::Arc;

use serde_json::Value;
use shipcheck_core::actions::ActionContext;
use shipcheck_core::actions::fly::{
    ScaleCounts, plan_rollback_platform, plan_stop, rollback_platform, stop, stop_undo,
};
use shipcheck_core::checklist::{
    CheckSpec, Checklist, FlyEnvCheck, FlyLogsCheck, FlyRegionCheck, FlyReleasesCheck,
    FlySecretsCheck, FlyStatusCheck, ReleasesMode,
};
use shipcheck_core::checks::{self, CheckContext, Outcome, Status};
use shipcheck_core::clock::ManualClock;
use shipcheck_core::config::{App, Config, Environment};
use shipcheck_core::duration::Span;
use shipcheck_core::integrations::fly::{Fly, FlyError};
use shipcheck_core::run::{Event, RunState, StoredEvent};
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
            })
            .collect();
        c.environments.insert(env.into(), Environment { apps });
    }
    c
}

fn ctx_at(config: Config, now: &str) -> CheckContext {
    let clock = Arc::new(ManualClock::new(now.parse().unwrap()));
    let mut ctx = CheckContext::new(
        Arc::new(config),
        std::env::temp_dir(),
        Arc::new(Checklist::builtin()),
        clock,
    );
    ctx.secrets = Arc::new(Vec::new());
    ctx
}

fn ctx(world: &FlyWorld) -> CheckContext {
    world.save().unwrap();
    ctx_at(config(world), NOW)
}

async fn check(spec: CheckSpec, ctx: &CheckContext) -> Outcome {
    checks::run(&spec, ctx).await
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
async fn recorded_then_deployed(world: FlyWorld) -> (FlyWorld, CheckContext) {
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

fn actx(c: &CheckContext, dry_run: bool) -> ActionContext {
    ActionContext {
        check: c.clone(),
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

// ───────────────────────── region ─────────────────────────

#[tokio::test]
async fn region_pass_fail_and_error() {
    let (_t, world) = seeded();
    let o = check(region(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["apps"].as_array().unwrap().len(), 3);
    assert_eq!(
        o.evidence["apps"][0]["machines"].as_array().unwrap().len(),
        2
    );

    let world = world.machine_in_region(&prod("public-api"), "iad");
    let o = check(region(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("in iad (expected fra)"), "{}", o.summary);

    let world = world.garbage(&prod("internal-api"), "status");
    let o = check(region(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("cannot read"), "{}", o.summary);
    assert!(o.summary.contains("502 Bad Gateway"), "{}", o.summary);
}

#[tokio::test]
async fn region_truncated_json_and_missing_region_are_errors() {
    let (_t, world) = seeded();
    let world = world.truncated(&prod("agent-registration"), "status");
    let o = check(region(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Error, "{}", o.summary);
    assert!(o.summary.contains("EOF"), "{}", o.summary);

    let (_t, world) = seeded();
    world.save().unwrap();
    let mut cfg = config(&world);
    cfg.environments.get_mut("production").unwrap().apps[0].region = None;
    let o = check(region(), &ctx_at(cfg, NOW)).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("no region configured"), "{}", o.summary);
}

#[tokio::test]
async fn flyctl_missing_is_a_typed_not_found_error() {
    let (_t, world) = seeded();
    world.save().unwrap();
    let mut cfg = config(&world);
    cfg.fly.command = vec!["/nonexistent/flyctl".into()];
    let err = Fly::new(&cfg.fly, &[]).status("x").await.unwrap_err();
    assert!(matches!(err, FlyError::NotFound { .. }), "{err}");
    assert_eq!(err.exit_code(), 3);
    let o = check(region(), &ctx_at(cfg, NOW)).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("https://fly.io/docs/flyctl/install/"),
        "{}",
        o.summary
    );
}

// ───────────────────────── secrets ─────────────────────────

#[tokio::test]
async fn secrets_pass_in_all_three_shapes() {
    for shape in [
        SecretsShape::Current,
        SecretsShape::NoStatus,
        SecretsShape::MachinesApi,
        SecretsShape::Graphql,
    ] {
        let (_t, world) = seeded();
        let o = check(secrets(false), &ctx(&world.secrets_shape(shape))).await;
        assert_eq!(o.status, Status::Pass, "{shape:?}: {}", o.summary);
    }
}

#[tokio::test]
async fn secrets_missing_required_or_from_staging_fail() {
    let (_t, mut world) = seeded();
    world
        .state
        .apps
        .get_mut(&prod("internal-api"))
        .unwrap()
        .secrets
        .retain(|s| s.name != "DATABASE_URL");
    let world = world.secret("acme-staging-public-api", "STRIPE_KEY");
    let o = check(secrets(false), &ctx(&world)).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("missing required DATABASE_URL"),
        "{}",
        o.summary
    );
    assert!(
        o.summary
            .contains("missing STRIPE_KEY that acme-staging-public-api has"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn staged_secret_is_reported_and_can_fail() {
    let (_t, world) = seeded();
    let world = world.staged_secret(&prod("public-api"), "NEW_FLAG");
    let c = ctx(&world);
    let o = check(secrets(false), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary
            .contains("NEW_FLAG Staged on acme-production-public-api"),
        "{}",
        o.summary
    );
    let o = check(secrets(true), &c).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
}

#[tokio::test]
async fn secrets_flyctl_failure_is_an_error_quoting_stderr() {
    let (_t, world) = seeded();
    let world = world.failing(
        "acme-staging-internal-api",
        "secrets",
        "not authorized to access this app",
    );
    let o = check(secrets(false), &ctx(&world)).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("not authorized"), "{}", o.summary);
}

// ───────────────────────── env ─────────────────────────

#[tokio::test]
async fn env_differences_are_evidence() {
    let (_t, world) = seeded();
    let world = world.env("acme-staging-internal-api", "DEBUG", "1");
    let o = check(env_diff(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary
            .contains("internal-api: 1 differ (APP_ENV), only in staging: DEBUG"),
        "{}",
        o.summary
    );
    let first = &o.evidence["apps"][0];
    assert_eq!(first["different"][0]["key"], "APP_ENV");
    assert_eq!(first["different"][0]["staging"], "staging");
    assert_eq!(first["different"][0]["production"], "production");

    let world = world.garbage(&prod("public-api"), "config");
    let o = check(env_diff(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Error, "{}", o.summary);
}

// ───────────────────────── releases ─────────────────────────

#[tokio::test]
async fn releases_record_targets_and_commands() {
    let (_t, world) = seeded();
    let o = check(releases(ReleasesMode::Record), &ctx(&world)).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let t = &o.evidence["targets"][0];
    assert_eq!(t["app"], "internal-api");
    assert_eq!(t["fly_app"], prod("internal-api"));
    assert_eq!(t["version"], 1);
    assert_eq!(t["image_ref"], FlyWorld::image_of(&prod("internal-api"), 1));
    assert_eq!(t["status"], "complete");
    let cmd = o.evidence["commands"][0].as_str().unwrap();
    assert!(
        cmd.ends_with(&format!(
            "deploy --image {} -a {} --yes --strategy immediate",
            FlyWorld::image_of(&prod("internal-api"), 1),
            prod("internal-api")
        )),
        "{cmd}"
    );

    let world = world.release(&prod("public-api"), "running");
    let o = check(releases(ReleasesMode::Record), &ctx(&world)).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("deploy is in progress"), "{}", o.summary);

    let world = world.garbage(&prod("internal-api"), "releases");
    let o = check(releases(ReleasesMode::Record), &ctx(&world)).await;
    assert_eq!(o.status, Status::Error);
}

#[tokio::test]
async fn releases_deployed_pass_fail_and_error() {
    let (_t, world) = seeded();
    let c = ctx(&world);
    let o = check(releases(ReleasesMode::Deployed), &c).await;
    assert_eq!(o.status, Status::Error, "no run, no recorded targets");

    let (world, c) = recorded_then_deployed(world).await;
    let o = check(releases(ReleasesMode::Deployed), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);

    let world = world.release(&prod("public-api"), "failed");
    world.save().unwrap();
    let o = check(releases(ReleasesMode::Deployed), &c).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("v3 is failed"), "{}", o.summary);

    let (_t2, fresh) = seeded();
    let mut c2 = ctx(&fresh);
    c2.run = c.run.clone();
    let o = check(releases(ReleasesMode::Deployed), &c2).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("no release since v1"), "{}", o.summary);
}

// ───────────────────────── status ─────────────────────────

#[tokio::test]
async fn status_pass_and_each_failure() {
    let (_t, world) = seeded();
    let (world, c) = recorded_then_deployed(world).await;
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);

    let w = world.clone().failing_check(&prod("internal-api"));
    w.save().unwrap();
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("critical"), "{}", o.summary);

    let w = world
        .clone()
        .machine_state(&prod("internal-api"), "stopped");
    w.save().unwrap();
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("stopped"), "{}", o.summary);

    let w = world
        .clone()
        .failing(&prod("public-api"), "status", "unauthorized");
    w.save().unwrap();
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Error);

    // Not deployed yet: still on the recorded release.
    let (_t2, fresh) = seeded();
    let mut c2 = ctx(&fresh);
    c2.run = c.run.clone();
    let o = check(status(), &c2).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("still on v1"), "{}", o.summary);
}

// ───────────────────────── logs ─────────────────────────

fn with_logs(world: FlyWorld) -> FlyWorld {
    let mut w = world;
    for n in NAMES {
        w = w
            .log(
                &prod(n),
                "2026-11-24T08:59:00Z",
                "error",
                "before the deploy: ignored",
                0,
            )
            .log(
                &prod(n),
                "2026-11-24T09:01:00Z",
                "info",
                "GET /health 200 1ms",
                200,
            )
            .log(
                &prod(n),
                "2026-11-24T09:02:00Z",
                "info",
                "GET /api 200 4ms",
                200,
            );
    }
    w
}

#[tokio::test]
async fn logs_pass_and_each_error_pattern_fails() {
    let (_t, world) = seeded();
    let world = with_logs(world);
    let o = check(logs(), &ctx(&world)).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["apps"][0]["scanned"], 2);

    for (level, message, code, why) in [
        ("error", "db timeout", 200, "level error"),
        (
            "info",
            "thread 'main' panicked at src/main.rs",
            0,
            "message matches",
        ),
        ("info", "GET /api 503 2ms", 503, "HTTP 503"),
    ] {
        let w = world.clone().log(
            &prod("public-api"),
            "2026-11-24T09:03:00Z",
            level,
            message,
            code,
        );
        let o = check(logs(), &ctx(&w)).await;
        assert_eq!(o.status, Status::Fail, "{message}");
        assert!(o.summary.contains(why), "{}", o.summary);
        let app = &o.evidence["apps"][2];
        assert_eq!(app["errors"], 1);
        assert_eq!(app["first_errors"][0]["message"], message);
    }
}

#[tokio::test]
async fn logs_wait_for_the_window_to_close() {
    let (_t, world) = seeded();
    let world = with_logs(world);
    world.save().unwrap();
    let c = ctx_at(config(&world), "2026-11-24T09:02:00Z");
    let o = check(logs(), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(c.clock.now() >= "2026-11-24T09:05:00Z".parse().unwrap());
}

#[tokio::test]
async fn logs_hanging_is_cut_at_the_timeout() {
    // With lines: they are scanned, flagged partial.
    let (_t, world) = seeded();
    let world = with_logs(world).hanging_logs(&prod("internal-api"));
    world.save().unwrap();
    let mut cfg = config(&world);
    cfg.fly.timeout = Span::secs(2);
    let start = std::time::Instant::now();
    let o = check(logs(), &ctx_at(cfg, NOW)).await;
    assert!(start.elapsed() < std::time::Duration::from_secs(9));
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["apps"][0]["partial"], true);
    assert_eq!(o.evidence["apps"][0]["scanned"], 2);
    assert!(o.summary.contains("cut at the timeout"), "{}", o.summary);

    // No line at all: flyctl never returns; an error, not a hang and not a pass.
    let (_t, world) = seeded();
    world.save().unwrap();
    let mut cfg = config(&world);
    cfg.fly.timeout = Span::secs(2);
    let start = std::time::Instant::now();
    let o = check(logs(), &ctx_at(cfg, NOW)).await;
    assert!(start.elapsed() < std::time::Duration::from_secs(9));
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("printed no line"), "{}", o.summary);
}

#[tokio::test]
async fn logs_garbage_and_truncated_are_errors() {
    for fault in ["garbage", "truncate"] {
        let (_t, world) = seeded();
        let world = with_logs(world);
        let world = if fault == "garbage" {
            world.garbage(&prod("internal-api"), "logs")
        } else {
            world.truncated(&prod("internal-api"), "logs")
        };
        let o = check(logs(), &ctx(&world)).await;
        assert_eq!(o.status, Status::Error, "{fault}: {}", o.summary);
        assert!(o.summary.contains("cannot read"), "{}", o.summary);
    }
}

// ───────────────────────── rollback ─────────────────────────

#[tokio::test]
async fn rollback_redeploys_each_recorded_image_exactly_once() {
    let (_t, world) = seeded();
    let (mut world, c) = recorded_then_deployed(world).await;
    let a = actx(&c, false);
    let plan = plan_rollback_platform(&a, None).await.unwrap();
    assert_eq!(plan.commands().len(), 3);
    assert!(
        plan.warnings.iter().all(|w| !w.contains("migrations")),
        "{:?}",
        plan.warnings
    );

    let r = rollback_platform(&a, None).await.unwrap();
    assert!(r.summary.starts_with("rolled back"), "{}", r.summary);
    let d = deploys(&world);
    assert_eq!(d.len(), 3, "{d:?}");
    for (args, n) in d.iter().zip(NAMES) {
        let app = prod(n);
        let image = FlyWorld::image_of(&app, 1);
        assert_eq!(
            args,
            &[
                "deploy",
                "--image",
                &image,
                "-a",
                &app,
                "--yes",
                "--strategy",
                "immediate"
            ]
        );
    }
    world.reload().unwrap();
    let (v, st, img) = world.newest_release(&prod("public-api")).unwrap();
    assert_eq!(
        (v, st.as_str(), img),
        (3, "complete", FlyWorld::image_of(&prod("public-api"), 1))
    );

    // Again (a resumed run): nothing is deployed twice.
    let again = rollback_platform(&a, None).await.unwrap();
    assert!(again.summary.contains("already on v3"), "{}", again.summary);
    assert_eq!(deploys(&world).len(), 3);
}

#[tokio::test]
async fn rollback_after_a_crash_deploys_each_app_once() {
    let (_t, world) = seeded();
    let (world, c) = recorded_then_deployed(world).await;
    let a = actx(&c, false);
    // The first run got as far as the first app before it crashed.
    rollback_platform(&a, Some(&["internal-api".to_string()]))
        .await
        .unwrap();
    assert_eq!(deploys(&world).len(), 1);
    rollback_platform(&a, None).await.unwrap();
    let d = deploys(&world);
    assert_eq!(d.len(), 3, "{d:?}");
    for n in NAMES {
        assert_eq!(d.iter().filter(|x| x[4] == prod(n)).count(), 1, "{n}");
    }
}

#[tokio::test]
async fn rollback_dry_run_changes_nothing() {
    let (_t, world) = seeded();
    let (mut world, c) = recorded_then_deployed(world).await;
    let before = world.state.clone();
    let r = rollback_platform(&actx(&c, true), None).await.unwrap();
    assert!(r.summary.contains("dry run"), "{}", r.summary);
    assert_eq!(r.evidence["plan"]["steps"].as_array().unwrap().len(), 3);
    assert!(deploys(&world).is_empty());
    world.reload().unwrap();
    assert_eq!(world.state, before);
}

#[tokio::test]
async fn rollback_stops_at_a_failed_deploy_and_says_what_was_done() {
    let (_t, world) = seeded();
    let (world, c) = recorded_then_deployed(world).await;
    let world = world.failing_deploy(&prod("agent-registration"));
    world.save().unwrap();
    let err = rollback_platform(&actx(&c, false), None).await.unwrap_err();
    assert!(
        err.message
            .contains("rollback of agent-registration failed"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("already rolled back: internal-api"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("not attempted: public-api"),
        "{}",
        err.message
    );
    assert_eq!(deploys(&world).len(), 2);
}

#[tokio::test]
async fn rollback_warns_about_migrations_and_pruned_images() {
    let (_t, world) = seeded();
    let (world, c) = recorded_then_deployed(world).await;
    let mut c = c;
    let recorded = c
        .run
        .as_ref()
        .unwrap()
        .record("preflight.rollback-ready")
        .unwrap();
    let outcome = Outcome::pass("recorded", recorded.evidence.clone());
    c.run = Some(run_with(&[("preflight.rollback-ready", &outcome)], &[]));
    let plan = plan_rollback_platform(&actx(&c, false), None)
        .await
        .unwrap();
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("migrations changed")),
        "{:?}",
        plan.warnings
    );

    let mut late = ctx_at(config(&world), "2026-12-24T10:00:00Z");
    late.run = c.run.clone();
    let plan = plan_rollback_platform(&actx(&late, false), None)
        .await
        .unwrap();
    assert!(
        plan.warnings.iter().any(|w| w.contains("pruned")),
        "{:?}",
        plan.warnings
    );

    let image = FlyWorld::image_of(&prod("internal-api"), 1);
    let world = world.pruned_image(&prod("internal-api"), &image);
    world.save().unwrap();
    let err = rollback_platform(&actx(&c, false), None).await.unwrap_err();
    assert!(err.message.contains("manifest unknown"), "{}", err.message);
}

// ───────────────────────── stop ─────────────────────────

#[tokio::test]
async fn stop_records_the_count_and_undo_restores_it() {
    let (_t, world) = seeded();
    let mut world = world.machine_in_region(&prod("public-api"), "fra");
    let c = ctx(&world);
    let app = "public-api";

    let plan = plan_stop(&actx(&c, false), app).await.unwrap();
    assert_eq!(plan.before.total(), 3);
    let dry = stop(&actx(&c, true), app).await.unwrap();
    assert_eq!(dry.evidence["dry_run"], true);
    world.reload().unwrap();
    assert_eq!(
        world.machine_count(&prod(app)),
        3,
        "dry run changed nothing"
    );

    let r = stop(&actx(&c, false), app).await.unwrap();
    assert_eq!(r.evidence["machines_before"], 3);
    world.reload().unwrap();
    assert_eq!(world.machine_count(&prod(app)), 0);
    let scale: Vec<_> = world
        .invocations()
        .into_iter()
        .filter(|a| a[0] == "scale")
        .collect();
    assert_eq!(
        scale,
        vec![vec!["scale", "count", "0", "-a", &prod(app), "--yes"]]
    );

    let counts = ScaleCounts::from_evidence(&r.evidence).unwrap();
    assert_eq!(counts.region.as_deref(), Some("fra"));
    let again = stop(&actx(&c, false), app).await.unwrap();
    assert_eq!(again.evidence["already_stopped"], true);

    let u = stop_undo(&actx(&c, false), app, &counts).await.unwrap();
    assert!(u.summary.contains("restored to 3"), "{}", u.summary);
    world.reload().unwrap();
    assert_eq!(world.machine_count(&prod(app)), 3);
    let u = stop_undo(&actx(&c, false), app, &counts).await.unwrap();
    assert!(u.summary.contains("nothing to do"), "{}", u.summary);
    assert!(
        stop_undo(&actx(&c, false), app, &ScaleCounts::from(0))
            .await
            .is_err()
    );
}

// ───────────────────────── the stand-in itself ─────────────────────────

fn standin(world: &FlyWorld, args: &[&str]) -> std::process::Output {
    std::process::Command::new(STANDIN)
        .args(["--state", &world.dir().display().to_string()])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn standin_behaves_like_flyctl_where_it_matters() {
    let (_t, world) = seeded();
    world.save().unwrap();
    let app = prod("internal-api");
    let out = standin(&world, &["status", "--json", "-a", &app]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("{\n    \"AppURL\""), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["Machines"][0]["region"], "fra");

    let out = standin(&world, &["releases", "rollback", "-a", &app]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command \"rollback\""));

    let out = standin(&world, &["scale", "count", "0", "-a", &app]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes flag must be specified"));

    let out = standin(&world, &["info", "-a", &app]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("deprecated"));

    let out = standin(&world, &["status", "--json", "-a", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(world.invocations().len(), 5);
}
