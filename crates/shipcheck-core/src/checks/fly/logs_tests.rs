//! `verify.logs-clean` on a recorded `flyctl logs --json` stream
//! (`fixtures/api/fly/logs-flyctl-json-stream-derived.jsonstream`), answered verbatim by a
//! small shell script standing in for flyctl.

use std::path::Path;

use crate::checks::fly::logs;
use crate::model::checklist::FlyLogsCheck;
use crate::model::outcome::Status;
use crate::testkit::checks::{config, ctx};

const STREAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/api/fly/logs-flyctl-json-stream-derived.jsonstream"
);

/// A flyctl stand-in: `releases` answers one release made at 2024-02-11T14:00:00Z (before
/// every entry of the stream), `logs` prints `stream` as it is.
fn standin(dir: &Path, stream: &Path) -> String {
    let script = dir.join("flyctl.sh");
    let text = format!(
        r#"case "$1" in
releases) printf '%s\n' '[{{"ID":"r1","Version":7,"Status":"complete","CreatedAt":"2024-02-11T14:00:00Z","ImageRef":"registry.fly.io/clio:7"}}]' ;;
logs) cat '{}' ;;
*) echo "unexpected: $*" >&2; exit 1 ;;
esac
"#,
        stream.display()
    );
    std::fs::write(&script, text).unwrap();
    format!(
        "[fly]\ncommand = [\"sh\", \"{}\"]\ntimeout = \"20s\"\n\n\
         [[environments.production.apps]]\nname = \"clio\"\nfly_app = \"clio-api\"\n",
        script.display()
    )
}

fn spec() -> FlyLogsCheck {
    FlyLogsCheck {
        env: "production".into(),
        max_lines: None,
    }
}

#[tokio::test]
async fn a_recorded_stream_fails_on_its_messages_not_its_envelopes() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, _clock) = ctx(
        config(&standin(tmp.path(), Path::new(STREAM))),
        None,
        "2026-01-01T00:00:00Z",
    );
    let o = logs(&spec(), &c.fly_apps(), &c.config.fly).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    let app = &o.evidence["apps"][0];
    assert_eq!(app["scanned"], 11, "{app:#}");
    // The Node crash, the proxy's two errors, the Go panic, the app's JSON error line; not
    // the proxy entries' envelope level "error" as a level, nor any `"Error": {…}`.
    assert_eq!(app["errors"], 5, "{app:#}");
    let whys: Vec<&str> = app["first_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["why"].as_str().unwrap())
        .collect();
    assert_eq!(
        whys,
        [
            "exception",
            "fly:proxy",
            "fly:proxy",
            "panic",
            "level:error"
        ]
    );
    let first = &app["first_errors"][0];
    assert_eq!(
        first["message"],
        "ReferenceError: FLEX_TIMEOUT_MS is not defined"
    );
    assert_eq!(app["by_pattern"]["level:error"], 1);
    assert_eq!(app["by_pattern"]["status:5xx"], 0);
    assert!(
        o.summary
            .contains("first (exception): ReferenceError: FLEX_TIMEOUT_MS"),
        "{}",
        o.summary
    );
    // The app's JSON line is shown as the app wrote it.
    assert!(
        app["first_errors"][4]["message"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"level":"error","service":"blue-banded-bee""#)
    );
}

#[tokio::test]
async fn the_clean_entries_of_the_stream_pass() {
    let tmp = tempfile::tempdir().unwrap();
    // The first two entries: a console.error line and a stack frame, both clean.
    let text = std::fs::read_to_string(STREAM).unwrap();
    let clean: Vec<&str> = text.lines().take(62).collect();
    assert_eq!(clean.last(), Some(&"}"));
    let stream = tmp.path().join("clean.jsonstream");
    std::fs::write(&stream, clean.join("\n") + "\n").unwrap();
    let (c, _clock) = ctx(
        config(&standin(tmp.path(), &stream)),
        None,
        "2026-01-01T00:00:00Z",
    );
    let o = logs(&spec(), &c.fly_apps(), &c.config.fly).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["apps"][0]["scanned"], 2);
    assert_eq!(o.evidence["apps"][0]["errors"], 0);
}
