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

/// One Machine as `flyctl machines list --json` prints it: fly-go's `Machine` re-encoded
/// (`fixtures/api/fly/machines-list-flyctl-groups-derived.json`): `image_ref.labels` only
/// when there are labels, `autostop` a bool or `"suspend"`, `force_instance_key: null` in
/// every service, a standby's `config.standbys` and `FLY_STANDBY_FOR`, `checks` only when
/// there are checks, `cordoned` always.
pub(crate) fn machine(app: &str, a: &AppState, m: &MachineState) -> Value {
    let release = a.release(m.release);
    let image = a.image_of(m.release);
    let (repo, tag) = image
        .rsplit_once(':')
        .map(|(r, t)| (r.to_string(), t.to_string()))
        .unwrap_or((image.clone(), String::new()));
    let (registry, repository) = repo
        .split_once('/')
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .unwrap_or((String::new(), repo.clone()));
    let mut image_ref = json!({ "registry": registry, "repository": repository, "tag": tag, "digest": format!("sha256:{:064x}", m.release) });
    if let Some(r) = release.filter(|r| !r.labels.is_empty()) {
        image_ref["labels"] = json!(r.labels);
    }
    let at = release
        .and_then(|r| r.created_at.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(|| jiff::Timestamp::from_second(1_787_234_702).unwrap_or_default());
    let mut config = json!({
        "init": {},
        "guest": { "cpu_kind": "shared", "cpus": 1, "memory_mb": 256 },
        "metadata": {
            "fly_flyctl_version": "0.4.87",
            "fly_platform_version": "v2",
            "fly_process_group": m.process_group,
            "fly_release_id": format!("rel_{}", m.release),
            "fly_release_version": m.release.to_string()
        }
    });
    if m.service {
        config["services"] = json!([service(a, m)]);
    }
    config["image"] = json!(image);
    config["restart"] = json!({});
    let mut env: serde_json::Map<String, Value> =
        a.env.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if !m.standby_for.is_empty() {
        env.insert("FLY_STANDBY_FOR".into(), json!(m.standby_for.join(",")));
        config["standbys"] = json!(m.standby_for);
    }
    if !env.is_empty() {
        config["env"] = Value::Object(env);
    }
    let mut v = json!({
        "id": m.id,
        "name": format!("{app}-{}", m.id.chars().take(6).collect::<String>()),
        "state": m.state,
        "region": m.region,
        "image_ref": image_ref,
        "instance_id": format!("01JV{:012}", m.release),
        "private_ip": "fdaa:0:1:a7b:1f:2:3:4",
        "created_at": "2026-08-01T12:00:00Z",
        "updated_at": at.to_string(),
        "config": config,
        "events": events(m, at),
        "host_status": "ok",
        "cordoned": false
    });
    // `checks` has omitempty in fly-go.
    if !m.checks.is_empty() {
        v["checks"] = json!(m
            .checks
            .iter()
            .map(|c| json!({ "name": c.name, "status": c.status, "output": c.output, "updated_at": at.to_string() }))
            .collect::<Vec<_>>());
    }
    v
}

/// The app's HTTP service as a Machine's config holds it.
fn service(a: &AppState, m: &MachineState) -> Value {
    // fly-go's MachineAutostop: off → false, stop → true, suspend → "suspend".
    let autostop = match m.autostop.as_str() {
        "stop" => json!(true),
        "suspend" => json!("suspend"),
        "" | "off" => json!(false),
        other => json!(other),
    };
    let mut check = json!({ "port": 8080, "type": "http", "interval": "15s", "timeout": "2s", "method": "GET" });
    if let Some(p) = &a.health_path {
        check["path"] = json!(p);
    }
    json!({
        "protocol": "tcp",
        "internal_port": 8080,
        "autostop": autostop,
        "autostart": true,
        "min_machines_running": if m.autostop.is_empty() || m.autostop == "off" { 1 } else { 0 },
        "ports": [
            { "port": 80, "handlers": ["http"], "force_https": true },
            { "port": 443, "handlers": ["tls", "http"] }
        ],
        "checks": [check],
        "concurrency": { "type": "connections", "hard_limit": 25, "soft_limit": 20 },
        "force_instance_key": null
    })
}

/// The Machine's events, newest first (`timestamp` in ms), as its state suggests.
fn events(m: &MachineState, at: jiff::Timestamp) -> Value {
    let ms = at.as_millisecond();
    let launch =
        json!({ "type": "launch", "status": "created", "source": "user", "timestamp": ms - 4000 });
    let start =
        json!({ "type": "start", "status": "started", "source": "flyd", "timestamp": ms - 1000 });
    match m.state.as_str() {
        _ if !m.standby_for.is_empty() => json!([launch]),
        "stopped" => json!([
            { "type": "exit", "status": "stopped", "request": { "exit_event": { "exit_code": 0, "guest_signal": -1, "signal": -1, "exited_at": at.to_string(), "requested_stop": true } }, "source": "flyd", "timestamp": ms },
            start,
            launch
        ]),
        "started" => json!([start, launch]),
        _ => json!([launch]),
    }
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
