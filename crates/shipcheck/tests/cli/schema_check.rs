//! Validates `--json` documents against the schemas committed under docs/schemas/ (the
//! files users read, which a unit test keeps equal to what the code generates). A small
//! validator for the part of JSON Schema 2020-12 the generated schemas use: `type`,
//! `properties`, `required`, `additionalProperties`, `items`, `prefixItems`, `minItems`,
//! `maxItems`, `enum`, `const`, `anyOf`, `minimum`, and `format: date-time`; and for the
//! draft-7 schema of `shipcheck.toml` (docs/schemas/shipcheck.schema.json) also `$ref` into
//! the root's `definitions`, `allOf`, `oneOf` (exactly one), `maximum`, `pattern` and
//! `default` (an annotation); and for the CDEvents spec's schemas (fixtures/cdevents, draft
//! 2020-12) `minLength`, `format: uri` and `uri-reference`, `contentEncoding` (an
//! annotation) and `$ref` to another file, relative to the `$id` ([`load_inlined`] puts the
//! file in its place). A keyword it does not know fails the validation, so the schemas cannot
//! outgrow it unnoticed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The committed schema of a document.
pub fn schema_of(kind: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(format!("{kind}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no schema for document {kind:?} ({}): {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A schema file with every `$ref` to another file replaced by that file (as `allOf`, the
/// meaning of a `$ref` beside other keywords in draft 2020-12). A relative reference is
/// resolved against the enclosing `$id`, as the draft says; the file is the reference plus
/// `.json` beside the referring file, and its own `$id` must be the resolved URI.
pub fn load_inlined(path: &Path) -> Value {
    let v = read_json(path);
    let base = v["$id"].as_str().unwrap_or_default().to_string();
    inline(v, path.parent().unwrap_or(Path::new(".")), &base, 0)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `reference` resolved against `base` (RFC 3986 for a relative path: the base's last
/// segment replaced).
fn resolve(base: &str, reference: &str) -> String {
    match base.rfind('/') {
        Some(i) => format!("{}{reference}", &base[..=i]),
        None => reference.to_string(),
    }
}

fn inline(v: Value, dir: &Path, base: &str, depth: usize) -> Value {
    assert!(
        depth < 16,
        "$ref nested too deep (a cycle?) under {}",
        dir.display()
    );
    match v {
        Value::Object(mut m) => {
            let base = m
                .get("$id")
                .and_then(Value::as_str)
                .unwrap_or(base)
                .to_string();
            if let Some(Value::String(r)) = m.get("$ref").cloned()
                && !r.starts_with('#')
            {
                let uri = resolve(&base, &r);
                let file = dir.join(format!("{r}.json"));
                let target = read_json(&file);
                assert_eq!(
                    target["$id"].as_str(),
                    Some(uri.as_str()),
                    "{} is not the schema {uri} that $ref {r:?} names",
                    file.display()
                );
                let target = inline(
                    target,
                    file.parent().unwrap_or(Path::new(".")),
                    &uri,
                    depth + 1,
                );
                m.remove("$ref");
                match m.get_mut("allOf").and_then(Value::as_array_mut) {
                    Some(all) => all.push(target),
                    None => {
                        m.insert("allOf".into(), Value::Array(vec![target]));
                    }
                }
            }
            Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, inline(v, dir, &base, depth)))
                    .collect(),
            )
        }
        Value::Array(a) => {
            Value::Array(a.into_iter().map(|v| inline(v, dir, base, depth)).collect())
        }
        other => other,
    }
}

/// Panics (naming every violation) unless `doc` is a valid document of the kind it says.
pub fn assert_valid(doc: &Value) {
    let kind = doc["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("a document without a kind: {doc}"));
    assert_eq!(doc["schema"], "shipcheck/v1", "{kind}: schema");
    let errors = validate(&schema_of(kind), doc);
    assert!(
        errors.is_empty(),
        "the {kind} document does not match docs/schemas/{kind}.json:\n  {}",
        errors.join("\n  ")
    );
}

/// Every violation of `schema` by `value`, each with its JSON path.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "$", &mut errors);
    errors
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    let actual = type_name(v);
    actual == t || (t == "number" && actual == "integer")
}

/// `root` is the whole schema, for `$ref`.
fn check(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        errors.push(format!("{path}: schema is not an object: {schema}"));
        return;
    };
    for (keyword, arg) in s {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "default" | "definitions"
            | "contentEncoding" => {}
            "minLength" => {
                if let (Some(n), Some(t)) = (arg.as_u64(), value.as_str())
                    && (t.chars().count() as u64) < n
                {
                    errors.push(format!("{path}: {t:?} is shorter than {n}"));
                }
            }
            "$ref" => match arg
                .as_str()
                .and_then(|r| r.strip_prefix("#/definitions/"))
                .and_then(|name| root.get("definitions")?.get(name))
            {
                Some(target) => check(root, target, value, path, errors),
                None => errors.push(format!("{path}: cannot resolve $ref {arg}")),
            },
            "allOf" => {
                for alt in arg.as_array().into_iter().flatten() {
                    check(root, alt, value, path, errors);
                }
            }
            "oneOf" => {
                let alts: Vec<Vec<String>> = arg
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|alt| validate_at(root, alt, value, path))
                    .collect();
                let matching = alts.iter().filter(|e| e.is_empty()).count();
                if matching != 1 {
                    let why: Vec<String> = alts.into_iter().flatten().collect();
                    errors.push(format!(
                        "{path}: matches {matching} of oneOf, not exactly one ({})",
                        why.join("; ")
                    ));
                }
            }
            "maximum" => {
                if let (Some(v), Some(m)) = (value.as_f64(), arg.as_f64())
                    && v > m
                {
                    errors.push(format!("{path}: {v} > {m}"));
                }
            }
            "pattern" => {
                if let (Some(p), Some(t)) = (arg.as_str(), value.as_str()) {
                    match regex::Regex::new(p) {
                        Ok(re) if re.is_match(t) => {}
                        Ok(_) => errors.push(format!("{path}: {t:?} does not match {p}")),
                        Err(e) => errors.push(format!("{path}: bad pattern {p}: {e}")),
                    }
                }
            }
            "type" => {
                let ok = match arg {
                    Value::String(t) => is_type(value, t),
                    Value::Array(ts) => ts.iter().any(|t| is_type(value, t.as_str().unwrap_or(""))),
                    _ => false,
                };
                if !ok {
                    errors.push(format!("{path}: {} where {arg} belongs", type_name(value)));
                }
            }
            "const" => {
                if value != arg {
                    errors.push(format!("{path}: {value} is not {arg}"));
                }
            }
            "enum" => {
                if !arg.as_array().is_some_and(|vs| vs.contains(value)) {
                    errors.push(format!("{path}: {value} is not one of {arg}"));
                }
            }
            "minimum" => {
                if let (Some(v), Some(m)) = (value.as_f64(), arg.as_f64())
                    && v < m
                {
                    errors.push(format!("{path}: {v} < {m}"));
                }
            }
            "format" => {
                if let Some(t) = value.as_str() {
                    let bad_char = t.chars().any(|c| c.is_whitespace() || c.is_control());
                    // RFC 3986: an absolute URI starts with `scheme:`.
                    let scheme = t.split_once(':').is_some_and(|(sch, _)| {
                        sch.starts_with(|c: char| c.is_ascii_alphabetic())
                            && sch
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                    });
                    match arg.as_str() {
                        Some("date-time") if t.parse::<jiff::Timestamp>().is_err() => {
                            errors.push(format!("{path}: {t:?} is not an RFC 3339 time"))
                        }
                        Some("uri") if bad_char || !scheme => {
                            errors.push(format!("{path}: {t:?} is not an absolute URI"))
                        }
                        Some("uri-reference") if bad_char || t.is_empty() => {
                            errors.push(format!("{path}: {t:?} is not a URI reference"))
                        }
                        Some("date-time" | "uri" | "uri-reference") => {}
                        _ => {
                            errors.push(format!("{path}: the validator does not know format {arg}"))
                        }
                    }
                }
            }
            "anyOf" => {
                let ok = arg.as_array().is_some_and(|alts| {
                    alts.iter()
                        .any(|alt| validate_at(root, alt, value, path).is_empty())
                });
                if !ok {
                    let why: Vec<String> = arg
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|alt| validate_at(root, alt, value, path))
                        .collect();
                    errors.push(format!(
                        "{path}: matches none of anyOf ({})",
                        why.join("; ")
                    ));
                }
            }
            "properties" => {
                if let (Some(props), Some(obj)) = (arg.as_object(), value.as_object()) {
                    for (k, sub) in props {
                        if let Some(v) = obj.get(k) {
                            check(root, sub, v, &format!("{path}.{k}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let (Some(req), Some(obj)) = (arg.as_array(), value.as_object()) {
                    for k in req.iter().filter_map(Value::as_str) {
                        if !obj.contains_key(k) {
                            errors.push(format!("{path}: missing {k}"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = s.get("properties").and_then(Value::as_object);
                    for (k, v) in obj {
                        if known.is_some_and(|p| p.contains_key(k)) {
                            continue;
                        }
                        match arg {
                            Value::Bool(false) => {
                                errors.push(format!("{path}: {k} is not in the schema"))
                            }
                            Value::Bool(true) => {}
                            sub => check(root, sub, v, &format!("{path}.{k}"), errors),
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    let skip = s
                        .get("prefixItems")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    for (i, v) in items.iter().enumerate().skip(skip) {
                        check(root, arg, v, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            "prefixItems" => {
                if let (Some(subs), Some(items)) = (arg.as_array(), value.as_array()) {
                    for (i, (sub, v)) in subs.iter().zip(items).enumerate() {
                        check(root, sub, v, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(n), Some(items)) = (arg.as_u64(), value.as_array()) {
                    let len = items.len() as u64;
                    if (keyword == "minItems" && len < n) || (keyword == "maxItems" && len > n) {
                        errors.push(format!("{path}: {len} items ({keyword} {n})"));
                    }
                }
            }
            other => errors.push(format!("{path}: the validator does not know {other}")),
        }
    }
}

fn validate_at(root: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(root, schema, value, path, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_validator_finds_what_a_schema_forbids() {
        let s = schema_of("verify");
        let good = json!({"schema": "shipcheck/v1", "kind": "verify", "run": "r", "intact": true, "events": 3, "head": "ab", "anchors": [], "signatures": [], "ok": true});
        assert!(validate(&s, &good).is_empty(), "{:?}", validate(&s, &good));
        let bad = json!({"schema": "shipcheck/v1", "kind": "verify", "intact": "yes", "events": -1, "extra": 1});
        let errors = validate(&s, &bad);
        for needle in [
            "missing run",
            "$.intact: string",
            "$.events: -1 < 0",
            "extra is not in the schema",
        ] {
            assert!(
                errors.iter().any(|e| e.contains(needle)),
                "{needle}: {errors:?}"
            );
        }
        let run = schema_of("run");
        let wrong_state = json!({"items": [{"state": "perhaps"}]});
        assert!(
            validate(&run["properties"]["items"], &wrong_state["items"])
                .iter()
                .any(|e| e.contains("\"perhaps\" is not one of")),
        );
        // A journal event is checked by its type: fields missing, unknown or of the wrong type.
        let event = &schema_of("events")["properties"]["events"]["items"]["properties"]["event"];
        let ticked = json!({"type": "item_ticked", "item": "prepare.backup", "by": "tess"});
        assert!(
            validate(event, &ticked).is_empty(),
            "{:?}",
            validate(event, &ticked)
        );
        for bad in [
            json!({"type": "item_ticked", "item": "prepare.backup"}),
            json!({"type": "item_ticked", "item": "prepare.backup", "by": "tess", "extra": 1}),
            json!({"type": "check_finished", "item": "x", "status": "maybe", "summary": "",
                   "evidence": null, "duration_ms": 1}),
            json!({"type": "no_such_event"}),
        ] {
            assert!(!validate(event, &bad).is_empty(), "{bad}");
        }
        // The draft-7 keywords of the config's schema.
        let root = json!({
            "definitions": {"Hhmm": {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}$"}},
            "properties": {
                "start": {"$ref": "#/definitions/Hhmm"},
                "n": {"allOf": [{"maximum": 5}, {"minimum": 1}]},
                "day": {"oneOf": [{"const": "tue"}, {"type": "string", "pattern": "^t"}]},
                "gone": {"$ref": "#/definitions/Missing"},
            },
        });
        assert!(validate(&root, &json!({"start": "10:00", "n": 3, "day": "thu"})).is_empty());
        for (bad, needle) in [
            (json!({"start": "9"}), "does not match"),
            (json!({"n": 6}), "6 > 5"),
            (json!({"day": "tue"}), "matches 2 of oneOf"),
            (json!({"day": "mon"}), "matches 0 of oneOf"),
            (json!({"gone": 1}), "cannot resolve $ref"),
        ] {
            let errors = validate(&root, &bad);
            assert!(
                errors.iter().any(|e| e.contains(needle)),
                "{bad}: {errors:?}"
            );
        }
        let stamp = json!({"type": "string", "format": "date-time"});
        assert!(!validate(&stamp, &json!("yesterday")).is_empty());
        assert!(validate(&stamp, &json!("2026-11-25T11:00:00Z")).is_empty()); // What the CDEvents schemas use.
        let s = json!({"type": "string", "minLength": 1, "format": "uri-reference", "contentEncoding": "base64"});
        assert!(validate(&s, &json!("/shipcheck/app/production")).is_empty());
        assert!(!validate(&s, &json!("")).is_empty());
        assert!(!validate(&s, &json!("a b")).is_empty());
        let uri = json!({"format": "uri"});
        assert!(validate(&uri, &json!("https://cdevents.dev/x")).is_empty());
        assert!(!validate(&uri, &json!("/relative")).is_empty());
    }

    #[test]
    fn a_relative_ref_is_the_file_its_id_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("links")).unwrap();
        let w = |p: &str, v: Value| std::fs::write(dir.path().join(p), v.to_string()).unwrap();
        w(
            "event.json",
            json!({"$id": "https://x.dev/s/event", "properties": {
            "links": {"$ref": "links/list"}}}),
        );
        w(
            "links/list.json",
            json!({"$id": "https://x.dev/s/links/list", "type": "array",
            "items": {"type": "object", "$ref": "one"}}),
        );
        w(
            "links/one.json",
            json!({"$id": "https://x.dev/s/links/one", "required": ["linkType"],
            "properties": {"linkType": {"enum": ["END"]}}, "additionalProperties": false}),
        );
        let schema = load_inlined(&dir.path().join("event.json"));
        assert!(validate(&schema, &json!({"links": [{"linkType": "END"}]})).is_empty());
        let errors = validate(&schema, &json!({"links": [{"linkType": "START", "x": 1}]}));
        assert!(
            errors.iter().any(|e| e.contains("not one of")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("x is not in the schema")),
            "{errors:?}"
        );
        // A file whose $id is not what the reference resolves to is refused.
        w("links/one.json", json!({"$id": "https://x.dev/s/other"}));
        let r = std::panic::catch_unwind(|| load_inlined(&dir.path().join("event.json")));
        assert!(r.is_err());
    }

    #[test]
    fn every_committed_schema_uses_only_what_the_validator_knows() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let unknown: Vec<String> = keywords(&schema)
                .into_iter()
                .filter(|k| !KNOWN.contains(&k.as_str()))
                .collect();
            assert!(unknown.is_empty(), "{}: {unknown:?}", path.display());
            n += 1;
        }
        assert!(n >= 20, "{n} schemas in {}", dir.display());
    }

    const KNOWN: &[&str] = &[
        "$schema",
        "$id",
        "title",
        "description",
        "type",
        "const",
        "enum",
        "minimum",
        "format",
        "anyOf",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "$ref",
        "definitions",
        "allOf",
        "oneOf",
        "maximum",
        "pattern",
        "default",
    ];

    /// Every keyword used anywhere in a schema (property names excluded).
    fn keywords(schema: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(o) = schema.as_object() {
            for (k, v) in o {
                out.push(k.clone());
                match k.as_str() {
                    "properties" | "definitions" => {
                        for sub in v.as_object().into_iter().flat_map(|p| p.values()) {
                            out.extend(keywords(sub));
                        }
                    }
                    "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                        for sub in v.as_array().into_iter().flatten() {
                            out.extend(keywords(sub));
                        }
                    }
                    "items" | "additionalProperties" => out.extend(keywords(v)),
                    _ => {}
                }
            }
        }
        out
    }
}
