//! `logs -a APP [--no-tail] [--json]`: each entry printed as its own indented JSON object.
//! As in flyctl, `--no-tail` returns after the first non-empty batch and never returns
//! while there is none; without `--no-tail` it follows forever.

use serde_json::{Value, json};

use super::state::{AppState, FlyState, LogLine};
use super::{Parsed, Reply, to_json};

pub(crate) fn logs(state: &FlyState, app: &str, p: &Parsed) -> Reply {
    let a = &state.apps[app];
    let lines: Vec<&LogLine> = a
        .logs
        .iter()
        .filter(|l| p.flag("machine").is_none_or(|m| instance(a, l) == m))
        .filter(|l| p.flag("region").is_none_or(|r| region(a, l) == r))
        .collect();
    let mut out = String::new();
    for l in &lines {
        if p.has("json") {
            out.push_str(&to_json(&entry(a, l)));
        } else {
            out.push_str(&format!(
                "{} app[{}] {} [{}] {}\n",
                l.timestamp,
                instance(a, l),
                region(a, l),
                l.level,
                l.message
            ));
        }
    }
    Reply {
        stdout: out,
        hang: !p.has("no-tail") || lines.is_empty() || a.faults.logs_hang,
        ..Reply::default()
    }
}

fn instance(a: &AppState, l: &LogLine) -> String {
    if l.instance.is_empty() {
        a.machines.first().map(|m| m.id.clone()).unwrap_or_default()
    } else {
        l.instance.clone()
    }
}

fn region(a: &AppState, l: &LogLine) -> String {
    let id = instance(a, l);
    a.machines
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.region.clone())
        .unwrap_or_else(|| a.primary_region.clone())
}

/// One `LogEntry`: lowercase top level, PascalCase `meta` except `status_code`.
fn entry(a: &AppState, l: &LogLine) -> Value {
    let id = instance(a, l);
    let region = region(a, l);
    json!({
        "level": l.level,
        "instance": id,
        "message": l.message,
        "region": region,
        "timestamp": l.timestamp,
        "meta": {
            "Instance": id,
            "Region": region,
            "Event": { "Provider": "app" },
            "HTTP": { "Request": { "ID": "", "Method": "", "Version": "" }, "Response": { "status_code": l.status_code } },
            "Error": { "Code": 0, "Message": "" },
            "URL": { "Full": "" }
        }
    })
}
