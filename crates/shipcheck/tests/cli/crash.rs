//! Crash anywhere: the demo operator killed at seeded points of the run (inside the rollback
//! and the watch after it included) and resumed; the end must equal the uninterrupted run's,
//! with every side effect once. `bench/crash.sh` runs it with more points.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use shipcheck_sandbox::world::{Scenario, World};

use crate::demo::{
    assert_markers_once, assert_released, cmd, criteria, facts, git, manifest, position, run,
    states, status_states, world_options,
};

/// A tiny deterministic generator (xorshift64*).
pub(crate) struct Rng(pub(crate) u64);
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
    // Drawn among the run's steps, not its watch's rounds of raw samples (one event each,
    // they outnumber everything else: drawn among them too, most kills would fall in the
    // watch, close together, and a kill at a random moment would pass the next ones).
    let steps: Vec<usize> = (0..calm.len())
        .filter(|&p| calm[p] != "watch_samples")
        .collect();
    if steps.is_empty() {
        return vec![None; kills];
    }
    let mut plan: Vec<(usize, Kill)> = (0..kills)
        .map(|i| {
            let p = steps[(rng.next() % steps.len() as u64) as usize];
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

/// The success criteria with the two that file the first incident merged. An incident whose
/// failed share at the moment its test crossed is at least a half is filed under the health
/// checks, else under the error rates (`watch::evidence`); the bad release fails 30 % of
/// requests and its critical test crosses after a few dozen, so which side of a half the share
/// lands on is the sampling's chance, and a kill moves the sampling (a CI run saw the calm run
/// file it under error rates and the crashed one under health). Everything else must be equal.
fn comparable(mut c: BTreeMap<String, String>) -> BTreeMap<String, String> {
    let health = c.remove("All health checks pass");
    let errors = c.remove("No increase in error rates");
    let merged = if health.as_deref() == Some("not_met") || errors.as_deref() == Some("not_met") {
        "not_met".to_string()
    } else {
        format!("{health:?} · {errors:?}")
    };
    c.insert(
        "All health checks pass · No increase in error rates".into(),
        merged,
    );
    c
}

async fn rehearse(
    scenario: Scenario,
    speed: f64,
    kills: usize,
    calm: Vec<String>,
    seed: u64,
) -> (tempfile::TempDir, PathBuf, Vec<&'static str>) {
    let tmp = tempfile::tempdir().unwrap();
    // Each kill and restart costs the walk a second or two of wall time, minutes of world
    // time at this speed: the bad release fails an hour after it went live (not 12 minutes),
    // so the fault shows in the watch in the crashed run as in the calm one, whatever
    // `verify` lost to kills.
    let mut options = world_options(scenario, speed);
    options.bad_onset_s = Some(60 * 60);
    // Latency here is the machine's load (the bad release fails, it is not slower): judged,
    // it made the calm and the crashed run differ by how busy the machine was, not by the
    // kills. Neither run judges answers slower by less than 5 s.
    options.monitor_settings = vec!["latency_min_increase = \"5s\"".into()];
    let world = World::build_with(&tmp.path().join("w"), options)
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
    let (ca, cb) = (
        comparable(criteria(&a.report)),
        comparable(criteria(&b.report)),
    );
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
    // GitHub's deployment record and Sentry's deploys: the same markers, once each.
    assert_eq!(
        status_states(&a),
        status_states(&b),
        "deployment statuses: {:#?}",
        b.deployment_statuses
    );
    for f in [&a, &b] {
        assert_markers_once(f);
    }
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
