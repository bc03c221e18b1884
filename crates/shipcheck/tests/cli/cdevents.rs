//! CDEvents end to end: the bad release's life arrives at the rehearsal world's sink, each
//! event valid against the CDEvents v0.4.1 schemas vendored in fixtures/cdevents (draft
//! 2020-12, `$ref` to links/*.json), in the run's order; and the demo operator killed around
//! the deliveries (`SHIPCHECK_SANDBOX_CRASH_AFTER`), with a sink that loses its first answer
//! to every event, still delivers exactly the same set — nothing missing, nothing invented,
//! every duplicate identical.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use shipcheck_sandbox::world::cdevents::ReceivedEvent;
use shipcheck_sandbox::world::{Scenario, World, record};

use crate::demo::{facts, run, world_options};
use crate::resume::{crash_at, resume};
use crate::schema_check::{load_inlined, validate};

const APPS: [&str; 3] = ["agent-registration", "internal-api", "public-api"];

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cdevents/spec-v0.4.1")
}

/// The vendored schema of a CDEvents type (`dev.cdevents.service.deployed.0.2.0` →
/// `servicedeployed.json`), its links inlined.
fn schema_for(kind: &str) -> Value {
    let short = kind
        .strip_prefix("dev.cdevents.")
        .and_then(|k| k.strip_suffix(".0.2.0"))
        .unwrap_or_else(|| panic!("not a CDEvents 0.2.0 type of spec v0.4.1: {kind}"));
    load_inlined(&spec_dir().join(format!("{}.json", short.replace('.', ""))))
}

/// Every received event is a valid CDEvent in the CloudEvents HTTP binary mode: its body
/// against its type's schema, its `ce-*` attributes the CDEvent's.
fn assert_valid(received: &[ReceivedEvent]) {
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    for r in received {
        let schema = schemas
            .entry(r.kind.clone())
            .or_insert_with(|| schema_for(&r.kind));
        let errors = validate(schema, &r.body);
        assert!(
            errors.is_empty(),
            "{} is not valid: {errors:#?}\n{}",
            r.id,
            r.body
        );
        let ctx = &r.body["context"];
        assert_eq!(r.specversion, "1.0");
        assert_eq!(ctx["id"], r.id.as_str());
        assert_eq!(ctx["type"], r.kind.as_str());
        assert_eq!(ctx["source"], r.source.as_str());
        assert_eq!(ctx["timestamp"], r.time.as_str());
        assert_eq!(ctx["version"], "0.4.1");
        assert_eq!(r.body["subject"]["id"], r.subject.as_str());
        assert!(
            r.content_type.starts_with("application/cdevents+json"),
            "{}",
            r.content_type
        );
    }
}

/// The key of an id (`RUN/service.deployed/x` → `service.deployed/x`).
fn key(id: &str) -> &str {
    id.split_once('/').map_or(id, |(_, k)| k)
}

/// The keys with incident numbers as `N` (a bad release may raise one incident or two).
fn shape(keys: &BTreeSet<String>) -> BTreeSet<String> {
    keys.iter()
        .map(|k| match k.rsplit_once('/') {
            Some((p, n)) if p.starts_with("incident.") && n.parse::<u32>().is_ok() => {
                format!("{p}/N")
            }
            _ => k.clone(),
        })
        .collect()
}

/// What every bad release sends.
fn expected_shape() -> BTreeSet<String> {
    let mut s: BTreeSet<String> = [
        "pipelinerun.started",
        "incident.detected/N",
        "incident.resolved/N",
        "pipelinerun.finished",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for app in APPS {
        s.insert(format!("service.deployed/{app}"));
        s.insert(format!("service.rolledback/1/{app}"));
    }
    s
}

/// The accepted events' keys (202), each once.
fn accepted(received: &[ReceivedEvent]) -> BTreeSet<String> {
    received
        .iter()
        .filter(|r| r.status == 202)
        .map(|r| key(&r.id).to_string())
        .collect()
}

/// The order of the bad release's life among the accepted events (the first of each).
fn assert_in_order(received: &[ReceivedEvent]) {
    let mut order: Vec<String> = Vec::new();
    for r in received.iter().filter(|r| r.status == 202) {
        let k = key(&r.id).to_string();
        if !order.contains(&k) {
            order.push(k);
        }
    }
    let at = |p: &str| {
        order
            .iter()
            .position(|k| k.starts_with(p))
            .unwrap_or_else(|| panic!("no {p} in {order:#?}"))
    };
    let last = |p: &str| order.iter().rposition(|k| k.starts_with(p)).unwrap();
    assert_eq!(at("pipelinerun.started"), 0, "{order:#?}");
    assert!(
        last("service.deployed/") < at("incident.detected/"),
        "{order:#?}"
    );
    assert!(
        at("incident.detected/1") < at("service.rolledback/1/"),
        "{order:#?}"
    );
    assert!(
        last("service.rolledback/") < at("incident.resolved/1"),
        "{order:#?}"
    );
    assert_eq!(last("pipelinerun.finished"), order.len() - 1, "{order:#?}");
    // Every incident detected is resolved.
    let detected: BTreeSet<&str> = order
        .iter()
        .filter_map(|k| k.strip_prefix("incident.detected/"))
        .collect();
    let resolved: BTreeSet<&str> = order
        .iter()
        .filter_map(|k| k.strip_prefix("incident.resolved/"))
        .collect();
    assert_eq!(detected, resolved);
}

fn finished(received: &[ReceivedEvent]) -> Value {
    received
        .iter()
        .rfind(|r| r.kind == "dev.cdevents.pipelinerun.finished.0.2.0")
        .map(|r| r.body["subject"]["content"].clone())
        .expect("pipelinerun.finished")
}

/// The record lists each CDEvent delivered.
fn assert_recorded(dir: &Path, keys: &BTreeSet<String>) {
    let f = facts(dir);
    let recorded: BTreeSet<String> = f.report["markers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["service"] == "cdevents")
        .map(|m| {
            assert_eq!(
                m["outcome"].as_str().map(|o| o.starts_with("delivered")),
                Some(true),
                "{m}"
            );
            m["target"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(&recorded, keys, "the record's CDEvents are the sink's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_release_arrives_as_valid_cdevents_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(
        &tmp.path().join("w"),
        world_options(Scenario::BadRelease, 150.0),
    )
    .await
    .unwrap();
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        resume(&dir, &env);
        let received = record::read_cdevents(&dir);
        assert!(!received.is_empty());
        assert!(received.iter().all(|r| r.status == 202), "{received:#?}");
        assert_valid(&received);
        let keys = accepted(&received);
        assert_eq!(keys.len(), received.len(), "each event sent once");
        assert_eq!(shape(&keys), expected_shape(), "{keys:#?}");
        assert_in_order(&received);
        let fin = finished(&received);
        assert_eq!(fin["outcome"], "failure", "{fin}");
        assert!(
            fin["errors"]
                .as_str()
                .unwrap_or_default()
                .starts_with("rolled back after incident #1"),
            "{fin}"
        );
        assert_recorded(&dir, &keys);
        // `status` says where they went and that nothing is left.
        let (code, out, err) = run(&dir, &env, &["status"]);
        assert_eq!(code, 0, "{err}");
        let n = keys.len();
        assert!(
            out.contains(&format!(": {n} of {n} delivered, 0 to send, 0 given up")),
            "{out}"
        );
    })
    .await
    .unwrap();
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_around_deliveries_lose_none_and_invent_none() {
    let tmp = tempfile::tempdir().unwrap();
    let mut options = world_options(Scenario::BadRelease, 150.0);
    // The fault shows in the watch whatever the kills cost in wall time (as in markers.rs).
    options.bad_onset_s = Some(60 * 60);
    // Every event's first answer is lost: each arrives twice.
    options.flaky_sink = true;
    let world = World::build_with(&tmp.path().join("w"), options)
        .await
        .unwrap();
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        for point in [
            "cdevent_delivered@pipelinerun.started",
            "phase_completed@\"rollout\"",
            "cdevent_delivered@service.deployed/agent-registration",
            "incident_raised",
            "rollback_done",
            "cdevent_delivered@incident.resolved/",
            "run_signed",
        ] {
            crash_at(&dir, &env, point);
        }
        resume(&dir, &env);
        let received = record::read_cdevents(&dir);
        assert_valid(&received);
        // Each id always with the same content and attributes.
        let mut by_id: BTreeMap<&str, &ReceivedEvent> = BTreeMap::new();
        for r in &received {
            match by_id.get(r.id.as_str()) {
                None => {
                    by_id.insert(&r.id, r);
                }
                Some(first) => {
                    assert_eq!(
                        (&first.body, &first.time, &first.subject, &first.kind),
                        (&r.body, &r.time, &r.subject, &r.kind),
                        "{} sent twice with different content",
                        r.id
                    );
                }
            }
        }
        // Nothing missing: every event accepted, the same set as an uninterrupted run's.
        let keys = accepted(&received);
        let sent: BTreeSet<String> = by_id.keys().map(|id| key(id).to_string()).collect();
        assert_eq!(keys, sent, "every event sent was accepted in the end");
        assert_eq!(shape(&keys), expected_shape(), "{keys:#?}");
        assert_in_order(&received);
        assert_eq!(finished(&received)["outcome"], "failure");
        // The flaky sink lost every first answer: each id came at least twice.
        for id in by_id.keys() {
            let n = received.iter().filter(|r| r.id == *id).count();
            assert!(n >= 2, "{id} arrived {n} time(s)");
        }
        // Nothing invented: what the sink holds is what the journal derives and records.
        assert_recorded(&dir, &keys);
        assert_eq!(run(&dir, &env, &["verify"]).0, 0, "the journal verifies");
    })
    .await
    .unwrap();
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_and_status_show_what_would_be_sent_and_send_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 180.0))
        .await
        .unwrap();
    let (dir, env) = (world.dir.clone(), world.env().clone());
    let sink = format!(
        "{}{}",
        world.manifest.services["cdevents"],
        shipcheck_sandbox::world::cdevents::PATH
    );
    tokio::task::spawn_blocking(move || {
        let (code, _, err) = run(&dir, &env, &["start", "--by", "Demo Deployer"]);
        assert_eq!(code, 0, "{err}");
        let (_, out, err) = run(&dir, &env, &["next", "--dry-run"]);
        assert!(
            out.contains("[events] would run:") && out.contains(&format!("POST {sink} CDEvent ")),
            "{out}\n{err}"
        );
        assert!(out.contains("/pipelinerun.started"), "{out}");
        let (code, out, err) = run(&dir, &env, &["status"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains(&format!(
                "CDEvents to {sink}: 0 of 1 delivered, 1 to send, 0 given up"
            )),
            "{out}"
        );
        assert!(out.contains("would send pipelinerun.started"), "{out}");
        assert!(
            record::read_cdevents(&dir).is_empty(),
            "a dry run sent something"
        );
    })
    .await
    .unwrap();
    world.shutdown().await;
}

/// `events --send`: what the sink has not accepted is sent when a person asks — after a
/// failure without waiting, given up or not — each answer journaled; exit 3 while some are
/// still owed; nothing sent twice once accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sends_the_owed_events_when_the_sink_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 180.0))
        .await
        .unwrap();
    let (dir, env) = (world.dir.clone(), world.env().clone());
    tokio::task::spawn_blocking(move || {
        let (code, _, err) = run(&dir, &env, &["start", "--by", "Demo Deployer"]);
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = run(&dir, &env, &["events", "--send", "--dry-run"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("would POST 1 CDEvent(s)")
                && out.contains("dev.cdevents.pipelinerun.started.0.2.0"),
            "{out}"
        );
        assert!(record::read_cdevents(&dir).is_empty(), "a dry run sent");
        // The sink refuses this token (its answer: 401): still owed, exit 3, the error shown.
        let mut wrong = env.clone();
        wrong.insert(
            shipcheck_sandbox::world::ENV_EVENTS.into(),
            "cde_not_the_sinks".into(),
        );
        let (code, out, err) = run(&dir, &wrong, &["events", "--send", "--json"]);
        assert_eq!(code, 3, "{out}\n{err}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["kind"], "events_send", "{doc}");
        assert_eq!(doc["delivered"], serde_json::json!([]), "{doc}");
        let owed = &doc["still_owed"][0];
        assert!(
            owed["id"]
                .as_str()
                .unwrap()
                .ends_with("/pipelinerun.started"),
            "{doc}"
        );
        assert!(owed["error"].as_str().unwrap().contains("401"), "{doc}");
        // Asked again right away with the right token: no rest after the failure.
        let (code, out, err) = run(&dir, &env, &["events", "--send"]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("1 of 1 owed CDEvent(s) delivered"), "{out}");
        let accepted: Vec<ReceivedEvent> = record::read_cdevents(&dir)
            .into_iter()
            .filter(|r| r.status == 202)
            .collect();
        assert_eq!(accepted.len(), 1, "{accepted:#?}");
        assert_valid(&accepted);
        let (code, out, _) = run(&dir, &env, &["events", "--send"]);
        assert_eq!(code, 0);
        assert!(out.contains("nothing to send"), "{out}");
        assert_eq!(
            record::read_cdevents(&dir)
                .iter()
                .filter(|r| r.status == 202)
                .count(),
            1,
            "sent twice"
        );
    })
    .await
    .unwrap();
    world.shutdown().await;
}
