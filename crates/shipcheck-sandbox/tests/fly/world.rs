//! The rehearsal world: each stand-in answers the documented shapes and errors; a push of
//! `production` creates a workflow run; approving it deploys on the Fly stand-in and moves
//! the jobs; the apps behave as the image they run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shipcheck_sandbox::fly::{self, FlyState};
use shipcheck_sandbox::world::{PostgresChoice, Scenario, World, WorldOptions};

const REPO: &str = "/repos/maishapoa/platform";
const PROD_APP: &str = "maishapoa-production-internal-api";

async fn world(scenario: Scenario, postgres: PostgresChoice) -> (tempfile::TempDir, World) {
    let tmp = tempfile::tempdir().unwrap();
    let w = World::build_with(
        &tmp.path().join("w"),
        WorldOptions {
            scenario,
            speed: 600.0,
            flyctl: vec![env!("CARGO_BIN_EXE_flyctl-standin").to_string()],
            postgres,
            traffic_rps: 20,
            ..WorldOptions::default()
        },
    )
    .await
    .unwrap();
    (tmp, w)
}

struct Api {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
    fn new(w: &World, service: &str, auth: String) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: w.manifest.services[service].clone(),
            auth,
        }
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.auth)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("authorization", &self.auth)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn github(w: &World) -> Api {
    let token = &w.env()["SHIPCHECK_DEMO_GITHUB_TOKEN"];
    Api::new(w, "github", format!("Bearer {token}"))
}

async fn git(dir: &std::path::Path, args: &[&str]) -> String {
    shipcheck_testkit::git::git(dir, args).trim().to_string()
}

#[tokio::test]
async fn the_repository_holds_a_realistic_change_set() {
    let (_tmp, w) = world(Scenario::Good, PostgresChoice::Off).await;
    let repo = &w.manifest.repo;
    git(repo, &["fetch", "-q", "origin"]).await;
    let log = git(
        repo,
        &["log", "--format=%s", "origin/production..origin/staging"],
    )
    .await;
    assert_eq!(log.lines().count(), 4, "{log}");
    let files = git(
        repo,
        &["diff", "--name-only", "origin/production...origin/staging"],
    )
    .await;
    for f in [
        "CHANGELOG.md",
        "migrations/20261120_add_agent_region.sql",
        "src/auth/session.ts",
        "scripts/seed-regions.sh",
    ] {
        assert!(files.lines().any(|l| l == f), "{f} in {files}");
    }
    // Hermetic identity in the clone's own config only.
    assert_eq!(
        git(repo, &["config", "--local", "user.name"]).await,
        "Demo Deployer"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn github_answers_the_documented_shapes_and_errors() {
    let (_tmp, w) = world(Scenario::Good, PostgresChoice::Off).await;
    let gh = github(&w);
    let anon = Api::new(&w, "github", "Bearer nope".into());
    let (status, body) = anon.get(&format!("{REPO}/actions/runs")).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Bad credentials"))
    );
    let (status, body) = gh.get(&format!("{REPO}/actions/runs")).await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 0);
    assert_eq!(gh.get("/repos/other/repo/actions/runs").await.0, 404);
    assert_eq!(gh.get(&format!("{REPO}/actions/runs/1")).await.0, 404);
    // Every staging commit comes from a pull request approved by someone else.
    let staging = git(&w.manifest.repo, &["rev-parse", "origin/staging"]).await;
    let (status, pulls) = gh.get(&format!("{REPO}/commits/{staging}/pulls")).await;
    assert_eq!(status, 200);
    let pr = &pulls[0];
    let author = pr["user"]["login"].as_str().unwrap();
    let (_, reviews) = gh
        .get(&format!("{REPO}/pulls/{}/reviews", pr["number"]))
        .await;
    let approved: Vec<&Value> = reviews
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "APPROVED")
        .collect();
    assert_eq!(approved.len(), 1);
    assert_ne!(approved[0]["user"]["login"].as_str(), Some(author));
    // A commit that is not the repository's: 422.
    assert_eq!(gh.get(&format!("{REPO}/commits/zzz/pulls")).await.0, 422);
    let (status, checks) = gh.get(&format!("{REPO}/commits/staging/check-runs")).await;
    assert_eq!(
        (status, checks["check_runs"][0]["conclusion"].as_str()),
        (200, Some("success"))
    );
    assert!(
        w.requests()
            .iter()
            .any(|r| r.service == "github" && r.status == 401)
    );
    w.shutdown().await;
}

/// Merges staging into production in the clone and pushes, as `release.merge` does.
async fn release(w: &World) -> String {
    let repo = &w.manifest.repo;
    git(repo, &["checkout", "-q", "production"]).await;
    git(
        repo,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Release: agent regions",
            "origin/staging",
        ],
    )
    .await;
    git(repo, &["push", "-q", "origin", "production"]).await;
    git(repo, &["rev-parse", "HEAD"]).await
}

async fn wait_for<F: AsyncFnMut() -> Option<T>, T>(what: &str, mut f: F) -> T {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if let Some(t) = f().await {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_push_creates_a_run_and_the_approval_deploys_the_release() {
    let (_tmp, w) = world(Scenario::BadRelease, PostgresChoice::Off).await;
    let gh = github(&w);
    let sha = release(&w).await;
    // The push starts the test workflow for the commit…
    let test = wait_for("the test run", async || {
        let (_, b) = gh
            .get(&format!(
                "{REPO}/actions/runs?head_sha={sha}&event=push&branch=production"
            ))
            .await;
        b["workflow_runs"].get(0).cloned()
    })
    .await;
    assert_eq!(test["path"], ".github/workflows/test.yml");
    // …whose success starts the deploy workflow (workflow_run), which GitHub runs on the
    // default branch's tip, not on the pushed commit.
    let deploys = format!("{REPO}/actions/workflows/deploy.yml/runs?event=workflow_run");
    let run = wait_for("the deploy run", async || {
        gh.get(&deploys).await.1["workflow_runs"].get(0).cloned()
    })
    .await;
    let shape = |k: &str| run[k].as_str().unwrap_or_default().to_string();
    assert_eq!(
        [shape("status"), shape("event"), shape("head_branch")],
        ["waiting", "workflow_run", "staging"]
    );
    assert_ne!(shape("head_sha"), sha);
    let id = run["id"].as_i64().unwrap();
    let (_, test) = gh.get(&format!("{REPO}/actions/runs/{}", test["id"])).await;
    assert_eq!(test["conclusion"], "success");
    assert!(shape("created_at").as_str() >= test["updated_at"].as_str().unwrap());
    // GitHub created the deployment when the job reached the environment.
    let q = format!(
        "{REPO}/deployments?sha={}&environment=production",
        shape("head_sha")
    );
    assert_eq!(gh.get(&q).await.1.as_array().map(Vec::len), Some(1));
    let (_, pending) = gh
        .get(&format!("{REPO}/actions/runs/{id}/pending_deployments"))
        .await;
    assert_eq!(pending[0]["environment"]["name"], "production");
    assert_eq!(pending[0]["current_user_can_approve"], true);
    let env_id = pending[0]["environment"]["id"].clone();
    let path = format!("{REPO}/actions/runs/{id}/pending_deployments");
    // Bad approvals are 422 and change nothing.
    let (status, _) = gh
        .post(
            &path,
            &json!({ "environment_ids": [1], "state": "approved", "comment": "x" }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = gh
        .post(
            &path,
            &json!({ "environment_ids": [env_id], "state": "approved" }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, deployments) = gh
        .post(
            &path,
            &json!({ "environment_ids": [env_id], "state": "approved", "comment": "ok" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(deployments[0]["sha"], run["head_sha"]);
    assert_eq!(deployments[0]["environment"], "production");
    // Approving twice is refused: nothing waits any more.
    let (status, _) = gh
        .post(
            &path,
            &json!({ "environment_ids": [env_id], "state": "approved", "comment": "again" }),
        )
        .await;
    assert_eq!(status, 422);
    let mut seen = Vec::new();
    let done = wait_for("the run to complete", async || {
        let (_, jobs) = gh.get(&format!("{REPO}/actions/runs/{id}/jobs")).await;
        let deploy = jobs["jobs"]
            .as_array()?
            .iter()
            .find(|j| j["name"] == "deploy-production")?
            .clone();
        let s = deploy["status"].as_str()?.to_string();
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        let (_, r) = gh.get(&format!("{REPO}/actions/runs/{id}")).await;
        (r["status"] == "completed").then_some(r)
    })
    .await;
    assert_eq!(done["conclusion"], "success", "{done}");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("completed"),
        "{seen:?}"
    );
    // Every production app runs the image built from the merge commit.
    let state = FlyState::load(&w.manifest.fly_state).unwrap();
    let short: String = sha.chars().take(12).collect();
    for (app, a) in &state.apps {
        if app.contains("-production-") {
            let image = &a.newest().unwrap().image_ref;
            assert!(image.ends_with(&short), "{app}: {image}");
        } else {
            assert_eq!(a.releases.len(), 1, "{app} untouched");
        }
    }
    let runs = w.workflow_runs();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[1].workflow.as_str(), runs[1].deploys_sha.as_str()),
        ("deploy", sha.as_str())
    );
    assert_eq!(runs[1].approvals, vec!["ok".to_string()]);
    // The bad release answers 5xx: they reach the logs and Sentry.
    let token = &w.env()["SHIPCHECK_DEMO_SENTRY_TOKEN"];
    let sentry = Api::new(&w, "sentry", format!("Bearer {token}"));
    let errors = wait_for("5xx in the logs", async || {
        let out = fly::invoke(
            &w.manifest.fly_state,
            &["logs", "-a", PROD_APP, "--no-tail", "--json"].map(String::from),
        );
        let n = out.stdout.matches("\"status_code\": 500").count();
        (n >= 3).then_some(n)
    })
    .await;
    assert!(errors >= 3);
    let (status, issues) = sentry
        .get("/api/0/organizations/maishapoa/issues/?query=is%3Aunresolved%20firstSeen%3A-30m&project=4501&environment=production")
        .await;
    assert_eq!(status, 200);
    assert!(
        issues
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["title"].as_str().unwrap().contains("region")),
        "{issues}"
    );
    w.shutdown().await;
}

#[tokio::test]
async fn sentry_prometheus_and_slack_answer_from_the_apps() {
    let (_tmp, w) = world(Scenario::Good, PostgresChoice::Off).await;
    let sentry_token = &w.env()["SHIPCHECK_DEMO_SENTRY_TOKEN"];
    let sentry = Api::new(&w, "sentry", format!("Bearer {sentry_token}"));
    assert_eq!(
        Api::new(&w, "sentry", "Bearer x".into())
            .get("/api/0/projects/maishapoa/public-api/")
            .await
            .0,
        401
    );
    let (status, p) = sentry.get("/api/0/projects/maishapoa/public-api/").await;
    assert_eq!((status, p["id"].as_str()), (200, Some("4503")));
    assert_eq!(sentry.get("/api/0/projects/maishapoa/nope/").await.0, 404);
    assert_eq!(sentry.get("/api/0/projects/other/public-api/").await.0, 404);
    // Yesterday's background errors are the baseline.
    let end = w.now();
    let start = end - jiff::SignedDuration::from_hours(24);
    let (status, ts) = sentry
        .get(&format!(
            "/api/0/organizations/maishapoa/events-timeseries/?dataset=errors&yAxis=count()&start={start}&end={end}&interval=1h&project=4501&project=4502&project=4503&environment=production"
        ))
        .await;
    assert_eq!(status, 200);
    let total: i64 = ts["timeSeries"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["incomplete"] == false)
        .map(|b| b["value"].as_i64().unwrap())
        .sum();
    assert!(total >= 60, "{total}");
    assert_eq!(
        sentry
            .get("/api/0/organizations/maishapoa/events-timeseries/?dataset=errors&start=x&end=y")
            .await
            .0,
        400
    );
    let (status, _) = sentry
        .post(
            "/api/0/organizations/maishapoa/releases/",
            &json!({ "version": "v1", "projects": ["public-api"] }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = sentry
        .post(
            "/api/0/organizations/maishapoa/releases/",
            &json!({ "version": "v1", "projects": ["public-api"] }),
        )
        .await;
    assert_eq!(status, 208);
    assert_eq!(
        sentry
            .post(
                "/api/0/organizations/maishapoa/releases/v2/deploys/",
                &json!({ "environment": "production" })
            )
            .await
            .0,
        404
    );
    assert_eq!(
        sentry
            .post(
                "/api/0/organizations/maishapoa/releases/v1/deploys/",
                &json!({ "environment": "production" })
            )
            .await
            .0,
        201
    );

    // Nonsense is a 400, never a crash.
    for q in [
        "/api/0/organizations/maishapoa/events-timeseries/?dataset=errors&statsPeriod=999999999999w",
        "/api/0/organizations/maishapoa/events-timeseries/?dataset=errors&interval=99999999999999d",
        "/api/0/organizations/maishapoa/events-timeseries/?dataset=errors&start=-999999999999&end=1",
        "/api/0/organizations/maishapoa/issues/?query=firstSeen:-99999999999999999999w",
    ] {
        let (status, _) = sentry.get(q).await;
        assert!(status == 400 || status == 200, "{q}: {status}");
    }

    // Prometheus: real latencies once traffic has flowed.
    let prom_token = &w.env()["SHIPCHECK_DEMO_PROMETHEUS_TOKEN"];
    let prom = Api::new(&w, "prometheus", format!("FlyV1 {prom_token}"));
    let p95 = "histogram_quantile(0.95, sum by (le) (rate(fly_edge_http_response_time_seconds_bucket{app=\"maishapoa-production-public-api\"}[5m])))";
    let value = wait_for("latencies", async || {
        let (_, b) = prom
            .get(&format!("/api/v1/query?query={}", urlencode(p95)))
            .await;
        b["data"]["result"][0]["value"][1]
            .as_str()
            .map(str::to_string)
    })
    .await;
    let secs: f64 = value.parse().unwrap();
    assert!(secs > 0.0 && secs < 1.0, "{secs}");
    let cpu = "sum by (instance) (rate(fly_instance_cpu{app=\"maishapoa-production-public-api\",mode!=\"idle\"}[5m])) / 100 / count by (instance) (fly_instance_cpu{app=\"maishapoa-production-public-api\",mode=\"idle\"})";
    let (status, b) = prom
        .get(&format!("/api/v1/query?query={}", urlencode(cpu)))
        .await;
    assert_eq!((status, b["status"].as_str()), (200, Some("success")));
    assert_eq!(
        b["data"]["result"].as_array().unwrap().len(),
        2,
        "one series per machine"
    );
    let (status, b) = prom.get("/api/v1/query?query=no_such_metric").await;
    assert_eq!(
        (status, b["data"]["result"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, b) = prom
        .get(&format!(
            "/api/v1/query?query={}",
            urlencode("sum(rate(x[5m])")
        ))
        .await;
    assert_eq!((status, b["errorType"].as_str()), (400, Some("bad_data")));
    assert_eq!(
        Api::new(&w, "prometheus", "Bearer x".into())
            .get("/api/v1/query?query=1")
            .await
            .0,
        401
    );
    for q in [
        "/api/v1/query?query=up&time=1e300",
        "/api/v1/query?query=up&time=NaN",
        "/api/v1/query?query=rate(x[99999999999999h])",
        "/api/v1/query_range?query=up&start=0&end=1e12&step=0.001",
        "/api/v1/query_range?query=up&start=1&end=2&step=NaN",
    ] {
        let (status, _) = prom.get(q).await;
        assert!(status == 400 || status == 200, "{q}: {status}");
    }
    // The world still answers.
    assert_eq!(prom.get("/api/v1/query?query=fly_instance_up").await.0, 200);

    // Slack: 200 ok, and Slack's plain-text errors.
    let hook = w.env()["SHIPCHECK_DEMO_SLACK_WEBHOOK_URL"].clone();
    let http = reqwest::Client::new();
    let send = async |url: &str, body: &str, json_type: bool| {
        let mut r = http.post(url).body(body.to_string());
        if json_type {
            r = r.header("content-type", "application/json");
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(
        send(&hook, r#"{"text":"Starting production deployment"}"#, true).await,
        (200, "ok".into())
    );
    assert_eq!(
        send(&hook, "text=hi", false).await,
        (400, "invalid_payload".into())
    );
    assert_eq!(
        send(&hook, r#"{"text":""}"#, true).await,
        (400, "no_text".into())
    );
    let wrong = format!("{}x", hook);
    assert_eq!(
        send(&wrong, r#"{"text":"x"}"#, true).await,
        (404, "no_service".into())
    );
    assert_eq!(w.slack_messages().len(), 1);
    assert_eq!(
        shipcheck_sandbox::world::record::read_slack(&w.dir)[0].text,
        "Starting production deployment"
    );
    w.shutdown().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn scaling_to_zero_stops_an_app_and_deploy_switches_its_behaviour() {
    let (_tmp, w) = world(Scenario::Good, PostgresChoice::Off).await;
    let base = w.manifest.apps[PROD_APP].clone();
    let http = reqwest::Client::new();
    let health = format!("{base}/api/health");
    assert_eq!(
        http.get(&health).send().await.unwrap().status().as_u16(),
        200
    );
    let dir = &w.manifest.fly_state;
    let out = fly::invoke(
        dir,
        &["scale", "count", "0", "-a", PROD_APP, "--yes"].map(String::from),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let stopped = wait_for("the app to stop", async || {
        let s = http.get(&health).send().await.ok()?.status().as_u16();
        (s == 503).then_some(s)
    })
    .await;
    assert_eq!(stopped, 503);
    let out = fly::invoke(
        dir,
        &["scale", "count", "2", "-a", PROD_APP, "--yes"].map(String::from),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for("the app to answer again", async || {
        let s = http.get(&health).send().await.ok()?.status().as_u16();
        (s == 200).then_some(())
    })
    .await;
    w.shutdown().await;
}

#[tokio::test]
async fn postgres_databases_when_a_server_answers() {
    let (_tmp, w) = world(Scenario::Good, PostgresChoice::Auto).await;
    match &w.manifest.postgres {
        shipcheck_sandbox::world::postgres::PgStatus::Ready { staging, .. } => {
            assert!(w.env().contains_key("SHIPCHECK_DEMO_DATABASE_URL"));
            let text = std::fs::read_to_string(w.config_path()).unwrap();
            assert!(text.contains("[database]"), "{text}");
            assert!(staging.contains("shipcheck_demo_"));
        }
        shipcheck_sandbox::world::postgres::PgStatus::Unavailable { reason } => {
            eprintln!("skipped: {reason}");
            let text = std::fs::read_to_string(w.config_path()).unwrap();
            assert!(!text.contains("[database]"));
        }
    }
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_world_drops_its_databases() {
    use sqlx::Connection;
    let (_tmp, w) = world(Scenario::Good, PostgresChoice::Auto).await;
    let shipcheck_sandbox::world::postgres::PgStatus::Ready { staging, .. } =
        w.manifest.postgres.clone()
    else {
        eprintln!("skipped: no PostgreSQL");
        return;
    };
    assert!(sqlx::PgConnection::connect(&staging).await.is_ok());
    drop(w);
    let gone = sqlx::PgConnection::connect(&staging).await;
    assert!(gone.is_err(), "the staging database survived the world");
}

#[path = "world_stale.rs"]
mod stale;
