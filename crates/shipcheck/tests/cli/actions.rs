//! Actions in a run: confirmation, failure and `retry`, and a crash between intent and result
//! that leaves an unobservable action to a person instead of repeating it.

use std::time::{Duration, Instant};

use crate::support::TestEnv;

fn add_action(env: &TestEnv, argv: &str) {
    let mut text = std::fs::read_to_string(env.config_path()).unwrap();
    text.push_str(&format!(
        "\n[[checklist.items]]\nid = \"prepare.warm-caches\"\nphase = \"prepare\"\ntitle = \"Warm the caches\"\nkind = \"action\"\naction = {{ type = \"command\", argv = {argv} }}\n"
    ));
    std::fs::write(env.config_path(), text).unwrap();
}

/// Ticks every item a person must tick in the current phase, so the action's turn comes.
fn tick_people(env: &TestEnv) {
    let out = env.shipcheck(&["next", "--json"]);
    let step = out.json()["steps"][0].clone();
    // Only ticks: an action's confirmation is what each test drives itself.
    let mut only_ticks = step.clone();
    if let Some(needs) = only_ticks["needs"].as_array_mut() {
        needs.retain(|n| n["need"] == "tick");
    }
    crate::support::answer_needs(env, &only_ticks, crate::support::Answers::default());
}

fn item(env: &TestEnv, id: &str) -> serde_json::Value {
    let status = env.shipcheck(&["status", "--json"]).json();
    status["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone()
}

#[test]
fn a_failed_action_waits_for_retry_and_then_succeeds() {
    let env = TestEnv::world();
    add_action(
        &env,
        r#"["sh", "-c", "test -f go || { echo 'cache host not ready' >&2; exit 1; }"]"#,
    );
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    tick_people(&env);

    // Without --yes and without a terminal, the action is not performed.
    let out = env.shipcheck(&["next", "--json"]);
    let needs = out.json()["steps"][0]["needs"].clone();
    assert!(
        needs
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["item"] == "prepare.warm-caches" && n["need"] == "confirm"),
        "{needs}"
    );
    assert_eq!(item(&env, "prepare.warm-caches")["attempts"], 0);

    // --yes performs it; it fails and is recorded as an error with the reason.
    env.shipcheck(&["next", "--yes"]);
    let rec = item(&env, "prepare.warm-caches");
    assert_eq!(rec["state"], "error", "{rec}");
    assert!(
        rec["summary"]
            .as_str()
            .unwrap()
            .contains("cache host not ready"),
        "{rec}"
    );

    // A plain next does not repeat a failed destructive action; it says how to retry.
    let out = env.shipcheck(&["next", "--json"]);
    let needs = out.json()["steps"][0]["needs"].clone();
    let need = needs
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["item"] == "prepare.warm-caches")
        .unwrap()
        .clone();
    assert_eq!(need["need"], "retry", "{need}");
    assert_eq!(item(&env, "prepare.warm-caches")["attempts"], 1);

    // retry without --yes (no terminal) does not perform it either.
    let refused = env.shipcheck(&["retry", "prepare.warm-caches"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert_eq!(item(&env, "prepare.warm-caches")["attempts"], 1);

    std::fs::write(env.repo.join("go"), "").unwrap();
    let ok = env.shipcheck(&["retry", "prepare.warm-caches", "--yes"]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    let rec = item(&env, "prepare.warm-caches");
    assert_eq!(rec["state"], "done", "{rec}");
    assert_eq!(rec["attempts"], 2);
    assert_eq!(
        env.shipcheck(&["retry", "prepare.warm-caches"]).code,
        2,
        "a done item has nothing to retry"
    );
}

#[test]
fn an_action_interrupted_by_a_crash_is_not_repeated_without_a_person() {
    let env = TestEnv::world();
    // The action appends a line to a file, then takes a while: a kill in between leaves the
    // effect done but unreported.
    add_action(
        &env,
        r#"["sh", "-c", "echo warmed >> effects.log; sleep 5"]"#,
    );
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    tick_people(&env);
    let mut child = env.cmd(&["next", "--yes"]).spawn();
    let effects = env.repo.join("effects.log");
    let start = Instant::now();
    while !effects.exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(effects.exists(), "the action never started");
    child.kill().unwrap();
    child.wait().unwrap();

    // Resumed: shipcheck cannot observe a team's command, so it does not run it again.
    for _ in 0..2 {
        env.shipcheck(&["next", "--yes"]);
    }
    assert_eq!(
        std::fs::read_to_string(&effects).unwrap().lines().count(),
        1
    );
    let rec = item(&env, "prepare.warm-caches");
    assert_eq!(rec["state"], "error", "{rec}");
    let out = env.shipcheck(&["next", "--json"]);
    let needs = out.json()["steps"][0]["needs"].clone();
    let need = needs
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["item"] == "prepare.warm-caches")
        .unwrap()
        .clone();
    assert_eq!(need["need"], "tick", "{need}");

    // The person confirms it happened.
    let tick = env.shipcheck(&[
        "tick",
        "prepare.warm-caches",
        "--note",
        "effects.log has it",
    ]);
    assert_eq!(tick.code, 0, "{}", tick.stderr);
    assert_eq!(item(&env, "prepare.warm-caches")["state"], "done");
    assert_eq!(
        std::fs::read_to_string(&effects).unwrap().lines().count(),
        1
    );
    assert_eq!(env.shipcheck(&["verify"]).code, 0);
}
