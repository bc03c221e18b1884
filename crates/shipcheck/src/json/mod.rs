//! The `--json` documents: typed bodies ([`docs`], and the run document of
//! `shipcheck_core::report::json`), the envelope every document carries (`"schema":
//! "shipcheck/v1"`, `"kind": NAME`), and their published JSON Schemas (`shipcheck schema
//! NAME`, committed under `docs/schemas/`). docs/json.md is the user's guide to them.

pub mod core;
pub mod docs;
pub mod events;
pub mod jq;
pub mod schema;

use serde::Serialize;
use serde_json::{Map, Value, json};

use schema::Describe;

/// The version every document carries in its `schema` field.
pub const VERSION: &str = shipcheck_core::JSON_SCHEMA;

/// A document: its name (its `kind`), what prints it, and its body's schema.
pub struct Doc {
    /// The name, as in `"kind"`.
    pub name: &'static str,
    /// The commands that print it.
    pub about: &'static str,
    body: fn() -> Value,
}

const fn doc(name: &'static str, about: &'static str, body: fn() -> Value) -> Doc {
    Doc { name, about, body }
}

/// Every document, by name.
pub const DOCUMENTS: &[Doc] = &[
    doc("abort", "shipcheck abort --json", docs::RunChange::schema),
    doc("changes", "shipcheck changes --json", docs::Changes::schema),
    doc("check", "shipcheck check --json", docs::Check::schema),
    doc(
        "config_accept",
        "shipcheck config accept --json",
        docs::ConfigAccept::schema,
    ),
    doc(
        "config_check",
        "shipcheck config check --json",
        docs::ConfigCheck::schema,
    ),
    doc(
        "error",
        "any command that fails, with --json",
        docs::ErrorDoc::schema,
    ),
    doc("events", "shipcheck events --json", docs::Events::schema),
    doc(
        "events_send",
        "shipcheck events --send --json",
        docs::EventsSend::schema,
    ),
    doc("history", "shipcheck history --json", docs::History::schema),
    doc("replay", "shipcheck replay --json", docs::replay_schema),
    doc(
        "incident",
        "shipcheck incident --json",
        docs::IncidentDoc::schema,
    ),
    doc("init", "shipcheck init --json", docs::Init::schema),
    doc(
        "team_add",
        "shipcheck team add --json",
        docs::TeamAdd::schema,
    ),
    doc(
        "team_list",
        "shipcheck team list --json",
        docs::TeamList::schema,
    ),
    doc(
        "init_workflow",
        "shipcheck init --workflow --json",
        docs::InitWorkflow::schema,
    ),
    doc(
        "loadtest",
        "shipcheck loadtest --json",
        docs::Loadtest::schema,
    ),
    doc(
        "logs_scan",
        "shipcheck logs scan --json",
        docs::LogsScan::schema,
    ),
    doc("note", "shipcheck note --json", docs::RunChange::schema),
    doc("plan", "shipcheck plan --json", docs::Plan::schema),
    doc(
        "rollback",
        "shipcheck rollback --json",
        docs::RollbackDoc::schema,
    ),
    doc(
        "run",
        "shipcheck status --json, shipcheck report --format json",
        shipcheck_core::report::json::RunReport::schema,
    ),
    doc("schemas", "shipcheck schema --json", docs::Schemas::schema),
    doc("sign", "shipcheck sign --json", docs::RunChange::schema),
    doc("start", "shipcheck start --json", docs::Start::schema),
    doc(
        "step",
        "shipcheck next / deploy / retry --json",
        docs::Step::schema,
    ),
    doc("stop", "shipcheck stop --json", docs::StopDoc::schema),
    doc("tick", "shipcheck tick --json", docs::RunChange::schema),
    doc("unlock", "shipcheck unlock --json", docs::Unlock::schema),
    doc("verify", "shipcheck verify --json", docs::Verify::schema),
    doc("waive", "shipcheck waive --json", docs::RunChange::schema),
    doc("watch", "shipcheck monitor --json", docs::Watch::schema),
];

/// The document of this name.
pub fn find(name: &str) -> Option<&'static Doc> {
    DOCUMENTS.iter().find(|d| d.name == name)
}

impl Doc {
    /// The document's JSON Schema: its body's, with the envelope's two fields first.
    pub fn schema(&self) -> Value {
        let body = (self.body)();
        let mut properties = Map::new();
        properties.insert("schema".into(), json!({"const": VERSION}));
        properties.insert("kind".into(), json!({"const": self.name}));
        let mut required = vec![json!("schema"), json!("kind")];
        if let Some(p) = body["properties"].as_object() {
            for (k, v) in p {
                if k != "schema" && k != "kind" {
                    properties.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(r) = body["required"].as_array() {
            required.extend(
                r.iter()
                    .filter(|k| !matches!(k.as_str(), Some("schema" | "kind")))
                    .cloned(),
            );
        }
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": format!("{VERSION}/{}", self.name),
            "title": format!("{VERSION} {}", self.name),
            "description": format!("Printed by {}.", self.about),
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The schema as the committed file holds it (pretty, with a final newline).
    pub fn schema_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The envelope: `schema` and `kind`, then the body's fields.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema: &'static str,
    kind: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// Prints a document of this kind on stdout (through `--jq`'s filter when one is set; the
/// `error` document never is).
pub fn print<T: Serialize + Describe>(kind: &str, body: &T) {
    debug_assert!(find(kind).is_some(), "unregistered document {kind}");
    let doc = Envelope {
        schema: VERSION,
        kind,
        body,
    };
    if kind == "error" {
        say!(
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
        );
    } else {
        print_value(&doc);
    }
}

/// Prints a document that carries its own envelope (the run document), through `--jq`'s
/// filter when one is set.
pub fn print_value<T: Serialize>(value: &T) {
    if let Some(expr) = jq::active() {
        let doc = serde_json::to_value(value).unwrap_or(Value::Null);
        jq::print_filtered(expr, &doc, crate::output::stdout_is_tty());
        return;
    }
    say!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())
    );
}

#[cfg(test)]
mod tests;
