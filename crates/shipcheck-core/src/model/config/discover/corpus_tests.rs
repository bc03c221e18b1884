//! Discovery on every repository of `fixtures/flytoml` (real public repositories' Fly
//! config files), compared with the answer a careful person gave in each `expected.toml`.
//! A field that differs fails the test unless it is one of [`DISAGREEMENTS`], where our
//! reading and the corpus differ on purpose (each one says why); a listed disagreement that
//! no longer happens fails too, so the list stays true.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::*;

pub(crate) const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/flytoml");

/// (folder/path, field, ours, expected, why).
const DISAGREEMENTS: &[(&str, &str, &str, &str, &str)] = &[(
    "PREreview__prereview.org/fly.translate.toml",
    "environment",
    "unknown",
    "other",
    "no environment word in its file name or app name (prereview-translate) and no sibling \
     for the same app; that CI deploys it beside production is not in the files, so init \
     asks instead of calling it other",
)];

#[derive(Debug, Deserialize)]
pub(crate) struct Expected {
    pub file: Vec<ExpectedFile>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExpectedFile {
    pub path: String,
    pub fly_app: String,
    pub environment: String,
    pub app_group: String,
    pub public_http: bool,
    pub internal_port: Option<u16>,
    pub health_path: Option<String>,
    pub health_url: Option<String>,
    pub region: Option<String>,
    pub auto_stop: Option<String>,
    pub min_machines_running: Option<i64>,
    #[serde(default)]
    pub process_groups: Vec<String>,
    #[serde(default)]
    pub release_command: bool,
}

/// The corpus folders, sorted.
pub(crate) fn folders() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

pub(crate) fn expected(folder: &Path) -> Expected {
    let text = std::fs::read_to_string(folder.join("expected.toml")).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
}

fn show<T: std::fmt::Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    s.trim_start_matches("Some(")
        .trim_end_matches(')')
        .trim_matches('"')
        .to_string()
}

#[test]
fn discovery_matches_every_corpus_answer() {
    let mut mismatches: Vec<String> = Vec::new();
    let mut seen_disagreements: BTreeSet<(String, String)> = BTreeSet::new();
    let (mut files, mut exact, mut groups_same) = (0, 0, 0);
    for folder in folders() {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let want = expected(&folder);
        let got = discover(&folder);
        let got_paths: BTreeSet<String> = got
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        let want_paths: BTreeSet<String> = want.file.iter().map(|f| f.path.clone()).collect();
        assert_eq!(got_paths, want_paths, "{name}: the files found");
        for w in &want.file {
            files += 1;
            let g = got
                .files
                .iter()
                .find(|f| f.path == Path::new(&w.path))
                .unwrap();
            assert_eq!(g.problem, None, "{name}/{}", w.path);
            let fields: [(&str, String, String); 12] = [
                (
                    "environment",
                    g.environment.as_str().into(),
                    w.environment.clone(),
                ),
                (
                    "fly_app",
                    g.app.clone().unwrap_or_default(),
                    w.fly_app.clone(),
                ),
                ("public_http", show(&g.public_http), show(&w.public_http)),
                (
                    "internal_port",
                    show(&g.internal_port),
                    show(&w.internal_port),
                ),
                ("health_path", show(&g.health_path), show(&w.health_path)),
                ("health_url", show(&g.health_url), show(&w.health_url)),
                ("region", show(&g.region), show(&w.region)),
                ("auto_stop", show(&g.auto_stop), show(&w.auto_stop)),
                (
                    "min_machines_running",
                    show(&g.min_machines_running),
                    show(&w.min_machines_running),
                ),
                (
                    "process_groups",
                    show(&g.process_groups),
                    show(&w.process_groups),
                ),
                (
                    "release_command",
                    show(&g.release_command),
                    show(&w.release_command),
                ),
                ("app_group", g.app_group.clone(), w.app_group.clone()),
            ];
            let mut all_same = true;
            for (field, ours, theirs) in fields {
                if ours == theirs {
                    continue;
                }
                all_same = false;
                if field == "app_group" {
                    // The group's name is a label init chooses; which files share a group
                    // is what matters, and the environments test that.
                    continue;
                }
                let key = format!("{name}/{}", w.path);
                let known = DISAGREEMENTS
                    .iter()
                    .find(|d| d.0 == key && d.1 == field && d.2 == ours && d.3 == theirs);
                match known {
                    Some(_) => {
                        seen_disagreements.insert((key, field.to_string()));
                    }
                    None => mismatches.push(format!(
                        "{key}: {field} is {ours:?}, expected {theirs:?} (why: {})",
                        match field {
                            "environment" => g.why.as_str(),
                            "health_path" | "health_url" => g.health_why.as_str(),
                            _ => "",
                        }
                    )),
                }
            }
            if g.app_group == w.app_group {
                groups_same += 1;
            }
            if all_same {
                exact += 1;
            }
        }
    }
    eprintln!(
        "corpus: {files} files; {exact} match expected.toml in every field (app_group included); \
         {groups_same} have the same app_group label; {} known disagreement(s)",
        seen_disagreements.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    for d in DISAGREEMENTS {
        assert!(
            seen_disagreements.contains(&(d.0.to_string(), d.1.to_string())),
            "listed disagreement no longer happens: {} {}",
            d.0,
            d.1
        );
    }
    assert_eq!(files, 60);
}

#[test]
fn discovery_never_calls_a_non_production_file_production() {
    for folder in folders() {
        let want = expected(&folder);
        for f in discover(&folder).files {
            let w = want
                .file
                .iter()
                .find(|w| Path::new(&w.path) == f.path)
                .unwrap();
            if f.environment == Env::Production {
                assert_eq!(
                    w.environment,
                    "production",
                    "{}: {}",
                    f.path.display(),
                    f.why
                );
            }
        }
    }
}
