//! The load test against servers with known behaviour. No assertion on speed: only counts,
//! classifications, and latencies a stall guarantees (lower bounds).

use std::time::Duration;

use crate::loadtest::test_server::{Behaviour, closed_port, serve};
use crate::loadtest::*;

fn opts(url: String, c: usize, n: u64) -> Options {
    Options {
        concurrency: c,
        requests: Some(n),
        ..Options::new(url)
    }
}

async fn go(o: &Options) -> Report {
    run(o, &Allowed::loopback_only(), &|_| {}).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn makes_exactly_the_requests_asked_for() {
    let s = serve(Behaviour::default());
    let r = go(&opts(s.url("/health?x=1"), 8, 500)).await;
    assert_eq!(r.requests, 500, "{r:?}");
    assert_eq!(r.responses, 500);
    assert_eq!(r.ok, 500);
    assert_eq!(r.status.s2xx, 500);
    assert_eq!(r.errors.total(), 0);
    assert_eq!(s.requests(), 500);
    assert_eq!(r.model, "closed");
    assert!(r.connections >= 1 && r.connections <= 8, "{r:?}");
    assert_eq!(r.bytes, 1000);
    assert!(r.latency_ms.p50 > 0.0 && r.latency_ms.max >= r.latency_ms.p99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_sends_its_schedule_exactly() {
    let s = serve(Behaviour::default());
    let o = Options {
        rate: Some(2000.0),
        ..opts(s.url("/"), 4, 300)
    };
    let r = go(&o).await;
    assert_eq!((r.requests, r.responses, r.unsent), (300, 300, 0), "{r:?}");
    assert_eq!(s.requests(), 300);
    assert_eq!(r.model, "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classifies_every_tenth_answer_500_as_5xx() {
    let s = serve(Behaviour {
        status_every: Some((10, 500)),
        ..Default::default()
    });
    let r = go(&opts(s.url("/"), 5, 1000)).await;
    assert_eq!(r.requests, 1000);
    assert_eq!(r.errors.status_5xx, 100, "{r:?}");
    assert_eq!(r.status.s5xx, 100);
    assert_eq!(r.ok, 900);
    assert_eq!(r.errors.total(), 100);
    assert!((r.error_rate - 0.1).abs() < 1e-9);
    let four = serve(Behaviour {
        status_every: Some((4, 404)),
        ..Default::default()
    });
    let r = go(&opts(four.url("/"), 2, 100)).await;
    assert_eq!((r.errors.status_4xx, r.errors.status_5xx), (25, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_server_is_connect_errors() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let r = go(&opts(url, 4, 40)).await;
    assert_eq!(r.requests, 40, "{r:?}");
    assert_eq!(r.errors.connect, 40);
    assert_eq!(r.responses, 0);
    assert_eq!(r.error_rate, 1.0);
    assert_eq!(r.latency_ms, Latency::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_the_server_closes_kept_alive_connections() {
    let s = serve(Behaviour {
        close_after: Some(3),
        ..Default::default()
    });
    let r = go(&opts(s.url("/"), 3, 90)).await;
    assert_eq!((r.requests, r.ok), (90, 90), "{r:?}");
    assert_eq!(r.errors.total(), 0, "{r:?}");
    assert!(r.connections >= 30, "{r:?}");
    assert_eq!(s.requests(), 90);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_slower_than_the_timeout_is_timeouts() {
    let s = serve(Behaviour {
        stall: Some((1, Duration::from_secs(3))),
        ..Default::default()
    });
    let o = Options {
        timeout: Duration::from_millis(150),
        ..opts(s.url("/"), 1, 4)
    };
    let r = go(&o).await;
    assert_eq!(r.requests, 4, "{r:?}");
    assert_eq!(r.errors.timeout, 4, "{r:?}");
}

/// The point of the open model: a 400 ms stall delays every request due during it, and the
/// percentiles say so. Lower bounds only: a slower machine can only raise them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_the_open_models_percentiles() {
    let stall = Behaviour {
        stall: Some((20, Duration::from_millis(400))),
        ..Default::default()
    };
    let s = serve(stall);
    let o = Options {
        rate: Some(100.0),
        ..opts(s.url("/"), 4, 200)
    };
    let open = go(&o).await;
    assert_eq!(open.responses, 200, "{open:?}");
    // ≥ 40 of 200 requests were due during the stall; the first waited all of it.
    assert!(open.latency_ms.max >= 390.0, "{open:?}");
    assert!(open.latency_ms.p99 >= 300.0, "{open:?}");
    assert!(open.latency_ms.p90 >= 100.0, "{open:?}");

    // The closed model sees the stall only on the requests that were in flight.
    let s = serve(stall);
    let closed = go(&opts(s.url("/"), 4, 200)).await;
    assert!(closed.latency_ms.max >= 390.0, "{closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_mode_stops_and_reports_progress() {
    let s = serve(Behaviour::default());
    let o = Options {
        duration: Some(Duration::from_millis(600)),
        ..Options::new(s.url("/"))
    };
    let calls = std::sync::atomic::AtomicU64::new(0);
    let r = run(&o, &Allowed::loopback_only(), &|snap| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(snap.planned.is_none());
    })
    .await
    .unwrap();
    assert!(r.requests > 0 && r.requests == r.ok, "{r:?}");
    assert_eq!(s.requests() as u64, r.requests);
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn refuses_targets_that_are_not_loopback_or_allowed() {
    let none = Allowed::loopback_only();
    for url in [
        "http://10.1.2.3/",
        "http://example.com/health",
        "https://[2001:db8::1]/",
    ] {
        let e = resolve(url, &none).await.unwrap_err();
        assert!(matches!(e, LoadtestError::Refused { .. }), "{url}: {e}");
        assert!(e.to_string().contains("refusing to load-test"), "{e}");
    }
    let staging = Allowed::hosts(["10.1.2.3", "Staging.Example."]);
    let t = resolve("http://10.1.2.3:8080/x?y", &staging).await.unwrap();
    assert_eq!(
        (t.authority.as_str(), t.path.as_str()),
        ("10.1.2.3:8080", "/x?y")
    );
    let e = resolve("http://10.9.9.9/", &staging).await.unwrap_err();
    assert!(e.to_string().contains("staging.example"), "{e}");
    for url in [
        "http://127.0.0.1:9/",
        "http://[::1]:9/",
        "http://localhost:9/",
    ] {
        let t = resolve(url, &none).await.unwrap();
        assert!(t.addr.ip().is_loopback(), "{url}");
    }
    for url in ["ftp://127.0.0.1/", "not a url", "http:///"] {
        assert!(resolve(url, &none).await.is_err(), "{url}");
    }
}

#[test]
fn options_are_bounded() {
    let base = Options::new("http://127.0.0.1/");
    let bad = [
        Options {
            concurrency: 0,
            ..base.clone()
        },
        Options {
            concurrency: MAX_CONCURRENCY + 1,
            ..base.clone()
        },
        Options {
            rate: Some(0.0),
            ..base.clone()
        },
        Options {
            rate: Some(f64::NAN),
            ..base.clone()
        },
        Options {
            duration: Some(MAX_DURATION * 2),
            ..base.clone()
        },
        Options {
            requests: Some(0),
            ..base.clone()
        },
        Options {
            timeout: Duration::ZERO,
            ..base.clone()
        },
        Options {
            rate: Some(1.0),
            requests: Some(100_000),
            ..base.clone()
        },
        Options {
            rate: Some(1e-300),
            requests: Some(10),
            ..base.clone()
        },
    ];
    for o in bad {
        assert!(o.plan().is_err(), "{o:?}");
    }
    let p = base.plan().unwrap();
    assert_eq!((p.total, p.stop_after), (MAX_REQUESTS, DEFAULT_DURATION));
    let p = Options {
        rate: Some(50.0),
        duration: Some(Duration::from_secs(2)),
        ..base.clone()
    }
    .plan()
    .unwrap();
    assert_eq!(p.total, 100);
    let p = Options {
        requests: Some(7),
        ..base
    }
    .plan()
    .unwrap();
    assert_eq!((p.total, p.stop_after), (7, MAX_DURATION));
}

fn report(p95: f64, p99: f64, rps: f64, error_rate: f64) -> Report {
    Report {
        url: "http://127.0.0.1/".into(),
        model: "closed".into(),
        concurrency: 10,
        rate: None,
        requests: 1000,
        responses: 1000,
        ok: 1000,
        errors: ErrorCounts::default(),
        status: StatusCounts::default(),
        error_rate,
        elapsed_s: 10.0,
        rps,
        latency_ms: Latency {
            p95,
            p99,
            ..Latency::default()
        },
        connections: 10,
        bytes: 0,
        unsent: 0,
    }
}

#[test]
fn thresholds_and_comparison() {
    let t = Thresholds {
        max_p95: Some(Duration::from_millis(100)),
        max_p99: Some(Duration::from_millis(200)),
        max_error_rate: Some(0.01),
        min_rps: Some(50.0),
    };
    assert!(evaluate(&report(99.0, 150.0, 60.0, 0.0), &t).is_empty());
    let v = evaluate(&report(120.0, 250.0, 40.0, 0.05), &t);
    let names: Vec<_> = v.iter().map(|v| v.threshold.as_str()).collect();
    assert_eq!(names, ["max_p95", "max_p99", "max_error_rate", "min_rps"]);
    assert!(v[0].text.contains("p95 120.0ms > 100.0ms"), "{}", v[0].text);
    assert!(evaluate(&report(1e9, 1e9, 0.0, 1.0), &Thresholds::default()).is_empty());

    let c = compare(
        &report(100.0, 200.0, 50.0, 0.0),
        &report(125.0, 200.0, 45.0, 0.0),
    );
    assert_eq!(c.p95_change, Some(0.25));
    assert_eq!(c.p99_change, Some(0.0));
    assert!(c.text.starts_with("p95 +25%"), "{}", c.text);
    assert!(c.text.contains("rps -10%"), "{}", c.text);
    let json = serde_json::to_value(report(1.0, 2.0, 3.0, 0.0)).unwrap();
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back.latency_ms.p99, 2.0);
}

/// `https://` builds a TLS connector (the platform verifier); a server that does not speak
/// TLS is a connect error for every request, not a hang or a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_against_a_plain_server_is_connect_errors() {
    assert!(crate::loadtest::client::tls_connector().is_ok());
    let s = serve(Behaviour::default());
    let url = format!("https://127.0.0.1:{}/", s.addr.port());
    // The plain server waits for a request head that never comes: each handshake times out.
    let o = Options {
        timeout: Duration::from_millis(200),
        ..opts(url, 2, 6)
    };
    let r = go(&o).await;
    assert_eq!(r.requests, 6, "{r:?}");
    assert_eq!(r.errors.connect, 6, "{r:?}");
}
