//! The integrations' signals in the watch, against stand-ins with Sentry's and Prometheus'
//! documented shapes: a CPU over its ceiling is a medium incident; an error rate far above
//! Sentry's baseline is critical.

use std::sync::Arc;

use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::clients::prometheus::{CPU_QUERY, MEMORY_QUERY, P95_QUERY};
use crate::incidents::Severity;
use crate::model::config::test_env;
use crate::model::watch::{Metric, SeriesKey};
use crate::runs::stream::NoConfirm;
use crate::watch::WatchOptions;
use crate::watch::tests::app::{Reply, Req};
use crate::watch::tests::world::{Seen, World, minutes};

fn healthy() -> crate::watch::tests::app::Behaviour {
    Arc::new(|_: &Req| Reply::ok())
}

async fn prom(server: &MockServer, promql: &str, app: &str, value: &str) {
    Mock::given(method("GET"))
        .and(path("/prometheus/acme/api/v1/query"))
        .and(query_param("query", promql.replace("{app}", app)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": { "resultType": "vector", "result": [
                { "metric": { "app": app, "instance": "i1" }, "value": [1787234702.1, "0.1"] },
                { "metric": { "app": app, "instance": "i2" }, "value": [1787234702.1, value] },
            ] }
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_cpu_over_its_ceiling_is_a_medium_incident() {
    let server = MockServer::start().await;
    test_env::set("SHIPCHECK_TEST_WATCH_PROM", "fm2_x");
    for app in ["api", "web"] {
        prom(
            &server,
            CPU_QUERY,
            app,
            if app == "api" { "0.95" } else { "0.30" },
        )
        .await;
        prom(&server, MEMORY_QUERY, app, "0.50").await;
        prom(&server, P95_QUERY, app, "0.120").await;
    }
    let extra = format!(
        "[prometheus]\nurl = \"{}/prometheus/acme\"\ntoken_env = \"SHIPCHECK_TEST_WATCH_PROM\"\n\n[monitor]\nduration = \"30m\"\n",
        server.uri()
    );
    let w = World::new(&extra, healthy()).await;
    let run = w.live_run().await;
    let b = run.monitor.baseline.as_ref().unwrap();
    assert_eq!(
        b.value(&SeriesKey::new(Metric::Cpu, Some("api"))),
        Some(95.0),
        "the busiest instance"
    );
    assert_eq!(
        b.value(&SeriesKey::new(Metric::P95, Some("web"))),
        Some(120.0)
    );
    crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions::default(),
        &NoConfirm,
        &Seen::default(),
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    assert_eq!(m.incidents.len(), 1, "{:#?}", m.incidents);
    let i = &m.incidents[0];
    assert_eq!(i.record.severity, Severity::Medium);
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::Cpu, Some("api")))
    );
    assert!(i.record.summary.contains("95.0%"), "{}", i.record.summary);
    let ctx = crate::watch::WatchContext::of(&w.session, Some(&run));
    let metrics = crate::watch::items::metrics(&ctx);
    assert_eq!(metrics.status, crate::model::outcome::Status::Fail);
    assert!(metrics.summary.contains("cpu"), "{}", metrics.summary);
    assert!(
        !metrics.summary.contains("not measured: cpu"),
        "{}",
        metrics.summary
    );
    // The edge p95 is compared with its baseline in verify too.
    let rt = crate::watch::items::response_times(&ctx).await;
    assert!(
        rt.summary.contains("web (edge) p95 120ms"),
        "{}",
        rt.summary
    );
}

fn series(per_bucket: f64, buckets: usize) -> serde_json::Value {
    json!({ "timeSeries": [{ "yAxis": "count()", "values": (0..buckets).map(|i| json!({
        "timestamp": 1_787_300_000_000i64 + i as i64 * 60_000, "value": per_bucket, "incomplete": false
    })).collect::<Vec<_>>() }] })
}

#[tokio::test]
async fn an_error_rate_far_above_sentrys_baseline_is_critical() {
    let server = MockServer::start().await;
    test_env::set("SHIPCHECK_TEST_WATCH_SENTRY", "sntrys_x");
    Mock::given(method("GET"))
        .and(path("/api/0/projects/acme/my-app/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "2"})))
        .mount(&server)
        .await;
    // The baseline: 24 hourly buckets of 12 errors (0.2 a minute). Now: 30 a minute.
    for (interval, body) in [("1h", series(12.0, 24)), ("1m", series(30.0, 10))] {
        Mock::given(method("GET"))
            .and(path("/api/0/organizations/acme/events-timeseries/"))
            .and(query_param("interval", interval))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    let extra = format!(
        "[sentry]\nurl = \"{}\"\norg = \"acme\"\nprojects = [\"my-app\"]\ntoken_env = \"SHIPCHECK_TEST_WATCH_SENTRY\"\n\n[monitor]\nduration = \"15m\"\n",
        server.uri()
    );
    let w = World::new(&extra, healthy()).await;
    let run = w.live_run().await;
    let key = SeriesKey::new(Metric::ErrorRate, None);
    let base = run.monitor.baseline.as_ref().unwrap().value(&key).unwrap();
    assert!((base - 0.2).abs() < 1e-9, "{base}");
    crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions::default(),
        &NoConfirm,
        &Seen::default(),
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    assert_eq!(i.record.severity, Severity::Critical, "{:#?}", i);
    assert_eq!(i.record.series, Some(key));
    // close.no-critical: the critical incident is open, and Sentry has a new fatal issue.
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "id": "9", "shortId": "MY-APP-9", "title": "TypeError in checkout", "level": "fatal",
              "firstSeen": "2026-11-25T11:05:00Z", "count": "12", "permalink": "" },
            { "id": "8", "shortId": "MY-APP-8", "title": "slow query", "level": "warning",
              "firstSeen": "2026-11-25T11:06:00Z", "count": "3", "permalink": "" },
        ])))
        .mount(&server)
        .await;
    let ctx = crate::watch::WatchContext::of(&w.session, Some(&run));
    let nc = crate::watch::items::no_critical(&ctx).await;
    assert_eq!(nc.status, crate::model::outcome::Status::Fail);
    assert!(
        nc.summary.contains("1 critical incident(s) open"),
        "{}",
        nc.summary
    );
    assert!(
        nc.summary.contains("MY-APP-9 TypeError in checkout"),
        "{}",
        nc.summary
    );
    assert!(!nc.summary.contains("MY-APP-8"), "{}", nc.summary);
    // Sentry is asked at most once a minute, whatever the sampling.
    let asked = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.query().unwrap_or("").contains("interval=1m"))
        .count();
    assert!((14..=17).contains(&asked), "{asked} requests in 15 minutes");
}

/// Fly's edge counters of one app (`fly_edge_http_responses_count` by status, labelled as in
/// `fixtures/api/prometheus/query-vector-fly-edge-responses-derived.json`): each read without
/// a `time` (the watch's) finds 40 more requests; from the `onset`-th read on, 12 of them are
/// 500s. The baseline's two reads (with a `time`) find 6,000 requests, 6 of them 500s.
struct EdgeCounters {
    app: &'static str,
    onset: u64,
    reads: std::sync::atomic::AtomicU64,
    baseline_reads: std::sync::atomic::AtomicU64,
}

impl wiremock::Respond for EdgeCounters {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        use std::sync::atomic::Ordering::SeqCst;
        let timed = req.url.query_pairs().any(|(k, _)| k == "time");
        let (ok, failed) = if timed {
            let n = self.baseline_reads.fetch_add(1, SeqCst);
            if n == 0 { (10_000, 20) } else { (15_994, 26) }
        } else {
            let n = self.reads.fetch_add(1, SeqCst);
            let bad = n.saturating_sub(self.onset);
            (20_000 + 40 * n - 12 * bad, 30 + 12 * bad)
        };
        let series = |status: &str, v: u64| {
            json!({ "metric": { "__name__": "fly_edge_http_responses_count", "app": self.app,
                "host": "a1f2", "region": "fra", "status": status }, "value": [1787234702.1, v.to_string()] })
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": { "resultType": "vector", "result": [series("200", ok), series("500", failed)] }
        }))
    }
}

#[tokio::test]
async fn real_traffic_failing_at_the_edge_is_critical_while_the_probes_pass() {
    use crate::watch::sources::edge::EDGE_QUERY;
    let server = MockServer::start().await;
    test_env::set("SHIPCHECK_TEST_WATCH_EDGE", "fm2_x");
    for app in ["api", "web"] {
        Mock::given(method("GET"))
            .and(path("/prometheus/acme/api/v1/query"))
            .and(query_param("query", EDGE_QUERY.replace("{app}", app)))
            .respond_with(EdgeCounters {
                app,
                // api's real requests begin failing 30 % at its 5th read; web's never do.
                onset: if app == "api" { 4 } else { u64::MAX },
                reads: 0.into(),
                baseline_reads: 0.into(),
            })
            .mount(&server)
            .await;
        prom(&server, CPU_QUERY, app, "0.30").await;
        prom(&server, MEMORY_QUERY, app, "0.50").await;
        prom(&server, P95_QUERY, app, "0.020").await;
    }
    let extra = format!(
        "[prometheus]\nurl = \"{}/prometheus/acme\"\ntoken_env = \"SHIPCHECK_TEST_WATCH_EDGE\"\n\n[monitor]\nduration = \"15m\"\nsample_every = \"10s\"\n",
        server.uri()
    );
    let w = World::new(&extra, healthy()).await;
    let run = w.live_run().await;
    // The baseline counted the 10 minutes of real requests before the release.
    let b = run.monitor.baseline.as_ref().unwrap();
    let edge = b
        .get(&SeriesKey::new(Metric::EdgeErrors, Some("api")))
        .unwrap();
    assert_eq!(edge.samples, 6_000, "{edge:?}");
    assert!((edge.value.unwrap() - 0.1).abs() < 1e-9, "{edge:?}");
    crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions::default(),
        &NoConfirm,
        &Seen::default(),
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    let i = m
        .incidents
        .first()
        .unwrap_or_else(|| panic!("no incident: {:#?}", m.legs));
    assert_eq!(i.record.severity, Severity::Critical, "{i:#?}");
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::EdgeErrors, Some("api"))),
        "{i:#?}"
    );
    assert!(
        i.record
            .summary
            .contains("failed requests above the baseline")
            && i.record.summary.contains("requests and probes"),
        "{}",
        i.record.summary
    );
    // Two reads of evidence after the onset (each read is one moment, at most half the
    // bound): raised at the 6th read, 10 s apart.
    let raised = minutes(i.raised_at) - minutes(m.release_live_at.unwrap());
    assert!(
        raised < 2.0,
        "raised {raised:.2} min after the release went live"
    );
    assert_eq!(
        m.incidents.len(),
        1,
        "web's traffic is clean: {:#?}",
        m.incidents
    );
}
