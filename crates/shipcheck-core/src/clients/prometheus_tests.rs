//! The Prometheus reader against Prometheus' and VictoriaMetrics' published answers
//! (`fixtures/api/prometheus`).

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::testkit::checks as testing;
use crate::testkit::fixture;

fn client(server: &MockServer) -> Prometheus {
    let cfg = testing::config(&format!(
        "[prometheus]\nurl = \"{}/prometheus/acme\"\nrequest_timeout = \"2s\"\n",
        server.uri()
    ));
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    ctx.prometheus().unwrap()
}

async fn answering(status: u16, body: &str) -> (Prometheus, MockServer) {
    let server = MockServer::start().await;
    Mock::given(path("/prometheus/acme/api/v1/query"))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_raw(body.as_bytes().to_vec(), "application/json"),
        )
        .mount(&server)
        .await;
    (client(&server), server)
}

#[tokio::test]
async fn vectors_in_prometheus_and_victoriametrics_shapes() {
    let s = answering(200, fixture!("prometheus/query-vector-docs-example.json"))
        .await
        .0
        .query("up", None)
        .await
        .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].labels["instance"], "localhost:9090");
    assert_eq!((s[0].value, s[1].value), (1.0, 0.0));
    // VictoriaMetrics cluster: `isPartial`, `stats.seriesFetched` as a string, integer time.
    let s = answering(
        200,
        fixture!("prometheus/vm-query-vector-cluster-docs-example.json"),
    )
    .await
    .0
    .query("x", None)
    .await
    .unwrap();
    assert_eq!(s[0].value, 3.0);
    assert!(s[0].labels.is_empty());
    // Annotations (`infos`) beside the data.
    let s = answering(
        200,
        fixture!("prometheus/query-vector-with-infos-derived.json"),
    )
    .await
    .0
    .query("x", None)
    .await
    .unwrap();
    assert_eq!(s[0].value, 0.137);
    let s = answering(200, fixture!("prometheus/query-empty-vector.json"))
        .await
        .0
        .query("x", None)
        .await
        .unwrap();
    assert!(s.is_empty());
}

#[tokio::test]
async fn special_values_are_read_as_nan_and_infinities() {
    let mut got = Vec::new();
    for line in fixture!("prometheus/codec-special-float-values.jsonl").lines() {
        // Each line is a scalar value as Prometheus' codec writes it; as a query answer it is
        // `data.result` of a scalar.
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let body = serde_json::json!({"status": "success", "data": {"resultType": "scalar", "result": v["data"]}});
        let s = answering(200, &body.to_string())
            .await
            .0
            .query("x", None)
            .await
            .unwrap();
        got.push(s[0].value);
    }
    assert!(got[0].is_nan());
    assert_eq!((got[1], got[2]), (f64::INFINITY, f64::NEG_INFINITY));
}

#[tokio::test]
async fn a_range_answer_to_an_instant_query_is_an_error() {
    for body in [
        fixture!("prometheus/query-matrix-docs-example.json"),
        fixture!("prometheus/vm-query-range-recorded-thirdparty.json"),
    ] {
        let e = answering(200, body)
            .await
            .0
            .query("x", None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("resultType \"matrix\""), "{e}");
    }
}

#[tokio::test]
async fn error_envelopes_read_as_one_sentence() {
    let cases = [
        (
            400,
            fixture!("prometheus/error-bad-data-derived.json"),
            "answered 400",
            "bad_data: invalid parameter",
        ),
        (
            406,
            fixture!("prometheus/error-not-acceptable-test.json"),
            "answered 406",
            "not_acceptable: cannot encode",
        ),
        (
            422,
            fixture!("prometheus/vm-error-422-derived.json"),
            "rejected the query x (422)",
            ": error when executing query=",
        ),
        (
            503,
            fixture!("prometheus/error-timeout-with-data-test.json"),
            "answered 503",
            "timeout: message",
        ),
    ];
    for (status, body, kind, said) in cases {
        let e = answering(status, body)
            .await
            .0
            .query("x", None)
            .await
            .unwrap_err();
        let m = e.to_string();
        assert!(m.contains(kind) && m.contains(said), "{status}: {m}");
    }
    // An error envelope with 200 (a proxy rewriting statuses) is still read.
    let e = answering(
        200,
        fixture!("prometheus/error-timeout-with-data-test.json"),
    )
    .await
    .0
    .query("x", None)
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("status \"error\" (timeout: message)"),
        "{e}"
    );
}
