//! The read commands: `status --json`, `releases --json`, `secrets list --json`,
//! `machines list --json`, `config show`.

use serde_json::{Map, Value, json};

use super::state::{AppState, FlyState, MachineState, SecretsShape};
use super::{Parsed, Reply, to_json};

pub(crate) fn answer(state: &FlyState, app: &str, p: &Parsed) -> Reply {
    let a = &state.apps[app];
    let json_wanted = p.has("json");
    match p.command {
        "status" if json_wanted => Reply::out(to_json(&status(app, a))),
        "status" => Reply::out(status_text(app, a)),
        "releases" if json_wanted => Reply::out(to_json(&releases(a))),
        "releases" => Reply::out(releases_text(a)),
        "secrets" if json_wanted => Reply::out(to_json(&secrets(a, state.secrets_shape))),
        "secrets" => Reply::out(
            a.secrets
                .iter()
                .map(|s| format!("{}\t{}\t{}\n", s.name, s.digest, s.status))
                .collect(),
        ),
        "machines" if json_wanted => {
            let list: Vec<Value> = a.machines.iter().map(|m| machine(app, a, m)).collect();
            Reply::out(to_json(&list))
        }
        "machines" => Reply::out(
            a.machines
                .iter()
                .map(|m| format!("{}\t{}\t{}\n", m.id, m.state, m.region))
                .collect(),
        ),
        "config" => Reply::out(to_json(&config(app, a))),
        other => Reply::error(format!("flyctl stand-in: {other} is not answered here")),
    }
}

/// `status --json`: a Go `map[string]any`, so keys are sorted; `Machines` sorted by id
/// descending.
pub(crate) fn status(app: &str, a: &AppState) -> Value {
    let mut machines: Vec<&MachineState> = a.machines.iter().collect();
    machines.sort_by(|x, y| y.id.cmp(&x.id));
    let machines: Vec<Value> = machines.iter().map(|m| machine(app, a, m)).collect();
    let mut m = Map::new();
    m.insert("AppURL".into(), json!(""));
    m.insert("Deployed".into(), json!(a.newest_complete().is_some()));
    m.insert("Hostname".into(), json!(format!("{app}.fly.dev")));
    m.insert("ID".into(), json!(app));
    // Go encodes a nil slice as null.
    m.insert(
        "Machines".into(),
        if machines.is_empty() {
            Value::Null
        } else {
            Value::Array(machines)
        },
    );
    m.insert("Name".into(), json!(app));
    m.insert(
        "Organization".into(),
        json!({ "ID": "o1AbC", "InternalNumericID": "123456", "Name": a.org, "Slug": a.org, "RawSlug": a.org, "PaidPlan": true }),
    );
    m.insert("PlatformVersion".into(), json!("machines"));
    m.insert(
        "Status".into(),
        json!(if a.machines.iter().any(|m| m.state == "started") {
            "deployed"
        } else {
            "suspended"
        }),
    );
    m.insert(
        "Version".into(),
        json!(a.newest().map(|r| r.version).unwrap_or(0)),
    );
    Value::Object(m)
}

fn status_text(app: &str, a: &AppState) -> String {
    let mut s = format!(
        "App\n  Name     = {app}\n  Owner    = {}\n  Hostname = {app}.fly.dev\n\nMachines\n",
        a.org
    );
    for m in &a.machines {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            m.process_group, m.id, m.release, m.region
        ));
    }
    s
}

/// One machine as the Machines API returns it (snake_case).
pub(crate) fn machine(app: &str, a: &AppState, m: &MachineState) -> Value {
    let image = a.image_of(m.release);
    let (repo, tag) = image
        .rsplit_once(':')
        .map(|(r, t)| (r.to_string(), t.to_string()))
        .unwrap_or((image.clone(), String::new()));
    let (registry, repository) = repo
        .split_once('/')
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .unwrap_or((String::new(), repo.clone()));
    let mut v = json!({
        "id": m.id,
        "name": format!("{app}-{}", m.id.chars().take(6).collect::<String>()),
        "state": m.state,
        "region": m.region,
        "image_ref": { "registry": registry, "repository": repository, "tag": tag, "digest": format!("sha256:{:064x}", m.release), "labels": {} },
        "instance_id": format!("01JV{:012}", m.release),
        "private_ip": "fdaa:0:1:a7b:1f:2:3:4",
        "created_at": "2026-08-01T12:00:00Z",
        "updated_at": "2026-08-20T14:05:02Z",
        "config": {
            "image": image,
            "env": a.env,
            "guest": { "cpu_kind": "shared", "cpus": 1, "memory_mb": 256 },
            "metadata": {
                "fly_platform_version": "v2",
                "fly_process_group": m.process_group,
                "fly_release_id": format!("rel_{}", m.release),
                "fly_release_version": m.release.to_string(),
                "fly_flyctl_version": "0.4.87"
            }
        },
        "events": [ { "type": "start", "status": "started", "source": "flyd", "timestamp": 1787234702000u64 } ],
        "host_status": "ok",
        "cordoned": false
    });
    // `checks` has omitempty in fly-go.
    if !m.checks.is_empty() {
        v["checks"] = json!(m
            .checks
            .iter()
            .map(|c| json!({ "name": c.name, "status": c.status, "output": c.output, "updated_at": "2026-08-20T14:05:30Z" }))
            .collect::<Vec<_>>());
    }
    v
}

/// `releases --json`: PascalCase (no json tags), newest first, at most 25.
pub(crate) fn releases(a: &AppState) -> Value {
    let mut list: Vec<_> = a.releases.iter().collect();
    list.sort_by_key(|r| std::cmp::Reverse(r.version));
    Value::Array(
        list.iter()
            .take(25)
            .map(|r| {
                json!({
                    "ID": format!("rel_{}", r.version),
                    "Version": r.version,
                    "Stable": r.status == "complete",
                    "InProgress": false,
                    "Reason": "",
                    "Description": if r.description.is_empty() { "Deploy image".to_string() } else { r.description.clone() },
                    "Status": r.status,
                    "DeploymentStrategy": "",
                    "Metadata": null,
                    "User": { "ID": "u1", "Name": "Dev", "Email": if r.user_email.is_empty() { "dev@example.com" } else { &r.user_email }, "EnablePaidHobby": false },
                    "EvaluationID": "",
                    "CreatedAt": r.created_at,
                    "ImageRef": r.image_ref
                })
            })
            .collect(),
    )
}

fn releases_text(a: &AppState) -> String {
    let mut s = "VERSION\tSTATUS\tDESCRIPTION\tUSER\tDATE\tDOCKER IMAGE\n".to_string();
    for r in a.releases.iter().rev().take(25) {
        s.push_str(&format!(
            "v{}\t{}\tDeploy image\tdev@example.com\t{}\t{}\n",
            r.version, r.status, r.created_at, r.image_ref
        ));
    }
    s
}

/// `secrets list --json` in the chosen historical shape.
pub(crate) fn secrets(a: &AppState, shape: SecretsShape) -> Value {
    Value::Array(
        a.secrets
            .iter()
            .map(|s| match shape {
                SecretsShape::Current => json!({ "name": s.name, "digest": s.digest, "status": s.status }),
                SecretsShape::NoStatus => json!({ "name": s.name, "digest": s.digest }),
                SecretsShape::MachinesApi => json!({ "name": s.name, "digest": s.digest, "updated_at": "2025-10-01T00:00:00Z" }),
                SecretsShape::Graphql => json!({ "Name": s.name, "Digest": s.digest, "CreatedAt": "2025-01-01T00:00:00Z" }),
            })
            .collect(),
    )
}

/// `config show`: the app's remote config, fly.toml as JSON.
pub(crate) fn config(app: &str, a: &AppState) -> Value {
    let mut v = json!({
        "app": app,
        "primary_region": a.primary_region,
        "env": a.env,
        "http_service": { "internal_port": 8080, "force_https": true, "auto_stop_machines": "off", "min_machines_running": 1 }
    });
    if let Some(path) = &a.health_path {
        v["http_service"]["checks"] = json!([ { "grace_period": "10s", "interval": "15s", "method": "GET", "path": path, "timeout": "2s" } ]);
    }
    v
}
