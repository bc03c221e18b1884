//! The mapping journal → CDEvents: which events, in which order, with which ids; the same
//! CDEvents whatever else the journal holds between them.

use serde_json::{Value, json};

use super::*;

const RUN: &str = "01a24bf8-664a-724c-b5af-f3db69dfd2ce";

fn ctx() -> Context {
    Context {
        source: "/shipcheck/maishapoa/production".into(),
        apps: vec![
            (
                "internal-api".into(),
                Some("mp-production-internal-api".into()),
            ),
            ("public-api".into(), Some("mp-production-public-api".into())),
        ],
        run_url: None,
    }
}

/// Stored events from (minute, event JSON) pairs, numbered in order.
fn journal(events: &[(u32, Value)]) -> Vec<StoredEvent> {
    events
        .iter()
        .enumerate()
        .map(|(i, (minute, e))| StoredEvent {
            run_id: RUN.into(),
            seq: i as i64 + 1,
            at: format!("2026-12-01T08:{minute:02}:00Z").parse().unwrap(),
            event: serde_json::from_value(e.clone()).unwrap_or_else(|err| panic!("{e}: {err}")),
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect()
}

fn started() -> Value {
    json!({"type": "run_started", "project": "maishapoa", "env": "production", "by": "Amina",
           "config_digest": "x", "items": []})
}
fn incident(n: u32, app: &str) -> Value {
    json!({"type": "incident_raised", "incident": {"id": n, "severity": "critical",
           "summary": format!("{app}: 5xx above the baseline"), "by": "shipcheck watch",
           "source": "watch", "series": {"metric": "http_errors", "app": app}, "evidence": null}})
}
fn resolved(n: u32) -> Value {
    json!({"type": "incident_decision", "incident": n, "decision": "resolved",
           "by": "shipcheck watch", "reason": "rolled back; the rollback is verified"})
}

/// A bad release: deployed, an incident, a platform rollback, resolved, signed.
fn bad_release() -> Vec<(u32, Value)> {
    vec![
        (0, started()),
        (
            1,
            json!({"type": "check_finished", "item": "preflight.rollback-ready", "status": "pass",
                   "summary": "ok", "duration_ms": 1, "facts": [{"fact": "rollback_targets", "targets": [
                     {"app": "internal-api", "fly_app": "mp-production-internal-api", "version": 1,
                      "image_ref": "registry.fly.io/mp-production-internal-api:deployment-2ad5cce4b8f9", "status": "complete"},
                     {"app": "public-api", "fly_app": "mp-production-public-api", "version": 4,
                      "image_ref": "registry.fly.io/mp-production-public-api@sha256:abc", "status": "complete"}]}]}),
        ),
        (
            2,
            json!({"type": "action_done", "item": "release.merge", "summary": "merged",
                   "facts": [{"fact": "merge_commit", "sha": "90197f11fafe81dcfc4b2ea839e1f7b51e42b8d3"}]}),
        ),
        (3, json!({"type": "phase_completed", "phase": "rollout"})),
        (10, incident(1, "internal-api")),
        (
            11,
            json!({"type": "rollback_started", "strategy": "platform", "by": "shipcheck", "reason": "incident #1", "intent": "…"}),
        ),
        (
            12,
            json!({"type": "rollback_done", "strategy": "platform", "summary": "rolled back"}),
        ),
        (14, resolved(1)),
        (14, resolved(1)),
        (30, json!({"type": "run_signed", "by": "Amina"})),
    ]
}

fn keys(all: &[CdEvent]) -> Vec<&str> {
    all.iter().map(|e| e.key.as_str()).collect()
}

#[test]
fn a_bad_release_gives_its_life_in_order() {
    let all = derive(RUN, &journal(&bad_release()), &ctx());
    assert_eq!(
        keys(&all),
        [
            "pipelinerun.started",
            "service.deployed/internal-api",
            "service.deployed/public-api",
            "incident.detected/1",
            "service.rolledback/1/internal-api",
            "service.rolledback/1/public-api",
            "incident.resolved/1",
            "pipelinerun.finished",
        ]
    );
    for e in &all {
        assert_eq!(e.id, format!("{RUN}/{}", e.key));
        assert_eq!(e.body["context"]["id"], e.id);
        assert_eq!(e.body["context"]["type"], e.kind);
        assert_eq!(e.body["context"]["version"], SPEC_VERSION);
        assert_eq!(e.body["context"]["chainId"], RUN);
        assert_eq!(e.body["context"]["timestamp"], e.time);
        assert_eq!(e.body["subject"]["id"], e.subject);
    }
    assert_eq!(all[0].kind, "dev.cdevents.pipelinerun.started.0.2.0");
    assert_eq!(all[0].time, "2026-12-01T08:00:00Z");
    // The release is the merge commit, per app.
    assert_eq!(
        all[1].body["subject"]["content"]["artifactId"],
        "pkg:generic/mp-production-internal-api@90197f11fafe81dcfc4b2ea839e1f7b51e42b8d3"
    );
    assert_eq!(
        all[1].body["subject"]["content"]["environment"]["id"],
        "production"
    );
    // The incident names its service; the rollback goes back to the recorded images.
    assert_eq!(
        all[3].body["subject"]["content"]["service"]["id"],
        "internal-api"
    );
    assert_eq!(all[3].subject, format!("{RUN}/incident/1"));
    assert_eq!(
        all[4].body["subject"]["content"]["artifactId"],
        "pkg:oci/mp-production-internal-api?repository_url=registry.fly.io/mp-production-internal-api&tag=deployment-2ad5cce4b8f9"
    );
    assert_eq!(
        all[5].body["subject"]["content"]["artifactId"],
        "pkg:oci/mp-production-public-api@sha256%3Aabc?repository_url=registry.fly.io/mp-production-public-api"
    );
    assert!(
        all[6].body["subject"]["content"]["description"]
            .as_str()
            .unwrap()
            .contains("resolved: rolled back")
    );
    let fin = &all[7].body["subject"]["content"];
    assert_eq!(fin["outcome"], "failure");
    assert!(
        fin["errors"]
            .as_str()
            .unwrap()
            .starts_with("rolled back after incident #1")
    );
    assert_eq!(fin["pipelineName"], "shipcheck maishapoa production");
}

#[test]
fn the_same_journal_gives_the_same_events_whatever_lies_between() {
    let plain = journal(&bad_release());
    let a = derive(RUN, &plain, &ctx());
    assert_eq!(a, derive(RUN, &plain, &ctx()), "pure");
    // A resumed run's journal: deliveries, failures and other events in between shift every
    // sequence number; ids and content stay.
    let mut noisy = Vec::new();
    for (m, e) in bad_release() {
        noisy.push((m, e));
        noisy.push((
            m,
            json!({"type": "cdevent_failed", "id": format!("{RUN}/x"), "error": "HTTP 500"}),
        ));
        noisy.push((
            m,
            json!({"type": "note_added", "kind": "general", "text": "…", "by": "a"}),
        ));
    }
    let b = derive(RUN, &journal(&noisy), &ctx());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.id, &x.body), (&y.id, &y.body));
    }
    let seqs = |v: &[CdEvent]| v.iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_ne!(seqs(&a), seqs(&b), "the positions moved");
    // A prefix of the journal gives a prefix of the events (nothing is invented later).
    let half = derive(RUN, &plain[..5], &ctx());
    assert_eq!(half[..], a[..half.len()]);
    assert_eq!(keys(&half).last(), Some(&"incident.detected/1"));
}

#[test]
fn a_good_release_finishes_in_success_and_an_aborted_one_in_failure() {
    let good = journal(&[
        (0, started()),
        (3, json!({"type": "phase_completed", "phase": "rollout"})),
        (3, json!({"type": "phase_completed", "phase": "rollout"})),
        (40, json!({"type": "run_signed", "by": "Amina"})),
    ]);
    let all = derive(RUN, &good, &ctx());
    assert_eq!(
        keys(&all),
        [
            "pipelinerun.started",
            "service.deployed/internal-api",
            "service.deployed/public-api",
            "pipelinerun.finished",
        ]
    );
    // Without a merge commit the release is named as unknown, never invented.
    assert_eq!(
        all[1].body["subject"]["content"]["artifactId"],
        "pkg:generic/mp-production-internal-api@unknown"
    );
    let fin = &all[3].body["subject"]["content"];
    assert_eq!(fin["outcome"], "success");
    assert!(fin.get("errors").is_none());

    let aborted = journal(&[
        (0, started()),
        (
            5,
            json!({"type": "run_aborted", "reason": "tests red", "by": "Baraka"}),
        ),
    ]);
    let all = derive(RUN, &aborted, &ctx());
    assert_eq!(keys(&all), ["pipelinerun.started", "pipelinerun.finished"]);
    assert_eq!(all[1].body["subject"]["content"]["outcome"], "failure");
    assert_eq!(
        all[1].body["subject"]["content"]["errors"],
        "aborted by Baraka: tests red"
    );
}

#[test]
fn a_git_revert_of_some_apps_names_the_revert_commit() {
    let j = journal(&[
        (0, started()),
        (3, json!({"type": "phase_completed", "phase": "rollout"})),
        (
            9,
            json!({"type": "rollback_started", "strategy": "git-revert", "by": "Amina",
                   "reason": "slow", "intent": "…", "apps": ["public-api"]}),
        ),
        (
            10,
            json!({"type": "rollback_done", "strategy": "git-revert", "summary": "reverted",
                    "evidence": {"revert_commit": "abc123"}}),
        ),
        (
            20,
            json!({"type": "rollback_started", "strategy": "platform", "by": "Amina",
                    "reason": "again", "intent": "…"}),
        ),
        (
            21,
            json!({"type": "rollback_done", "strategy": "platform", "summary": "rolled back"}),
        ),
    ]);
    let all = derive(RUN, &j, &ctx());
    assert_eq!(
        keys(&all)[3..],
        [
            "service.rolledback/1/public-api",
            "service.rolledback/2/internal-api",
            "service.rolledback/2/public-api",
        ]
    );
    assert_eq!(
        all[3].body["subject"]["content"]["artifactId"],
        "pkg:generic/mp-production-public-api@abc123"
    );
    // No recorded image: the app's package without a version, never a guess.
    assert_eq!(
        all[4].body["subject"]["content"]["artifactId"],
        "pkg:generic/mp-production-internal-api"
    );
}

#[test]
fn the_source_and_the_run_page_come_from_the_config() {
    let cfg = crate::testkit::checks::config(
        "[project]\nname = \"mp\"\nweb_url = \"https://deploys.example.com/\"\n\n[events]\nsink = \"https://events.example.com/in\"\n\n[[environments.production.apps]]\nname = \"web\"\nfly_app = \"mp-web\"\n",
    );
    let c = Context::of(&cfg, RUN, "production");
    assert_eq!(c.source, "/shipcheck/mp/production");
    assert_eq!(c.apps, [("web".to_string(), Some("mp-web".to_string()))]);
    assert_eq!(
        c.run_url.as_deref(),
        Some(format!("https://deploys.example.com/runs/{RUN}").as_str())
    );
    let all = derive(RUN, &journal(&[(0, started())]), &c);
    assert_eq!(
        all[0].body["subject"]["content"]["url"],
        format!("https://deploys.example.com/runs/{RUN}")
    );
}

#[test]
fn image_references_become_package_urls() {
    assert_eq!(
        image_purl("registry.fly.io/app:deployment-1"),
        "pkg:oci/app?repository_url=registry.fly.io/app&tag=deployment-1"
    );
    assert_eq!(
        image_purl("localhost:5000/team/App@sha256:ff"),
        "pkg:oci/app@sha256%3Aff?repository_url=localhost:5000/team/App"
    );
    assert_eq!(
        image_purl("busybox"),
        "pkg:oci/busybox?repository_url=busybox"
    );
}
