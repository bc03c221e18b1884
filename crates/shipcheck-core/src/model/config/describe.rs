//! Turns toml's parse and deserialize errors into problems a person can act on: the key path
//! of the offending key or value, a message in shipcheck's words, and what to write instead
//! ("did you mean `name`?", the list of phases, the expected type).

use std::ops::Range;

use toml::de::DeValue;

use crate::model::checklist::{Phase, suggest};
use crate::model::config::span::{self, Seg, Tree};

/// A located problem before it becomes a [`crate::model::config::Problem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Located {
    pub path: Vec<Seg>,
    /// The key path as written, when it is not one `path` can hold.
    pub written: Option<String>,
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
    pub label: String,
}

/// A TOML syntax error.
pub(crate) fn syntax(tree: &Tree<'_>, err: &toml::de::Error, len: usize) -> Located {
    let span = err.span().unwrap_or(0..0);
    let span = span.start.min(len)..span.end.min(len);
    let first = err.message().lines().next().unwrap_or("invalid TOML");
    Located {
        path: span::path_at(tree, &span),
        written: None,
        span,
        message: format!("invalid TOML: {first}"),
        help: Some(
            "fix the syntax here: strings in double quotes, one `key = value` per line, tables as [name] (see https://toml.io)".into(),
        ),
        label: "invalid TOML".into(),
    }
}

/// A deserialize error, located in `tree` (the document as written).
pub(crate) fn deserialize(tree: &Tree<'_>, err: &toml::de::Error) -> Located {
    let msg = err.message().trim().to_string();
    let span = err.span().unwrap_or(0..0);
    let mut path = span::path_at(tree, &span);
    let mut span = span;
    let node_is_table =
        span::node_at(tree, &path).is_some_and(|n| matches!(n.get_ref(), DeValue::Table(_)));

    // Errors inside internally tagged tables (`check = { type = ... }`) carry the span of the
    // whole table; narrow them to the key they are about when we can tell which one.
    if node_is_table {
        let key = ticked(&msg, "unknown field `").or_else(|| {
            msg.contains("StatusSpec")
                .then(|| "expect_status".to_string())
        });
        if let Some(key) = key {
            if let Some(k) = span::child_key_span(tree, &path, &key) {
                path.push(Seg::Key(key));
                span = if msg.starts_with("unknown field") {
                    k
                } else {
                    span::span_of(tree, &path, false)
                };
            }
        } else if let Some(rel) = offending_value(tree, &path, &msg) {
            path.extend(rel);
            span = span::span_of(tree, &path, false);
        }
    }

    let last = match path.last() {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    // The nearest key above the last segment (`check` for `check.type`, `days` for `days[1]`).
    let parent = path
        .split_last()
        .and_then(|(_, above)| {
            above.iter().rev().find_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
        })
        .unwrap_or_default();
    let (message, help, label) = if let Some(field) = ticked(&msg, "unknown field `") {
        let expected = expected_list(&msg);
        let table = if path.len() > 1 {
            format!("[{}]", span::format_path(&path[..path.len() - 1]))
        } else {
            "the top level".into()
        };
        let listed = list(&expected);
        let help = match near(&field, expected.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? (keys here: {listed})"),
            None if expected.is_empty() => "remove it".into(),
            None => format!("remove it, or write one of {listed}"),
        };
        (
            format!("unknown key `{field}` in {table}"),
            help,
            "unknown key",
        )
    } else if let Some(variant) = ticked(&msg, "unknown variant `") {
        let expected = expected_list(&msg);
        let what = match (last, parent) {
            ("phase", _) => "phase",
            ("kind", _) => "item kind",
            ("type", "check") => "check type",
            ("type", "action") => "action type",
            (_, "days") | ("days", _) => "day",
            _ => "value",
        };
        let expected = if what == "phase" {
            Phase::ALL.iter().map(|p| p.as_str().to_string()).collect()
        } else {
            expected
        };
        let listed = list(&expected);
        let help = match near(&variant, expected.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? write one of {listed}"),
            None => format!("write one of {listed}"),
        };
        (format!("unknown {what} `{variant}`"), help, "unknown value")
    } else if let Some(field) = ticked(&msg, "missing field `") {
        let table = if path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{}]", span::format_path(&path))
        };
        (
            format!("missing key `{field}` in {table}"),
            format!("add `{field} = ...` to this table{}", example_for(&field)),
            "missing key",
        )
    } else if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = split_expected(rest);
        let exp = plain_type(expected);
        (
            format!("wrong type: found {found}, expected {exp}"),
            write_as(&exp, last),
            "wrong type",
        )
    } else if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (found, expected) = split_expected(rest);
        let exp = plain_type(expected);
        (
            format!("invalid value: {found}, expected {exp}"),
            write_as(&exp, last),
            "invalid value",
        )
    } else if msg.contains("untagged enum StatusSpec") {
        (
            "expect_status must be a status code or a list of status codes".to_string(),
            "write expect_status = 200, or a list like expect_status = [200, 204]".to_string(),
            "not a status",
        )
    } else if msg.starts_with("invalid duration") || msg.starts_with("empty duration") {
        (
            msg.clone(),
            "write a duration like \"30s\", \"15m\", \"2h\" or \"1h 30m\"".to_string(),
            "not a duration",
        )
    } else {
        (
            msg.clone(),
            "see docs/config.md for the keys of this table and their types".to_string(),
            "here",
        )
    };
    Located {
        path,
        written: None,
        span,
        message,
        help: Some(help),
        label: label.into(),
    }
}

/// The text between `prefix` and the next backtick.
fn ticked(msg: &str, prefix: &str) -> Option<String> {
    let rest = &msg[msg.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('`')?].to_string())
}

/// The backticked names after "expected" (serde's "expected one of `a`, `b`").
fn expected_list(msg: &str) -> Vec<String> {
    let Some(at) = msg.find("expected") else {
        return Vec::new();
    };
    msg[at..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits "integer `10`, expected a string" at the last ", expected ".
fn split_expected(rest: &str) -> (&str, &str) {
    match rest.rfind(", expected ") {
        Some(at) => (&rest[..at], &rest[at + ", expected ".len()..]),
        None => (rest, "another type"),
    }
}

/// serde's type names in words.
fn plain_type(expected: &str) -> String {
    match expected {
        "u8" | "u16" => "a whole number from 0 to 65535".into(),
        "usize" | "u32" | "u64" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "a sequence" => "a list".into(),
        "a boolean" => "true or false".into(),
        "a map" => "a table".into(),
        e if e.starts_with("struct ") => "a table".into(),
        e if e.starts_with("internally tagged enum") => "a table with a `type`".into(),
        e if e.starts_with("enum ") => "one of the allowed names, in quotes".into(),
        e => e.into(),
    }
}

/// What to write for a value of that type.
fn write_as(expected: &str, key: &str) -> String {
    let key = if key.is_empty() { "key" } else { key };
    if expected == "a string" {
        format!("write it in double quotes, like {key} = \"...\"")
    } else if expected == "a list" {
        format!("write a list in brackets, like {key} = [\"...\"]")
    } else if expected.starts_with("a whole number") {
        format!("write {expected} without quotes, like {key} = 200")
    } else if expected == "true or false" {
        format!("write {key} = true or {key} = false, without quotes")
    } else if expected.starts_with("a table") {
        format!("write a table: [{key}] with `name = value` lines below it, or {key} = {{ ... }}")
    } else {
        format!("write {expected}")
    }
}

fn example_for(field: &str) -> &'static str {
    match field {
        "name" => ", like name = \"internal-api\"",
        "id" => ", like id = \"verify.login-flow\"",
        "phase" => ", like phase = \"verify\"",
        "title" => ", like title = \"Login flow answers\"",
        "kind" => ", like kind = \"check\" (check, action or manual)",
        "url" => ", like url = \"https://example.com/health\"",
        "type" => ", like type = \"http\"",
        "env" => ", like env = \"staging\"",
        "items" => ", like items = [\"prepare.tests\"]",
        _ => "",
    }
}

/// For "invalid type: integer `5`, ..." reported on a whole table, the path (below the table)
/// of the one value that is the one quoted; `None` when no value or several values match.
fn offending_value(tree: &Tree<'_>, path: &[Seg], msg: &str) -> Option<Vec<Seg>> {
    let rest = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))?;
    let (found, _) = split_expected(rest);
    let matches = |v: &DeValue<'_>| -> bool {
        if let Some(q) = found.strip_prefix("string \"") {
            return v
                .as_str()
                .is_some_and(|s| format!("{s:?}") == format!("\"{q}"));
        }
        let lit = found.split('`').nth(1);
        match (v, found.split(' ').next()) {
            (DeValue::Integer(i), Some("integer")) => lit == Some(i.as_str()),
            (DeValue::Float(x), Some("floating")) => lit == Some(x.as_str()),
            (DeValue::Boolean(b), Some("boolean")) => {
                lit == Some(if *b { "true" } else { "false" })
            }
            (DeValue::Array(_), Some("sequence")) => true,
            (DeValue::Table(_), Some("map")) => true,
            _ => false,
        }
    };
    let mut hits = Vec::new();
    let mut below = Vec::new();
    collect(span::node_at(tree, path)?, &matches, &mut below, &mut hits);
    match <[Vec<Seg>; 1]>::try_from(hits) {
        Ok([one]) => Some(one),
        Err(_) => None,
    }
}

fn collect(
    node: &Tree<'_>,
    matches: &dyn Fn(&DeValue<'_>) -> bool,
    below: &mut Vec<Seg>,
    hits: &mut Vec<Vec<Seg>>,
) {
    let children: Vec<(Seg, &Tree<'_>)> = match node.get_ref() {
        DeValue::Table(t) => t
            .iter()
            .map(|(k, v)| (Seg::Key(k.get_ref().to_string()), v))
            .collect(),
        DeValue::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (Seg::Index(i), v))
            .collect(),
        _ => Vec::new(),
    };
    for (seg, child) in children {
        below.push(seg);
        if matches(child.get_ref()) {
            hits.push(below.clone());
        }
        collect(child, matches, below, hits);
        below.pop();
    }
}

/// The candidate a mistyped `word` most likely meant: `checklist::suggest`, or failing that a
/// candidate one swap of neighbouring letters away (`nmae` → `name`).
pub(crate) fn near<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> Option<String> {
    suggest(word, candidates.clone()).or_else(|| {
        let w: Vec<char> = word.chars().collect();
        candidates
            .into_iter()
            .find(|c| {
                let c: Vec<char> = c.chars().collect();
                c.len() == w.len()
                    && (0..w.len().saturating_sub(1)).any(|i| {
                        let mut s = w.clone();
                        s.swap(i, i + 1);
                        s == c
                    })
            })
            .map(str::to_string)
    })
}
