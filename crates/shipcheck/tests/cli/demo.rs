//! The rehearsal end to end: `shipcheck demo` in each scenario, the demo operator killed at
//! random moments and resumed, and two walkers at once. Assertions are on the world — the
//! origin's git history, the requests the stand-ins answered, the Fly state, the Slack
//! channel — and on the stored record, not on what shipcheck prints.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use shipcheck_sandbox::fly::FlyState;
use shipcheck_sandbox::world::{Manifest, PostgresChoice, Scenario, World, WorldOptions, record};

use crate::crash::{Rng, operate};
use crate::support::bin;

/// A clean command for the world in `dir`: only PATH and HOME from the environment, plus the
/// world's secrets.
pub(crate) fn cmd(dir: &Path, env: &BTreeMap<String, String>, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .envs(env)
        .stdin(Stdio::null());
    c
}

pub(crate) fn run(
    dir: &Path,
    env: &BTreeMap<String, String>,
    args: &[&str],
) -> (i32, String, String) {
    let out = cmd(dir, env, args).output().expect("run shipcheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn manifest(dir: &Path) -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir.join("world.json")).unwrap()).unwrap()
}

pub(crate) use shipcheck_testkit::git::git;

/// What the world saw, reduced to what must match between runs.
#[derive(Debug)]
pub(crate) struct Facts {
    pub(crate) merges: Vec<String>,
    pub(crate) workflow_runs: usize,
    pub(crate) approvals: usize,
    pub(crate) rejected_posts: usize,
    pub(crate) images: BTreeMap<String, String>,
    pub(crate) deploys_of_previous_image: BTreeMap<String, usize>,
    pub(crate) slack: Vec<String>,
    pub(crate) report: Value,
    /// The statuses GitHub's deployments received (201), in order: (state, description).
    pub(crate) deployment_statuses: Vec<(String, String)>,
    /// The Sentry deploys recorded (201), in order: their names.
    pub(crate) sentry_deploys: Vec<String>,
}

/// The GitHub deployment statuses and the Sentry deploys the stand-ins accepted.
fn markers(requests: &[record::RecordedRequest]) -> (Vec<(String, String)>, Vec<String>) {
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let statuses = requests
        .iter()
        .filter(|r| {
            r.service == "github"
                && r.method == "POST"
                && r.status == 201
                && r.path.contains("/deployments/")
                && r.path.ends_with("/statuses")
        })
        .map(|r| (text(&r.body, "state"), text(&r.body, "description")))
        .collect();
    let deploys = requests
        .iter()
        .filter(|r| {
            r.service == "sentry"
                && r.method == "POST"
                && r.status == 201
                && r.path.ends_with("/deploys/")
        })
        .map(|r| text(&r.body, "name"))
        .collect();
    (statuses, deploys)
}

/// The statuses' states, in order.
pub(crate) fn status_states(f: &Facts) -> Vec<&str> {
    f.deployment_statuses
        .iter()
        .map(|(s, _)| s.as_str())
        .collect()
}

/// Every app's Sentry deploy marker written once, and the record says so.
pub(crate) fn assert_markers_once(f: &Facts) {
    let mut names = f.sentry_deploys.clone();
    names.sort();
    let apps: Vec<&str> = names
        .iter()
        .map(|n| n.split(" · ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        apps,
        ["agent-registration", "internal-api", "public-api"],
        "{:#?}",
        f.sentry_deploys
    );
    let item = items(&f.report)
        .into_iter()
        .find(|i| i["id"] == "close.deploy-markers")
        .expect("close.deploy-markers in the report");
    assert_eq!(item["state"], "done", "{item}");
    let markers = item["evidence"]["markers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(markers.len(), 3, "{item}");
    for m in &markers {
        assert!(
            m["dateStarted"].is_string() && m["dateFinished"].is_string(),
            "{m}"
        );
    }
    // The record lists them.
    let listed = f.report["markers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["service"] == "sentry")
        .count();
    assert_eq!(listed, 3, "{}", f.report["markers"]);
}

pub(crate) fn facts(dir: &Path) -> Facts {
    let m = manifest(dir);
    let merges: Vec<String> = git(&m.origin, &["log", "--merges", "--format=%s", "production"])
        .lines()
        .map(str::to_string)
        .collect();
    let requests = record::read_requests(dir);
    // The approvals (deployment statuses are posted to GitHub too).
    let posts: Vec<_> = requests
        .iter()
        .filter(|r| {
            r.service == "github" && r.method == "POST" && r.path.contains("pending_deployments")
        })
        .collect();
    let (deployment_statuses, sentry_deploys) = markers(&requests);
    let workflow_runs = git(
        &m.origin,
        &["rev-list", "--count", "--first-parent", "production"],
    )
    .trim()
    .parse::<usize>()
    .unwrap()
        - 1;
    let state = FlyState::load(&m.fly_state).unwrap();
    let mut images = BTreeMap::new();
    for (app, a) in &state.apps {
        if app.contains("-production-") {
            let v = a.machines.iter().map(|x| x.release).max().unwrap_or(0);
            images.insert(app.clone(), a.image_of(v));
        }
    }
    let mut deploys_of_previous_image = BTreeMap::new();
    for argv in shipcheck_sandbox::fly::state::read_invocations(&m.fly_state) {
        if argv.first().map(String::as_str) == Some("deploy")
            && let (Some(i), Some(a)) = (
                argv.iter().position(|x| x == "--image"),
                argv.iter().position(|x| x == "-a"),
            )
            && let (Some(image), Some(app)) = (argv.get(i + 1), argv.get(a + 1))
            && m.previous_images.get(app) == Some(image)
        {
            *deploys_of_previous_image.entry(app.clone()).or_default() += 1;
        }
    }
    let (code, out, err) = run(dir, &m.env, &["report", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    Facts {
        merges,
        workflow_runs,
        approvals: posts.iter().filter(|r| r.status == 200).count(),
        rejected_posts: posts.iter().filter(|r| r.status != 200).count(),
        images,
        deploys_of_previous_image,
        slack: record::read_slack(dir)
            .into_iter()
            .map(|s| s.text)
            .collect(),
        report: {
            let report = serde_json::from_str(&out).unwrap_or(Value::Null);
            crate::schema_check::assert_valid(&report);
            report
        },
        deployment_statuses,
        sentry_deploys,
    }
}

/// Every `--json` document that reads the demo's record (and the world's config) matches its
/// published schema: the run, its journal, the history, the chain, the checklist, the config,
/// the change set, a check, the list of documents, and an error.
fn assert_documents_match_their_schemas(dir: &Path) {
    let m = manifest(dir);
    let mut kinds = Vec::new();
    for args in [
        &["status", "--json"][..],
        &["report", "--format", "json"],
        &["events", "--json"],
        &["history", "--json"],
        &["verify", "--json"],
        &["plan", "--json"],
        &["config", "check", "--json"],
        &["changes", "--json"],
        &["check", "prepare.window", "--json"],
        &["schema", "--json"],
        &["status", "no-such-run", "--json"],
    ] {
        let (code, out, err) = run(dir, &m.env, args);
        let doc: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{args:?} (exit {code}): not JSON ({e}): {out}\n{err}"));
        crate::schema_check::assert_valid(&doc);
        kinds.push(doc["kind"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        kinds,
        [
            "run",
            "run",
            "events",
            "history",
            "verify",
            "plan",
            "config_check",
            "changes",
            "check",
            "schemas",
            "error"
        ]
    );
}

/// The items of the JSON report.
pub(crate) fn items(report: &Value) -> Vec<Value> {
    report["items"]
        .as_array()
        .cloned()
        .or_else(|| {
            report["phases"].as_array().map(|ps| {
                ps.iter()
                    .flat_map(|p| p["items"].as_array().cloned().unwrap_or_default())
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// Item id → state, from the JSON report.
pub(crate) fn states(report: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for i in items(report) {
        if let (Some(id), Some(state)) = (i["id"].as_str(), i["state"].as_str()) {
            out.insert(id.to_string(), state.to_string());
        }
    }
    out
}

/// Success criterion title → met / not_met / unknown.
pub(crate) fn criteria(report: &Value) -> BTreeMap<String, String> {
    report["success_criteria"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c["title"].as_str()?.to_string(),
                c["met"].as_str()?.to_string(),
            ))
        })
        .collect()
}

pub(crate) fn position(slack: &[String], text: &str) -> Option<usize> {
    slack.iter().position(|m| m.contains(text))
}

/// No message was posted twice (each incident has its own message, naming it).
pub(crate) fn assert_once_each(slack: &[String]) {
    let mut seen = std::collections::BTreeSet::new();
    for m in slack {
        assert!(
            seen.insert(m.as_str()),
            "posted twice: {m:?}\nall: {slack:#?}"
        );
    }
    for text in [
        "Production deployment scheduled",
        "Starting production deployment",
        "Deployment stable",
    ] {
        let n = slack.iter().filter(|m| m.contains(text)).count();
        assert!(n <= 1, "{text:?} posted {n} times: {slack:#?}");
    }
}

pub(crate) fn assert_released(f: &Facts) {
    assert_eq!(f.merges.len(), 1, "one merge commit: {:?}", f.merges);
    assert!(f.merges[0].starts_with("Release: "), "{:?}", f.merges);
    assert_eq!(f.approvals, 1, "one approval");
    assert_eq!(f.rejected_posts, 0, "no second approval attempt");
    assert_eq!(f.report["status"], "signed", "{}", f.report);
    assert_once_each(&f.slack);
}

fn demo(dir: &Path, scenario: &str, speed: &str) -> (i32, String) {
    let (code, out, err) = run(
        dir.parent().unwrap(),
        &BTreeMap::new(),
        &[
            "demo",
            "--scenario",
            scenario,
            "--speed",
            speed,
            "--dir",
            &dir.display().to_string(),
            // What a GitHub Actions step would show, printed after the record.
            "--ci",
            "github",
        ],
    );
    (code, format!("{out}\n{err}"))
}

#[test]
fn demo_good_ships_the_release_and_signs_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("world");
    let (code, out) = demo(&dir, "good", "300");
    assert_eq!(code, 0, "{out}");
    let f = facts(&dir);
    assert_released(&f);
    let m = manifest(&dir);
    let merge = git(&m.origin, &["rev-parse", "production"]);
    let short = &merge.trim()[..12];
    for (app, image) in &f.images {
        assert!(
            image.ends_with(short),
            "{app} runs {image}, not the release"
        );
    }
    assert!(f.deploys_of_previous_image.is_empty());
    let (a, b, c) = (
        position(&f.slack, "Production deployment scheduled"),
        position(&f.slack, "Starting production deployment"),
        position(&f.slack, "Deployment stable"),
    );
    assert!(a < b && b < c && a.is_some(), "{:#?}", f.slack);
    assert!(position(&f.slack, "Issue detected").is_none());
    // "Starting" and "stable" count the same release.
    let tail = |i: Option<usize>| {
        let first = f.slack[i.unwrap()].lines().next().unwrap();
        first.rsplit(": ").next().unwrap().to_string()
    };
    assert_eq!(tail(b), tail(c), "{:#?}", f.slack);
    assert!(tail(c).ends_with("4 change(s)"), "{:#?}", f.slack);
    let s = states(&f.report);
    for id in [
        "prepare.tests",
        "prepare.prs-approved",
        "release.workflow-triggered",
        "rollout.fly-status",
        "verify.apps-deployed",
        "verify.version-live",
        "verify.health-200",
    ] {
        assert_eq!(s.get(id).map(String::as_str), Some("pass"), "{id}: {s:?}");
    }
    for id in ["release.merge", "approve.approve"] {
        assert_eq!(s.get(id).map(String::as_str), Some("done"), "{id}: {s:?}");
    }
    // What the world says happened, as the demo prints it (the world's own records).
    for line in [
        "GitHub deployment  statuses in_progress → success",
        "CDEvents sink      5 accepted: pipelinerun.started, service.deployed ×3, pipelinerun.finished",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    // GitHub's deployment record: watched, then stable once signed; each link names the run.
    assert_eq!(
        status_states(&f),
        ["in_progress", "success"],
        "{:#?}",
        f.deployment_statuses
    );
    for (_, d) in &f.deployment_statuses {
        assert!(d.starts_with("shipcheck run "), "{d}");
    }
    assert_markers_once(&f);
    let md = run(&dir, &m.env, &["report"]).1;
    assert!(md.contains("✅ No rollback needed within 2 hours"), "{md}");
    assert_documents_match_their_schemas(&dir);
    assert_eq!(run(&dir, &m.env, &["verify"]).0, 0);
}

#[test]
fn demo_bad_release_is_detected_rolled_back_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("world");
    let (code, out) = demo(&dir, "bad-release", "240");
    assert_eq!(code, 0, "{out}");
    // `--ci github`: the step summary, the annotations and the outputs it would write.
    let preview = out
        .split("in GitHub Actions this step would annotate:")
        .nth(1)
        .unwrap_or_else(|| panic!("no GitHub Actions preview:\n{out}"));
    assert!(
        preview.contains("write to $GITHUB_STEP_SUMMARY:\n# Production Deployment Record"),
        "{preview}"
    );
    assert!(preview.contains("\nverdict=rolled_back\n"), "{preview}");
    assert!(preview.contains("\ntime_to_detect_s="), "{preview}");
    let f = facts(&dir);
    assert_released(&f);
    let m = manifest(&dir);
    assert_eq!(
        f.images, m.previous_images,
        "every app back on its previous image"
    );
    assert_eq!(
        f.deploys_of_previous_image.len(),
        3,
        "{:?}",
        f.deploys_of_previous_image
    );
    for (app, n) in &f.deploys_of_previous_image {
        assert_eq!(*n, 1, "{app} rolled back once");
    }
    let (a, b, c, d) = (
        position(&f.slack, "Production deployment scheduled"),
        position(&f.slack, "Starting production deployment"),
        position(&f.slack, "Issue detected in production"),
        position(
            &f.slack,
            "Deployment rolled back: production is stable on the previous release",
        ),
    );
    assert!(
        position(&f.slack, "Deployment stable").is_none(),
        "no \"stable\" after a rollback: {:#?}",
        f.slack
    );
    assert!(a.is_some() && a < b && b < c && c < d, "{:#?}", f.slack);
    // GitHub's deployment record: watched, failed with the incident's summary, inactive
    // after the rollback; never "success".
    assert_eq!(
        status_states(&f),
        ["in_progress", "failure", "inactive"],
        "{:#?}",
        f.deployment_statuses
    );
    // The failure names the first incident, critical or high (under load the 10 % test can
    // cross before the 30 % one: a high incident first, the critical one a sample later).
    let first = &f.report["watch"]["incidents"][0];
    let sev = first["severity"].as_str().unwrap_or_default();
    assert!(matches!(sev, "critical" | "high"), "{first}");
    assert!(
        f.deployment_statuses[1]
            .1
            .contains(&format!("incident #1 ({sev})")),
        "{:#?}",
        f.deployment_statuses
    );
    assert_markers_once(&f);
    let r = &f.report;
    assert_eq!(r["verdict"]["verdict"], "rolled_back", "{}", r["verdict"]);
    let watch = &r["watch"];
    assert!(
        watch["incidents"]
            .as_array()
            .is_some_and(|i| i.iter().any(|x| x["severity"] == "critical")),
        "{}",
        watch["incidents"]
    );
    assert!(watch["time_to_detect_s"].as_u64().is_some(), "{watch}");
    assert!(watch["time_to_recover_s"].as_u64().is_some(), "{watch}");
    // Verified: healthy again, and the commit before the release is the one answering.
    let verified = &watch["rollback_verified"];
    assert_eq!(verified["ok"], true, "{verified}");
    let before = git(&m.origin, &["rev-parse", "production^1"]);
    assert!(
        verified["summary"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!(
                "the commit before the release {} is live",
                &before.trim()[..7]
            )),
        "{verified}"
    );
    assert_eq!(criteria(r)["No rollback needed within 2 hours"], "not_met");
    let md = run(&dir, &m.env, &["report"]).1;
    assert!(md.contains("Time to detect"), "{md}");
    assert!(md.contains("Time to recover"), "{md}");
    assert_eq!(run(&dir, &m.env, &["verify"]).0, 0);
    assert_documents_match_their_schemas(&dir);
}

pub(crate) fn world_options(scenario: Scenario, speed: f64) -> WorldOptions {
    WorldOptions {
        scenario,
        speed,
        flyctl: vec![bin().to_string(), "sandbox".into(), "flyctl".into()],
        postgres: PostgresChoice::Auto,
        ..WorldOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_walkers_at_once_exactly_one_proceeds() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 180.0))
        .await
        .unwrap();
    let dir = world.dir.clone();
    let env = world.env().clone();
    let codes = tokio::task::spawn_blocking(move || {
        // Create the store first, so both race on the walker guard.
        assert_eq!(run(&dir, &env, &["history"]).0, 0);
        let args = ["deploy", "--yes", "--by", "Demo Deployer"];
        let a = cmd(&dir, &env, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let b = cmd(&dir, &env, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let loser = if a.status.code() == Some(4) { &a } else { &b };
        let msg = String::from_utf8_lossy(&loser.stderr).into_owned();
        (a.status.code(), b.status.code(), msg)
    })
    .await
    .unwrap();
    let mut pair = [codes.0.unwrap_or(-1), codes.1.unwrap_or(-1)];
    pair.sort();
    assert_eq!(
        pair,
        [1, 4],
        "one walks to the first manual item (exit 1), one exits 4: {}",
        codes.2
    );
    assert!(codes.2.contains("walking"), "{}", codes.2);
    world.shutdown().await;
}

/// A team that replaces the items other items depend on — the merge, finding the workflow run,
/// recording the rollback targets — with its own, under its own ids, still walks the whole
/// checklist: the dependants find what the new items record by its role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_replaced_under_their_own_ids_still_walk_the_demo_to_the_end() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 300.0))
        .await
        .unwrap();
    let config = world.config_path().to_path_buf();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        r#"
[checklist]
disable = ["release.merge", "approve.find-run", "preflight.rollback-ready"]

[checklist.override."release.workflow-triggered"]
title = "The push starts our deploy workflow"

[[checklist.items]]
id = "release.ship"
phase = "release"
title = "Merge staging into production, our way"
kind = "action"
action = { type = "git.merge" }

[[checklist.items]]
id = "approve.locate-deploy-run"
phase = "approve"
title = "Find the deploy run"
kind = "check"
check = { type = "github.workflow" }
timeout = "12m"

[[checklist.items]]
id = "preflight.remember-releases"
phase = "preflight"
title = "Remember each app's release"
kind = "check"
check = { type = "fly.releases", mode = "record" }
"#,
    );
    std::fs::write(&config, text).unwrap();
    let dir = world.dir.clone();
    let env = world.env().clone();
    let d = dir.clone();
    tokio::task::spawn_blocking(move || operate(&d, &env, 0, &[], &mut Rng(1)))
        .await
        .unwrap();
    world.shutdown().await;
    let f = facts(&dir);
    assert_released(&f);
    let s = states(&f.report);
    for (id, state) in [
        ("release.ship", "done"),
        ("release.workflow-triggered", "pass"),
        ("approve.locate-deploy-run", "pass"),
        ("approve.approve", "done"),
        ("preflight.remember-releases", "pass"),
        ("verify.apps-deployed", "pass"),
    ] {
        assert_eq!(s.get(id).map(String::as_str), Some(state), "{id}: {s:?}");
    }
    for gone in [
        "release.merge",
        "approve.find-run",
        "preflight.rollback-ready",
    ] {
        assert!(!s.contains_key(gone), "{gone} was disabled: {s:?}");
    }
    assert_eq!(run(&dir, &manifest(&dir).env, &["verify"]).0, 0);
}

#[path = "demo_stale.rs"]
mod stale;
