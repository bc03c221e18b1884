//! Loading tests: good files, unknown keys, wrong types, syntax errors, several problems at
//! once, files on disk. Each bad case is checked for its message fragment and its
//! `file:line:column`; `tests_values` has the validation cases.

use crate::model::error::HasKind;
use std::path::Path;

use crate::model::checklist::{CheckSpec, Phase};
use crate::model::config::*;

pub(super) fn load(src: &str) -> LoadedConfig {
    load_str(Path::new("shipcheck.toml"), src).unwrap_or_else(|e| panic!("{}", e.render()))
}

pub(super) fn err(src: &str) -> ConfigError {
    match load_str(Path::new("shipcheck.toml"), src) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e,
    }
}

/// Asserts one problem (the first) is at `line:col`, names `key`, and says `fragment` (in the
/// message or the help); returns the rendered text.
#[track_caller]
pub(super) fn assert_problem(src: &str, loc: &str, key: &str, fragment: &str) -> String {
    let e = err(src);
    let text = e.render();
    assert!(
        text.contains(&format!("shipcheck.toml:{loc}")),
        "no shipcheck.toml:{loc} in:\n{text}"
    );
    assert!(text.contains(key), "no key {key} in:\n{text}");
    assert!(text.contains(fragment), "no {fragment:?} in:\n{text}");
    let p = e
        .problems()
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no problem for {key}: {:#?}", e.problems()));
    assert_eq!(format!("{}:{}", p.line, p.column), loc, "{p:#?}");
    assert_eq!(e.kind(), crate::model::error::ErrorKind::Config);
    assert!(!text.contains('\u{1b}'), "no colours in render():\n{text}");
    text
}

const ISSUE_EXAMPLE: &str = r#"[project]
name = "maishapoa"
timezone = "UTC"

[git]
staging = "staging"
production = "production"
remote = "origin"

[window]
days = ["tue", "wed", "thu"]
start = "10:00"
end = "14:00"

[[environments.production.apps]]
name = "internal-api"
fly_app = "maishapoa-production-internal-api"
health_url = "https://maishapoa-production-internal-api.fly.dev/api/health"
region = "fra"
required_secrets = ["DATABASE_URL", "SENTRY_DSN"]

[checklist]
disable = ["prepare.feature-flags"]

[[checklist.items]]
id = "verify.login-flow"
phase = "verify"
title = "Login flow answers"
kind = "check"
check = { type = "http", url = "https://example.invalid/login", expect_status = 200 }
"#;

pub(super) const APP: &str = "[[environments.production.apps]]\nname = \"internal-api\"\n";

// ───────────────────────────── good files ─────────────────────────────

#[test]
fn empty_file_is_valid_with_all_defaults() {
    let l = load("");
    assert_eq!(l.config, Config::default());
    assert_eq!(l.checklist.items.len(), 62);
    assert_eq!(l.config.window.start, "10:00");
    let l = load("# only a comment\n\n");
    assert_eq!(l.checklist.items.len(), 62);
}

#[test]
fn issue_example_loads_with_59_minus_1_plus_1_items() {
    let l = load(ISSUE_EXAMPLE);
    assert_eq!(l.checklist.items.len(), 62);
    assert!(l.checklist.get("prepare.feature-flags").is_none());
    let verify: Vec<&str> = l
        .checklist
        .phase(Phase::Verify)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(verify.last(), Some(&"verify.login-flow"));
    assert_eq!(
        l.config.environments["production"].apps[0].expect_status,
        200
    );
    assert_eq!(l.base_dir(), Path::new("."));
}

#[test]
fn override_retunes_prepare_tests_command() {
    let l = load(
        "[checklist.override.\"prepare.tests\"]\ncheck = { type = \"command\", argv = [\"cargo\", \"test\"], timeout = \"20m\" }\n",
    );
    let item = l.checklist.get("prepare.tests").expect("prepare.tests");
    match &item.check {
        Some(CheckSpec::Command(c)) => assert_eq!(c.argv, ["cargo", "test"]),
        other => panic!("{other:?}"),
    }
}

// ───────────────────────────── unknown keys ─────────────────────────────

#[test]
fn unknown_key_on_line_7_suggests_name() {
    let src = "# shipcheck\n\n[git]\nremote = \"origin\"\n\n[project]\nnmae = \"maishapoa\"\n";
    let text = assert_problem(src, "7:1", "project.nmae", "did you mean `name`?");
    assert!(text.contains("unknown key `nmae` in [project]"), "{text}");
}

#[test]
fn unknown_top_level_table_lists_the_tables() {
    let text = assert_problem(
        "[projcet]\nname = \"x\"\n",
        "1:2",
        "projcet",
        "did you mean `project`?",
    );
    assert!(
        text.contains("unknown key `projcet` in the top level"),
        "{text}"
    );
}

#[test]
fn unknown_key_inside_an_inline_check_points_at_the_key() {
    let src = "[[checklist.items]]\nid = \"verify.a\"\nphase = \"verify\"\ntitle = \"A\"\nkind = \"check\"\ncheck = { type = \"http\", urll = \"https://x.example\" }\n";
    assert_problem(
        src,
        "6:26",
        "checklist.items[0].check.urll",
        "did you mean `url`?",
    );
}

// ───────────────────────────── wrong types ─────────────────────────────

#[test]
fn wrong_type_says_what_was_expected() {
    let text = assert_problem(
        "[window]\nstart = 10\n",
        "2:9",
        "window.start",
        "wrong type: found integer `10`, expected a string",
    );
    assert!(text.contains("write it in double quotes"), "{text}");
    assert_problem(
        &format!("{APP}required_secrets = \"A\"\n"),
        "3:20",
        "environments.production.apps[0].required_secrets",
        "expected a list",
    );
    assert_problem(
        "[engine]\nconcurrency = \"8\"\n",
        "2:15",
        "engine.concurrency",
        "expected a whole number",
    );
}

#[test]
fn wrong_type_inside_an_inline_check_points_at_the_value() {
    let src = "[[checklist.items]]\nid = \"verify.a\"\nphase = \"verify\"\ntitle = \"A\"\nkind = \"check\"\ncheck = { type = \"http\", url = 5 }\n";
    assert_problem(
        src,
        "6:32",
        "checklist.items[0].check.url",
        "found integer `5`, expected a string",
    );
}

#[test]
fn status_that_is_not_a_u16_is_a_value_error() {
    assert_problem(
        &format!("{APP}expect_status = 70000\n"),
        "3:17",
        "environments.production.apps[0].expect_status",
        "expected a whole number from 0 to 65535",
    );
}

#[test]
fn missing_required_key_names_it() {
    assert_problem(
        "[[environments.production.apps]]\nfly_app = \"x\"\n",
        "1:1",
        "environments.production.apps[0]",
        "missing key `name`",
    );
}

#[test]
fn bad_duration_says_how_to_write_one() {
    assert_problem(
        "[engine]\ncheck_timeout = \"5 parsecs\"\n",
        "2:17",
        "engine.check_timeout",
        "write a duration like \"30s\"",
    );
}

// ───────────────────────────── syntax, several problems, files ─────────────────────────────

#[test]
fn toml_syntax_error_points_at_its_line() {
    let text = assert_problem(
        "[project]\nname = \"maishapoa\"\ntimezone = \"UTC\n",
        "3:16",
        "project.timezone",
        "invalid TOML",
    );
    assert!(text.contains("3 │ timezone = \"UTC"), "{text}");
    // An unclosed array is reported where the line ends.
    let e = err("[window]\ndays = [\"tue\"\n");
    let p = &e.problems()[0];
    assert_eq!((p.line, p.column), (2, 14), "{p:#?}");
    assert!(p.message.contains("unclosed array"), "{p:#?}");
}

#[test]
fn several_problems_are_reported_together_in_file_order() {
    let src = "[project]\nnmae = \"x\"\ntimezone = \"Nowhere/Atall\"\n\n[window]\nstart = 10\n\n[[environments.production.apps]]\nname = \"a\"\nhealth_url = \"x\"\n\n[[environments.production.apps]]\nname = \"b\"\nexpect_status = \"200\"\n";
    let e = err(src);
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "project.nmae",
            "window.start",
            "environments.production.apps[0].health_url",
            "environments.production.apps[1].expect_status",
        ],
        "{}",
        e.render()
    );
    assert!(e.to_string().contains("(1 of 4 problems)"), "{e}");
    let text = e.render();
    for loc in ["2:1", "6:9", "10:14", "14:17"] {
        assert!(
            text.contains(&format!("shipcheck.toml:{loc}")),
            "{loc}:\n{text}"
        );
    }

    // Once they deserialize, every validation problem shows at once.
    let src = "[project]\ntimezone = \"Nowhere/Atall\"\n\n[window]\nstart = \"9\"\ndays = []\n\n[[environments.production.apps]]\nname = \"a\"\nhealth_url = \"x\"\nexpect_status = 99\n";
    let e = err(src);
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "project.timezone",
            "window.start",
            "window.days",
            "environments.production.apps[0].health_url",
            "environments.production.apps[0].expect_status",
        ],
        "{}",
        e.render()
    );
}

#[test]
fn a_bad_value_in_a_list_does_not_echo_as_an_empty_list() {
    let e = err("[window]\ndays = [\"xyz\"]\n");
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["window.days[0]"], "{}", e.render());
    let src = "[[checklist.items]]\nid = \"verify.a\"\nphase = \"verify\"\ntitle = \"A\"\nkind = \"check\"\ncheck = { type = \"command\", argv = [5] }\n";
    let e = err(src);
    let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["checklist.items[0].check.argv[0]"], "{}", e.render());
}

#[test]
fn missing_file_says_how_to_get_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shipcheck.toml");
    let e = load_file(&path).expect_err("missing");
    assert!(matches!(e, ConfigError::NotFound { .. }));
    let text = e.to_string();
    assert!(text.contains("no shipcheck.toml at"), "{text}");
    assert!(
        text.contains("run `shipcheck init` to write one, or pass `--config PATH`"),
        "{text}"
    );
    assert_eq!(e.kind(), crate::model::error::ErrorKind::Config);

    let e = load_file(dir.path()).expect_err("a directory");
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    assert!(e.render().contains("cannot read"), "{}", e.render());
}

#[test]
fn a_config_file_over_the_cap_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shipcheck.toml");
    let mut text = String::from("[project]\nname = \"x\"\n");
    while text.len() as u64 <= MAX_CONFIG_BYTES {
        text.push_str("# a comment line that makes the file larger than any real config\n");
    }
    std::fs::write(&path, &text).unwrap();
    let e = load_file(&path).expect_err("too large");
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("larger than 1 MiB, the most shipcheck reads of a config file"),
        "{e}"
    );
    std::fs::write(&path, b"[project]\nname = \"\xff\"\n").unwrap();
    let e = load_file(&path).expect_err("not UTF-8");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

#[test]
fn load_file_and_find_config_walk_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deep = dir.path().join("a").join("b");
    std::fs::create_dir_all(&deep).expect("mkdir");
    assert_eq!(find_config(&deep), None);
    let path = dir.path().join(CONFIG_FILE);
    std::fs::write(&path, ISSUE_EXAMPLE).expect("write");
    assert_eq!(find_config(&deep), Some(path.clone()));
    let l = load_file(&path).expect("loads");
    assert_eq!(l.base_dir(), dir.path());
    assert_eq!(l.source, ISSUE_EXAMPLE);

    std::fs::write(&path, "[project]\nnmae = 1\n").expect("write");
    let text = load_file(&path).expect_err("invalid").render();
    assert!(text.contains(&format!("{}:2:1", path.display())), "{text}");
}

#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<String> = vec![
        "\u{0}\u{feff}[\u{1F680}]\n= =\n".into(),
        "[[checklist.items]]\n[[checklist.items]]\n".into(),
        "[environments]\nproduction = 5\n".into(),
        "environments.production.apps = [{ name = \"a\", health_url = \"\u{e9}\" }]\n".into(),
        "checklist = { items = [{ id = 1 }], disable = [[]] }\n".into(),
        "[window]\ndays = [\"tue\", 3, \"x\", \"tue\"]\nstart = \"ab:cd\"\nend = \"\u{1F680}\u{1F680}:00\"\n".into(),
    ];
    for base in [ISSUE_EXAMPLE.to_string(), template::init_template("UTC")] {
        let cuts: Vec<usize> = base.char_indices().map(|(i, _)| i).step_by(5).collect();
        inputs.extend(cuts.iter().map(|&i| base[..i].to_string()));
        let lines: Vec<&str> = base.lines().collect();
        for skip in 0..lines.len() {
            let mut l = lines.clone();
            l.remove(skip);
            inputs.push(l.join("\n"));
        }
    }
    for src in &inputs {
        if let Err(e) = load_str(Path::new("shipcheck.toml"), src) {
            let text = e.render();
            assert!(!e.problems().is_empty(), "{src}");
            assert!(text.contains("shipcheck.toml:"), "{src}\n{text}");
        }
    }
}

#[test]
fn docs_config_md_examples_load() {
    let doc = include_str!("../../../../../docs/config.md");
    let mut checked = 0;
    for block in doc.split("```toml\n").skip(1) {
        let Some((toml, _)) = block.split_once("```") else {
            continue;
        };
        let first = toml
            .lines()
            .find(|l| !l.starts_with('#') && !l.trim().is_empty());
        if first.is_some_and(|l| l.starts_with('[')) {
            let l = load_str(Path::new("docs/config.md"), toml)
                .unwrap_or_else(|e| panic!("{}\n{toml}", e.render()));
            assert!(!l.checklist.items.is_empty());
            checked += 1;
        } else {
            // A fragment such as `check = { ... }`: it must at least be valid TOML.
            assert!(toml.parse::<toml::Table>().is_ok(), "{toml}");
        }
    }
    assert!(checked >= 6, "only {checked} whole examples found");
}

#[test]
fn watch_probes_and_windows_are_checked() {
    assert_problem(
        "[monitor]\nprobes = 2\nmin_probes = 5\n",
        "3:14",
        "monitor.min_probes",
        "min_probes ≤ window × probes",
    );
    // The former name still loads.
    let l = load("[monitor]\nmin_samples = 4\n");
    assert_eq!(l.config.monitor.min_probes, 4);
    assert_eq!(l.config.monitor.probes, 20);
    assert_eq!(l.config.monitor.window, 1);
    assert_problem(
        "[sentry]\norg = \"acme\"\nprojects = [\"api\"]\nwatch_window = \"20s\"\n",
        "4:16",
        "sentry.watch_window",
        "Sentry counts in one-minute buckets",
    );
}

#[test]
fn the_database_ceiling_is_one_setting_unless_the_watch_is_told_otherwise() {
    let l = load("[database]\nmax_connections_ratio = 0.6\n");
    assert_eq!(l.config.monitor.db_connections_max, Some(60.0));
    let l = load("[database]\nmax_connections_ratio = 0.6\n\n[monitor]\ndb_connections_max = 90\n");
    assert_eq!(l.config.monitor.db_connections_max, Some(90.0));
    assert_eq!(load("").config.monitor.db_connections_max, None);
    assert_problem(
        "[database]\nmax_connections_ratio = 80\n",
        "2:25",
        "database.max_connections_ratio",
        "at most 1",
    );
}
