//! `shipcheck schema`, and the documents of what a person does to a run, validated against
//! their published schemas (the walk's, the watch's and the reading commands' are validated
//! where their own tests read them, through `Out::json`).

use serde_json::Value;

use crate::schema_check::schema_of;
use crate::support::{TestEnv, with_fly};

#[test]
fn schema_lists_prints_and_writes_every_document() {
    let env = TestEnv::bare();
    let list = env.shipcheck(&["schema"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    for name in [
        "run", "step", "check", "events", "error", "watch", "incident",
    ] {
        assert!(
            list.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(name)),
            "{name}: {}",
            list.stdout
        );
    }
    let names: Vec<String> = env.shipcheck(&["schema", "--json"]).json()["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() >= 20, "{names:?}");

    // One document's schema is the committed file, byte for byte.
    let run = env.shipcheck(&["schema", "run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed, schema_of("run"));
    assert_eq!(printed["properties"]["kind"]["const"], "run");

    // --all writes every one, the same as committed.
    let dir = env.dir.path().join("schemas");
    let all = env.shipcheck(&["schema", "--all", dir.to_str().unwrap()]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    for name in &names {
        let written = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
        let committed = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/schemas")
                .join(format!("{name}.json")),
        )
        .unwrap();
        assert_eq!(written, committed, "{name}");
    }

    // An unknown name is a usage error; under --json, an error document.
    let bad = env.shipcheck(&["schema", "nope"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("shipcheck schema"), "{}", bad.stderr);
    let bad = env.shipcheck(&["schema", "nope", "--json"]);
    assert_eq!(bad.code, 2);
    let doc = bad.json();
    assert_eq!(doc["kind"], "error");
    assert_eq!(doc["error"]["kind"], "usage");
    assert_eq!(doc["error"]["exit_code"], 2);
    assert!(
        bad.stderr.contains("no document named nope"),
        "{}",
        bad.stderr
    );
    // A command line the parser refuses, too; help is not an error.
    let bad = env.shipcheck(&["status", "--no-such-flag", "--json"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let doc = bad.json();
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--no-such-flag"),
        "{doc}"
    );
    assert!(bad.stderr.contains("--no-such-flag"), "{}", bad.stderr);
    let help = env.shipcheck(&["status", "--help", "--json"]);
    assert_eq!(help.code, 0);
    assert!(!help.stdout.contains("\"kind\""), "{}", help.stdout);
}

#[test]
fn what_a_person_does_to_a_run_prints_documents_that_match_their_schemas() {
    let env = TestEnv::world();
    let _world = with_fly(&env);
    let run = |args: &[&str], kind: &str| -> Value {
        let out = env.shipcheck(args);
        let doc = out.json(); // validated against docs/schemas/KIND.json
        assert_eq!(
            doc["kind"], kind,
            "{args:?}: {}\n{}",
            out.stdout, out.stderr
        );
        doc
    };
    let start = run(&["start", "--by", "Tess Deployer", "--json"], "start");
    assert_eq!(start["phase"], "prepare");
    run(
        &[
            "tick",
            "prepare.manual-testing",
            "--by",
            "Tess Deployer",
            "--json",
        ],
        "tick",
    );
    run(
        &[
            "waive",
            "prepare.backup",
            "--reason",
            "no database",
            "--json",
        ],
        "waive",
    );
    run(&["note", "--kind", "lesson", "a lesson", "--json"], "note");
    let stop = run(
        &["stop", "--app", "internal-api", "--dry-run", "--json"],
        "stop",
    );
    assert_eq!(stop["outcome"]["performed"], false);
    let raised = run(
        &[
            "incident",
            "--severity",
            "low",
            "--summary",
            "a slow page",
            "--yes",
            "--json",
        ],
        "incident",
    );
    let id = raised["incident"]["id"].as_u64().unwrap().to_string();
    assert!(raised.get("message").is_some(), "{raised}");
    let resolved = run(
        &[
            "incident",
            "--resolve",
            &id,
            "--summary",
            "cache warmed",
            "--json",
        ],
        "incident",
    );
    assert!(resolved.get("message").is_none(), "{resolved}");
    run(&["sign", "--json"], "error"); // the run is not done
    run(&["abort", "--reason", "rehearsal over", "--json"], "abort");
    run(&["unlock", "--reason", "tidy up", "--json"], "unlock");
    run(&["verify", "--json"], "verify");
}
