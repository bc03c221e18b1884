//! The malformed files of `fixtures/config/malformed/`: each is refused where its last lines
//! say (`# expect: LINE:COL | KEY | FRAGMENT`). The CLI tests check the same files against the
//! config's JSON Schema (`# schema:` says whether the schema refuses them too).

use std::path::{Path, PathBuf};

use crate::model::config::load_str;

/// Every fixture: (file name, text, location, key, fragment, schema verdict).
pub(super) fn cases() -> Vec<(String, String, String, String, String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/config/malformed");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let field = |prefix: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("{}: no `{prefix}` line", path.display()))
                .to_string()
        };
        let expect = field("# expect: ");
        let parts: Vec<&str> = expect.splitn(3, " | ").collect();
        assert_eq!(parts.len(), 3, "{}: {expect}", path.display());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.push((
            name,
            text.clone(),
            parts[0].to_string(),
            parts[1].to_string(),
            parts[2].to_string(),
            field("# schema: "),
        ));
    }
    out.sort();
    out
}

/// What is wrong with how the loader refuses `text`, if anything.
fn refusal(text: &str, loc: &str, key: &str, fragment: &str) -> Result<(), String> {
    let e = match load_str(Path::new("shipcheck.toml"), text) {
        Ok(_) => return Err("it loads".into()),
        Err(e) => e,
    };
    let rendered = e.render();
    let p = e
        .problems()
        .iter()
        .find(|p| p.key == key)
        .ok_or_else(|| format!("no problem for {key}:\n{rendered}"))?;
    if format!("{}:{}", p.line, p.column) != loc {
        return Err(format!("{key} at {}:{}, not {loc}", p.line, p.column));
    }
    if !rendered.contains(fragment) {
        return Err(format!("no {fragment:?} in:\n{rendered}"));
    }
    Ok(())
}

#[test]
fn every_malformed_fixture_is_refused_where_it_says() {
    let cases = cases();
    assert!(cases.len() >= 20, "{} fixtures", cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(name, text, loc, key, fragment, _)| {
            refusal(text, loc, key, fragment)
                .err()
                .map(|why| format!("fixtures/config/malformed/{name}: {why}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
