use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::checks::github_run::tests::gh_config;
use crate::testkit::checks::{self as testing, MERGE};
use crate::testkit::fixture;

const DEPLOYMENT: i64 = 263_877_258;
const NOW: &str = "2026-08-21T09:50:00Z";

/// GitHub's recorded answer to a created status, carrying what was sent.
fn created(state: &str, description: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(fixture!(
        "github/deployment-status-create-pygithub-2020.json"
    ))
    .unwrap();
    v["state"] = json!(state);
    v["description"] = json!(description);
    v
}

async fn mount_deployment(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/deployments"))
        .and(query_param("sha", MERGE))
        .and(query_param("environment", "production"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "id": DEPLOYMENT, "sha": MERGE, "ref": "production", "task": "deploy",
              "environment": "production", "created_at": "2026-08-21T09:31:10Z" }
        ])))
        .mount(server)
        .await;
}

async fn mount_statuses(server: &MockServer, body: serde_json::Value, times: Option<u64>) {
    let m = Mock::given(method("GET"))
        .and(path(format!(
            "/repos/acme/app/deployments/{DEPLOYMENT}/statuses"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    match times {
        Some(n) => m.up_to_n_times(n).mount(server).await,
        None => m.mount(server).await,
    }
}

#[test]
fn descriptions_are_cut_to_githubs_140_characters() {
    assert_eq!(description("short"), "short");
    let long = "é".repeat(200);
    let cut = description(&long);
    assert_eq!(cut.chars().count(), 140);
    assert!(cut.ends_with('…'));
}

#[tokio::test]
async fn the_status_links_to_the_runs_page_when_the_web_view_is_configured() {
    let server = MockServer::start().await;
    let mut cfg = gh_config(&server, "");
    let run = testing::merged_run();
    let b = body(&cfg, &run, "success", "shipcheck run run-1: stable");
    assert_eq!(b["state"], "success");
    assert!(
        b.get("log_url").is_none(),
        "no web view, no workflow run: {b}"
    );
    cfg.project.web_url = Some("https://deploys.example.com/".into());
    let b = body(&cfg, &run, "success", "shipcheck run run-1: stable");
    assert_eq!(b["log_url"], "https://deploys.example.com/runs/run-1");
    assert_eq!(
        b["environment_url"],
        "https://deploys.example.com/runs/run-1"
    );
}

/// The plan is the exact request; performing posts it once; after a crash the status found
/// among the deployment's statuses settles the item without a second post.
#[tokio::test]
async fn in_progress_is_posted_once_and_found_again_after_a_crash() {
    let server = MockServer::start().await;
    mount_deployment(&server).await;
    let text = "shipcheck run run-1: watching the release";
    // Before the post: only the Actions job's own statuses.
    mount_statuses(
        &server,
        json!([{ "id": 1, "state": "success", "description": "" }]),
        Some(2),
    )
    .await;
    mount_statuses(
        &server,
        json!([{ "id": 388_454_671, "state": "in_progress", "description": text },
               { "id": 1, "state": "success", "description": "" }]),
        None,
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/repos/acme/app/deployments/{DEPLOYMENT}/statuses"
        )))
        .and(body_json(
            json!({ "state": "in_progress", "description": text }),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(created("in_progress", text)))
        .expect(1)
        .mount(&server)
        .await;
    let (parts, _) = testing::ctx(gh_config(&server, ""), Some(testing::merged_run()), NOW);
    let ctx = parts.action();
    let gh = ctx.clients.github().unwrap();
    let plan = plan(&gh, &ctx.clients.config, ctx.run()).await.unwrap();
    assert_eq!(
        plan[1],
        format!(
            "POST {}/repos/acme/app/deployments/{DEPLOYMENT}/statuses {}",
            server.uri(),
            json!({ "state": "in_progress", "description": text })
        )
    );
    assert!(reconcile(&gh, ctx.run()).await.unwrap().is_none());
    let done = perform(&gh, &ctx.clients.config, ctx.run()).await.unwrap();
    assert_eq!(done.evidence["deployment_id"], DEPLOYMENT);
    assert_eq!(done.evidence["state"], "in_progress");
    assert_eq!(
        done.facts,
        vec![Fact::GithubDeployment {
            id: DEPLOYMENT,
            statuses_url: format!(
                "{}/repos/acme/app/deployments/{DEPLOYMENT}/statuses",
                server.uri()
            ),
        }]
    );
    // The crash: the post went out, its result was never journaled.
    let found = reconcile(&gh, ctx.run()).await.unwrap().expect("found");
    assert!(found.summary.contains("(already)"), "{}", found.summary);
    let again = perform(&gh, &ctx.clients.config, ctx.run()).await.unwrap();
    assert!(again.summary.contains("(already)"));
}

#[tokio::test]
async fn no_deployment_yet_is_an_error_saying_when_it_appears() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/deployments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let (parts, _) = testing::ctx(gh_config(&server, ""), Some(testing::merged_run()), NOW);
    let ctx = parts.action();
    let gh = ctx.clients.github().unwrap();
    let e = perform(&gh, &ctx.clients.config, ctx.run())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no GitHub deployment of"), "{e}");
    // The dry run still shows the request, with the deployment to be found.
    let plan = plan(&gh, &ctx.clients.config, ctx.run()).await.unwrap();
    assert!(
        plan[1].contains("/deployments/{deployment_id}/statuses"),
        "{plan:?}"
    );
}
