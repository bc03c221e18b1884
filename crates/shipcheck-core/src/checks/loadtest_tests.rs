//! The `loadtest` check against loopback servers with known behaviour, and its comparison
//! with the previous run's result through the store.

use serde_json::json;

use super::*;
use crate::loadtest::test_server::{Behaviour, serve};
use crate::model::checklist::{Item, ItemKind, Phase};
use crate::model::config::{App, Config, Environment};
use crate::model::event::Event;
use crate::model::loadtest::problems;
use crate::store::{RunSummaryUpdate, StoreTarget};

/// The config the check reads, and the store its history comes from.
struct Case {
    config: Config,
    store: Option<Store>,
}

async fn run(spec: &LoadtestCheck, c: &Case) -> Outcome {
    let history = c.store.as_ref().map(|store| History {
        store,
        project: &c.config.project.name,
        run: None,
    });
    super::run(spec, &c.config.environments, history).await
}

fn ctx(apps: Vec<(&str, String)>) -> Case {
    let mut config = Config::default();
    let apps = apps
        .into_iter()
        .map(|(name, url)| App {
            name: name.into(),
            fly_app: None,
            health_url: Some(url),
            expect_status: 200,
            region: None,
            required_secrets: vec![],
            version: None,
            sentry_project: None,
        })
        .collect();
    config
        .environments
        .insert("staging".into(), Environment { apps });
    Case {
        config,
        store: None,
    }
}

fn spec(requests: u64) -> LoadtestCheck {
    LoadtestCheck {
        requests: Some(requests),
        concurrency: Some(4),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_tests_every_staging_app_and_judges_thresholds() {
    let good = serve(Behaviour::default());
    let bad = serve(Behaviour {
        status_every: Some((10, 500)),
        ..Default::default()
    });
    let c = ctx(vec![("api", good.url("/health")), ("web", bad.url("/"))]);
    let mut s = spec(100);
    let o = run(&s, &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(good.requests(), 100);
    assert_eq!(bad.requests(), 100);
    let targets = o.evidence["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[1]["report"]["errors"]["status_5xx"], 10);
    assert!(o.summary.starts_with("api: 100 requests"), "{}", o.summary);
    assert!(
        o.evidence["previous"]["note"]
            .as_str()
            .unwrap()
            .contains("no store"),
        "{}",
        o.evidence
    );

    s.max_error_rate = Some(0.05);
    let o = run(&s, &c).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(o.summary.contains("web: 100 requests"), "{}", o.summary);
    assert!(o.summary.contains("errors 10.00% > 5.00%"), "{}", o.summary);
    assert_eq!(o.evidence["targets"][0]["result"], "pass");
    assert_eq!(o.evidence["targets"][1]["result"], "fail");
}

#[tokio::test]
async fn refuses_hosts_that_are_not_loopback_or_staging() {
    let c = ctx(vec![("api", "http://127.0.0.1:9/".into())]);
    let s = LoadtestCheck {
        url: Some("http://192.0.2.7/health".into()),
        ..spec(10)
    };
    let o = run(&s, &c).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("refusing to load-test 192.0.2.7"),
        "{}",
        o.summary
    );
    // No app with a health URL and no url: nothing to test is an error, not a pass.
    let empty = ctx(vec![]);
    assert_eq!(run(&spec(10), &empty).await.status, Status::Error);
}

#[test]
fn problems_name_the_key() {
    let s = LoadtestCheck {
        url: Some("ftp://x".into()),
        concurrency: Some(0),
        max_error_rate: Some(5.0),
        ..Default::default()
    };
    let keys: Vec<_> = problems(&s).into_iter().map(|p| p.0).collect();
    assert_eq!(keys, ["url", "concurrency", "max_error_rate"]);
    assert!(problems(&spec(5)).is_empty());
}

fn item(check: LoadtestCheck) -> Item {
    Item {
        id: "prepare.load-test".into(),
        phase: Phase::Prepare,
        section: None,
        title: "Load testing if significant changes".into(),
        kind: ItemKind::Check,
        required: true,
        when: None,
        check: Some(CheckSpec::Loadtest(check)),
        action: None,
        timeout: None,
        manual_because: None,
        note_required: false,
        other_than_deployer: false,
        help: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compares_with_the_previous_runs_stored_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreTarget::Sqlite(dir.path().join("s.db")))
        .await
        .unwrap();
    let server = serve(Behaviour::default());
    let mut c = ctx(vec![("api", server.url("/health"))]);
    c.store = Some(store.clone());
    let s = LoadtestCheck {
        max_p95_increase: Some(1e9),
        ..spec(50)
    };
    let first = run(&s, &c).await;
    assert_eq!(first.status, Status::Pass, "{}", first.summary);
    assert!(first.evidence["previous"]["run"].is_null());

    // An earlier run that recorded that result.
    let at: jiff::Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let started = Event::RunStarted {
        project: c.config.project.name.clone(),
        env: "production".into(),
        by: "ada".into(),
        scheduled_at: None,
        config_digest: "x".into(),
        config: None,
        items: vec![item(s.clone())],
    };
    store
        .create_run(
            "run-1",
            &c.config.project.name,
            "production",
            "ada",
            at,
            &started,
        )
        .await
        .unwrap();
    let finished = Event::CheckFinished {
        item: "prepare.load-test".into(),
        status: first.status,
        summary: first.summary.clone(),
        evidence: first.evidence.clone(),
        duration_ms: 1,
        facts: Vec::new(),
    };
    let update = RunSummaryUpdate {
        phase: Some("prepare".into()),
        status: "aborted".into(),
    };
    store.append("run-1", at, &finished, &update).await.unwrap();

    let second = run(&s, &c).await;
    assert_eq!(second.status, Status::Pass, "{}", second.summary);
    assert_eq!(second.evidence["previous"]["run"], "run-1");
    let cmp = &second.evidence["targets"][0]["comparison"];
    assert!(cmp["text"].as_str().unwrap().starts_with("p95 "), "{cmp}");
    assert!(
        second.summary.contains("vs previous: p95"),
        "{}",
        second.summary
    );

    // A p95 increase limit below any change that can happen fails on a slower p95 only;
    // a negative limit always fails (every change is above it).
    let strict = LoadtestCheck {
        max_p95_increase: Some(-2.0),
        ..s
    };
    let third = run(&strict, &c).await;
    assert_eq!(third.status, Status::Fail, "{}", third.summary);
    assert_eq!(
        third.evidence["targets"][0]["violations"][0]["threshold"],
        json!("max_p95_increase")
    );
}
