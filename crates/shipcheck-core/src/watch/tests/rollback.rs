//! A critical incident with `auto_rollback`: exactly one git-revert against a real repository,
//! the app healthy again because production no longer carries the release, the rollback
//! verified, and the record saying why. A person's incident goes through the same policy.

use std::path::PathBuf;
use std::sync::Arc;

use crate::incidents::respond::Asker;
use crate::incidents::{Decision, Severity, Source};
use crate::journal::watch::{VerdictKind, verdict};
use crate::model::incident::IncidentInput;
use crate::model::watch::Grade;
use crate::model::watch::{Outcome, Purpose};
use crate::report::criteria::{self, Met};
use crate::runs::stream::NoConfirm;
use crate::watch::WatchOptions;
use crate::watch::tests::app::{Reply, Req};
use crate::watch::tests::world::{Seen, World};

/// The app serves production: it fails while production carries the release
/// (`src/limit.ts`, which the test repository's staging adds).
fn serves_production(origin: PathBuf) -> crate::watch::tests::app::Behaviour {
    Arc::new(move |r: &Req| {
        let released = std::process::Command::new("git")
            .args(["cat-file", "-e", "production:src/limit.ts"])
            .current_dir(&origin)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if released && r.path == "/a" {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    })
}

/// Auto-rollback by git revert. The app's answers run git, whose speed on a busy machine is
/// not what these tests are about: latency only counts from 2 s over its baseline.
const AUTO: &str = "[incident]\nauto_rollback = true\nrollback_strategy = \"git-revert\"\n\
                    [monitor]\nlatency_min_increase = \"2s\"\n";

#[tokio::test]
async fn critical_with_auto_rollback_rolls_back_exactly_once_and_verifies_it() {
    let w = World::with_repo(AUTO, |repo| serves_production(repo.origin.clone())).await;
    let repo = w.repo.as_ref().unwrap();
    let run = w.live_run().await;
    let pushes = repo.pushes("production");
    let merge = repo.origin_ref("production");
    let seen = Seen::default();
    let report = crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions {
            by: "dee".into(),
            ..WatchOptions::default()
        },
        &NoConfirm,
        &seen,
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;

    // One incident, critical, rolled back without a prompt.
    assert_eq!(m.incidents.len(), 1, "{:#?}", m.incidents);
    let i = &m.incidents[0];
    assert_eq!(i.record.severity, Severity::Critical);
    assert_eq!(i.decisions[0].decision, Decision::Rollback);
    assert_eq!(i.decisions[0].by, crate::incidents::respond::AUTO);
    assert!(i.decisions[0].reason.contains("auto_rollback"));
    assert_eq!(i.decisions.last().unwrap().decision, Decision::Resolved);
    assert!(!i.open);

    // Exactly one rollback: one revert pushed, recorded with why.
    assert_eq!(run.rollbacks.len(), 1);
    let r = &run.rollbacks[0];
    assert_eq!(r.strategy, "git-revert");
    assert_eq!(r.succeeded, Some(true));
    assert!(
        r.reason
            .starts_with("incident #1 (critical): api: health endpoint failing"),
        "{}",
        r.reason
    );
    assert_eq!(repo.pushes("production"), pushes + 1);
    assert_eq!(r.evidence["reverted_merge"], merge);

    // The release's watch ended rolled back; the watch after it verified the rollback.
    assert_eq!(m.legs.len(), 2);
    assert_eq!(m.legs[0].outcome, Some(Outcome::RolledBack));
    assert_eq!(m.legs[1].purpose, Purpose::AfterRollback);
    assert_eq!(
        m.legs[1].outcome,
        Some(Outcome::Pass),
        "{:?}",
        m.legs[1].reason
    );
    assert_eq!(
        m.legs[1].ticks.len(),
        2,
        "30m after the rollback, 15m ticks"
    );
    let v = m.verification.as_ref().unwrap();
    assert!(v.ok, "{}", v.summary);
    let verdict = verdict(&run);
    assert_eq!(verdict.verdict, VerdictKind::RolledBack);
    assert!(verdict.reason.contains("incident #1"), "{}", verdict.reason);
    assert!(verdict.reason.contains("verified"), "{}", verdict.reason);
    // The sequential test raises at the second failing sample (30 s apart), not after
    // three samples in a row.
    assert!(
        report
            .time_to_detect_s
            .is_some_and(|s| (30..=60).contains(&s)),
        "{:?}",
        report.time_to_detect_s
    );
    assert!(report.time_to_recover_s.is_some());

    // Running the watch again changes nothing: no second rollback.
    let again = crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions::default(),
        &NoConfirm,
        &seen,
    )
    .await
    .unwrap();
    assert_eq!(again.ticks_recorded, 0);
    let run = w.run(&run.id).await;
    assert_eq!(run.rollbacks.len(), 1);
    assert_eq!(repo.pushes("production"), pushes + 1);

    // The record and the criteria say what happened.
    let md = crate::report::markdown::render(&run, "UTC");
    assert!(md.contains("**Verdict**: rolled_back"), "{md}");
    assert!(md.contains("Watch after the rollback"), "{md}");
    assert!(md.contains("Time to recover"), "{md}");
    let c = criteria::evaluate(&run);
    assert_eq!(c[0].met, Met::NotMet, "health failed: {}", c[0].because);
    assert_eq!(c[4].met, Met::NotMet, "{}", c[4].because);
    let json = crate::report::json::value(&run);
    assert_eq!(json["verdict"]["verdict"], "rolled_back");
    assert_eq!(json["watch"]["incidents"][0]["severity"], "critical");
}

#[tokio::test]
async fn a_persons_critical_incident_rolls_back_once_when_confirmed() {
    let w = World::with_repo("[incident]\nrollback_strategy = \"git-revert\"\n[monitor]\nlatency_min_increase = \"2s\"\n", |repo| {
        serves_production(repo.origin.clone())
    })
    .await;
    let repo = w.repo.as_ref().unwrap();
    let run = w.live_run().await;
    let pushes = repo.pushes("production");
    let prompt = w.prompt(true);
    let seen = Seen::default();
    let ask = Asker {
        confirm: &prompt,
        yes: false,
        observer: &seen,
    };
    let input = |summary: &str| IncidentInput {
        severity: Severity::Critical,
        summary: summary.into(),
        by: "Rita".into(),
        source: Source::Person,
        series: None,
        evidence: serde_json::Value::Null,
    };
    let first = crate::incidents::respond::raise_incident(
        &w.session,
        &run.id,
        input("checkout is down"),
        &ask,
    )
    .await
    .unwrap();
    assert!(first.rollback.is_some());
    assert!(
        first
            .message
            .starts_with("⚠️ Issue detected in production. Investigating...")
    );
    assert!(
        first
            .contacts
            .iter()
            .any(|(role, c)| role == "team_lead" && c.contains("Ana"))
    );
    assert!(first.contacts.iter().any(|(_, c)| c.contains("fly.io")));
    assert_eq!(first.incident.decisions[0].decision, Decision::Rollback);
    assert_eq!(first.incident.decisions[0].by, "Rita");
    // A second critical incident: the release is already rolled back; a person decides.
    let second = crate::incidents::respond::raise_incident(
        &w.session,
        &run.id,
        input("still seeing errors"),
        &ask,
    )
    .await
    .unwrap();
    assert!(second.rollback.is_none());
    assert_eq!(
        second.incident.decisions[0].decision,
        Decision::AwaitingPerson
    );
    assert_eq!(prompt.asked.lock().unwrap().len(), 1);
    let run = w.run(&run.id).await;
    assert_eq!(run.rollbacks.len(), 1);
    assert_eq!(repo.pushes("production"), pushes + 1);
    assert_eq!(run.rollbacks[0].by, "Rita");
    assert!(run.rollbacks[0].reason.contains("checkout is down"));

    // The watch that starts now is the one after the rollback; it verifies it.
    crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions::default(),
        &NoConfirm,
        &seen,
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    assert_eq!(run.monitor.legs.len(), 1);
    assert_eq!(run.monitor.legs[0].purpose, Purpose::AfterRollback);
    assert!(run.monitor.verification.as_ref().is_some_and(|v| v.ok));
    // Both incidents are resolved by the verified rollback.
    assert_eq!(run.monitor.open_incidents().count(), 0);
    // A person resolving a resolved incident is refused.
    assert!(
        crate::incidents::respond::resolve_incident(&w.session, &run.id, 1, "Rita", "done")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_rollback_that_cannot_be_planned_is_recorded_not_performed() {
    let w = World::with_repo("[incident]\nauto_rollback = true\n", |repo| {
        serves_production(repo.origin.clone())
    })
    .await;
    let run = w.live_run().await;
    let seen = Seen::default();
    let ask = Asker {
        confirm: &NoConfirm,
        yes: false,
        observer: &seen,
    };
    let r = crate::incidents::respond::raise_incident(
        &w.session,
        &run.id,
        IncidentInput {
            severity: Severity::Critical,
            summary: "down".into(),
            by: "Rita".into(),
            source: Source::Person,
            series: None,
            evidence: serde_json::Value::Null,
        },
        &ask,
    )
    .await
    .unwrap();
    assert!(r.rollback.is_none());
    let d = &r.incident.decisions[0];
    assert_eq!(d.decision, Decision::RollbackFailed);
    // The platform strategy needs the releases recorded in preflight; this run has none.
    assert!(d.reason.contains("cannot be planned"), "{}", d.reason);
    assert!(d.reason.contains("rollback targets"), "{}", d.reason);
    assert!(w.run(&run.id).await.rollbacks.is_empty());
}

#[tokio::test]
async fn a_rollback_that_takes_minutes_to_show_is_one_incident_and_a_passing_watch() {
    // The app keeps failing until minute 6 whatever it runs (caches, a queue to drain): the
    // watch after the rollback sees minutes of failures before it recovers. (The baseline,
    // at minute 0, is clean.)
    let w = World::with_repo(AUTO, |repo| {
        let prod = serves_production(repo.origin.clone());
        Arc::new(move |r: &Req| {
            if r.path == "/a" && (0.5..6.0).contains(&crate::watch::tests::world::minutes(r.now)) {
                Reply::status(500)
            } else {
                prod(r)
            }
        })
    })
    .await;
    let run = w.live_run().await;
    crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions {
            by: "dee".into(),
            ..WatchOptions::default()
        },
        &NoConfirm,
        &Seen::default(),
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    assert_eq!(run.rollbacks.len(), 1);
    // The failures after the rollback belong to the incident that rolled back.
    assert_eq!(m.incidents.len(), 1, "{:#?}", m.incidents);
    let v = m.verification.as_ref().unwrap();
    assert!(v.ok, "{}", v.summary);
    assert!(
        crate::watch::tests::world::minutes(v.at) > 6.0,
        "verified at {}",
        v.at
    );
    // Its first tick held the failing minutes; they are the rollback's transition.
    let leg = &m.legs[1];
    assert_eq!(leg.ticks[0].grade, Grade::Fail, "{:?}", leg.ticks[0]);
    assert_eq!(leg.outcome, Some(Outcome::Pass), "{:?}", leg.reason);
    assert_eq!(verdict(&run).verdict, VerdictKind::RolledBack);
}

/// The commit `branch` of `origin` is at.
fn head_of(origin: &std::path::Path, branch: &str) -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", branch])
        .current_dir(origin)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn a_rollback_is_verified_only_once_the_commit_it_went_back_to_answers() {
    // The apps say their commit (`x-release`). After the revert they are healthy at once,
    // but for five minutes still say the release's commit (its image has not been replaced
    // yet): healthy is not verified.
    let stale_until = Arc::new(std::sync::Mutex::new(None::<jiff::Timestamp>));
    let until = stale_until.clone();
    let w = World::with_repo_apps(AUTO, "version = { header = \"x-release\" }", move |repo| {
        let origin = repo.origin.clone();
        // The release's commit and the revert's, each read once.
        let commits = std::sync::Mutex::new((None::<String>, None::<String>));
        Arc::new(move |r: &Req| {
            let released = std::process::Command::new("git")
                .args(["cat-file", "-e", "production:src/limit.ts"])
                .current_dir(&origin)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let mut c = commits.lock().unwrap();
            if released && c.0.is_none() {
                c.0 = Some(head_of(&origin, "production"));
            }
            if !released && c.0.is_some() && c.1.is_none() {
                c.1 = Some(head_of(&origin, "production"));
            }
            match (&c.0, &c.1) {
                (Some(merge), None) if r.path == "/a" => Reply::status(500).version(merge),
                (Some(merge), None) => Reply::ok().version(merge),
                (Some(merge), Some(revert)) => {
                    let mut until = until.lock().unwrap();
                    let end = *until.get_or_insert(r.now + jiff::SignedDuration::from_mins(5));
                    Reply::ok().version(if r.now < end { merge } else { revert })
                }
                _ => Reply::ok(),
            }
        })
    })
    .await;
    let run = w.live_run().await;
    let seen = Seen::default();
    crate::watch::watcher::watch(
        &w.session,
        &run.id,
        &WatchOptions {
            by: "dee".into(),
            ..WatchOptions::default()
        },
        &NoConfirm,
        &seen,
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    assert_eq!(run.rollbacks.len(), 1);
    let revert = run.rollbacks[0].evidence["revert_commit"]
        .as_str()
        .unwrap()
        .to_string();
    let v = run.monitor.verification.as_ref().unwrap();
    assert!(v.ok, "{}", v.summary);
    assert!(
        v.summary
            .contains(&format!("the revert commit {} is live", &revert[..7])),
        "{}",
        v.summary
    );
    assert_eq!(v.evidence["version"]["expected"]["sha"], revert.as_str());
    let stale_end = stale_until.lock().unwrap().unwrap();
    assert!(v.at >= stale_end, "verified at {} before {stale_end}", v.at);
    let notes: Vec<String> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            crate::runs::stream::WatchEvent::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("not verified yet")
            && n.contains(&format!("not {} (the revert commit)", &revert[..7]))),
        "{notes:#?}"
    );
}
