//! The stand-in prints what flyctl prints (`fixtures/api/fly/`: flyctl's re-encoding of the
//! Machines API through fly-go's structs), and a fleet with auto-stop, a standby and a
//! worker group is judged as Fly means it.

use std::collections::BTreeSet;

use super::*;
use shipcheck_core::model::config::VersionSource;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/api/fly/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn standin_json(world: &FlyWorld, args: &[&str]) -> Value {
    let out = std::process::Command::new(STANDIN)
        .args(["--state", &world.dir().display().to_string()])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Go's encoder: 4-space indent, one value, a trailing newline.
    assert!(text.ends_with("\n") && text.contains("\n    "), "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A production app the way Fly runs them: auto-stop with one Machine idle, a standby, a
/// worker group without a service.
fn fleet() -> (TempDir, FlyWorld) {
    let (t, world) = seeded();
    let app = prod("agent-registration");
    let world = world
        .autostop(&app, "stop")
        .nth_machine_state(&app, 1, "stopped")
        .worker(&app, "worker", 1)
        .standby(&prod("public-api"))
        .autostop(&prod("internal-api"), "suspend")
        .nth_machine_state(&prod("internal-api"), 1, "suspended");
    world.save().unwrap();
    (t, world)
}

#[test]
fn machines_list_has_flyctls_shape() {
    let (_t, world) = fleet();
    let ours = standin_json(
        &world,
        &[
            "machines",
            "list",
            "-a",
            &prod("agent-registration"),
            "--json",
        ],
    );
    let theirs = fixture("machines-list-flyctl-groups-derived.json");
    let (app_m, worker_m) = (&theirs[0], &theirs[2]);
    let ours = ours.as_array().unwrap();
    assert_eq!(ours.len(), 3);
    // Every key flyctl prints, and only those (`host_status` is fly-go's too, omitted
    // in the fixture's source).
    let mut expected = keys(app_m);
    expected.insert("host_status".into());
    assert_eq!(keys(&ours[0]), expected);
    assert_eq!(keys(&ours[0]["config"]), {
        let mut k = keys(&app_m["config"]);
        k.insert("env".into());
        k
    });
    assert_eq!(
        keys(&ours[0]["config"]["services"][0]),
        keys(&app_m["config"]["services"][0])
    );
    assert_eq!(
        keys(&ours[0]["image_ref"]),
        keys(&app_m["image_ref"]),
        "no labels: omitted"
    );
    assert_eq!(
        ours[0]["config"]["services"][0]["force_instance_key"],
        Value::Null
    );
    // autostop "stop" is printed `true`; the idle one is stopped with its check critical.
    assert_eq!(ours[1]["config"]["services"][0]["autostop"], true);
    assert_eq!(ours[1]["state"], "stopped");
    assert_eq!(ours[1]["events"][0]["type"], "exit");
    assert_eq!(ours[1]["checks"][0]["status"], "critical");
    // The worker: no service, no checks.
    assert_eq!(ours[2]["config"]["metadata"]["fly_process_group"], "worker");
    assert!(ours[2]["config"].get("services").is_none());
    assert!(ours[2].get("checks").is_none());
    assert_eq!(
        keys(&ours[2]["config"]).len(),
        keys(&worker_m["config"]).len() + 1
    );
    // Events carry ms timestamps; metadata's release version is a string.
    assert!(ours[0]["events"][0]["timestamp"].is_i64());
    assert!(ours[0]["config"]["metadata"]["fly_release_version"].is_string());

    let standby = standin_json(
        &world,
        &["machines", "list", "-a", &prod("public-api"), "--json"],
    );
    let s = &standby[2];
    assert_eq!(s["state"], "stopped");
    assert_eq!(s["config"]["standbys"][0], standby[0]["id"]);
    assert_eq!(s["config"]["env"]["FLY_STANDBY_FOR"], standby[0]["id"]);
    let suspended = standin_json(
        &world,
        &["machines", "list", "-a", &prod("internal-api"), "--json"],
    );
    assert_eq!(suspended[1]["config"]["services"][0]["autostop"], "suspend");
    assert_eq!(suspended[1]["state"], "suspended");
}

#[test]
fn status_and_releases_have_flyctls_shape() {
    let (_t, world) = fleet();
    let world = world.release(&prod("public-api"), "failed");
    world.save().unwrap();
    let status = standin_json(&world, &["status", "--json", "-a", &prod("public-api")]);
    let theirs = fixture("status-derived.json");
    assert_eq!(keys(&status), keys(&theirs));
    let names: Vec<&String> = status.as_object().unwrap().keys().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "a Go map: keys sorted");
    let ids: Vec<&str> = status["Machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    let mut desc = ids.clone();
    desc.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, desc, "Machines sorted by id, descending");

    let releases = standin_json(
        &world,
        &["releases", "-a", &prod("public-api"), "--json", "--image"],
    );
    let theirs = fixture("releases-derived.json");
    assert_eq!(keys(&releases[0]), keys(&theirs[0]));
    assert_eq!(keys(&releases[0]["User"]), keys(&theirs[0]["User"]));
    assert_eq!(releases[0]["Status"], "failed");
    assert_eq!(releases[0]["InProgress"], false);
    assert_eq!(releases[1]["Status"], "complete");
}

#[test]
fn deploy_updates_idle_machines_without_starting_them() {
    let (_t, world) = fleet();
    let app = prod("agent-registration");
    let out = std::process::Command::new(STANDIN)
        .args(["--state", &world.dir().display().to_string()])
        .args([
            "deploy",
            "--image",
            "registry.fly.io/x:deployment-2",
            "-a",
            &app,
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("update finished: updated, not started"),
        "{stdout}"
    );
    let mut world = world;
    world.reload().unwrap();
    let a = &world.state.apps[&app];
    let states: Vec<(&str, u64)> = a
        .machines
        .iter()
        .map(|m| (m.state.as_str(), m.release))
        .collect();
    assert_eq!(states, [("started", 2), ("stopped", 2), ("started", 2)]);
    // A suspended Machine loses its snapshot: stopped, on the new release.
    let app = prod("internal-api");
    let out = std::process::Command::new(STANDIN)
        .args(["--state", &world.dir().display().to_string()])
        .args([
            "deploy",
            "--image",
            "registry.fly.io/y:deployment-2",
            "-a",
            &app,
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    world.reload().unwrap();
    assert_eq!(world.state.apps[&app].machines[1].state, "stopped");
}

#[test]
fn a_release_that_does_not_start_leaves_the_machines_and_detach_hides_it() {
    let (_t, world) = seeded();
    let app = prod("public-api");
    let world = world.failing_deploy(&app);
    world.save().unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(STANDIN)
            .args(["--state", &world.dir().display().to_string()])
            .args([
                "deploy",
                "--image",
                "registry.fly.io/p:deployment-9",
                "-a",
                &app,
                "--yes",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(1));
    let detached = run(&["--detach"]);
    assert_eq!(
        detached.status.code(),
        Some(0),
        "flyctl does not wait to see"
    );
    let mut world = world;
    world.reload().unwrap();
    let a = &world.state.apps[&app];
    let statuses: Vec<&str> = a.releases.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["complete", "failed", "failed"]);
    assert!(
        a.machines
            .iter()
            .all(|m| m.release == 1 && m.state == "started")
    );
}

#[tokio::test]
async fn a_fleet_with_idle_machines_by_design_is_deployed() {
    let (_t, world) = fleet();
    let (world, c) = recorded_then_deployed(world).await;
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary
            .contains("agent-registration v2: 2 started, 1 stopped by auto-stop"),
        "{}",
        o.summary
    );
    assert!(
        o.summary
            .contains("public-api v2: 2 started, 1 stopped standby"),
        "{}",
        o.summary
    );
    let o = check(releases(ReleasesMode::Deployed), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);

    // A Machine stopped with nothing to explain it: named, with its group and state.
    let w = world.nth_machine_state(&prod("agent-registration"), 2, "stopped");
    w.save().unwrap();
    let o = check(releases(ReleasesMode::Deployed), &c).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary
            .contains("[worker] stopped: neither auto-stop nor a standby explains it"),
        "{}",
        o.summary
    );
    // A state Fly never had: an error with the reason, never a pass.
    let w = w.nth_machine_state(&prod("public-api"), 0, "hibernating");
    w.save().unwrap();
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Error, "{}", o.summary);
    assert!(o.summary.contains("\"hibernating\""), "{}", o.summary);
}

#[tokio::test]
async fn a_failed_new_release_is_caught_by_apps_deployed_and_the_version() {
    let (_t, world) = seeded();
    let mut c = ctx(&world);
    let recorded = check(releases(ReleasesMode::Record), &c).await;
    let mut world = world;
    for n in NAMES {
        world = world.release(&prod(n), "failed");
    }
    world.save().unwrap();
    c.run = Some(run_with(&[("preflight.rollback-ready", &recorded)], &[]));
    let o = check(releases(ReleasesMode::Deployed), &c).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains(
            "acme-production-internal-api: v2 is failed, not complete; 2 Machines on v1 (image tag deployment-01JV00000001)"
        ),
        "{}",
        o.summary
    );
    // fly.status reads the Machines: on v1, the newest complete release, and says so.
    let o = check(status(), &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary.contains("(v2 failed: no Machine should run it)"),
        "{}",
        o.summary
    );
    // The version on the Machines' image tags: the old one, named.
    let mut cfg = config(&world);
    for a in &mut cfg.environments.get_mut("production").unwrap().apps {
        a.version = Some(VersionSource::ImageRef(true));
    }
    let mut c2 = ctx_at(cfg, NOW);
    let merge = serde_json::json!({ "merge_commit": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432" });
    let merged = Outcome::new(Status::Pass, "merged", merge);
    c2.run = Some(run_with(&[("release.merge", &merged)], &[]));
    let spec = CheckSpec::FlyVersion(shipcheck_core::model::checklist::FlyVersionCheck {
        env: "production".into(),
        samples: None,
    });
    let o = check(spec, &c2).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains("internal-api: 2 of 2 Machines name \"deployment-01JV00000001\", not 9f8e7d6 (the promoted commit)"),
        "{}",
        o.summary
    );
}
