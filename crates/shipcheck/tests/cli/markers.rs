//! Markers in the services the team already looks at — GitHub's deployment record and
//! Sentry's deploys — written once each across crashes: the demo operator stops dead right
//! after it journals each marker's intent (`SHIPCHECK_SANDBOX_CRASH_AFTER`); for some, the
//! request the killed walker was about to send is sent by hand (the crash came after it went
//! out), for the others not. The resumed run must look before it writes: the stand-ins must
//! have received every marker exactly once, in the run's order.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use shipcheck_sandbox::world::{ENV_GITHUB, ENV_SENTRY, Scenario, World};

use crate::demo::{assert_markers_once, facts, run, status_states, world_options};
use crate::resume::{crash_at, events, kind, resume};

/// The last intent journaled by an event of `kind` whose JSON contains `text`.
fn intent(dir: &Path, env: &BTreeMap<String, String>, k: &str, text: &str) -> String {
    events(dir, env)
        .iter()
        .rfind(|e| kind(e) == k && e["event"].to_string().contains(text))
        .and_then(|e| e["event"]["intent"].as_str())
        .unwrap_or_else(|| panic!("no {k} with {text}"))
        .to_string()
}

/// Sends the `POST URL BODY` lines of an intent, as the killed walker did before it died.
async fn send(lines: &[&str], token: &str) {
    let http = shipcheck_core::clients::http::api_client(Duration::from_secs(10));
    for line in lines {
        let rest = line.strip_prefix("POST ").expect(line);
        let (url, body) = rest.split_once(' ').expect(line);
        assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
        let status = http
            .post(url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{line}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_marker_is_written_once_in_order_across_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    // The bad release fails an hour after it went live, in the watch (as in the crash test),
    // whatever the kills cost `verify` in wall time.
    let mut options = world_options(Scenario::BadRelease, 150.0);
    options.bad_onset_s = Some(60 * 60);
    let world = World::build_with(&tmp.path().join("w"), options)
        .await
        .unwrap();
    let (dir, env) = (world.dir.clone(), world.env().clone());
    let (gh, sentry) = (env[ENV_GITHUB].clone(), env[ENV_SENTRY].clone());
    let blocking = |f: Box<dyn FnOnce() + Send>| tokio::task::spawn_blocking(f);

    // 1. `in_progress`: killed after its intent, after the status went out.
    let (d, e) = (dir.clone(), env.clone());
    blocking(Box::new(move || {
        crash_at(&d, &e, "action_started@\"verify.deployment-record\"")
    }))
    .await
    .unwrap();
    let i = intent(&dir, &env, "action_started", "verify.deployment-record");
    let lines: Vec<&str> = i.lines().filter(|l| l.starts_with("POST ")).collect();
    assert_eq!(lines.len(), 1, "{i}");
    assert!(lines[0].contains("\"state\":\"in_progress\""), "{i}");
    send(&lines, &gh).await;

    // 2. `failure`: killed after its intent, after the status went out.
    let (d, e) = (dir.clone(), env.clone());
    blocking(Box::new(move || {
        crash_at(&d, &e, "deployment_status_started@\"failure\"")
    }))
    .await
    .unwrap();
    let i = intent(&dir, &env, "deployment_status_started", "\"failure\"");
    send(&[i.as_str()], &gh).await;

    // 3. `inactive`: killed after its intent, before anything went out.
    let (d, e) = (dir.clone(), env.clone());
    blocking(Box::new(move || {
        crash_at(&d, &e, "deployment_status_started@\"inactive\"")
    }))
    .await
    .unwrap();

    // 4. Sentry: killed after the markers' intent, with the release and the first app's
    //    deploy sent.
    let (d, e) = (dir.clone(), env.clone());
    blocking(Box::new(move || {
        crash_at(&d, &e, "action_started@\"close.deploy-markers\"")
    }))
    .await
    .unwrap();
    let i = intent(&dir, &env, "action_started", "close.deploy-markers");
    let lines: Vec<&str> = i.lines().filter(|l| l.starts_with("POST ")).collect();
    assert_eq!(lines.len(), 4, "the release and 3 apps' deploys: {i}");
    send(&lines[..2], &sentry).await;

    let (d, e) = (dir.clone(), env.clone());
    blocking(Box::new(move || {
        resume(&d, &e);
    }))
    .await
    .unwrap();

    let (d, e) = (dir.clone(), env.clone());
    blocking(Box::new(move || {
        let f = facts(&d);
        assert_eq!(f.report["status"], "signed", "{}", f.report);
        assert_eq!(
            status_states(&f),
            ["in_progress", "failure", "inactive"],
            "{:#?}",
            f.deployment_statuses
        );
        assert_markers_once(&f);
        // The journal: the sent ones were found, not posted again.
        let evs = events(&d, &e);
        let posted: Vec<&str> = evs
            .iter()
            .filter(|x| kind(x) == "deployment_status_posted")
            .map(|x| x["event"]["state"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(posted, ["failure", "inactive"], "{posted:?}");
        let markers = evs
            .iter()
            .rfind(|x| kind(x) == "action_done" && x["event"]["item"] == "close.deploy-markers")
            .map(|x| x["event"]["evidence"]["markers"].clone())
            .unwrap_or(Value::Null);
        let written: Vec<&str> = markers
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| m["written"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            written,
            ["before (found after an interruption)", "now", "now"],
            "{markers}"
        );
        // The record lists GitHub's statuses and how each was settled.
        let github: Vec<(String, String)> = f.report["markers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["service"] == "github")
            .map(|m| {
                (
                    m["what"].as_str().unwrap_or_default().to_string(),
                    m["outcome"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(github.len(), 3, "{github:?}");
        assert_eq!(
            github[0],
            ("in_progress".into(), "found after an interruption".into())
        );
        assert!(
            github[1].0 == "failure" && github[1].1.starts_with("written"),
            "{github:?}"
        );
        assert!(
            github[2].0 == "inactive" && github[2].1.starts_with("written"),
            "{github:?}"
        );
        let md = run(&d, &e, &["report"]).1;
        assert!(md.contains("## Markers"), "{md}");
        assert!(md.contains("deploy of internal-api"), "{md}");
        assert_eq!(run(&d, &e, &["verify"]).0, 0, "the journal verifies");
    }))
    .await
    .unwrap();
    world.shutdown().await;
}
