//! `shipcheck logs scan` on recorded Fly logs (`fixtures/api/fly/`): the default patterns
//! find the app's own errors inside `info`-labelled entries, never the envelope.

use crate::support::TestEnv;

fn fixture(name: &str) -> String {
    format!(
        "{}/../../fixtures/api/fly/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn counts(report: &serde_json::Value) -> Vec<(String, u64)> {
    report["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["lines"].as_u64().unwrap() > 0)
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["lines"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn logs_scan_finds_tracing_errors_in_recorded_shipper_lines() {
    let env = TestEnv::bare();
    let file = fixture("logs-nats-shipper-recorded.ndjson");
    let out = env.shipcheck(&["logs", "scan", &file, "--json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["kind"], "logs_scan");
    let r = &v["report"];
    assert_eq!(r["lines"], 8);
    assert_eq!(r["matched_lines"], 3);
    assert_eq!(counts(r), [("level:error".to_string(), 3)]);
    assert_eq!(r["apps"]["restless-moon-8905"]["lines"], 3);
    let first = &r["first"][0];
    assert_eq!(first["line"], 1);
    assert_eq!(first["patterns"][0], "level:error");
    // The decoded message, beside the line as written.
    let message = first["message"].as_str().unwrap();
    assert!(
        message.starts_with("2023-06-27T01:19:11.788889Z ERROR sink{component_kind=\"sink\""),
        "{message}"
    );
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .contains(r#""log":{"level":"info"}"#)
    );
}

#[test]
fn logs_scan_reads_a_recorded_flyctl_json_stream() {
    let env = TestEnv::bare();
    let file = fixture("logs-flyctl-json-stream-derived.jsonstream");
    let out = env.shipcheck(&["logs", "scan", &file, "--json", "--first", "20"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = &out.json()["report"];
    assert_eq!(
        counts(r),
        [
            ("level:error".to_string(), 1),
            ("panic".to_string(), 1),
            ("exception".to_string(), 1),
            ("fly:proxy".to_string(), 2),
        ]
    );
    // Only `"message"` lines match: never `"level": "error"`, `"Error": {`, `status_code`.
    for m in r["first"].as_array().unwrap() {
        let text = m["text"].as_str().unwrap();
        assert!(text.trim_start().starts_with("\"message\""), "{text}");
    }

    // Whole lines, envelope included, when asked: the proxy entries' `"level": "error"`.
    let whole = env.shipcheck(&[
        "logs",
        "scan",
        &file,
        "--json",
        "--whole-line",
        "-e",
        r#""level": "error""#,
    ]);
    assert_eq!(whole.code, 1, "{}", whole.stderr);
    assert_eq!(whole.json()["report"]["matched_lines"], 2);

    // The text report shows each entry's message.
    let text = env.shipcheck(&["logs", "scan", &file]);
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("[exception] ReferenceError: FLEX_TIMEOUT_MS is not defined"),
        "{}",
        text.stdout
    );
}

#[test]
fn logs_scan_of_clean_recorded_text_exits_0() {
    let env = TestEnv::bare();
    let file = fixture("logs-text-elixir-shutdown-recorded.txt");
    let out = env.shipcheck(&["logs", "scan", &file, "--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.json()["report"]["matched_lines"], 0);
}
