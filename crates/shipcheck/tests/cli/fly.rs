//! Fly.io through the CLI, with this binary's flyctl stand-in as the configured program:
//! region and secrets checks, rollback targets recorded in a run, the platform rollback and
//! the emergency stop. Assertions read the stand-in's state and invocation log.

use crate::support::{TestEnv, walk_until, with_fly};

fn deploys(world: &shipcheck_sandbox::FlyWorld) -> Vec<Vec<String>> {
    world
        .invocations()
        .into_iter()
        .filter(|a| a.first().map(String::as_str) == Some("deploy"))
        .collect()
}

#[test]
fn check_prepare_reports_region_and_secrets() {
    let env = TestEnv::world();
    let world = with_fly(&env);
    let out = env.shipcheck(&["check", "prepare.region", "prepare.secrets", "--json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["passed"], 2);

    world
        .machine_in_region("maishapoa-production-internal-api", "ams")
        .staged_secret("maishapoa-production-public-api", "NEW_KEY")
        .save()
        .unwrap();
    let out = env.shipcheck(&["check", "prepare.region", "prepare.secrets", "--json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v = out.json();
    let region = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "prepare.region")
        .unwrap();
    assert_eq!(region["status"], "fail");
    assert!(
        region["summary"].as_str().unwrap().contains("ams"),
        "{region}"
    );
    let secrets = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "prepare.secrets")
        .unwrap();
    assert!(
        secrets["summary"].as_str().unwrap().contains("NEW_KEY"),
        "{secrets}"
    );
}

#[test]
fn a_run_records_rollback_targets_and_platform_rollback_deploys_each_once() {
    let env = TestEnv::world();
    env.heal_production();
    let world = with_fly(&env);
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    walk_until(&env, "release");
    let status = env.shipcheck(&["status", "--json"]).json();
    let ready = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "preflight.rollback-ready")
        .unwrap()
        .clone();
    assert_eq!(ready["state"], "pass", "{ready}");
    let targets = ready["evidence"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3);

    // A new release goes out (as the workflow would), then we roll back.
    let mut world = world;
    for app in ["internal-api", "agent-registration", "public-api"] {
        world = world.release(&format!("maishapoa-production-{app}"), "complete");
    }
    world.save().unwrap();
    let before = deploys(&world).len();

    let dry = env.shipcheck(&["rollback", "--strategy", "platform", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("deploy --image"), "{}", dry.stdout);
    assert_eq!(deploys(&world).len(), before, "dry run deploys nothing");
    let dry = env
        .shipcheck(&["rollback", "--strategy", "platform", "--dry-run", "--json"])
        .json();
    assert_eq!(dry["kind"], "rollback", "{dry}");
    assert_eq!(dry["outcome"]["performed"], false, "{dry}");
    assert_eq!(dry["outcome"]["strategy"], "platform", "{dry}");

    let done = env.shipcheck(&[
        "rollback",
        "--strategy",
        "platform",
        "--yes",
        "--reason",
        "5xx up",
    ]);
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let after = deploys(&world);
    assert_eq!(after.len() - before, 3, "{after:?}");
    for t in targets {
        let image = t["image_ref"].as_str().unwrap();
        let app = t["fly_app"].as_str().unwrap();
        let n = after
            .iter()
            .filter(|a| a.contains(&image.to_string()) && a.contains(&app.to_string()))
            .count();
        assert_eq!(
            n, 1,
            "{app} redeployed with {image} exactly once: {after:?}"
        );
    }
    // Again: every app is already on its target image; nothing is deployed.
    let again = env.shipcheck(&["rollback", "--strategy", "platform", "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(deploys(&world).len(), after.len());
    assert_eq!(env.shipcheck(&["verify"]).code, 0);
}

#[test]
fn stop_records_the_count_and_undo_restores_it() {
    let env = TestEnv::world();
    let mut world = with_fly(&env);
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    let app = "maishapoa-production-internal-api";
    let refused = env.shipcheck(&["stop", "--app", "internal-api"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("scale count 0"),
        "{}",
        refused.stderr
    );
    world.reload().unwrap();
    assert_eq!(world.machine_count(app), 2);

    let stop = env.shipcheck(&["stop", "--app", "internal-api", "--yes"]);
    assert_eq!(stop.code, 0, "{}\n{}", stop.stdout, stop.stderr);
    world.reload().unwrap();
    assert_eq!(world.machine_count(app), 0);

    let undo = env.shipcheck(&["stop", "--undo", "--app", "internal-api", "--yes"]);
    assert_eq!(undo.code, 0, "{}\n{}", undo.stdout, undo.stderr);
    world.reload().unwrap();
    assert_eq!(world.machine_count(app), 2);
    let report = env.shipcheck(&["report"]);
    assert!(
        report.stdout.contains("Emergency stop"),
        "{}",
        report.stdout
    );
}
