//! The rehearsal end to end: `shipcheck demo` in each scenario, the demo operator killed at
//! random moments and resumed, and two walkers at once. Assertions are on the world — the
//! origin's git history, the requests the stand-ins answered, the Fly state, the Slack
//! channel — and on the stored record, not on what shipcheck prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use shipcheck_sandbox::fly::FlyState;
use shipcheck_sandbox::world::{Manifest, PostgresChoice, Scenario, World, WorldOptions, record};

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
}

pub(crate) fn facts(dir: &Path) -> Facts {
    let m = manifest(dir);
    let merges: Vec<String> = git(&m.origin, &["log", "--merges", "--format=%s", "production"])
        .lines()
        .map(str::to_string)
        .collect();
    let requests = record::read_requests(dir);
    let posts: Vec<_> = requests
        .iter()
        .filter(|r| r.service == "github" && r.method == "POST")
        .collect();
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

/// A tiny deterministic generator (xorshift64*).
pub(crate) struct Rng(u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_millis() as u64;
        lo + Duration::from_millis(self.next() % span.max(1))
    }
}

/// The kinds of the stored events of the world's run, in order (empty before the run starts).
pub(crate) fn journal_kinds(dir: &Path, env: &BTreeMap<String, String>) -> Vec<String> {
    let (code, out, _) = run(dir, env, &["events", "--json"]);
    if code != 0 {
        return Vec::new();
    }
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    v["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event"]["type"].as_str().map(str::to_string))
        .collect()
}

/// Where the kills land: `kills` journal positions drawn by the seed from the uninterrupted
/// run's journal (`calm`), in increasing order, so they spread over the whole run. At each,
/// the operator crashes right after it stores that event (`SHIPCHECK_SANDBOX_CRASH_AFTER=seq=N`)
/// or — every other kill, to land inside a side effect rather than between two events — is
/// SIGKILLed at a random moment before that, whichever comes first. Two points are always
/// there, waiting for their event: right after the rollback's intent (before any deploy) and
/// the first tick of the watch after the rollback, when the scenario has them. Without a calm
/// journal, every kill is at a random moment.
pub(crate) fn kill_plan(calm: &[String], kills: usize, rng: &mut Rng) -> Vec<Option<Kill>> {
    if calm.is_empty() {
        return vec![None; kills];
    }
    let mut plan: Vec<(usize, Kill)> = (0..kills)
        .map(|i| {
            let p = (rng.next() % calm.len() as u64) as usize;
            (
                p,
                Kill {
                    spec: format!("seq={}", p + 1),
                    event_only: i % 2 == 0,
                },
            )
        })
        .collect();
    if let Some(i) = calm.iter().position(|k| k == "rollback_started") {
        plan.push((
            i,
            Kill {
                spec: "rollback_started".into(),
                event_only: true,
            },
        ));
    }
    if let Some(done) = calm.iter().position(|k| k == "rollback_done")
        && let Some(t) = calm[done..].iter().position(|k| k == "watch_tick")
    {
        plan.push((
            done + t,
            Kill {
                spec: "watch_tick@\"leg\":1".into(),
                event_only: true,
            },
        ));
    }
    plan.sort_by_key(|(p, _)| *p);
    plan.into_iter().map(|(_, k)| Some(k)).collect()
}

/// One kill: the crash point, and whether only the event triggers it (no timer).
#[derive(Clone, Debug)]
pub(crate) struct Kill {
    spec: String,
    event_only: bool,
}

/// Which part of the run a kill landed in, from the run's journal right after it.
pub(crate) fn stage(kinds: &[String]) -> &'static str {
    let has = |k: &str| kinds.iter().any(|x| x == k);
    let ended = kinds.iter().filter(|k| *k == "watch_ended").count();
    if has("run_signed") {
        "signed"
    } else if has("rollback_started") && !has("rollback_done") && !has("rollback_failed") {
        "inside the rollback"
    } else if has("rollback_done") && ended < 2 {
        "inside the after-rollback watch"
    } else if has("watch_started") && ended == 0 {
        "inside the release watch"
    } else if ended > 0 {
        "after the watch"
    } else {
        "before the watch"
    }
}

/// Runs the demo operator until the run is signed; with `kills`, crashes it first at the
/// points of [`kill_plan`]. Returns where each kill that landed on a running process landed
/// ([`stage`]).
pub(crate) fn operate(
    dir: &Path,
    env: &BTreeMap<String, String>,
    kills: usize,
    calm: &[String],
    rng: &mut Rng,
) -> Vec<&'static str> {
    let fly = manifest(dir).fly_state;
    let mut landed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(900);
    let plan = kill_plan(calm, kills, rng);
    for point in &plan {
        if Instant::now() > deadline {
            break;
        }
        let mut c = cmd(dir, env, &["sandbox", "operate"]);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let mut timer = rng.between(Duration::from_millis(120), Duration::from_millis(1100));
        if let Some(kill) = point {
            // A point the run has passed already (it moved on after a timer kill) is left.
            let now = journal_kinds(dir, env);
            if let Some(n) = kill.spec.strip_prefix("seq=")
                && n.parse::<usize>().unwrap_or(0) <= now.len()
            {
                continue;
            }
            if kill.spec == "rollback_started" && now.iter().any(|k| k == "rollback_started") {
                continue;
            }
            if kill.spec.starts_with("watch_tick@")
                && now.iter().filter(|k| *k == "watch_ended").count() >= 2
            {
                continue;
            }
            // The rollback and the watch after it are never passed without a kill in them:
            // whichever comes first, the point or their event.
            let mut spec = kill.spec.clone();
            let has = |s: &str| landed.contains(&s);
            if calm.iter().any(|k| k == "rollback_started") {
                if !has("inside the rollback") && !now.iter().any(|k| k == "rollback_started") {
                    spec.push_str("|rollback_started");
                }
                if !has("inside the after-rollback watch")
                    && now.iter().filter(|k| *k == "watch_ended").count() < 2
                {
                    spec.push_str("|watch_tick@\"leg\":1");
                }
            }
            c.env("SHIPCHECK_SANDBOX_CRASH_AFTER", &spec);
            timer = if kill.event_only {
                // Only the event: no timer (bounded by the run's end).
                Duration::from_secs(120)
            } else {
                rng.between(Duration::from_millis(120), Duration::from_millis(3000))
            };
        }
        let mut child = c.spawn().unwrap();
        let until = Instant::now() + timer;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() >= until {
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        match status {
            Some(s) if s.code() == Some(0) => return landed,
            Some(s) if s.code() == Some(137) => landed.push(stage(&journal_kinds(dir, env))),
            Some(_) => {}
            None => {
                child.kill().unwrap();
                let _ = child.wait();
                landed.push(stage(&journal_kinds(dir, env)));
            }
        }
        // A subprocess of the killed walker (git, flyctl) may still be finishing, as after
        // any crash: let the Fly stand-in's state lock settle.
        std::thread::sleep(Duration::from_millis(100));
        drop(shipcheck_sandbox::fly::StateLock::acquire(&fly));
    }
    for _ in 0..10 {
        let (code, out, err) = run(dir, env, &["sandbox", "operate"]);
        if code == 0 {
            return landed;
        }
        eprintln!("operator exited {code}:\n{out}\n{err}");
    }
    panic!("the run did not end after {} kills", landed.len());
}

pub(crate) fn crash_points() -> usize {
    std::env::var("SHIPCHECK_CRASH_POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

/// `SHIPCHECK_CRASH_SCENARIO`: good or bad-release (the default).
fn crash_scenario() -> Scenario {
    std::env::var("SHIPCHECK_CRASH_SCENARIO")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(Scenario::BadRelease)
}

async fn rehearse(
    scenario: Scenario,
    speed: f64,
    kills: usize,
    calm: Vec<String>,
    seed: u64,
) -> (tempfile::TempDir, PathBuf, Vec<&'static str>) {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(scenario, speed))
        .await
        .unwrap();
    let dir = world.dir.clone();
    let env = world.env().clone();
    let d = dir.clone();
    let landed =
        tokio::task::spawn_blocking(move || operate(&d, &env, kills, &calm, &mut Rng(seed)))
            .await
            .unwrap();
    world.shutdown().await;
    (tmp, dir, landed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_anywhere_resumes_to_the_same_end_with_every_side_effect_once() {
    let scenario = crash_scenario();
    let speed = 150.0;
    let seed = std::env::var("SHIPCHECK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026);
    let started = Instant::now();
    let (_t1, calm, _) = rehearse(scenario, speed, 0, Vec::new(), seed).await;
    let m = manifest(&calm);
    let calm_kinds = journal_kinds(&calm, &m.env);
    let (_t2, crashed, stages) =
        rehearse(scenario, speed, crash_points(), calm_kinds.clone(), seed).await;
    let m = manifest(&crashed);
    let landed = stages.len();
    let mut by_stage: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &stages {
        *by_stage.entry(s).or_default() += 1;
    }
    // One line for bench/crash.sh to collect.
    eprintln!(
        "crash-anywhere: scenario={} seed={seed:#x} landed={landed} seconds={:.0} stages={}",
        scenario.as_str(),
        started.elapsed().as_secs_f64(),
        by_stage
            .iter()
            .map(|(k, v)| format!("{}:{v}", k.replace(' ', "-")))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(
        landed * 3 >= crash_points().min(30) * 2,
        "only {landed} kills landed: {by_stage:?}"
    );
    if scenario == Scenario::BadRelease && crash_points() >= 10 {
        for s in ["inside the rollback", "inside the after-rollback watch"] {
            assert!(by_stage.contains_key(s), "no kill {s}: {by_stage:?}");
        }
    }
    let (a, b) = (facts(&calm), facts(&crashed));
    for f in [&a, &b] {
        assert_released(f);
        assert_eq!(f.workflow_runs, 1, "one push of production");
    }
    assert_eq!(states(&a.report), states(&b.report), "item states");
    // The verdict and the criteria the scenario decides (which app tripped first, and so
    // the reason's wording, depends on the traffic's timing).
    assert_eq!(
        a.report["verdict"]["verdict"], b.report["verdict"]["verdict"],
        "verdict"
    );
    let (ca, cb) = (criteria(&a.report), criteria(&b.report));
    assert_eq!(ca, cb, "success criteria");
    // The release's images are named after each world's own merge commit.
    for (f, dir) in [(&a, &calm), (&b, &crashed)] {
        let m = manifest(dir);
        let merge = git(&m.origin, &["rev-parse", "production^{commit}"]);
        let short = &merge.trim()[..12];
        for (app, image) in &f.images {
            if scenario == Scenario::BadRelease {
                assert_eq!(Some(image), m.previous_images.get(app), "{app}");
            } else {
                assert!(
                    image.ends_with(short),
                    "{app} runs {image}, not the release"
                );
            }
        }
    }
    assert_eq!(
        a.deploys_of_previous_image, b.deploys_of_previous_image,
        "rollback deploys"
    );
    for f in [&a, &b] {
        let open: Vec<&Value> = f.report["watch"]["incidents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["open"] == true && i["severity"] == "critical")
            .collect();
        assert!(open.is_empty(), "a critical incident left open: {open:#?}");
    }
    if scenario == Scenario::BadRelease {
        assert_eq!(
            b.images, m.previous_images,
            "every app back on its previous image"
        );
        for (app, n) in &b.deploys_of_previous_image {
            assert_eq!(*n, 1, "{app} rolled back once");
        }
        assert_eq!(b.deploys_of_previous_image.len(), 3);
        assert!(
            position(&b.slack, "Issue detected in production").is_some(),
            "{:#?}",
            b.slack
        );
        assert!(
            position(&b.slack, "Deployment stable").is_none(),
            "{:#?}",
            b.slack
        );
        assert_eq!(b.report["watch"]["rollback_verified"]["ok"], true);
    } else {
        assert!(b.deploys_of_previous_image.is_empty());
        assert!(position(&b.slack, "Deployment stable").is_some());
    }
    assert_eq!(
        run(&crashed, &m.env, &["verify"]).0,
        0,
        "the journal verifies"
    );
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

/// Where a concurrency rehearsal stores its runs: the world's SQLite file, or a fresh schema of
/// the PostgreSQL test database (dropped afterwards).
enum Backend {
    Sqlite,
    Postgres { url: String, schema: String },
}

async fn postgres_backend() -> Option<Backend> {
    use sqlx::{Connection, Executor};
    let url = std::env::var("SHIPCHECK_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let mut admin = sqlx::postgres::PgConnection::connect_with(
        &url.parse::<sqlx::postgres::PgConnectOptions>().unwrap(),
    )
    .await
    .unwrap();
    let schema = format!("sc_cli_{}", std::process::id());
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        )))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(Backend::Postgres {
        url: format!("{url}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    })
}

async fn drop_backend(b: &Backend) {
    use sqlx::{Connection, Executor};
    if let Backend::Postgres { schema, .. } = b {
        let url = std::env::var("SHIPCHECK_TEST_DATABASE_URL").unwrap();
        let mut admin = sqlx::postgres::PgConnection::connect_with(
            &url.parse::<sqlx::postgres::PgConnectOptions>().unwrap(),
        )
        .await
        .unwrap();
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .await;
    }
}

/// While the watch runs, eight processes raise incidents, add notes and tick the watch's
/// manual items of the same run. Every change is either written once or refused with a reason;
/// the run loads, its journal verifies, and every incident has its own number.
async fn eight_writers_during_the_watch(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 300.0))
        .await
        .unwrap();
    let dir = world.dir.clone();
    let mut env = world.env().clone();
    if let Backend::Postgres { url, .. } = &backend {
        env.insert("SHIPCHECK_DATABASE_URL".into(), url.clone());
    }
    let (d, e) = (dir.clone(), env.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let operator = cmd(&d, &e, &["sandbox", "operate"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the watch.
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let (code, out, _) = run(&d, &e, &["status", "--json"]);
            if code != 2
                && let Ok(v) = serde_json::from_str::<Value>(&out)
                && v["phase"] == "watch"
            {
                break;
            }
            assert!(Instant::now() < deadline, "the run never reached the watch");
            std::thread::sleep(Duration::from_millis(200));
        }
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (d, e) = (d.clone(), e.clone());
                std::thread::spawn(move || {
                    let by = format!("Writer {w}");
                    let mut done = Vec::new();
                    for i in 0..4 {
                        let summary = format!("writer {w} incident {i}");
                        let text = format!("writer {w} note {i}");
                        let item = if (w + i) % 2 == 0 {
                            "watch.user-reports"
                        } else {
                            "watch.issues-documented"
                        };
                        for (what, args) in [
                            (
                                "incident",
                                vec![
                                    "incident",
                                    "--severity",
                                    "low",
                                    "--summary",
                                    &summary,
                                    "--by",
                                    &by,
                                    "--yes",
                                ],
                            ),
                            ("note", vec!["note", "--kind", "issue", &text, "--by", &by]),
                            ("tick", vec!["tick", item, "--note", "seen", "--by", &by]),
                        ] {
                            let (code, out, err) = run(&d, &e, &args);
                            done.push((what, code, format!("{out}{err}")));
                        }
                    }
                    done
                })
            })
            .collect();
        let results: Vec<(&str, i32, String)> = writers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let first = operator.wait_with_output().unwrap();
        let mut code = first.status.code();
        let mut err = format!(
            "{}{}",
            String::from_utf8_lossy(&first.stdout),
            String::from_utf8_lossy(&first.stderr)
        );
        // A person's tick may have settled an item the operator was about to tick: it walks
        // on from where the run is, as a person would.
        for _ in 0..3 {
            if code == Some(0) {
                break;
            }
            let (c, out, e2) = run(&d, &e, &["sandbox", "operate"]);
            code = Some(c);
            err.push_str(&format!("\n--- again: {out}{e2}"));
        }
        (results, code, err)
    })
    .await
    .unwrap();
    world.shutdown().await;
    let (results, operator_code, operator_err) = outcome;
    for (what, code, out) in &results {
        // Written (0), or refused for a reason a person can read (a tick of an item another
        // writer ticked first, exit 2). Never a lost race (exit 3/4) or a crash.
        assert!(
            *code == 0 || (*what == "tick" && *code == 2 && out.contains("already")),
            "{what} exited {code}: {out}"
        );
    }
    let incidents = results
        .iter()
        .filter(|r| r.0 == "incident" && r.1 == 0)
        .count();
    let notes = results.iter().filter(|r| r.0 == "note" && r.1 == 0).count();
    assert_eq!(incidents, 32, "every incident was raised");
    assert_eq!(notes, 32, "every note was written");
    // The run ended normally, loads, and verifies.
    // The run went on: the operator walked it to the end. (Under a heavily loaded machine the
    // watch itself may judge latency as failing and leave the run unsigned; that is the watch's
    // verdict, not a broken run, so the run's integrity is what is asserted.)
    let tail: String = {
        let start = operator_err.len().saturating_sub(4000);
        let start = (start..operator_err.len())
            .find(|i| operator_err.is_char_boundary(*i))
            .unwrap_or(0);
        operator_err[start..].to_string()
    };
    let (code, out, err) = run(&dir, &env, &["report", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    if operator_code == Some(0) {
        assert_eq!(report["status"], "signed", "{report}");
    } else {
        eprintln!("the operator did not finish (exit {operator_code:?}): {tail}");
    }
    assert!(
        report.get("anomalies").is_none(),
        "every event applied: {}",
        report["anomalies"]
    );
    let incidents = report["watch"]["incidents"].as_array().unwrap();
    let ids: Vec<u64> = incidents
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<u64>>(),
        "each incident numbered once"
    );
    let by_writers = incidents
        .iter()
        .filter(|i| i["summary"].as_str().unwrap_or("").starts_with("writer "))
        .count();
    assert_eq!(by_writers, 32, "every writer's incident is in the run once");
    let (code, out, err) = run(&dir, &env, &["verify"]);
    assert_eq!(code, 0, "verify: {out}{err}");
    drop_backend(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_during_the_watch_on_sqlite() {
    eight_writers_during_the_watch(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_during_the_watch_on_postgres() {
    match postgres_backend().await {
        Some(b) => eight_writers_during_the_watch(b).await,
        None => {
            eprintln!("SHIPCHECK_TEST_DATABASE_URL is not set: the PostgreSQL half did not run")
        }
    }
}
#[path = "demo_stale.rs"]
mod stale;
