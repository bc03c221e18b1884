//! Every Sentry reader against Sentry's published examples and recorded answers
//! (`fixtures/api/sentry`).

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::model::config::test_env;
use crate::testkit::checks as testing;
use crate::testkit::fixture;

const TOKEN_VAR: &str = "SHIPCHECK_TEST_SENTRY_CLIENT_TOKEN";
const ORG: &str = "/api/0/organizations/acme";

fn client(server: &MockServer, project: &str) -> Sentry {
    test_env::set(TOKEN_VAR, "sntrys_test");
    let project = if project.is_empty() { "2" } else { project };
    let cfg = testing::config(&format!(
        "[sentry]\nurl = \"{}\"\norg = \"acme\"\nprojects = [\"{project}\"]\ntoken_env = \"{TOKEN_VAR}\"\nrequest_timeout = \"2s\"\n",
        server.uri()
    ));
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    ctx.sentry().unwrap()
}

async fn answer(server: &MockServer, p: &str, status: u16, body: &str) {
    Mock::given(path(p))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_raw(body.as_bytes().to_vec(), "application/json"),
        )
        .mount(server)
        .await;
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[tokio::test]
async fn events_timeseries_in_both_published_shapes() {
    let server = MockServer::start().await;
    answer(
        &server,
        &format!("{ORG}/events-timeseries/"),
        200,
        fixture!("sentry/events-timeseries-test-derived.json"),
    )
    .await;
    let s = client(&server, "");
    // Sentry's own test: interval in ms, float timestamps, values 1, 2, 0.
    let c = s
        .error_count(
            &["2".into()],
            t("2026-08-20T10:00:00Z"),
            t("2026-08-20T13:00:00Z"),
            60,
        )
        .await
        .unwrap();
    assert_eq!((c.events, c.buckets, c.incomplete), (3.0, 3, 0));
    assert_eq!(c.per_minute(), Some(3.0 / 180.0));

    let server = MockServer::start().await;
    answer(
        &server,
        &format!("{ORG}/events-timeseries/"),
        200,
        fixture!("sentry/events-timeseries-schema-example.json"),
    )
    .await;
    // The schema's top-events example: two series of two buckets of 5 each, summed.
    let c = client(&server, "")
        .error_count(
            &["2".into()],
            t("2026-08-20T10:00:00Z"),
            t("2026-08-20T12:00:00Z"),
            60,
        )
        .await
        .unwrap();
    assert_eq!((c.events, c.buckets), (20.0, 2));
}

#[tokio::test]
async fn an_answer_without_time_series_is_an_error_naming_it() {
    let server = MockServer::start().await;
    answer(
        &server,
        &format!("{ORG}/events-timeseries/"),
        200,
        fixture!("sentry/stats-v2-schema-example.json"),
    )
    .await;
    let e = client(&server, "")
        .error_count(
            &["2".into()],
            t("2026-08-20T10:00:00Z"),
            t("2026-08-20T11:00:00Z"),
            1,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no `timeSeries` array"), "{e}");
}

#[tokio::test]
async fn issues_of_the_published_example_are_read() {
    let server = MockServer::start().await;
    answer(
        &server,
        &format!("{ORG}/issues/"),
        200,
        fixture!("sentry/issues-org-schema-example.json"),
    )
    .await;
    let list = client(&server, "")
        .new_issues(
            &["2".into()],
            t("2018-11-01T00:00:00Z"),
            t("2018-11-07T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].short_id, "PUMP-STATION-1");
    assert_eq!(list[0].count, serde_json::json!("150"), "count is a string");
    assert_eq!(list[0].first_seen.to_string(), "2018-11-06T21:19:55Z");
    // Seen before the window: filtered out by shipcheck too.
    let none = client(&server, "")
        .new_issues(
            &["2".into()],
            t("2018-11-07T00:00:00Z"),
            t("2018-11-08T00:00:00Z"),
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn releases_and_deploys_in_their_published_shapes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{ORG}/releases/")))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw(
                fixture!("sentry/release-create-201-schema-example.json")
                    .as_bytes()
                    .to_vec(),
                "application/json",
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    answer(
        &server,
        &format!("{ORG}/releases/app%401.0/deploys/"),
        200,
        fixture!("sentry/deploys-list-derived.json"),
    )
    .await;
    let s = client(&server, "");
    assert_eq!(
        s.create_release("app@1.0", &["api".to_string()])
            .await
            .unwrap(),
        201
    );
    let deploys = s.deploys("app@1.0").await.unwrap();
    assert_eq!(deploys.len(), 2);
    assert_eq!(deploys[1].environment, "production");
    assert_eq!(deploys[1].id, serde_json::json!("1015"));
    assert_eq!(deploys[1].name.as_deref(), Some("foo"));
    assert_eq!(
        deploys[1].date_finished.as_deref(),
        Some("2026-08-20T10:04:00Z")
    );
    assert_eq!(deploys[0].name, None);
}

#[tokio::test]
async fn sentry_errors_read_as_one_sentence() {
    let server = MockServer::start().await;
    let cases = [
        (
            "/api/0/projects/acme/a/",
            401,
            fixture!("sentry/error-401-invalid-token.json"),
            "rejected the token (401)",
            "Invalid token",
        ),
        (
            "/api/0/projects/acme/b/",
            403,
            fixture!("sentry/error-403-no-permission.json"),
            "lacks the `project:read` scope",
            "You do not have permission",
        ),
        (
            "/api/0/projects/acme/c/",
            404,
            fixture!("sentry/error-404-does-not-exist.json"),
            "not found (404)",
            "does not exist",
        ),
        (
            "/api/0/projects/acme/d/",
            400,
            fixture!("sentry/error-400-parameter-validation-derived.json"),
            "answered 400",
            "Invalid projects (parameter-validation-error)",
        ),
        (
            "/api/0/projects/acme/e/",
            400,
            fixture!("sentry/error-400-release-field-errors.json"),
            "answered 400",
            "version: This field is required.",
        ),
    ];
    for (p, status, body, _, _) in &cases {
        answer(&server, p, *status, body).await;
    }
    for (p, _, _, kind, said) in &cases {
        let slug = p.trim_end_matches('/').rsplit('/').next().unwrap();
        let s = client(&server, slug);
        let e = s.project_ids().await.unwrap_err();
        let m = e.to_string();
        assert!(m.contains(kind) && m.contains(said), "{p}: {m}");
        assert!(!m.contains("{\""), "{p}: {m}");
    }
}

#[tokio::test]
async fn a_429_waits_until_sentry_s_reset_header_and_a_bare_string_body_is_read() {
    let server = MockServer::start().await;
    let now = t(testing::STARTED).as_second();
    Mock::given(path(format!("{ORG}/issues/")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Sentry-Rate-Limit-Limit", "40")
                .insert_header("X-Sentry-Rate-Limit-Remaining", "0")
                .insert_header(
                    "X-Sentry-Rate-Limit-Reset",
                    (now + 600).to_string().as_str(),
                )
                .set_body_raw(
                    fixture!("sentry/error-429-bare-string.json")
                        .as_bytes()
                        .to_vec(),
                    "application/json",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server, "")
        .new_issues(&["2".into()], t(testing::STARTED), t(testing::STARTED))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::RateLimited { .. }), "{e}");
    assert!(
        e.to_string().contains("resets at 2026-08-21T09:10:00Z"),
        "{e}"
    );
}
