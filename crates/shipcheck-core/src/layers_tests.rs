//! The layers, enforced: each folder of this crate may use (`crate::…`, outside tests) only the
//! folders of lower layers, and no two sub-folders of one folder use each other. Run with
//! `cargo test -p shipcheck-core layers`; a violation names the file and the path it uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folders in layer order, lowest first; a folder may use only folders of a lower rank.
const LAYERS: &[(&str, u32)] = &[
    ("model", 0),
    ("journal", 1),
    ("store", 2),
    ("report", 2),
    ("clients", 3),
    ("logscan", 3),
    ("loadtest", 4),
    ("runs", 5),
    ("checks", 6),
    ("actions", 7),
    ("incidents", 8),
    ("watch", 9),
    ("engine", 10),
    ("fuzz", 11),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn is_test_file(rel: &str) -> bool {
    rel.contains("/tests/")
        || rel.ends_with("/tests.rs")
        || rel.ends_with("_tests.rs")
        || rel.starts_with("testkit/")
        || rel.contains("test_server")
}

/// The file's code outside `#[cfg(test)]` modules and items, without comments.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut skip_next = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            // A test module runs to the end of the file in this crate's style; a single
            // test-only item is one line (`use` or `let`).
            if t == "#[cfg(test)]" {
                skip_next = true;
            }
            continue;
        }
        if skip_next {
            skip_next = false;
            if t.starts_with("mod ") && t.ends_with('{') {
                break;
            }
            continue;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every `crate::a::b` path in `code`, as its segments.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segs: Vec<String> = path
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        out.push(segs);
    }
    out
}

/// (file relative to src, its top folder, its sub-folder if in one, the code).
fn sources() -> Vec<(String, String, Option<String>, String)> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    all.sort();
    all.into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(src())
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            let mut parts: Vec<&str> = rel.split('/').collect();
            if parts.len() < 2 || is_test_file(&rel) {
                return None;
            }
            let top = parts.remove(0).to_string();
            let sub = (parts.len() >= 2).then(|| parts[0].to_string());
            let text = std::fs::read_to_string(&p).ok()?;
            Some((rel, top, sub, code(&text)))
        })
        .collect()
}

#[test]
fn layers_each_folder_uses_only_lower_layers() {
    let rank: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut problems = Vec::new();
    for (rel, top, _, code) in sources() {
        let Some(&mine) = rank.get(top.as_str()) else {
            problems.push(format!("{rel}: folder {top} is not in LAYERS"));
            continue;
        };
        for path in crate_paths(&code) {
            let Some(first) = path.first() else { continue };
            if *first == top {
                continue;
            }
            match rank.get(first.as_str()) {
                Some(&theirs) if theirs < mine => {}
                Some(_) => problems.push(format!(
                    "{rel}: {top} uses crate::{} (a layer that is not below it)",
                    path.join("::")
                )),
                // Items of lib.rs itself (JSON_SCHEMA) are below everything.
                None => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn layers_no_import_circle_between_sub_folders() {
    // Edges between sub-folders of one top folder (a sub-folder is a directory inside it).
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut subs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let sources = sources();
    for (_, top, sub, _) in &sources {
        if let Some(s) = sub {
            subs.entry(top.clone()).or_default().insert(s.clone());
        }
    }
    for (rel, top, sub, code) in &sources {
        let from = sub.clone().unwrap_or_else(|| {
            rel.rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".rs")
                .to_string()
        });
        for path in crate_paths(code) {
            if path.first() != Some(top) || path.len() < 2 {
                continue;
            }
            let to = &path[1];
            let known = subs.get(top).is_some_and(|s| s.contains(to));
            if known && *to != from {
                edges
                    .entry((top.clone(), from.clone()))
                    .or_default()
                    .insert(to.clone());
            }
        }
    }
    let mut circles = Vec::new();
    for ((top, a), tos) in &edges {
        for b in tos {
            if edges
                .get(&(top.clone(), b.clone()))
                .is_some_and(|back| back.contains(a))
            {
                circles.push(format!("{top}/{a} <-> {top}/{b}"));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "circles between sub-folders:\n{}",
        circles.join("\n")
    );
}
