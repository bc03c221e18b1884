//! Every fuzz target runs on its seed corpus (`fuzz/seeds.txt`) in the normal test suite, so
//! the readers are exercised on the recorded fixtures without the nightly toolchain; and the
//! fuzz crate's binaries are exactly [`TARGETS`].

use std::path::{Path, PathBuf};

use globset::Glob;

use super::TARGETS;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "corpus") {
                files(&p, root, out);
            }
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The ```toml blocks of a Markdown text.
fn toml_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("```toml\n") {
        rest = &rest[i + "```toml\n".len()..];
        let end = rest.find("```").unwrap_or(rest.len());
        out.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// (target, seed name, seed bytes) for every line of `fuzz/seeds.txt`.
pub(crate) fn seeds() -> Vec<(String, String, Vec<u8>)> {
    let root = repo();
    let mut all = Vec::new();
    files(&root, &root, &mut all);
    all.sort();
    let manifest = std::fs::read_to_string(root.join("fuzz/seeds.txt")).expect("fuzz/seeds.txt");
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (target, glob) = (words[0], words[1]);
        let blocks = words.get(2) == Some(&"blocks");
        let m = Glob::new(glob).expect(glob).compile_matcher();
        let mut n = 0;
        for rel in all.iter().filter(|r| m.is_match(r.as_str())) {
            let bytes = std::fs::read(root.join(rel)).expect(rel);
            if blocks {
                for (i, b) in toml_blocks(&String::from_utf8_lossy(&bytes))
                    .into_iter()
                    .enumerate()
                {
                    out.push((target.to_string(), format!("{rel}#{i}"), b.into_bytes()));
                    n += 1;
                }
            } else {
                out.push((target.to_string(), rel.clone(), bytes));
                n += 1;
            }
        }
        assert!(n > 0, "fuzz/seeds.txt: `{line}` matches no seed");
    }
    out
}

#[test]
fn every_fuzz_target_runs_clean_on_its_seeds() {
    let seeds = seeds();
    for (name, run) in TARGETS {
        let mine: Vec<_> = seeds.iter().filter(|(t, _, _)| t == name).collect();
        assert!(!mine.is_empty(), "fuzz target {name} has no seed");
        for (_, seed, bytes) in mine {
            let r = std::panic::catch_unwind(|| run(bytes));
            assert!(r.is_ok(), "fuzz target {name} panicked on its seed {seed}");
        }
    }
    for (t, seed, _) in &seeds {
        assert!(
            TARGETS.iter().any(|(n, _)| n == t),
            "fuzz/seeds.txt names {t} ({seed}), which is not a target"
        );
    }
}

#[test]
fn the_fuzz_crate_builds_exactly_the_targets() {
    let root = repo();
    let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| b.lines().find_map(|l| l.trim().strip_prefix("name = ")))
        .map(|n| n.trim_matches('"'))
        .collect();
    let targets: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        bins, targets,
        "fuzz/Cargo.toml's [[bin]]s and fuzz::TARGETS"
    );
    for t in targets {
        let src = std::fs::read_to_string(root.join(format!("fuzz/fuzz_targets/{t}.rs")))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{t}.rs: {e}"));
        assert!(
            src.contains(&format!("shipcheck_core::fuzz::{t}(")),
            "fuzz/fuzz_targets/{t}.rs does not call shipcheck_core::fuzz::{t}"
        );
    }
}

/// The seeds are real answers, so the readers accept the ones shaped for them.
#[test]
fn the_readers_accept_their_recorded_answers() {
    let root = repo();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    assert!(
        crate::clients::prometheus::read_query(&read(
            "fixtures/api/prometheus/query-vector-docs-example.json"
        ))
        .is_ok()
    );
    assert!(
        crate::clients::sentry::read_error_count(
            &read("fixtures/api/sentry/events-timeseries-test-derived.json"),
            1
        )
        .is_ok()
    );
    assert!(
        crate::clients::slack::read_answer(&read("fixtures/api/slack/webhook-200-ok.txt")).is_ok()
    );
    assert!(
        crate::clients::github::read_page::<crate::clients::github::WorkflowRun>(
            &read("fixtures/api/github/workflow-runs-spec-example.json"),
            Some("workflow_runs")
        )
        .is_ok()
    );
    let d = crate::model::config::discover::discover_texts(
        &[(
            PathBuf::from("fly.toml"),
            read("fixtures/flytoml/fly-apps__live_beats/fly.toml"),
        )],
        &Default::default(),
    );
    assert_eq!(d.files.len(), 1);
    assert!(d.files[0].app.is_some(), "{:?}", d.files[0]);
    // The journal seeds are a real run's events (a `shipcheck demo --scenario bad-release`):
    // every line is an event this version reads, and the whole run folds to a signed run.
    let journal = read("fuzz/seeds/journal/bad-release-whole.jsonl");
    for (i, line) in journal.lines().enumerate() {
        let parsed = serde_json::from_str::<crate::model::event::Event>(line);
        assert!(parsed.is_ok(), "journal seed line {}: {parsed:?}", i + 1);
    }
    assert!(journal.contains("\"type\":\"rollback_verified\""));
    assert!(journal.contains("\"type\":\"run_signed\""));
}
