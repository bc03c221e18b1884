//! The platform rollback, the emergency stop, and the stand-in itself.

use super::*;

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
async fn rollback_is_not_done_until_the_machines_are_healthy() {
    let (_t, world) = seeded();
    let (world, c) = recorded_then_deployed(world).await;
    let world = world.unhealthy_deploy(&prod("internal-api"));
    world.save().unwrap();
    let err = rollback_platform(&actx(&c, false), None).await.unwrap_err();
    assert!(
        err.message.contains("deployed but is not verified"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("check servicecheck-00-http-8080 critical"),
        "{}",
        err.message
    );
    assert_eq!(deploys(&world).len(), 1, "stops before the next app");
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
