//! Each Fly check: pass, fail and error against the stand-in, with every fault knob.

use super::*;
use shipcheck_core::model::error::HasKind;

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
    assert_eq!(
        err.kind(),
        shipcheck_core::model::error::ErrorKind::Integration
    );
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
    let reads_before = status_reads(&fresh);
    let begun = c2.clients.clock.now();
    let o = check(status(), &c2).await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("no release since v1"), "{}", o.summary);
    // It kept reading while the deploy might still land, bounded by its wait (20s: three
    // reads of three apps, 10 s apart), then said what it saw.
    assert_eq!(status_reads(&fresh) - reads_before, 9);
    assert_eq!(c2.clients.clock.now().duration_since(begun).as_secs(), 20);
}

fn status_reads(world: &FlyWorld) -> usize {
    world
        .invocations()
        .iter()
        .filter(|a| a.first().map(String::as_str) == Some("status"))
        .count()
}

// ───────────────────────── logs ─────────────────────────

fn with_logs(world: FlyWorld) -> FlyWorld {
    let mut w = world;
    for n in NAMES {
        w = w
            .log(
                &prod(n),
                "2026-11-24T08:59:00Z",
                "info",
                "ERROR before the deploy: ignored",
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
    // An envelope saying `error` and 503 around a clean message is not the app's error.
    let w = world.clone().log(
        &prod("public-api"),
        "2026-11-24T09:03:00Z",
        "error",
        "GET /api 200 2ms",
        503,
    );
    let o = check(logs(), &ctx(&w)).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);

    for (level, message, code, why) in [
        // Fly labels every app line `info`: the app's level is in the message.
        ("info", "ERROR db timeout", 200, "level:error"),
        ("info", "thread 'main' panicked at src/main.rs", 0, "panic"),
        ("info", "GET /api 503 2ms", 503, "status:5xx"),
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
    assert!(c.clients.clock.now() >= "2026-11-24T09:05:00Z".parse().unwrap());
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
