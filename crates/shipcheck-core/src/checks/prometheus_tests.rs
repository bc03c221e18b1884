use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::model::config::test_env;
use crate::testkit::checks as testing;

const TOKEN_VAR: &str = "SHIPCHECK_TEST_PROMETHEUS_TOKEN";

fn cfg(server: &MockServer, auth: &str) -> crate::model::config::Config {
    test_env::set(TOKEN_VAR, "fm2_token");
    testing::config(&format!(
        "[prometheus]\nurl = \"{}/prometheus/acme\"\ntoken_env = \"{TOKEN_VAR}\"\nauth = \"{auth}\"\nrequest_timeout = \"2s\"\n\
         [[environments.production.apps]]\nname = \"api\"\nfly_app = \"acme-api\"\n",
        server.uri()
    ))
}

fn vector(samples: &[(&str, &str)]) -> serde_json::Value {
    json!({ "status": "success", "data": { "resultType": "vector", "result":
        samples.iter().map(|(instance, v)| json!({
            "metric": { "app": "acme-api", "instance": instance },
            "value": [1787234702.123, v]
        })).collect::<Vec<_>>() } })
}

async fn mount(server: &MockServer, promql: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/prometheus/acme/api/v1/query"))
        .and(query_param("query", promql.replace("{app}", "acme-api")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn preset(p: PrometheusPreset) -> PrometheusCheck {
    PrometheusCheck {
        preset: Some(p),
        query: None,
        condition: None,
        baseline_factor: None,
        env: "production".into(),
        name: None,
    }
}

#[test]
fn conditions_parse_and_hold() {
    let c = Condition::parse("< 0.8").unwrap();
    assert!(c.holds(0.5) && !c.holds(0.8));
    assert!(Condition::parse(">=2").unwrap().holds(2.0));
    assert!(Condition::parse("!= 0").unwrap().holds(1.0));
    assert!(Condition::parse("0.8").is_err());
    assert!(Condition::parse("< lots").is_err());
}

#[tokio::test]
async fn cpu_and_memory_within_limits_pass_with_flyv1_auth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "FlyV1 fm2_token"))
        .and(query_param("query", CPU_QUERY.replace("{app}", "acme-api")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(vector(&[("a1", "0.137"), ("b2", "0.42")])),
        )
        .mount(&server)
        .await;
    mount(
        &server,
        MEMORY_QUERY,
        vector(&[("a1", "0.61"), ("b2", "0.55")]),
    )
    .await;
    let (ctx, _) = testing::ctx(cfg(&server, "flyv1"), None, testing::STARTED);
    let o = run(
        &preset(PrometheusPreset::CpuMemory),
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary.contains("cpu of acme-api: a1=0.137"),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["queries"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_value_over_the_condition_fails_and_empty_is_no_data() {
    let server = MockServer::start().await;
    mount(&server, CPU_QUERY, vector(&[("a1", "0.95")])).await;
    mount(&server, MEMORY_QUERY, vector(&[])).await;
    let (ctx, _) = testing::ctx(cfg(&server, "bearer"), None, testing::STARTED);
    let o = run(
        &preset(PrometheusPreset::CpuMemory),
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    // Error (no data for memory) is worse than the CPU fail.
    assert_eq!(o.status, Status::Error, "{}", o.summary);
    assert!(o.summary.contains("a1=0.950 not < 0.8"), "{}", o.summary);
    assert!(
        o.summary.contains("memory of acme-api: no data"),
        "{}",
        o.summary
    );

    let server = MockServer::start().await;
    mount(&server, CPU_QUERY, vector(&[("a1", "0.95")])).await;
    mount(&server, MEMORY_QUERY, vector(&[("a1", "0.5")])).await;
    let (ctx, _) = testing::ctx(cfg(&server, "bearer"), None, testing::STARTED);
    let o = run(
        &preset(PrometheusPreset::CpuMemory),
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
}

#[tokio::test]
async fn p95_against_the_value_at_the_runs_start() {
    let server = MockServer::start().await;
    // The value just before the deploy: when release.merge was done.
    let started: jiff::Timestamp = "2026-08-21T09:30:00Z".parse().unwrap();
    Mock::given(method("GET"))
        .and(query_param("time", started.as_second().to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "data": { "resultType": "vector", "result": [ { "metric": {}, "value": [1.0, "0.2"] } ] } })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "data": { "resultType": "vector", "result": [ { "metric": {}, "value": [1.0, "0.5"] } ] } })))
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(
        cfg(&server, "bearer"),
        Some(testing::merged_run()),
        "2026-08-21T10:00:00Z",
    );
    let o = run(
        &preset(PrometheusPreset::ResponseTime),
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains("over 1.5× the 0.200 before the deploy"),
        "{}",
        o.summary
    );
    let reqs = server.received_requests().await.unwrap();
    let q = reqs[0]
        .url
        .query_pairs()
        .find(|(k, _)| k == "query")
        .unwrap()
        .1
        .to_string();
    assert_eq!(q, P95_QUERY.replace("{app}", "acme-api"));
}

#[tokio::test]
async fn nan_bad_queries_and_error_envelopes_are_errors() {
    let server = MockServer::start().await;
    Mock::given(query_param("query", "up{app=\"acme-api\"}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vector(&[("a1", "NaN")])))
        .mount(&server)
        .await;
    Mock::given(query_param("query", "bad("))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "error", "errorType": "bad_data", "error": "1:5: parse error: unclosed left parenthesis" })))
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(cfg(&server, "bearer"), None, testing::STARTED);
    let mut spec = PrometheusCheck {
        query: Some("up{app=\"{app}\"}".into()),
        condition: Some("== 1".into()),
        ..preset(PrometheusPreset::CpuMemory)
    };
    spec.preset = None;
    let o = run(
        &spec,
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("NaN"), "{}", o.summary);

    spec.query = Some("bad(".into());
    let o = run(
        &spec,
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("unclosed left parenthesis"),
        "{}",
        o.summary
    );

    spec.condition = None;
    let o = run(
        &spec,
        &ctx.prometheus().unwrap(),
        &ctx.config.environments,
        ctx.run(),
    )
    .await;
    assert!(o.summary.contains("needs `condition`"), "{}", o.summary);
}
