//! The committed schemas are the ones the code generates; the registry is sound.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::DOCUMENTS;

fn committed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas")
}

#[test]
fn committed_schemas_are_what_the_code_generates() {
    let dir = committed_dir();
    let mut stale = Vec::new();
    for d in DOCUMENTS {
        let path = dir.join(format!("{}.json", d.name));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != d.schema_text() {
            stale.push(d.name);
        }
    }
    let config_schema = shipcheck_core::model::config::schema::SCHEMA_FILE;
    let committed = std::fs::read_to_string(dir.join(config_schema)).unwrap_or_default();
    if committed != shipcheck_core::model::config::schema::json_schema_text() {
        stale.push(config_schema);
    }
    let mut names: BTreeSet<String> = DOCUMENTS
        .iter()
        .map(|d| format!("{}.json", d.name))
        .collect();
    names.insert(config_schema.to_string());
    let extra: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json") && !names.contains(n))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "docs/schemas/ is out of date (differ: {stale:?}; no longer documents: {extra:?}); \
         regenerate with `cargo run -- schema --all docs/schemas` and say in CHANGELOG.md \
         what changed (docs/json.md: additive changes keep v1, breaking ones bump it)"
    );
}

#[test]
fn every_document_has_a_unique_name_and_a_closed_envelope() {
    let mut seen = BTreeSet::new();
    for d in DOCUMENTS {
        assert!(seen.insert(d.name), "{} twice", d.name);
        let s = d.schema();
        assert_eq!(s["properties"]["kind"]["const"], d.name);
        assert_eq!(s["properties"]["schema"]["const"], super::VERSION);
        assert_eq!(s["additionalProperties"], false, "{}", d.name);
        let required = s["required"].as_array().cloned().unwrap_or_default();
        for r in &required {
            let r = r.as_str().unwrap_or_default();
            assert!(
                s["properties"].get(r).is_some(),
                "{}: {r} required, not described",
                d.name
            );
        }
    }
}

#[test]
fn an_omitted_field_is_left_out_and_not_required() {
    use super::docs::Verify;
    use super::schema::{Describe, Omit};
    let v = Verify {
        run: "r".into(),
        intact: false,
        events: Omit(None),
        head: Omit(None),
        first_bad_event: Omit(Some(3)),
        reason: Omit(Some("bad".into())),
        runs_row_matches: Omit(None),
        anchors: Vec::new(),
        signatures: Vec::new(),
        ok: false,
    };
    let value = serde_json::to_value(&v).unwrap_or_default();
    assert!(value.get("events").is_none() && value.get("head").is_none());
    assert_eq!(value["first_bad_event"], 3);
    let required = Verify::schema()["required"].clone();
    assert_eq!(
        required,
        serde_json::json!(["run", "intact", "anchors", "signatures", "ok"])
    );
}
