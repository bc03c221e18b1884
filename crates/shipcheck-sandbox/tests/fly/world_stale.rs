//! The world's apps say their commit; a stale release leaves the old one answering behind a
//! green workflow.

use super::*;

/// Approves the deploy run that follows the push of `sha` and waits for it to complete; its
/// conclusion. The push starts the test workflow; its success starts the deploy workflow
/// (`workflow_run`), which is the run that waits for approval.
async fn approve_and_finish(w: &World, sha: &str) -> Value {
    let gh = github(w);
    wait_for("the test run", async || {
        let (_, b) = gh
            .get(&format!(
                "{REPO}/actions/runs?head_sha={sha}&event=push&branch=production"
            ))
            .await;
        b["workflow_runs"].get(0).cloned()
    })
    .await;
    let deploys = format!("{REPO}/actions/workflows/deploy.yml/runs?event=workflow_run");
    let run = wait_for("the deploy run to wait for approval", async || {
        let (_, b) = gh.get(&deploys).await;
        b["workflow_runs"]
            .as_array()?
            .iter()
            .find(|r| r["status"] == "waiting")
            .cloned()
    })
    .await;
    let id = run["id"].as_i64().unwrap();
    let (_, pending) = gh
        .get(&format!("{REPO}/actions/runs/{id}/pending_deployments"))
        .await;
    let env_id = pending[0]["environment"]["id"].clone();
    let (status, body) = gh
        .post(
            &format!("{REPO}/actions/runs/{id}/pending_deployments"),
            &json!({ "environment_ids": [env_id], "state": "approved", "comment": "ok" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for("the run to complete", async || {
        let (_, r) = gh.get(&format!("{REPO}/actions/runs/{id}")).await;
        (r["status"] == "completed").then_some(r["conclusion"].clone())
    })
    .await
}

#[tokio::test]
async fn the_apps_say_their_commit_and_a_stale_release_leaves_the_old_one_answering() {
    let (_tmp, w) = world(Scenario::StaleRelease, PostgresChoice::Off).await;
    let before = git(&w.manifest.origin, &["rev-parse", "production"]).await;
    let http = reqwest::Client::new();
    let health = |app: &str, path: &str| format!("{}{path}", w.manifest.apps[app]);
    let internal = health(PROD_APP, "/api/health");
    let registration = health("maishapoa-production-agent-registration", "/");
    let answer = http.get(&internal).send().await.unwrap();
    assert_eq!(answer.headers()["x-release"], before.as_str());
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["version"], before.as_str(), "{body}");
    // The fleet as Fly runs it: an idle auto-stopped Machine, a worker group.
    let state = FlyState::load(&w.manifest.fly_state).unwrap();
    let reg = &state.apps["maishapoa-production-agent-registration"];
    let shapes: Vec<(&str, &str)> = reg
        .machines
        .iter()
        .map(|m| (m.state.as_str(), m.autostop.as_str()))
        .collect();
    assert_eq!(shapes, [("started", "stop"), ("stopped", "stop")]);
    let api = &state.apps[PROD_APP];
    assert!(
        api.machines
            .iter()
            .any(|m| m.process_group == "worker" && !m.service)
    );
    assert!(
        api.releases[0]
            .image_ref
            .ends_with(&format!("deployment-{}", &before[..12])),
        "v1 is tagged with the commit it was built from"
    );

    // The release never starts, the workflow (deploying with --detach) goes green, the old
    // code keeps answering 200.
    let sha = release(&w).await;
    assert_eq!(approve_and_finish(&w, &sha).await, "success");
    let state = FlyState::load(&w.manifest.fly_state).unwrap();
    for (app, a) in state
        .apps
        .iter()
        .filter(|(k, _)| k.contains("-production-"))
    {
        let newest = a.newest().unwrap();
        assert_eq!(
            (newest.version, newest.status.as_str()),
            (2, "failed"),
            "{app}"
        );
        assert!(a.machines.iter().all(|m| m.release == 1), "{app}");
    }
    for url in [&internal, &registration] {
        let r = http.get(url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["x-release"], before.as_str());
    }
    w.shutdown().await;
}
