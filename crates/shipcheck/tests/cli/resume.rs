//! Crashes at exact points of the bad release's rollback, then a resume: the demo operator
//! stops dead right after it stores a chosen event (`SHIPCHECK_SANDBOX_CRASH_AFTER`), and the
//! next `sandbox operate` must finish what was interrupted before anything else — the
//! rollback done once, verified, its incidents closed, and no message that contradicts
//! production. Assertions are on the world (Fly's deploys, the Slack channel) and the record.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use shipcheck_sandbox::world::{Scenario, World};

use crate::demo::{assert_released, cmd, facts, manifest, position, run, world_options};

/// Runs the operator with a crash after `spec`; it must have crashed there.
pub(crate) fn crash_at(dir: &Path, env: &BTreeMap<String, String>, spec: &str) {
    let out = cmd(dir, env, &["sandbox", "operate"])
        .env("SHIPCHECK_SANDBOX_CRASH_AFTER", spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(137),
        "the operator was to crash after {spec}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Resumes the operator until the run is signed; returns its output.
pub(crate) fn resume(dir: &Path, env: &BTreeMap<String, String>) -> String {
    let mut all = String::new();
    for _ in 0..4 {
        let (code, out, err) = run(dir, env, &["sandbox", "operate"]);
        all.push_str(&out);
        all.push_str(&err);
        if code == 0 {
            return all;
        }
    }
    panic!("the resumed run did not end:\n{all}");
}

/// The stored events of the run.
pub(crate) fn events(dir: &Path, env: &BTreeMap<String, String>) -> Vec<Value> {
    let (code, out, err) = run(dir, env, &["events", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["events"].as_array().cloned().unwrap()
}

pub(crate) fn kind(e: &Value) -> &str {
    e["event"]["type"].as_str().unwrap_or_default()
}

/// What every resumed bad release must end with: rolled back once per app, every app on its
/// previous image, verified, no incident open, "rolled back" (never "stable") in Slack, and a
/// journal that verifies.
fn assert_rolled_back_to_the_end(dir: &Path, env: &BTreeMap<String, String>) {
    let f = facts(dir);
    assert_released(&f);
    let m = manifest(dir);
    assert_eq!(
        f.images, m.previous_images,
        "every app on its previous image"
    );
    assert_eq!(f.deploys_of_previous_image.len(), 3, "{f:?}");
    for (app, n) in &f.deploys_of_previous_image {
        assert_eq!(*n, 1, "{app} rolled back exactly once");
    }
    let r = &f.report;
    assert_eq!(r["verdict"]["verdict"], "rolled_back", "{}", r["verdict"]);
    assert_eq!(
        r["watch"]["rollback_verified"]["ok"], true,
        "{}",
        r["watch"]
    );
    let open: Vec<&Value> = r["watch"]["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["open"] == true)
        .collect();
    assert!(open.is_empty(), "incidents left open: {open:#?}");
    assert!(
        position(&f.slack, "Deployment stable").is_none(),
        "\"stable\" while production runs the previous release: {:#?}",
        f.slack
    );
    assert!(
        position(
            &f.slack,
            "Deployment rolled back: production is stable on the previous release"
        )
        .is_some(),
        "{:#?}",
        f.slack
    );
    assert_eq!(run(dir, env, &["verify"]).0, 0, "the journal verifies");
}

/// The first event the resumed walk stored after `seq` is the rollback's result: nothing
/// else happened first (no watch sample, no timer, no other item).
fn assert_rollback_finished_first(dir: &Path, env: &BTreeMap<String, String>, seq: u64) {
    let evs = events(dir, env);
    let next: Vec<&str> = evs
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap() > seq)
        .take(2)
        .map(kind)
        .collect();
    assert!(
        matches!(next.first(), Some(&"rollback_started" | &"rollback_done")),
        "after the crash, the rollback first: {next:?}"
    );
    // Finished within minutes of world time, not after an unrelated 30-minute timer.
    let started = evs.iter().rfind(|e| kind(e) == "rollback_started").unwrap();
    let done = evs.iter().find(|e| kind(e) == "rollback_done").unwrap();
    let at = |e: &Value| {
        e["at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let took = at(done).duration_since(at(started)).as_secs();
    assert!(took < 10 * 60, "the rollback took {took} s of world time");
}

async fn world() -> (tempfile::TempDir, World) {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(
        &tmp.path().join("w"),
        world_options(Scenario::BadRelease, 150.0),
    )
    .await
    .unwrap();
    (tmp, world)
}

fn seq_of_last(dir: &Path, env: &BTreeMap<String, String>, k: &str) -> u64 {
    events(dir, env)
        .iter()
        .rfind(|e| kind(e) == k)
        .and_then(|e| e["seq"].as_u64())
        .unwrap()
}

/// Finding 1: killed after the old images were deployed (the rollback's intent journaled, every
/// `flyctl deploy` of it done, its result never journaled). Before: the incident stayed open,
/// the verdict said failed and Slack was told "Deployment stable".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_killed_after_the_old_images_were_deployed_is_finished_and_closed() {
    let (_tmp, world) = world().await;
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        crash_at(&dir, &env, "rollback_started");
        // What the killed walker had done: every deploy of the rollback's intent.
        let evs = events(&dir, &env);
        let intent = evs
            .iter()
            .rfind(|e| kind(e) == "rollback_started")
            .and_then(|e| e["event"]["intent"].as_str())
            .unwrap()
            .to_string();
        let mut deployed = 0;
        for line in intent.lines().filter(|l| !l.starts_with('#')) {
            let argv: Vec<&str> = line.split_whitespace().collect();
            let out = std::process::Command::new(argv[0])
                .args(&argv[1..])
                .output()
                .unwrap();
            assert!(out.status.success(), "{line}: {:?}", out);
            deployed += 1;
        }
        assert_eq!(deployed, 3, "{intent}");
        let seq = seq_of_last(&dir, &env, "rollback_started");
        let out = resume(&dir, &env);
        assert!(out.contains("interrupted"), "{out}");
        assert_rollback_finished_first(&dir, &env, seq);
        assert_rolled_back_to_the_end(&dir, &env);
        // The rollback found every app already on its previous image.
        let done = events(&dir, &env)
            .into_iter()
            .find(|e| kind(e) == "rollback_done")
            .unwrap();
        assert!(
            done["event"]["summary"]
                .as_str()
                .unwrap()
                .contains("already"),
            "{done}"
        );
    })
    .await
    .unwrap();
    world.shutdown().await;
}

/// Finding 2: killed before any rollback deploy (the intent journaled, nothing done). Before:
/// the failing release kept serving until an unrelated 30-minute decision timer fired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_killed_before_any_deploy_is_performed_first_on_resume() {
    let (_tmp, world) = world().await;
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        crash_at(&dir, &env, "rollback_started");
        let seq = seq_of_last(&dir, &env, "rollback_started");
        resume(&dir, &env);
        assert_rollback_finished_first(&dir, &env, seq);
        assert_rolled_back_to_the_end(&dir, &env);
    })
    .await
    .unwrap();
    world.shutdown().await;
}

/// Killed right after the policy decided to roll back, before the rollback's intent: the
/// decision stands, and the resume rolls back at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_decided_but_not_started_is_performed_first_on_resume() {
    let (_tmp, world) = world().await;
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        crash_at(&dir, &env, "incident_decision@\"decision\":\"rollback\"");
        let seq = seq_of_last(&dir, &env, "incident_decision");
        resume(&dir, &env);
        assert_rollback_finished_first(&dir, &env, seq);
        assert_rolled_back_to_the_end(&dir, &env);
    })
    .await
    .unwrap();
    world.shutdown().await;
}

/// Killed right after a critical incident was raised, before it was told or answered: the
/// resume tells it and answers it first (the rollback), as the uninterrupted watch would have.
/// (The run used to go on watching the failing release with the incident open and no answer:
/// the crash benchmark's world 1 ended its watch failed and never rolled back.) The kill waits
/// for a critical incident: on a loaded machine the first one raised can be a high one (its
/// answer is a timer), and which signal crosses first is the load's choice, not the test's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_raised_but_never_answered_is_answered_first_on_resume() {
    let (_tmp, world) = world().await;
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        crash_at(&dir, &env, "incident_raised@\"severity\":\"critical\"");
        let raised = events(&dir, &env)
            .into_iter()
            .rfind(|e| kind(e) == "incident_raised")
            .unwrap();
        let (seq, id) = (
            raised["seq"].as_u64().unwrap(),
            &raised["event"]["incident"]["id"],
        );
        assert_eq!(
            raised["event"]["incident"]["severity"], "critical",
            "{raised}"
        );
        let out = resume(&dir, &env);
        assert!(out.contains("was raised but never answered"), "{out}");
        // After the kill: the incident told (sent late), then answered; no other step between.
        let next: Vec<Value> = events(&dir, &env)
            .into_iter()
            .filter(|e| e["seq"].as_u64() > Some(seq) && kind(e) != "watch_samples")
            .take(2)
            .collect();
        assert_eq!(kind(&next[0]), "incident_notified", "{next:#?}");
        assert_eq!(&next[0]["event"]["incident"], id, "{next:#?}");
        assert_eq!(kind(&next[1]), "incident_decision", "{next:#?}");
        assert_eq!(&next[1]["event"]["incident"], id, "{next:#?}");
        assert_eq!(next[1]["event"]["decision"], "rollback", "{next:#?}");
        assert_rolled_back_to_the_end(&dir, &env);
    })
    .await
    .unwrap();
    world.shutdown().await;
}

/// Killed inside the watch after the rollback: right after the verification (its incidents
/// not yet resolved), and at its first tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_inside_the_after_rollback_watch_end_verified_with_incidents_closed() {
    let (_tmp, world) = world().await;
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        crash_at(&dir, &env, "rollback_verified");
        crash_at(&dir, &env, "watch_tick@\"leg\":1");
        resume(&dir, &env);
        assert_rolled_back_to_the_end(&dir, &env);
    })
    .await
    .unwrap();
    world.shutdown().await;
}

/// Killed right after the release watch's last tick, before the watch was decided: the resume
/// decided it (it panicked: "min > max" asking for tick 9 of 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_killed_after_its_last_tick_is_decided_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 150.0))
        .await
        .unwrap();
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        crash_at(&dir, &env, "watch_tick:8");
        let out = resume(&dir, &env);
        assert!(!out.contains("panicked"), "{out}");
        let evs = events(&dir, &env);
        assert!(
            evs.iter().any(|e| kind(e) == "watch_ended"),
            "the watch ended"
        );
        assert_eq!(run(&dir, &env, &["verify"]).0, 0);
    })
    .await
    .unwrap();
    world.shutdown().await;
}
