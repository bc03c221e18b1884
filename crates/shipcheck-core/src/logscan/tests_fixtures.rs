//! The default patterns on recorded Fly logs (`fixtures/api/fly/logs-*`, provenance in
//! `fixtures/api/README.md`): every recorded error line found and named, nothing found in an
//! envelope; and on crafted clean lines full of numbers, in every shape, nothing found.

use crate::logscan::tests::shipper;
use crate::logscan::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/api/fly/");
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every matching line of `name` as (line, patterns), with room for all of them.
fn found(name: &str) -> (ScanReport, Vec<(u64, String)>) {
    let s = Scanner::with_options(
        default_patterns(),
        ScanOptions {
            keep_first: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    let r = s.scan_bytes(&fixture(name));
    let hits = r
        .first
        .iter()
        .map(|m| (m.line, m.patterns.join(",")))
        .collect();
    (r, hits)
}

fn hits(v: &[(u64, &str)]) -> Vec<(u64, String)> {
    v.iter().map(|(l, p)| (*l, p.to_string())).collect()
}

#[test]
fn node_crash_and_proxy_errors_in_fly_text() {
    let (r, got) = found("logs-text-node-crash-proxy-errors-recorded.txt");
    // `ReferenceError: …` after Node's source excerpt; the proxy's [PU02] twice and [PR03].
    assert_eq!(
        got,
        hits(&[
            (9, "exception"),
            (13, "fly:proxy"),
            (27, "fly:proxy"),
            (28, "fly:proxy")
        ])
    );
    assert_eq!(r.lines, 29);
    // The message is what follows `[level]`.
    assert_eq!(
        r.first[0].message.as_deref(),
        Some("ReferenceError: FLEX_TIMEOUT_MS is not defined")
    );
}

#[test]
fn go_panic_in_fly_text() {
    let (_, got) = found("logs-text-go-panic-recorded.txt");
    // Not `alarm triggered: prod/error` (line 1).
    assert_eq!(got, hits(&[(2, "panic"), (4, "panic")]));
}

#[test]
fn json_app_log_with_its_own_level_in_fly_text() {
    let (r, got) = found("logs-text-json-app-logs-recorded.txt");
    // `"level":"debug"` and `"level":"info"` are not errors; `"level":"error"` is.
    assert_eq!(got, hits(&[(3, "level:error")]));
    assert!(
        r.first[0]
            .message
            .as_deref()
            .unwrap()
            .starts_with(r#"{"level":"error""#)
    );
}

#[test]
fn clean_recorded_text_finds_nothing() {
    // Elixir's `[notice]`, `WARN`, `Kernel pid terminated`; Fly's boot lines.
    for name in [
        "logs-text-elixir-shutdown-recorded.txt",
        "logs-text-docs-example.txt",
    ] {
        let (r, got) = found(name);
        assert!(got.is_empty(), "{name}: {got:?}");
        assert!(r.lines >= 7);
    }
}

#[test]
fn tracing_errors_in_shipper_ndjson() {
    let (r, got) = found("logs-nats-shipper-recorded.ndjson");
    // Rust `tracing` lines `2023-…Z ERROR …` inside `"log":{"level":"info"}`; not logrus
    // `level=debug`, not Ruby's `I, [...]  INFO --`, not `status: 400`.
    assert_eq!(
        got,
        hits(&[(1, "level:error"), (2, "level:error"), (3, "level:error")])
    );
    assert_eq!(r.apps["restless-moon-8905"].lines, 3);
    assert_eq!(r.apps.len(), 1);
    // The message is decoded (`component_kind="sink"` was `\"sink\"` in the line).
    let m = r.first[0].message.as_deref().unwrap();
    assert!(
        m.starts_with("2023-06-27T01:19:11.788889Z ERROR sink{component_kind=\"sink\""),
        "{m}"
    );
}

#[test]
fn flyctl_json_stream_matches_messages_only() {
    let data = fixture("logs-flyctl-json-stream-derived.jsonstream");
    let text = String::from_utf8(data.clone()).unwrap();
    let (r, got) = found("logs-flyctl-json-stream-derived.jsonstream");
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with("\"message\"") && l.contains(needle))
            .map(|i| i as u64 + 1)
            .unwrap()
    };
    assert_eq!(
        got,
        vec![
            (line_of("ReferenceError"), "exception".to_string()),
            (line_of("[PU02]"), "fly:proxy".into()),
            (line_of("[PR03]"), "fly:proxy".into()),
            (line_of("panic: runtime"), "panic".into()),
            (line_of("blue-banded-bee"), "level:error".into()),
        ]
    );
    // Every match is a `"message"` line: never `"level": "error"` (the proxy entries'
    // envelope), `"Error": {`, `"Code": 0`, `"Message": ""` or `"status_code": 0`.
    for m in &r.first {
        assert!(m.text.trim_start().starts_with("\"message\""), "{m:?}");
    }
    assert!(text.contains("\"level\": \"error\""));
    // The app's JSON, decoded from the message string.
    let json = r.first.iter().find(|m| m.patterns == ["level:error"]);
    assert!(
        json.and_then(|m| m.message.as_deref())
            .is_some_and(|m| m.starts_with(r#"{"level":"error","service""#))
    );
}

/// Crafted clean messages full of numbers, as real logs are (access lines, JSON, pino,
/// logfmt, tracing, Phoenix, Rails, Python), and the words that are not errors.
pub(super) const CLEAN: &[&str] = &[
    "GET /api/v1/errors?page=503 200 503ms bytes=5001 req_id=500123",
    r#"10.0.5.3 - - [25/Nov/2026:10:00:00 +0000] "GET /api/items/500123 HTTP/1.1" 200 5001 "-" "curl/8.5.0" 0.503"#,
    r#"{"level":"info","msg":"request completed","status":200,"took_ms":503,"bytes":5001,"user_id":500123,"error_count":0,"errors":[]}"#,
    r#"{"level":30,"time":1764064800503,"pid":512,"res":{"statusCode":200},"responseTime":503,"msg":"no error"}"#,
    r#"time=2026-11-25T10:00:00.503Z level=info msg="cache refreshed" keys=5001 took=503ms error_count=0"#,
    "2026-11-25T10:00:00.503123Z  INFO worker: processed batch id=500123 size=5001 in 503ms, no error",
    "10:00:00.503 request_id=F-5xx [info] Sent 200 in 503ms",
    "INFO:app.worker:finished job 500123 in 503ms (errors=0)",
    r#"{"severity":"INFO","message":"GET /api/v1/errors/503 took 503ms","httpRequest":{"status":200,"latency":"0.503s"}}"#,
    "retrying in 503ms (attempt 5 of 500); last status 200",
    "Completed 200 OK in 503ms (Views: 5.0ms | ActiveRecord: 50.3ms)",
    "user error_rate=0.005 errors_total=5003 status=ok size=5001",
    "handled /panic-button click id=500 in 503ms; no panic",
    "Error handling middleware registered on /api/v1/errors",
    "POST /api/asr/temp-key - 200 (503ms)",
    r#"{"level":"warn","msg":"slow query","took_ms":5003,"rows":500,"query_id":"q-503"}"#,
    "WARN could not unmount /rootfs: EINVAL: Invalid argument (exit 5)",
    "GET /status/503 200 5ms",
];

/// An indented `flyctl logs --json` entry with `message` (already JSON-escaped).
fn indented(level: &str, message: &str) -> String {
    format!(
        "{{\n    \"level\": \"{level}\",\n    \"instance\": \"148ed193b95389\",\n    \"message\": \"{message}\",\n    \"region\": \"fra\",\n    \"timestamp\": \"2026-11-25T10:00:00.503Z\",\n    \"meta\": {{\n        \"Event\": {{\n            \"Provider\": \"app\"\n        }},\n        \"HTTP\": {{\n            \"Response\": {{\n                \"status_code\": 503\n            }}\n        }},\n        \"Error\": {{\n            \"Code\": 500,\n            \"Message\": \"ERROR panic: 503\"\n        }}\n    }}\n}}\n"
    )
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_string()
}

/// Each clean message in every shape: plain, shipper NDJSON with an `error` envelope,
/// `flyctl logs` text with `[error]`, an indented entry whose envelope says error and 503.
fn every_shape(messages: &[&str]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str(m);
        out.push('\n');
        out.push_str(&shipper("api", "error", &json_escape(m)));
        out.push('\n');
        out.push_str(&format!(
            "2026-11-25T10:00:00Z app[148ed193b95389] fra [error]{m}\n"
        ));
        out.push_str(&indented("error", &json_escape(m)));
    }
    out
}

#[test]
fn clean_lines_full_of_numbers_match_nothing_in_any_shape() {
    let text = every_shape(CLEAN);
    let r = Scanner::new(default_patterns())
        .unwrap()
        .scan_bytes(text.as_bytes());
    assert_eq!(r.matched_lines, 0, "{:#?}", r.first);
    let r = Scanner::new(default_patterns())
        .unwrap()
        .scan_lines(text.lines());
    assert_eq!(r.matched_lines, 0, "{:#?}", r.first);
}

/// One error message per form each default pattern knows, and the pattern it must be named by.
pub(super) const ERRORS: &[(&str, &str)] = &[
    ("ERROR db: connection reset after 503ms", "level:error"),
    (
        "2026-11-25T10:00:00.503Z ERROR payments: declined id=500123",
        "level:error",
    ),
    ("2025/08/15 13:21:00 ERROR upstream failed", "level:error"),
    (
        "\u{1b}[2m2026-11-25T10:00:00Z\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m sink: failed",
        "level:error",
    ),
    ("[error] could not connect", "level:error"),
    (
        "10:00:00.503 request_id=F-1 [error] GenServer terminating",
        "level:error",
    ),
    (
        "E, [2021-09-23T15:36:16.329652 #522] ERROR -- : boom",
        "level:error",
    ),
    (
        "[2024-01-01 12:00:00 +0000] [7] [ERROR] Exception in worker process",
        "level:error",
    ),
    (
        "[2024-01-01 12:00:00] production.ERROR: Undefined index",
        "level:error",
    ),
    ("error: could not compile", "level:error"),
    (
        "time=2026-11-25T10:00:00Z level=error msg=\"upstream timeout\" took=5003ms",
        "level:error",
    ),
    ("time=2026-11-25T10:00:00Z level=ERROR msg=x", "level:error"),
    (
        r#"{"level":"error","msg":"payment failed","took_ms":503}"#,
        "level:error",
    ),
    (
        r#"{"severity":"ERROR","message":"quota exceeded"}"#,
        "level:error",
    ),
    (
        r#"{"level":50,"time":1764064800503,"msg":"request errored"}"#,
        "level:error",
    ),
    (
        r#"{"levelname": "ERROR", "message": "task failed"}"#,
        "level:error",
    ),
    ("FATAL could not bind to 0.0.0.0:8080", "level:fatal"),
    (
        "F, [2021-09-23T15:36:16.329652 #522] FATAL -- : boom",
        "level:fatal",
    ),
    ("time=x level=fatal msg=\"out of memory\"", "level:fatal"),
    (r#"{"level":60,"msg":"out of memory"}"#, "level:fatal"),
    (r#"{"level":"fatal","msg":"out of memory"}"#, "level:fatal"),
    (
        "2026-11-25 10:00:00,503 CRITICAL disk full",
        "level:critical",
    ),
    ("level=crit msg=\"disk full\"", "level:critical"),
    (
        r#"{"severity":"CRITICAL","message":"disk full"}"#,
        "level:critical",
    ),
    (
        "thread 'tokio-runtime-worker' panicked at src/handlers.rs:503:9:",
        "panic",
    ),
    (
        "thread 'main' panicked at 'index out of bounds', src/main.rs:5:5",
        "panic",
    ),
    (
        "panic: runtime error: index out of range [5] with length 5",
        "panic",
    ),
    ("goroutine 503 [running]:", "panic"),
    ("fatal error: concurrent map writes", "panic"),
    ("Traceback (most recent call last):", "exception"),
    (
        "TypeError: Cannot read properties of undefined (reading 'id')",
        "exception",
    ),
    ("Uncaught ReferenceError: x is not defined", "exception"),
    (
        "Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers",
        "exception",
    ),
    ("java.lang.IllegalStateException: closed", "exception"),
    (
        "Exception in thread \"main\" java.lang.NullPointerException",
        "exception",
    ),
    (
        "[UnhandledPromiseRejection: This error originated either by throwing]",
        "exception",
    ),
    (
        "[PU02] could not complete HTTP request to instance: connection closed",
        "fly:proxy",
    ),
    ("GET /api/items/500123 503 12ms", "status:5xx"),
    (
        r#"10.0.5.3 - - [25/Nov/2026:10:00:00 +0000] "GET /api/items HTTP/1.1" 502 0 "-" "curl""#,
        "status:5xx",
    ),
    ("POST /api/asr/temp-key - 500 (1117ms)", "status:5xx"),
    (
        "10:00:00.503 request_id=F-1 [info] Sent 500 in 503ms",
        "status:5xx",
    ),
    ("Completed 500 Internal Server Error in 12ms", "status:5xx"),
    ("method=GET path=/x status=503 duration=12ms", "status:5xx"),
    (
        r#"{"level":"info","msg":"request","status":504,"took_ms":503}"#,
        "status:5xx",
    ),
    (
        r#"{"level":30,"res":{"statusCode":500},"msg":"request completed"}"#,
        "status:5xx",
    ),
];

#[test]
fn every_default_form_is_found_and_named_in_every_shape() {
    let s = Scanner::with_options(
        default_patterns(),
        ScanOptions {
            keep_first: 10,
            ..Default::default()
        },
    )
    .unwrap();
    for (message, name) in ERRORS {
        let text = every_shape(&[message]);
        let r = s.scan_bytes(text.as_bytes());
        assert_eq!(r.matched_lines, 4, "{message}: {:#?}", r.first);
        for m in &r.first {
            assert!(m.patterns.iter().any(|p| p == name), "{message}: {m:?}");
        }
        let r = s.scan_messages([message]);
        assert_eq!(r.matched_lines, 1, "{message}");
    }
}

#[test]
fn no_input_makes_it_panic() {
    // Every prefix of every recorded line and crafted line, in every shape, and bytes that
    // are not UTF-8 in the middle of JSON strings and escapes.
    let s = Scanner::new(default_patterns()).unwrap();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for name in [
        "logs-nats-shipper-recorded.ndjson",
        "logs-flyctl-json-stream-derived.jsonstream",
        "logs-text-node-crash-proxy-errors-recorded.txt",
    ] {
        lines.extend(fixture(name).split(|b| *b == b'\n').map(<[u8]>::to_vec));
    }
    let messages: Vec<&str> = ERRORS.iter().map(|(m, _)| *m).collect();
    lines.extend(
        every_shape(&messages)
            .lines()
            .map(|l| l.as_bytes().to_vec()),
    );
    lines.push(br#"{"fly":{},"message":"\u12"}"#.to_vec());
    lines.push(br#"{"fly":{},"message":"\ud83d\u0041 \ud83d"}"#.to_vec());
    lines.push(b"{\"fly\":{},\"message\":\"\xff\\\xfe\\u00\"}".to_vec());
    lines.push(br#"    "message": "ERROR cut \"#.to_vec());
    lines.push(b"2026-11-25T10:00:00Z app[1] fra [".to_vec());
    let prefixes = || {
        lines
            .iter()
            .flat_map(|l| (0..=l.len()).map(move |cut| &l[..cut]))
    };
    let mut out = Vec::new();
    let shapes = shape::Shapes::new();
    for part in prefixes() {
        if let shape::Shape::Message { start, json: true } = shapes.shape(part) {
            let _ = shape::json_string_end(part, start);
        }
        out.clear();
        shape::unescape(part, &mut out);
    }
    let r = s.scan_lines(prefixes());
    assert!(r.matched_lines > 0);
    let joined: Vec<u8> = prefixes()
        .flat_map(|p| p.iter().chain(b"\n"))
        .copied()
        .collect();
    assert_eq!(s.scan_bytes(&joined).lines, r.lines);
    // A truncated escape and a cut-off message are still matched.
    let r = s.scan_lines([br#"    "message": "ERROR cut \"#.as_slice()]);
    assert_eq!(r.count("level:error"), Some(1));
}
