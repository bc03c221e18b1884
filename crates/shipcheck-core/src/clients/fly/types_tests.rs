//! Parsers against the reference's shapes (`reference/external-apis.md` §1).

use super::*;
use crate::clients::fly::{parse_json, parse_log_stream};

const STATUS: &str = r#"{
    "AppURL": "",
    "Deployed": true,
    "Hostname": "my-app.fly.dev",
    "ID": "my-app",
    "Machines": [
        {
            "id": "148ed193b95389",
            "region": "fra",
            "state": "started",
            "config": { "image": "registry.fly.io/my-app:deployment-01J5", "metadata": { "fly_process_group": "app", "fly_release_version": "42" } },
            "checks": [ { "name": "servicecheck-00-http-8080", "status": "passing", "output": "Success", "updated_at": "2026-08-20T14:05:30Z" } ]
        }
    ],
    "Name": "my-app",
    "Organization": { "ID": "o1AbC", "InternalNumericID": "123456", "Name": "Acme", "Slug": "acme", "RawSlug": "acme", "PaidPlan": true },
    "PlatformVersion": "machines",
    "Status": "deployed",
    "Version": 42
}
"#;

#[test]
fn status_mixes_pascal_and_snake_case() {
    let s: AppStatus = parse_json("status", STATUS).unwrap();
    assert_eq!(s.name, "my-app");
    assert_eq!(s.version, 42);
    assert!(s.deployed);
    assert_eq!(s.machines.len(), 1);
    let m = &s.machines[0];
    assert_eq!(m.region, "fra");
    assert_eq!(m.release_version(), Some(42));
    assert_eq!(m.process_group(), "app");
    assert_eq!(m.image(), "registry.fly.io/my-app:deployment-01J5");
    assert!(m.failing_checks().is_empty());
}

#[test]
fn status_with_null_machines_and_missing_keys() {
    let s: AppStatus = parse_json("status", r#"{"Name":"a","Machines":null,"Version":0}"#).unwrap();
    assert!(s.machines.is_empty());
    assert_eq!(s.status, "");
}

#[test]
fn releases_pascal_case() {
    let text = r#"[
    {
        "ID": "rel_abc",
        "Version": 42,
        "Stable": true,
        "InProgress": false,
        "Reason": "",
        "Description": "Deploy image",
        "Status": "complete",
        "DeploymentStrategy": "",
        "Metadata": null,
        "User": { "ID": "u1", "Name": "Dev", "Email": "dev@example.com", "EnablePaidHobby": false },
        "EvaluationID": "",
        "CreatedAt": "2026-08-20T14:03:11Z",
        "ImageRef": "registry.fly.io/my-app:deployment-01J5ZQX3A7B2C"
    }
]
"#;
    let r: Vec<Release> = parse_json("releases", text).unwrap();
    assert_eq!(r[0].version, 42);
    assert!(r[0].is_complete());
    assert_eq!(
        r[0].image_ref,
        "registry.fly.io/my-app:deployment-01J5ZQX3A7B2C"
    );
    assert_eq!(r[0].user.as_ref().unwrap().email, "dev@example.com");
    assert!(r[0].created().is_some());
    let empty: Vec<Release> = parse_json("releases", "null").unwrap_or_default();
    assert!(empty.is_empty());
}

#[test]
fn secrets_all_three_shapes() {
    // ≤ v0.3.177 (GraphQL)
    let old: Vec<Secret> = parse_json(
        "secrets",
        r#"[ { "Name": "DATABASE_URL", "Digest": "3b1c", "CreatedAt": "2025-01-01T00:00:00Z" } ]"#,
    )
    .unwrap();
    assert_eq!(old[0].name, "DATABASE_URL");
    assert_eq!(old[0].status, None);
    assert!(old[0].created_at.is_some());
    // v0.3.178 – v0.4.9 (Machines API, omitempty)
    let mid: Vec<Secret> = parse_json(
        "secrets",
        r#"[ { "name": "A", "digest": "1", "updated_at": "2025-10-01T00:00:00Z" }, { "name": "B", "digest": "2" } ]"#,
    )
    .unwrap();
    assert_eq!(mid.len(), 2);
    assert!(mid[0].updated_at.is_some());
    // ≥ v0.4.10
    let new: Vec<Secret> = parse_json(
        "secrets",
        r#"[
    { "name": "DATABASE_URL", "digest": "3b1c9f0e2a7d4c55", "status": "Deployed" },
    { "name": "SENTRY_DSN", "digest": "a9e0c3d21f6b7788", "status": "Staged" },
    { "name": "X", "digest": "0", "status": "Partial" },
    { "name": "Y", "digest": "0", "status": "Weird" }
]"#,
    )
    .unwrap();
    assert_eq!(new[0].status, Some(SecretStatus::Deployed));
    assert!(new[1].status.as_ref().unwrap().is_pending());
    assert!(new[2].status.as_ref().unwrap().is_pending());
    assert_eq!(new[3].status, Some(SecretStatus::Other("Weird".into())));
}

#[test]
fn machines_list_snake_case() {
    let text = r#"[
    {
        "id": "148ed193b95389",
        "name": "purple-fog-1234",
        "state": "started",
        "region": "iad",
        "image_ref": { "registry": "registry.fly.io", "repository": "my-app", "tag": "deployment-01J5ZQX3A7B2C", "digest": "sha256:9f2c", "labels": {} },
        "instance_id": "01J5ZQX9K2M4N6P8",
        "private_ip": "fdaa:0:1:a7b:1f:2:3:4",
        "created_at": "2026-08-01T12:00:00Z",
        "updated_at": "2026-08-20T14:05:02Z",
        "config": {
            "guest": { "cpu_kind": "shared", "cpus": 1, "memory_mb": 256 },
            "metadata": { "fly_platform_version": "v2", "fly_process_group": "worker", "fly_release_id": "rel_abc", "fly_release_version": "42", "fly_flyctl_version": "0.4.87" }
        },
        "events": [ { "type": "start", "status": "started", "source": "flyd", "timestamp": 1787234702000 } ],
        "checks": [ { "name": "servicecheck-00-http-8080", "status": "critical", "output": "timeout", "updated_at": "2026-08-20T14:05:30Z" } ],
        "host_status": "ok",
        "cordoned": false
    }
]"#;
    let m: Vec<Machine> = parse_json("machines", text).unwrap();
    assert_eq!(m[0].region, "iad");
    assert_eq!(m[0].process_group(), "worker");
    assert_eq!(
        m[0].image(),
        "registry.fly.io/my-app:deployment-01J5ZQX3A7B2C"
    );
    assert_eq!(m[0].failing_checks().len(), 1);
    // An unreachable host: no config at all.
    let m: Vec<Machine> = parse_json(
        "machines",
        r#"[{"id":"x","state":"started","region":"fra","host_status":"unreachable","incomplete_config":{}}]"#,
    )
    .unwrap();
    assert_eq!(m[0].release_version(), None);
    assert_eq!(m[0].process_group(), "app");
}

const LOG: &str = r#"{
    "level": "info",
    "instance": "148ed193b95389",
    "message": "GET /healthz 200 1ms",
    "region": "iad",
    "timestamp": "2026-08-21T10:00:00.123456789Z",
    "meta": {
        "Instance": "148ed193b95389",
        "Region": "iad",
        "Event": { "Provider": "app" },
        "HTTP": { "Request": { "ID": "", "Method": "", "Version": "" }, "Response": { "status_code": 0 } },
        "Error": { "Code": 0, "Message": "" },
        "URL": { "Full": "" }
    }
}
{
    "level": "error",
    "instance": "148ed193b95389",
    "message": "GET /api 503",
    "region": "iad",
    "timestamp": "2026-08-21T10:00:01Z",
    "meta": { "HTTP": { "Response": { "status_code": 503 } } }
}
"#;

#[test]
fn log_stream_of_indented_objects() {
    let (entries, err) = parse_log_stream(LOG);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].status_code(), None);
    assert_eq!(entries[1].status_code(), Some(503));
    assert!(entries[0].at().is_some());
}

#[test]
fn log_stream_truncated_keeps_the_complete_entries() {
    let cut = &LOG[..LOG.len() - 40];
    let (entries, err) = parse_log_stream(cut);
    assert_eq!(entries.len(), 1);
    let err = err.unwrap();
    assert!(err.eof, "{err:?}");
}

#[test]
fn log_stream_garbage_is_an_error() {
    let (entries, err) = parse_log_stream("<html>502 Bad Gateway</html>");
    assert!(entries.is_empty());
    assert!(!err.unwrap().eof);
}

#[test]
fn parse_errors_quote_a_snippet() {
    let e = parse_json::<AppStatus>("status", "{\"Name\": \"a\", \"Machines\": [").unwrap_err();
    assert!(e.contains("status"), "{e}");
    assert!(e.contains("Machines"), "{e}");
    let e = parse_json::<Vec<Release>>("releases", "Error: not json").unwrap_err();
    assert!(e.contains("Error: not json"), "{e}");
}

#[test]
fn config_show_env_and_region() {
    let c = AppConfig::from_json(serde_json::json!({
        "app": "prod-api",
        "primary_region": "fra",
        "env": { "LOG_LEVEL": "info", "WORKERS": 4 },
        "http_service": { "internal_port": 8080 }
    }))
    .unwrap();
    assert_eq!(c.primary_region.as_deref(), Some("fra"));
    assert_eq!(c.env["WORKERS"], "4");
    assert!(AppConfig::from_json(serde_json::json!([1])).is_err());
}

// ───────────────────────── the fixtures (fixtures/api/fly/) ─────────────────────────

use crate::clients::fly::machine::{Autostop, MachineState, StateKind};

const GROUPS: &str =
    include_str!("../../../../../fixtures/api/fly/machines-list-flyctl-groups-derived.json");
const DOCS_LIST: &str =
    include_str!("../../../../../fixtures/api/fly/machines-list-docs-example-derived.json");
const STOPPED: &str =
    include_str!("../../../../../fixtures/api/fly/machine-get-stopped-docs-example.json");
const STATUS_FIXTURE: &str = include_str!("../../../../../fixtures/api/fly/status-derived.json");
const RELEASES: &str = include_str!("../../../../../fixtures/api/fly/releases-derived.json");
const PENDING: &str =
    include_str!("../../../../../fixtures/api/fly/releases-apps-v2-pending-2023-derived.json");

#[test]
fn machines_list_groups_fixture() {
    let m: Vec<Machine> = parse_json("machines", GROUPS).unwrap();
    let states: Vec<&str> = m.iter().map(|m| m.state.as_str()).collect();
    assert_eq!(
        states,
        ["started", "stopped", "started", "stopped", "suspended"]
    );
    let groups: Vec<String> = m.iter().map(Machine::process_group).collect();
    assert_eq!(groups, ["app", "app", "worker", "worker", "app"]);
    // autostop: `true` is stop, "suspend" is suspend, a worker without services has none.
    assert_eq!(m[0].autostop(), Autostop::Stop);
    assert_eq!(m[4].autostop(), Autostop::Suspend);
    assert_eq!(m[2].autostop(), Autostop::Off);
    assert!(!m[2].has_services());
    // The standby: `config.standbys` and FLY_STANDBY_FOR.
    assert_eq!(m[3].standby_for(), vec!["d5683d34a2258e"]);
    assert!(m[0].standby_for().is_empty());
    // Labels are omitted when empty, present on the suspended Machine.
    assert!(m[0].image_ref.labels.is_empty());
    assert_eq!(m[4].image_ref.labels["fly.pg-manager"], "repmgr");
    assert_eq!(m[0].image_tag(), "deployment-01GQR4GN7EA8G12VE1DBRQG4KQ");
    assert_eq!(m[0].release_version(), Some(7));
    // The exit event's timestamp is ms; `since` is the newest event.
    assert_eq!(
        m[1].since().unwrap(),
        "2022-05-20T11:58:18.717Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
    );
    assert!(m.iter().all(|m| !m.is_detached() && !m.is_special_group()));
}

#[test]
fn every_documented_state_is_known_and_others_are_kept() {
    for (s, kind) in [
        ("created", StateKind::Idle),
        ("started", StateKind::Running),
        ("stopped", StateKind::Idle),
        ("suspended", StateKind::Idle),
        ("failed", StateKind::Broken),
        ("creating", StateKind::Transitional),
        ("starting", StateKind::Transitional),
        ("stopping", StateKind::Transitional),
        ("restarting", StateKind::Transitional),
        ("suspending", StateKind::Transitional),
        ("destroying", StateKind::Gone),
        ("launch_failed", StateKind::Broken),
        ("updating", StateKind::Transitional),
        ("replacing", StateKind::Transitional),
        ("destroyed", StateKind::Gone),
        ("replaced", StateKind::Gone),
        ("migrated", StateKind::Gone),
    ] {
        let st = MachineState::parse(s);
        assert_eq!(st.as_str(), s);
        assert_eq!(st.kind(), kind, "{s}");
        assert!(!matches!(st, MachineState::Other(_)), "{s}");
    }
    let m: Vec<Machine> = parse_json(
        "machines",
        r#"[{"id":"a","state":"hibernating"},{"id":"b","state":null},{"id":"c","state":7},{"id":"d"}]"#,
    )
    .unwrap();
    assert_eq!(m[0].state, MachineState::Other("hibernating".into()));
    assert_eq!(m[0].state.kind(), StateKind::Unknown);
    assert_eq!(m[1].state.to_string(), "(no state)");
    assert_eq!(m[2].state.as_str(), "7");
    assert_eq!(m[3].state.kind(), StateKind::Unknown);
    // Written back as flyctl printed it.
    assert_eq!(serde_json::to_value(&m[0].state).unwrap(), "hibernating");
}

#[test]
fn autostop_in_every_spelling() {
    let read = |v: &str| -> Autostop {
        let m: Machine = parse_json(
            "machine",
            &format!(r#"{{"id":"a","config":{{"services":[{{"autostop":{v}}}]}}}}"#),
        )
        .unwrap();
        m.autostop()
    };
    assert_eq!(read("false"), Autostop::Off);
    assert_eq!(read("true"), Autostop::Stop);
    assert_eq!(read("\"stop\""), Autostop::Stop);
    assert_eq!(read("\"suspend\""), Autostop::Suspend);
    assert_eq!(read("\"off\""), Autostop::Off);
    assert_eq!(read("null"), Autostop::Off);
    assert_eq!(read("\"sleep\""), Autostop::Other("sleep".into()));
}

#[test]
fn older_process_group_key_and_flyctl_groups() {
    let m: Vec<Machine> = parse_json(
        "machines",
        r#"[{"id":"a","config":{"metadata":{"process_group":"web","fly_release_version":"3"}}},
            {"id":"b","config":{"metadata":{"fly_process_group":"fly_app_release_command","fly_platform_version":"v2"}}}]"#,
    )
    .unwrap();
    assert_eq!(m[0].process_group(), "web");
    assert!(!m[0].is_detached());
    assert!(m[1].is_special_group());
}

#[test]
fn other_machine_fixtures() {
    let m: Vec<Machine> = parse_json("machines", DOCS_LIST).unwrap();
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|m| m.state == MachineState::Started));
    assert_eq!(m[0].release_version(), Some(1));
    let one: Machine = parse_json("machine", STOPPED).unwrap();
    assert_eq!(one.state, MachineState::Stopped);
    assert!(one.since().is_some());
    let s: AppStatus = parse_json("status", STATUS_FIXTURE).unwrap();
    assert_eq!(
        (s.name.as_str(), s.version, s.machines.len()),
        ("testrun", 7, 2)
    );
    assert_eq!(s.machines[1].state, MachineState::Stopped);
}

#[test]
fn release_statuses_from_the_fixtures() {
    let r: Vec<Release> = parse_json("releases", RELEASES).unwrap();
    let seen: Vec<(u64, &str, bool, bool)> = r
        .iter()
        .map(|r| {
            (
                r.version,
                r.status.as_str(),
                r.is_complete(),
                r.is_in_flight(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (57, "running", false, true),
            (56, "interrupted", false, false),
            (55, "complete", true, false),
            (54, "failed", false, false),
            (53, "complete", true, false),
        ]
    );
    assert!(r.iter().all(Release::is_known_status));
    let p: Vec<Release> = parse_json("releases", PENDING).unwrap();
    assert!(p.iter().all(|r| r.is_in_flight() && r.image_ref.is_empty()));
    let odd: Vec<Release> =
        parse_json("releases", r#"[{"Version":3,"Status":"rolled_back"}]"#).unwrap();
    assert!(!odd[0].is_known_status() && !odd[0].is_complete() && !odd[0].is_in_flight());
}
