//! The version check: what names a commit, where the commits come from, and each source
//! against a server or the fixtures.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::journal::state::{ItemState, Rollback};
use crate::model::checklist::{CheckSpec, Checklist};
use crate::testkit::checks::{self as testing, MERGE};
use shipcheck_testkit::http::{Reply, Server as TestServer};

const BEFORE: &str = "5d41402abc4b2a76b9719d911017c592aaaabbbb";
const REVERT: &str = "7b52009b64fd0a2a49e6d8a939753077792b0554";

#[test]
fn what_names_a_commit() {
    for seen in [
        MERGE,
        "acb5820",
        "acb5820ced94",
        "deployment-acb5820ced94",
        "registry.fly.io/app:acb5820ced9479c0",
        "1.4.0+acb5820c",
        "v1.4-3-gacb5820c",
        "ACB5820CED94",
        "  acb5820ced9479c074f688cc328bf03f341a511d\n",
    ] {
        assert!(names_commit(seen, MERGE), "{seen:?}");
    }
    for seen in [
        "acb582",
        "deployment-01GQR4GN7EA8G12VE1DBRQG4KQ",
        BEFORE,
        "acb5820x",
        "",
        "v2",
        "acb5821",
    ] {
        assert!(!names_commit(seen, MERGE), "{seen:?}");
    }
    // An abbreviated expectation matches a full SHA that starts with it.
    assert!(names_commit(MERGE, "acb5820ced"));
    assert!(!names_commit(MERGE, "acb58"), "too short to mean anything");
}

fn merged_with_before() -> RunState {
    testing::run(&[(
        "release.merge",
        ItemState::Done,
        json!({ "merge_commit": MERGE, "production_before": BEFORE }),
        "2026-08-21T09:30:00Z",
    )])
}

fn rolled_back(mut run: RunState, strategy: &str, evidence: Value) -> RunState {
    run.rollbacks.push(Rollback {
        strategy: strategy.into(),
        by: "watch".into(),
        reason: "5xx".into(),
        apps: None,
        started_at: "2026-08-21T10:00:00Z".parse().unwrap(),
        succeeded: Some(true),
        outcome: None,
        evidence,
        finished_at: None,
    });
    run
}

#[test]
fn release_commits_read_the_run() {
    let c = release_commits(Some(&merged_with_before())).unwrap();
    assert_eq!(c.merge, MERGE);
    assert_eq!(c.before.as_deref(), Some(BEFORE));
    assert_eq!(c.after_rollback, None);
    let platform = rolled_back(merged_with_before(), "platform", json!({}));
    let after = release_commits(Some(&platform))
        .unwrap()
        .after_rollback
        .unwrap();
    assert_eq!(
        (after.sha.as_str(), after.what.as_str()),
        (BEFORE, "the commit before the release")
    );
    let revert = rolled_back(
        merged_with_before(),
        "git-revert",
        json!({ "revert_commit": REVERT }),
    );
    let after = release_commits(Some(&revert))
        .unwrap()
        .after_rollback
        .unwrap();
    assert_eq!(
        (after.sha.as_str(), after.what.as_str()),
        (REVERT, "the revert commit")
    );
    assert!(release_commits(None).is_err());
    assert!(release_commits(Some(&testing::run(&[]))).is_err());
}

fn expected() -> Expected {
    Expected {
        sha: MERGE.into(),
        what: "the promoted commit".into(),
    }
}

fn v(value: &str, from: &str) -> Seen {
    Seen::Version {
        value: value.into(),
        from: from.into(),
    }
}

#[test]
fn judging_what_was_seen() {
    let src = VersionSource::JsonPointer("/version".into());
    let all = [v(MERGE, "1"), v("acb5820", "2")];
    let r = judge_seen("api", &src, &all, &expected(), json!({}));
    assert_eq!(
        (r.status, r.line.as_str()),
        (Status::Pass, "api 2/2 answers")
    );

    // Half-rolled: the old code still answers some of the time.
    let half = [v(MERGE, "1"), v(BEFORE, "2"), v(BEFORE, "3")];
    let r = judge_seen("api", &src, &half, &expected(), json!({}));
    assert_eq!(r.status, Status::Fail);
    assert_eq!(
        r.line,
        format!(
            "api: 2 of 3 answers name \"{BEFORE}\", not acb5820 (the promoted commit); 1 of 3 answers name it"
        )
    );
    assert_eq!(r.evidence["seen"][1]["matches"], false);

    let broken = [Seen::Problem {
        why: "no answer (connection refused)".into(),
        from: "answer 1".into(),
    }];
    let r = judge_seen("api", &src, &broken, &expected(), json!({}));
    assert_eq!(r.status, Status::Error, "no data is never a pass");
    assert!(
        r.line.contains("cannot tell which commit is live"),
        "{}",
        r.line
    );
    let r = judge_seen(
        "api",
        &VersionSource::ImageRef(true),
        &[],
        &expected(),
        json!({}),
    );
    assert_eq!(r.status, Status::Error);
}

fn app_toml(extra: &str) -> String {
    format!("[[environments.production.apps]]\nname = \"api\"\nfly_app = \"acme-api\"\n{extra}\n")
}

async fn run_check(toml: &str, run: Option<RunState>) -> Outcome {
    let (ctx, _clock) = testing::ctx(testing::config(toml), run, "2026-08-21T10:00:00Z");
    let spec = FlyVersionCheck {
        env: "production".into(),
        samples: Some(4),
    };
    crate::engine::runner::run_check(&CheckSpec::FlyVersion(spec), &ctx.deps()).await
}

#[tokio::test]
async fn json_pointer_sampled_several_times_shows_a_half_rolled_deploy() {
    let new = json!({ "status": "ok", "version": MERGE }).to_string();
    let old = json!({ "status": "ok", "version": BEFORE }).to_string();
    let server = TestServer::routes(vec![(
        "/health",
        vec![Reply::json(200, &old), Reply::json(200, &new)],
    )]);
    let toml = app_toml(&format!(
        "health_url = \"{}\"\nversion = {{ json_pointer = \"/version\" }}",
        server.url("/health")
    ));
    let o = run_check(&toml, Some(testing::merged_run())).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary
            .contains(&format!("1 of 4 answers name \"{BEFORE}\"")),
        "{}",
        o.summary
    );
    assert!(
        o.summary.contains("3 of 4 answers name it"),
        "{}",
        o.summary
    );
    assert_eq!(server.seen().len(), 4, "bounded: one request per sample");

    let all_new = TestServer::routes(vec![("/health", vec![Reply::json(200, &new)])]);
    let toml = app_toml(&format!(
        "health_url = \"{}\"\nversion = {{ json_pointer = \"/version\" }}",
        all_new.url("/health")
    ));
    let o = run_check(&toml, Some(testing::merged_run())).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(
        o.summary,
        "the promoted commit acb5820 is live: api 4/4 answers"
    );
}

#[tokio::test]
async fn garbage_and_missing_versions_are_errors_never_passes() {
    for (body, why) in [
        ("<html>502</html>", "not JSON"),
        ("{\"status\":\"ok\"}", "without \"/version\""),
        ("{\"version\":{\"sha\":1}}", "not text"),
        ("{\"version\":null}", "null"),
    ] {
        let server = TestServer::routes(vec![("/health", vec![Reply::json(200, body)])]);
        let toml = app_toml(&format!(
            "health_url = \"{}\"\nversion = {{ json_pointer = \"/version\" }}",
            server.url("/health")
        ));
        let o = run_check(&toml, Some(testing::merged_run())).await;
        assert_eq!(o.status, Status::Error, "{body}: {}", o.summary);
        assert!(o.summary.contains(why), "{}", o.summary);
    }
}

#[tokio::test]
async fn header_source() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("x-release", "deployment-5d41402abc4b"),
        )
        .mount(&server)
        .await;
    let toml = app_toml(&format!(
        "health_url = \"{}/health\"\nversion = {{ header = \"X-Release\" }}",
        server.uri()
    ));
    let o = run_check(&toml, Some(testing::merged_run())).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary
            .contains("api: 4 of 4 answers name \"deployment-5d41402abc4b\", not acb5820"),
        "{}",
        o.summary
    );
}

fn fixture_flyctl(file: &str) -> String {
    let path = format!(
        "{}/../../fixtures/api/fly/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    // `sh -c 'cat "$0"' FILE machines list …`: prints the fixture whatever flyctl is asked.
    format!("[fly]\ncommand = [\"sh\", \"-c\", \"cat \\\"$0\\\"\", {path:?}]\n")
}

#[tokio::test]
async fn image_sources_read_each_machine() {
    let fly = fixture_flyctl("machines-list-flyctl-groups-derived.json");
    let o = run_check(
        &format!("{fly}{}", app_toml("version = { image_ref = true }")),
        Some(testing::merged_run()),
    )
    .await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains(
            "api: 5 of 5 Machines name \"deployment-01GQR4GN7EA8G12VE1DBRQG4KQ\", not acb5820"
        ),
        "{}",
        o.summary
    );
    // Every Machine that runs a release counts, the stopped and suspended ones too.
    assert_eq!(o.evidence["apps"][0]["seen"].as_array().unwrap().len(), 5);

    let o = run_check(
        &format!(
            "{fly}{}",
            app_toml("version = { image_label = \"fly.pg-manager\" }")
        ),
        Some(testing::merged_run()),
    )
    .await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains("1 of 5 Machines name \"repmgr\"")
            && o.summary
                .contains("4 of 5 Machines: its image has no label \"fly.pg-manager\""),
        "{}",
        o.summary
    );

    let garbage = "[fly]\ncommand = [\"sh\", \"-c\", \"echo '<html>'\"]\n";
    let o = run_check(
        &format!("{garbage}{}", app_toml("version = { image_ref = true }")),
        Some(testing::merged_run()),
    )
    .await;
    assert_eq!(o.status, Status::Error, "{}", o.summary);
}

#[tokio::test]
async fn without_a_merge_or_a_source_it_says_what_to_do() {
    let o = run_check(
        &app_toml(
            "health_url = \"http://127.0.0.1:9/h\"\nversion = { json_pointer = \"/version\" }",
        ),
        None,
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("merge commit"), "{}", o.summary);

    let two = format!(
        "{}\n[[environments.production.apps]]\nname = \"web\"\nfly_app = \"acme-web\"\n",
        app_toml("version = { image_ref = true }")
    );
    let o = run_check(
        &format!("{}{two}", fixture_flyctl("status-derived.json")),
        Some(testing::merged_run()),
    )
    .await;
    assert_eq!(o.status, Status::Error, "{}", o.summary);
    assert!(
        o.summary
            .contains("web: no version source; add version = { json_pointer = \"/version\" }"),
        "{}",
        o.summary
    );
}

#[test]
fn the_item_is_a_persons_until_an_app_says_where_its_version_is() {
    let none = testing::config(&app_toml(""));
    let list = Checklist::from_config(&none).unwrap();
    let item = list.get("verify.version-live").unwrap();
    assert!(!item.is_automatic());
    let why = item.manual_because.as_deref().unwrap();
    assert!(
        why.contains("version = { json_pointer = \"/version\" }"),
        "{why}"
    );
    let some = testing::config(&app_toml("version = { image_ref = true }"));
    let list = Checklist::from_config(&some).unwrap();
    assert!(list.get("verify.version-live").unwrap().is_automatic());
}

#[tokio::test]
async fn after_a_rollback_the_commit_before_the_release_must_be_live() {
    let old = json!({ "version": BEFORE }).to_string();
    let server = TestServer::routes(vec![("/health", vec![Reply::json(200, &old)])]);
    let toml = app_toml(&format!(
        "health_url = \"{}\"\nversion = {{ json_pointer = \"/version\" }}",
        server.url("/health")
    ));
    let run = rolled_back(merged_with_before(), "platform", json!({}));
    let (ctx, _c) = testing::ctx(testing::config(&toml), Some(run), "2026-08-21T10:00:00Z");
    let o = after_rollback(&ctx.fly_apps(), ctx.run(), "production")
        .await
        .unwrap();
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary
            .starts_with("the commit before the release 5d41402 is live"),
        "{}",
        o.summary
    );
    // Nothing configured: nothing to say.
    let (ctx, _c) = testing::ctx(testing::config(&app_toml("")), None, "2026-08-21T10:00:00Z");
    assert!(
        after_rollback(&ctx.fly_apps(), ctx.run(), "production")
            .await
            .is_none()
    );
}
