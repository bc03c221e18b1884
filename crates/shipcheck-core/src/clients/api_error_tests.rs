//! Every recorded error body (`fixtures/api/*/error-*`, Slack's webhook answers) read into
//! one line: never the page, never a raw JSON dump.

use super::*;
use crate::testkit::fixture;

fn one_line(body: &str) -> String {
    let m = api_message(body);
    assert!(!m.contains('\n'), "{m}");
    assert!(m.chars().count() <= MAX_MESSAGE + 1, "{m}");
    m
}

#[test]
fn github_bodies_with_and_without_status_docs_and_errors() {
    assert_eq!(
        one_line(fixture!("github/error-404-with-status-field-2025.json")),
        "Branch not found [https://docs.github.com/rest/branches/branches#sync-a-fork-branch-with-the-upstream-repository]"
    );
    assert_eq!(
        one_line(fixture!("github/error-403-with-status-field-2024.json")),
        "Unable to disable a workflow that is not active. [https://docs.github.com/rest/actions/workflows#disable-a-workflow]"
    );
    assert_eq!(
        one_line(fixture!("github/error-404-branch-not-protected.json")),
        "Branch not protected [https://docs.github.com/rest/reference/repos#get-branch-protection]"
    );
    assert_eq!(
        one_line(fixture!("github/error-422-validation-failed.json")),
        "Validation Failed (Label.color invalid) [https://docs.github.com/rest/reference/issues#create-a-label]"
    );
    assert_eq!(
        one_line(fixture!("github/error-403-primary-rate-limit-2013.json")),
        "API Rate Limit Exceeded for 92.104.200.119"
    );
    assert!(
        one_line(fixture!("github/error-403-secondary-rate-limit-2018.json"))
            .starts_with("You have triggered an abuse detection mechanism.")
    );
}

#[test]
fn html_pages_are_their_title() {
    // JSON that quotes HTML is still JSON.
    assert_eq!(
        one_line(r#"{"message":"<html> is not allowed"}"#),
        "<html> is not allowed"
    );
    assert_eq!(
        one_line(fixture!("github/error-5xx-unicorn-derived.html")),
        "an HTML page \u{201c}Unicorn! \u{b7} GitHub\u{201d} instead of an API answer"
    );
    assert_eq!(
        one_line(fixture!("slack/webhook-500-server-error-page.html")),
        "an HTML page \u{201c}Server Error | Slack\u{201d} instead of an API answer"
    );
    assert_eq!(
        one_line("<html><body>Bad gateway</body></html>"),
        "an HTML page without a title instead of an API answer"
    );
    assert_eq!(
        html_title("<title>A &amp; B &#39;C&#x27; &bogus;</title>").as_deref(),
        Some("A & B 'C' &bogus;")
    );
}

#[test]
fn sentry_s_three_shapes_and_the_bare_string() {
    assert_eq!(
        one_line(fixture!("sentry/error-401-invalid-token.json")),
        "Invalid token"
    );
    assert_eq!(
        one_line(fixture!("sentry/error-403-no-permission.json")),
        "You do not have permission to perform this action."
    );
    assert_eq!(
        one_line(fixture!("sentry/error-404-does-not-exist.json")),
        "The requested resource does not exist"
    );
    assert_eq!(
        one_line(fixture!(
            "sentry/error-400-parameter-validation-derived.json"
        )),
        "Invalid projects (parameter-validation-error)"
    );
    assert_eq!(
        one_line(fixture!("sentry/error-400-release-field-errors.json")),
        "version: This field is required."
    );
    assert_eq!(
        one_line(fixture!("sentry/error-429-bare-string.json")),
        "You are attempting to use this endpoint too frequently. Limit is 3 requests in 3600 seconds"
    );
    assert!(
        one_line(fixture!("sentry/error-429-middleware.json"))
            .ends_with("Limit is 0 requests in 100 seconds")
    );
}

#[test]
fn prometheus_and_victoriametrics_error_types() {
    assert_eq!(
        one_line(fixture!("prometheus/error-bad-data-derived.json")),
        "bad_data: invalid parameter \"query\": 1:13: parse error: unexpected \" \" in series values"
    );
    assert_eq!(
        one_line(fixture!("prometheus/error-not-acceptable-test.json")),
        "not_acceptable: cannot encode response as application/default-format"
    );
    assert_eq!(
        one_line(fixture!("prometheus/error-timeout-with-data-test.json")),
        "timeout: message"
    );
    // VictoriaMetrics' errorType is the HTTP status: left out.
    let vm = one_line(fixture!("prometheus/vm-error-422-derived.json"));
    assert!(vm.starts_with("error when executing query="), "{vm}");
    assert!(!vm.contains("422:"), "{vm}");
}

#[test]
fn slack_codes_say_what_they_mean() {
    for (body, meaning) in [
        (
            fixture!("slack/webhook-400-invalid_payload.txt"),
            "not valid JSON",
        ),
        (fixture!("slack/webhook-400-user_not_found.txt"), "user"),
        (
            fixture!("slack/webhook-403-action_prohibited.txt"),
            "admin restricted",
        ),
        (
            fixture!("slack/webhook-403-invalid_token.txt"),
            "create a new webhook",
        ),
        (
            fixture!("slack/webhook-404-channel_not_found.txt"),
            "channel is gone",
        ),
        (
            fixture!("slack/webhook-404-no_service.txt"),
            "disabled, removed or invalid",
        ),
        (
            fixture!("slack/webhook-410-channel_is_archived.txt"),
            "archived",
        ),
        (
            fixture!("slack/webhook-500-rollup_error.txt"),
            "Slack failed on its side",
        ),
    ] {
        let m = one_line(body);
        assert!(
            m.starts_with(body.trim()) && m.contains(meaning),
            "{body}: {m}"
        );
    }
    assert_eq!(one_line("something_new"), "something_new");
    assert_eq!(one_line("  "), "");
}

#[test]
fn fly_style_and_unknown_json_and_long_text() {
    assert_eq!(
        one_line(r#"{"error":"Authenticate: token validation error"}"#),
        "Authenticate: token validation error"
    );
    assert_eq!(one_line(r#"{"weird": 1}"#), r#"{"weird":1}"#);
    let long = "x".repeat(400);
    assert_eq!(one_line(&long).chars().count(), MAX_MESSAGE + 1);
}
