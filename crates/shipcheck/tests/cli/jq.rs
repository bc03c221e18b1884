//! `--jq EXPR` filters `--json` documents like `gh --jq`: strings raw, other values as one-line
//! JSON (not a terminal here), one per line; refused without `--json` and for a bad
//! expression, before the command does anything; a document the expression cannot filter
//! exits 2 with the reason; the `error` document is never filtered.

use crate::support::TestEnv;

fn with_config() -> TestEnv {
    let env = TestEnv::bare();
    let out = env.shipcheck(&["init", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    env
}

#[test]
fn jq_filters_the_document_like_gh() {
    let env = with_config();
    let out = env.shipcheck(&["plan", "--json", "--jq", ".phases | length"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "8\n"),
        "{}",
        out.stderr
    );
    // Strings print without quotes, one result per line.
    let out = env.shipcheck(&["plan", "--json", "--jq", ".phases[].phase"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "prepare",
            "preflight",
            "release",
            "approve",
            "rollout",
            "verify",
            "watch",
            "close"
        ]
    );
    // Anything else is JSON on one line when stdout is not a terminal.
    let out = env.shipcheck(&["plan", "--json", "--jq", "{kind, n: (.phases | length)}"]);
    assert_eq!(
        out.stdout, "{\"kind\":\"plan\",\"n\":8}\n",
        "{}",
        out.stderr
    );
    // jq's @tsv, which the built-in language adds.
    let out = env.shipcheck(&[
        "plan",
        "--json",
        "--jq",
        ".phases[0] | [.phase, (.items | length)] | @tsv",
    ]);
    assert!(out.stdout.starts_with("prepare\t"), "{}", out.stdout);
}

#[test]
fn jq_without_json_is_refused_as_gh_does() {
    let env = with_config();
    let out = env.shipcheck(&["plan", "--jq", ".phases"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("cannot use `--jq` without specifying `--json`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_bad_expression_is_refused_before_the_command_runs() {
    let env = TestEnv::bare();
    let out = env.shipcheck(&["init", "--yes", "--json", "--jq", ".written | frob"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("filter `frob` is not defined (column 12)"),
        "{}",
        out.stderr
    );
    let doc = out.json();
    assert_eq!(doc["error"]["kind"], "usage");
    assert!(!env.config_path().exists(), "init ran");
    let out = env.shipcheck(&["init", "--yes", "--json", "--jq", ".files[] |"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("expected term at column 11, found the end"),
        "{}",
        out.stderr
    );
    // The environment (where tokens live) is not in the language.
    let out = env
        .cmd(&["init", "--yes", "--json", "--jq", "env.SECRET_TOKEN"])
        .env("SECRET_TOKEN", "s3cr3t-value-123")
        .output();
    assert_eq!(out.code, 2);
    assert!(!out.stdout.contains("s3cr3t") && !out.stderr.contains("s3cr3t"));
    assert!(!env.config_path().exists(), "init ran");
}

#[test]
fn a_document_the_expression_cannot_filter_exits_2_and_errors_stay_whole() {
    let env = with_config();
    let out = env.shipcheck(&[
        "plan",
        "--json",
        "--jq",
        ".phases[0].phase, (.phases | keys[0] | ascii_downcase)",
    ]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert_eq!(out.stdout, "prepare\n", "results before the error print");
    assert!(out.stderr.contains("error: --jq"), "{}", out.stderr);
    // A failing command's error document is printed whole, whatever the filter.
    let bare = TestEnv::bare();
    let out = bare.shipcheck(&["config", "check", "--json", "--jq", ".valid"]);
    assert_eq!(out.code, 2);
    let doc = out.json();
    assert_eq!(doc["kind"], "error");
}
