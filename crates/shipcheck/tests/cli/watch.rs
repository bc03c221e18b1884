//! The watch from the command line: refused before the release is live; `monitor` killed
//! with SIGKILL mid-watch and run again continues the schedule without running a tick
//! twice; `incident` applies the severity policy, rolls back with git-revert, and the watch
//! after it verifies the rollback.

use std::io::{BufRead, BufReader};

use serde_json::Value;

use crate::support::{TestEnv, git_out};

/// Walks the run with `next` until it is in `phase`, ticking what a person ticks.
fn walk_to(env: &TestEnv, phase: &str) {
    crate::support::walk_until(env, phase);
}

fn released_world() -> TestEnv {
    let env = TestEnv::world();
    env.heal_production();
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    walk_to(&env, "verify");
    env
}

fn watch_json(env: &TestEnv) -> Value {
    env.shipcheck(&["report", "--format", "json"]).json()["watch"].clone()
}

#[test]
fn monitor_waits_for_the_release_to_be_live() {
    let env = TestEnv::world();
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    let out = env.shipcheck(&["monitor"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("not live yet"), "{}", out.stderr);
    let bad = env.shipcheck(&["monitor", "--interval", "1s", "--duration", "500ms"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--duration"), "{}", bad.stderr);
    let typo = env.shipcheck(&["monitor", "--interval", "15 parsecs"]);
    assert_eq!(typo.code, 2);
    assert!(typo.stderr.contains("unknown unit"), "{}", typo.stderr);
}

#[test]
fn a_killed_monitor_resumes_without_running_ticks_twice() {
    let env = released_world();
    // The watch runs on the wall clock here: a pinned SHIPCHECK_NOW starts every process at
    // the same instant, and this test is about time passing while no process runs.
    let mut child = env
        .cmd(&[
            "monitor",
            "--interval",
            "2s",
            "--duration",
            "8s",
            "--sample-every",
            "250ms",
        ])
        .env("SHIPCHECK_NOW", "")
        .spawn();
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("tick 2/4");
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.iter().any(|l| l.starts_with("watching the release")),
        "{seen:?}"
    );
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let w = watch_json(&env);
    let ticks: Vec<u64> = w["watches"][0]["ticks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ticks, [1, 2]);
    assert!(w["watches"][0]["outcome"].is_null());

    // Dead through tick 3's moment and up to the end: the run resumes with one tick.
    std::thread::sleep(std::time::Duration::from_millis(4500));
    let out = env
        .cmd(&["monitor", "--json"])
        .env("SHIPCHECK_NOW", "")
        .output();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    assert_eq!(v["kind"], "watch");
    assert_eq!(v["verdict"]["verdict"], "success", "{v}");
    let leg = &v["watches"][0];
    let ticks: Vec<(u64, u64)> = leg["ticks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["n"].as_u64().unwrap(), t["missed"].as_u64().unwrap()))
        .collect();
    assert_eq!(ticks, [(1, 0), (2, 0), (4, 1)], "{leg}");
    assert_eq!(
        leg["schedule"]["interval"], "2s",
        "the recorded schedule is kept"
    );
    assert_eq!(leg["outcome"], "pass");
    assert_eq!(v["watches"].as_array().unwrap().len(), 1);
    // The record still verifies: nothing was written twice or half.
    assert_eq!(env.shipcheck(&["verify"]).code, 0);
}

#[test]
fn incidents_apply_the_policy_and_a_rollback_is_verified_by_the_watch() {
    let env = released_world();
    let high = env.shipcheck(&[
        "incident",
        "--severity",
        "high",
        "--summary",
        "checkout slow for some users",
        "--by",
        "Rita",
        "--json",
    ]);
    assert_eq!(high.code, 0, "{}", high.stderr);
    let v = high.json();
    assert_eq!(v["incident"]["severity"], "high");
    assert_eq!(v["incident"]["decisions"][0]["decision"], "decision_timer");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("⚠️ Issue detected in production. Investigating...")
    );
    let contacts = v["contacts"].as_array().unwrap();
    assert!(
        contacts
            .iter()
            .any(|c| c["role"] == "team_lead" && c["contact"] == "Ana")
    );
    assert!(
        contacts
            .iter()
            .any(|c| c["contact"] == "https://fly.io/docs/about/support/")
    );
    let resolved = env.shipcheck(&["incident", "--resolve", "1", "--summary", "fixed forward"]);
    assert_eq!(resolved.code, 0, "{}", resolved.stderr);

    // Text form prints the message and the contacts.
    let low = env.shipcheck(&[
        "incident",
        "--severity",
        "low",
        "--summary",
        "typo on the page",
    ]);
    assert_eq!(low.code, 0, "{}", low.stderr);
    assert!(low.stdout.contains("emergency contacts"), "{}", low.stdout);
    assert!(
        low.stdout.contains("note_for_next_deploy"),
        "{}",
        low.stdout
    );

    // Critical, with git-revert: --yes confirms the rollback the policy calls for.
    let cfg = env.config_path();
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "\n[incident]\nrollback_strategy = \"git-revert\"\nafter_rollback_watch = \"2s\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    // The run keeps its config until a person accepts the change.
    let accept = env.shipcheck(&["config", "accept", "--reason", "roll back with git-revert"]);
    assert_eq!(accept.code, 0, "{}", accept.stderr);
    let before = git_out(&env, &env.origin, &["rev-parse", "production"]);
    let critical = env.shipcheck(&[
        "incident",
        "--severity",
        "critical",
        "--summary",
        "payments failing",
        "--yes",
    ]);
    assert_eq!(critical.code, 0, "{}\n{}", critical.stdout, critical.stderr);
    assert!(
        critical.stdout.contains("rolled back"),
        "{}",
        critical.stdout
    );
    let after = git_out(&env, &env.origin, &["rev-parse", "production"]);
    assert_ne!(before, after, "the revert was pushed");

    // The watch that runs now is the one after the rollback; it verifies it.
    let out = env.shipcheck(&["monitor", "--json"]);
    assert_eq!(out.code, 1, "a rolled-back release is not a success");
    let v = out.json();
    assert_eq!(v["verdict"]["verdict"], "rolled_back");
    assert!(
        v["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("payments failing")
    );
    assert_eq!(v["watches"][0]["purpose"], "after_rollback");
    let w = watch_json(&env);
    assert_eq!(w["rollback_verified"]["ok"], true, "{w}");
    // The watch kept its raw health samples: replay re-judges them with another policy.
    let replay = env.shipcheck(&["replay", "--json"]);
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    let r = replay.json();
    assert_eq!(r["legs"][0]["purpose"], "after_rollback", "{r}");
    assert!(r["legs"][0]["samples"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["legs"][0]["replayed"]["verdict"]
            .as_str()
            .unwrap()
            .contains("rollback verified"),
        "{r}"
    );
    let strict = env.dir.path().join("strict.toml");
    let mut text = std::fs::read_to_string(env.config_path()).unwrap();
    text.push_str("\n[monitor.sequential]\nshadow = true\n");
    std::fs::write(&strict, text).unwrap();
    let text = env.shipcheck(&["replay", "--policy", strict.to_str().unwrap()]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("happened:"), "{}", text.stdout);
    assert!(text.stdout.contains("replayed:"), "{}", text.stdout);
    let md = env.shipcheck(&["report"]).stdout;
    assert!(md.contains("**Verdict**: rolled_back"), "{md}");
    assert!(md.contains("Incident #3 **critical**"), "{md}");
    assert!(
        md.contains("- ❌ No rollback needed within 2 hours"),
        "{md}"
    );
}
