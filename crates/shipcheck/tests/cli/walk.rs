//! A run from start to signature: automatic items against loopback servers, manual items
//! ticked, one waived, gates that block, the report, and the journal's hash chain.

use serde_json::Value;

use crate::support::{Answers, TestEnv, answer_needs, walk_until, walk_until_with};

/// Drives `next` until the run completes, ticking what a person must tick. `waive` is
/// waived instead of ticked. Returns the items each step reported as `fix`.
fn walk_to_completion(env: &TestEnv, waive: &str, stop_on_fix: bool) -> Vec<String> {
    let mut fixes = Vec::new();
    for _ in 0..120 {
        let out = env.shipcheck(&["next", "--json"]);
        assert!(
            out.code == 0 || out.code == 1,
            "next: {}\n{}",
            out.stdout,
            out.stderr
        );
        let v = out.json();
        if v["status"] == "completed" {
            return fixes;
        }
        let step_fixes = answer_needs(
            env,
            &v["steps"][0],
            Answers {
                waive,
                ..Answers::default()
            },
        );
        if let Some(first) = step_fixes.first() {
            if stop_on_fix {
                // The first failing item in checklist order is what blocks the gate first.
                fixes.push(first.clone());
                return fixes;
            }
            fixes.extend(step_fixes);
        }
    }
    panic!("the run did not complete in 120 steps");
}

#[test]
fn a_run_walks_all_eight_phases_signs_and_verifies() {
    let env = TestEnv::world();
    env.heal_production();
    let start = env.shipcheck(&["start", "--by", "Tess Deployer", "--json"]);
    assert_eq!(start.code, 0, "{}", start.stderr);
    let run_id = start.json()["run"].as_str().unwrap().to_string();

    // Refusals leave the run untouched.
    let unknown = env.shipcheck(&["tick", "prepare.backpu"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean \"prepare.backup\""),
        "{}",
        unknown.stderr
    );
    let auto = env.shipcheck(&["tick", "prepare.window"]);
    assert_eq!(auto.code, 2);
    assert!(auto.stderr.contains("automatic"), "{}", auto.stderr);
    let no_note = env.shipcheck(&["tick", "prepare.backup"]);
    assert_eq!(no_note.code, 2);
    assert!(
        no_note.stderr.contains("needs a note"),
        "{}",
        no_note.stderr
    );
    let blank_reason = env.shipcheck(&["waive", "prepare.backup", "--reason", "  "]);
    assert_eq!(blank_reason.code, 2);
    assert!(
        blank_reason.stderr.contains("reason"),
        "{}",
        blank_reason.stderr
    );
    let early_sign = env.shipcheck(&["sign"]);
    assert_eq!(early_sign.code, 2);
    assert!(
        early_sign.stderr.contains("still in phase prepare"),
        "{}",
        early_sign.stderr
    );

    let fixes = walk_to_completion(&env, "prepare.stakeholders", false);
    assert!(fixes.is_empty(), "unexpected failing items: {fixes:?}");

    assert_eq!(
        env.shipcheck(&["note", "--kind", "issue", "public-api slow for a minute"])
            .code,
        0
    );
    assert_eq!(
        env.shipcheck(&["note", "--kind", "lesson", "warm the cache first"])
            .code,
        0
    );
    let sign = env.shipcheck(&["sign", "--by", "Tess Deployer"]);
    assert_eq!(sign.code, 0, "{}", sign.stderr);

    // The record, in the seed's layout.
    let md = env.shipcheck(&["report", &run_id]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    for heading in [
        "## Pre-Deployment (1-2 days before)",
        "### Testing",
        "## Day of Deployment",
        "### Merge to Production",
        "## Post-Deployment (Immediately After)",
        "## Ongoing Monitoring (Next 1-2 Hours)",
        "## End of Day",
        "## Notes Section",
        "## Success Criteria",
        "**Signature**: Tess Deployer",
    ] {
        assert!(
            md.stdout.contains(heading),
            "missing {heading:?} in\n{}",
            md.stdout
        );
    }
    assert!(
        md.stdout
            .contains("- [x] All tests pass on staging (`pnpm test`) — "),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains("**waived**: not used by this team"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("public-api slow for a minute"));
    assert!(md.stdout.contains("warm the cache first"));

    let json = env
        .shipcheck(&["report", &run_id, "--format", "json"])
        .json();
    assert_eq!(json["status"], "signed");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 62);
    let waived = items
        .iter()
        .find(|i| i["id"] == "prepare.stakeholders")
        .unwrap();
    assert_eq!(waived["state"], "waived");
    assert_eq!(waived["by"], "Tess Deployer");
    for i in items {
        let state = i["state"].as_str().unwrap();
        assert!(
            ["pass", "done", "waived", "not_required"].contains(&state)
                || i["required"] == Value::Bool(false),
            "{} is {state}",
            i["id"]
        );
    }

    let junit = env.shipcheck(&["report", &run_id, "--format", "junit"]);
    assert!(
        junit
            .stdout
            .contains("<testcase classname=\"prepare.window\""),
        "{}",
        junit.stdout
    );

    let verify = env.shipcheck(&["verify", &run_id]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("hash chain intact"),
        "{}",
        verify.stdout
    );

    // The lock is free again; history lists the run.
    let history = env.shipcheck(&["history", "--json"]).json();
    assert_eq!(history["runs"][0]["id"], run_id.as_str());
    assert_eq!(history["runs"][0]["status"], "signed");
    assert_eq!(env.shipcheck(&["start", "--by", "someone"]).code, 0);
}

#[test]
fn a_failing_required_check_blocks_the_next_phase_until_fixed() {
    let env = TestEnv::world(); // production public-api answers 500
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    let fixes = walk_to_completion(&env, "", true);
    assert_eq!(fixes, vec!["verify.health-200".to_string()]);
    let status = env.shipcheck(&["status", "--json"]).json();
    assert_eq!(status["phase"], "verify");
    // Still blocked on the next step, with exit 1.
    let again = env.shipcheck(&["next"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stdout.contains("verify.health-200"),
        "{}",
        again.stdout
    );
    env.heal_production();
    // The run keeps its config until a person accepts the change.
    let accept = env.shipcheck(&[
        "config",
        "accept",
        "--reason",
        "public-api is healthy again",
    ]);
    assert_eq!(accept.code, 0, "{}", accept.stderr);
    // The baseline was measured (in preflight) while public-api was down: its response time
    // has nothing to be compared with, and no data is never a pass. Each item that compares
    // with it says so; a person waives them with the reason.
    let mut waived = Vec::new();
    for _ in 0..5 {
        let fixes = walk_to_completion(&env, "", true);
        let Some(item) = fixes.first() else { break };
        let status = env.shipcheck(&["status", "--json"]).json();
        let rec = status["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == item.as_str())
            .unwrap()
            .clone();
        let summary = rec["summary"].as_str().unwrap_or("");
        assert!(
            summary.contains("public-api") && summary.contains("baseline"),
            "{item}: {summary}"
        );
        let out = env.shipcheck(&[
            "waive",
            item,
            "--reason",
            "public-api was down before the release: no baseline",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        waived.push(item.clone());
    }
    assert_eq!(
        waived,
        [
            "verify.response-times",
            "watch.metrics",
            "close.final-check"
        ]
    );
    let status = env.shipcheck(&["status", "--json"]).json();
    assert_eq!(status["status"], "completed", "{status}");
}

#[test]
fn a_failing_baseline_stops_preflight_until_a_person_waives_it() {
    // The test world's production public-api answers 500 before the release too: the
    // baseline preflight measures shows production already failing, and the merge must not
    // happen on top of it unless a person says why.
    let env = TestEnv::world();
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    walk_until(&env, "preflight");
    let keep = Answers {
        keep_failing_baseline: true,
        ..Answers::default()
    };
    let mut stopped = None;
    for _ in 0..10 {
        let out = env.shipcheck(&["next", "--json"]);
        let v = out.json();
        let fixes = answer_needs(&env, &v["steps"][0], keep);
        if fixes.iter().any(|f| f == "preflight.production-healthy") {
            assert_eq!(out.code, 1, "{}", out.stdout);
            stopped = Some(v);
            break;
        }
    }
    let v = stopped.expect("preflight went on although production was failing at baseline");
    let need = v["steps"][0]["needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["item"] == "preflight.production-healthy")
        .unwrap()
        .clone();
    let detail = need["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("public-api")
            && detail.contains("already failing")
            && detail.contains("100.0 %"),
        "{detail}"
    );
    let status = env.shipcheck(&["status", "--json"]).json();
    assert_eq!(status["phase"], "preflight", "{status}");
    let item = |status: &Value, id: &str| {
        status["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(item(&status, "release.merge")["state"], "pending");
    // Still stopped on the next step.
    let again = env.shipcheck(&["next"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stdout.contains("preflight.production-healthy"),
        "{}",
        again.stdout
    );
    // A person waives it with the reason; the walk goes on to the merge.
    let out = env.shipcheck(&[
        "waive",
        "preflight.production-healthy",
        "--reason",
        "public-api's /broken has failed for a week; this release fixes it",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    walk_until_with(&env, "approve", keep);
    let status = env.shipcheck(&["status", "--json"]).json();
    let rec = item(&status, "preflight.production-healthy");
    assert_eq!(rec["state"], "waived", "{rec}");
    assert_eq!(item(&status, "release.merge")["state"], "done", "{status}");
}

#[test]
fn outside_the_window_only_with_a_recorded_override() {
    let env = TestEnv::world();
    let friday = "2026-11-27T15:00:00Z";
    let out = env
        .cmd(&["start", "--by", "Tess Deployer"])
        .env("SHIPCHECK_NOW", friday)
        .output();
    assert_eq!(out.code, 0);
    let step = env
        .cmd(&["next", "--json"])
        .env("SHIPCHECK_NOW", friday)
        .output();
    assert_eq!(step.code, 1);
    let v = step.json();
    let needs = v["steps"][0]["needs"].as_array().unwrap();
    assert!(
        needs
            .iter()
            .any(|n| n["item"] == "prepare.window" && n["need"] == "fix"),
        "{v}"
    );
    assert_eq!(env.shipcheck(&["abort", "--reason", "wrong day"]).code, 0);

    let out = env
        .cmd(&[
            "start",
            "--by",
            "Tess Deployer",
            "--override-window",
            "--reason",
            "hotfix for outage",
        ])
        .env("SHIPCHECK_NOW", friday)
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    env.cmd(&["next"]).env("SHIPCHECK_NOW", friday).output();
    let status = env.shipcheck(&["status", "--json"]).json();
    let window = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "prepare.window")
        .unwrap()
        .clone();
    assert_eq!(window["state"], "waived", "{window}");
    assert!(
        window["reason"]
            .as_str()
            .unwrap()
            .contains("hotfix for outage")
    );
    // --override-window without --reason is a usage error.
    let bad = env.shipcheck(&["start", "--override-window"]);
    assert_eq!(bad.code, 2);
}

#[test]
fn an_edited_event_is_caught_by_verify() {
    let env = TestEnv::world();
    let run_id = env
        .shipcheck(&["start", "--by", "Tess Deployer", "--json"])
        .json()["run"]
        .as_str()
        .unwrap()
        .to_string();
    env.shipcheck(&["next"]);
    assert_eq!(env.shipcheck(&["verify"]).code, 0);
    crate::support::tamper_with_event(&env.db_path(), &run_id, 2);
    let out = env.shipcheck(&["verify", "--json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(out.json()["first_bad_event"], 2);
}

/// An event edited into something that is not an event at all (cut JSON): `verify`, with or
/// without the run's id, still answers what it is for (the chain breaks there, exit 1), rather
/// than refusing to read the run and pointing at itself; the other commands name the event.
#[test]
fn an_event_edited_into_garbage_is_reported_by_verify_not_refused() {
    let env = TestEnv::world();
    let run_id = env
        .shipcheck(&["start", "--by", "Tess Deployer", "--json"])
        .json()["run"]
        .as_str()
        .unwrap()
        .to_string();
    env.shipcheck(&["next"]);
    crate::support::cut_event(&env.db_path(), &run_id, 2);
    for args in [vec!["verify", "--json"], vec!["verify", &run_id, "--json"]] {
        let out = env.shipcheck(&args);
        assert_eq!(out.code, 1, "{args:?}: {}{}", out.stdout, out.stderr);
        let v = out.json();
        assert_eq!(v["first_bad_event"], 2, "{v}");
        assert_eq!(v["ok"], false, "{v}");
    }
    let text = env.shipcheck(&["verify"]);
    assert_eq!(text.code, 1, "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains("hash chain broken at event 2"),
        "{}",
        text.stdout
    );
    let status = env.shipcheck(&["status"]);
    assert_eq!(status.code, 2, "{}{}", status.stdout, status.stderr);
    assert!(
        status.stderr.contains("corrupt at event 2"),
        "{}",
        status.stderr
    );
}
