//! The JSON Schema of shipcheck.toml (`shipcheck config schema`, committed as
//! docs/schemas/shipcheck.schema.json): it accepts every example config of README.md and
//! docs/, and every file `init` writes; it refuses the malformed files the config tests use
//! (fixtures/config/malformed/, each saying whether the schema or only `config check` refuses
//! it); `init` writes the schema beside the config and names it in a `#:schema` first line.

use std::path::{Path, PathBuf};

use serde_json::Value;
use shipcheck_core::model::config::load_str;

use crate::schema_check::validate;
use crate::support::TestEnv;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn committed_schema() -> Value {
    let text = std::fs::read_to_string(root().join("docs/schemas/shipcheck.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The TOML document as JSON (what an editor validates against the schema).
fn as_json(text: &str) -> Result<Value, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    serde_json::to_value(table).map_err(|e| e.to_string())
}

/// Every ```toml block of a Markdown file.
fn toml_blocks(md: &str) -> Vec<String> {
    md.split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(t, _)| t.to_string()))
        .collect()
}

#[test]
fn every_example_config_in_the_docs_is_valid() {
    let schema = committed_schema();
    let mut files: Vec<PathBuf> = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            files.push(e.path());
        }
    }
    let (mut whole, mut fragments) = (0, 0);
    let mut wrong = Vec::new();
    for file in &files {
        let md = std::fs::read_to_string(file).unwrap();
        for block in toml_blocks(&md) {
            // A block shipcheck loads is a config example; the others are fragments
            // (`check = { … }`) or other tools' files (fly.toml).
            if load_str(Path::new("shipcheck.toml"), &block).is_err() {
                fragments += 1;
                continue;
            }
            whole += 1;
            let errors = validate(&schema, &as_json(&block).unwrap());
            if !errors.is_empty() {
                wrong.push(format!(
                    "{}:\n{block}\n  {}",
                    file.display(),
                    errors.join("\n  ")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    assert!(
        whole >= 12,
        "only {whole} example configs found ({fragments} other blocks)"
    );
}

#[test]
fn the_malformed_configs_are_refused_or_left_to_config_check() {
    let schema = committed_schema();
    let dir = root().join("fixtures/config/malformed");
    let mut n = 0;
    let mut wrong = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let verdict = text
            .lines()
            .find_map(|l| l.strip_prefix("# schema: "))
            .unwrap_or_else(|| panic!("{}: no `# schema:` line", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Whatever the schema says, shipcheck itself refuses every one of them.
        assert!(
            load_str(Path::new("shipcheck.toml"), &text).is_err(),
            "{name} loads"
        );
        match (verdict.split(' ').next(), as_json(&text)) {
            (Some("not-toml"), Err(_)) => {}
            (Some("rejects"), Ok(doc)) if !validate(&schema, &doc).is_empty() => {}
            (Some("accepts"), Ok(doc)) => {
                let errors = validate(&schema, &doc);
                if !errors.is_empty() {
                    wrong.push(format!(
                        "{name}: the schema now refuses it ({}); say `# schema: rejects`",
                        errors.join("; ")
                    ));
                }
            }
            (v, doc) => wrong.push(format!("{name}: `# schema: {verdict}` ({v:?}) but {doc:?}")),
        }
    }
    assert!(n >= 20, "{n} malformed fixtures");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn config_schema_prints_the_committed_schema_without_a_config() {
    let env = TestEnv::bare();
    let out = env.shipcheck(&["config", "schema"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed, committed_schema());
    assert_eq!(
        printed["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
    // Descriptions come from the config types' docs, defaults from their serde defaults.
    let monitor = &printed["definitions"]["MonitorConfig"]["properties"]["interval"];
    assert_eq!(monitor["default"], "15m", "{monitor}");
    assert!(
        monitor["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );

    let out = env.shipcheck(&["config", "schema", "-o", "editor.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("editor.json"), "{}", out.stdout);
    let written = std::fs::read_to_string(env.dir.path().join("editor.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), printed);
}

#[test]
fn init_writes_the_schema_and_names_it_in_the_first_line() {
    let env = TestEnv::bare();
    let out = env.shipcheck(&["init", "--yes", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("#:schema ./shipcheck.schema.json")
    );
    let schema_path = env.dir.path().join("shipcheck.schema.json");
    assert_eq!(doc["schema"], "shipcheck/v1");
    assert!(
        doc["schema_file"]
            .as_str()
            .is_some_and(|p| p.ends_with("shipcheck.schema.json")),
        "{doc}"
    );
    let beside: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    assert_eq!(beside, committed_schema());
    // The file init wrote is valid under it, and shipcheck loads it.
    let errors = validate(&beside, &as_json(&text).unwrap());
    assert!(errors.is_empty(), "{}\n{text}", errors.join("\n"));
    assert!(load_str(&env.config_path(), &text).is_ok());
}

#[test]
fn the_rehearsal_worlds_config_is_valid() {
    // The config the tests' world writes: [clock], every integration, the apps' version
    // sources, items added and overridden.
    let env = TestEnv::world();
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    let errors = validate(&committed_schema(), &as_json(&text).unwrap());
    assert!(errors.is_empty(), "{}\n{text}", errors.join("\n"));
}
