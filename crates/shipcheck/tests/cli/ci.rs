//! Inside GitHub Actions: the step summary, the annotations (and GitHub's cap of 10 per kind
//! per step), the step outputs, and no prompts.

use crate::support::TestEnv;

/// `shipcheck ARGS` as a GitHub Actions step would run it; (stdout, summary, outputs, code).
fn in_actions(env: &TestEnv, args: &[&str]) -> (String, String, String, i32) {
    let summary = env.dir.path().join("summary.md");
    let output = env.dir.path().join("output.txt");
    let _ = std::fs::remove_file(&summary);
    let _ = std::fs::remove_file(&output);
    let out = env
        .cmd(args)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .env("GITHUB_OUTPUT", output.to_str().unwrap())
        .output();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    (out.stdout, read(&summary), read(&output), out.code)
}

fn annotations<'a>(stdout: &'a str, level: &str) -> Vec<&'a str> {
    let prefix = format!("::{level} title=");
    stdout.lines().filter(|l| l.starts_with(&prefix)).collect()
}

#[test]
fn check_writes_the_summary_annotates_at_most_ten_failures_and_sets_outputs() {
    let env = TestEnv::bare();
    let mut config = String::from("[project]\nname = \"ci\"\ntimezone = \"UTC\"\n");
    for i in 0..13 {
        config.push_str(&format!(
            "\n[[checklist.items]]\nid = \"prepare.fails-{i:02}\"\nphase = \"prepare\"\ntitle = \"Failing step {i}\"\nkind = \"check\"\ncheck = {{ type = \"command\", argv = [\"sh\", \"-c\", \"echo broken {i}: 50% done; exit 1\"] }}\n"
        ));
    }
    config.push_str("\n[[checklist.items]]\nid = \"prepare.passes\"\nphase = \"prepare\"\ntitle = \"Passing step\"\nkind = \"check\"\ncheck = { type = \"command\", argv = [\"true\"] }\n");
    std::fs::write(env.config_path(), config).unwrap();
    let mut ids: Vec<String> = (0..13).map(|i| format!("prepare.fails-{i:02}")).collect();
    ids.push("prepare.passes".into());
    let mut args = vec!["check"];
    args.extend(ids.iter().map(String::as_str));
    let (stdout, summary, outputs, code) = in_actions(&env, &args);
    assert_eq!(code, 1, "{stdout}");
    // Ten errors, then one notice for the other three.
    let errors = annotations(&stdout, "error");
    assert_eq!(errors.len(), 10, "{stdout}");
    assert!(
        errors[0].starts_with("::error title=prepare.fails-"),
        "{stdout}"
    );
    assert!(errors.iter().all(|e| e.contains("50%25 done")), "{stdout}");
    let notices = annotations(&stdout, "notice");
    assert_eq!(notices.len(), 1, "{stdout}");
    assert!(
        notices[0].contains("3 more finding(s) not annotated"),
        "{stdout}"
    );
    // The table of every result.
    assert!(summary.starts_with("## shipcheck check"), "{summary}");
    assert_eq!(summary.matches("❌ fail").count(), 13, "{summary}");
    assert!(
        summary.contains("| `prepare.passes` Passing step | ✅ pass |"),
        "{summary}"
    );
    for line in ["passed=1", "failed=13", "errors=0", "verdict=fail"] {
        assert!(outputs.lines().any(|l| l == line), "{line}: {outputs}");
    }
    // --ci none turns it off under Actions too.
    let mut off = args.clone();
    off.extend(["--ci", "none"]);
    let (stdout, summary, outputs, _) = in_actions(&env, &off);
    assert!(annotations(&stdout, "error").is_empty() && summary.is_empty() && outputs.is_empty());
}

#[test]
fn a_run_in_actions_stops_at_a_manual_item_and_writes_its_record_and_outputs() {
    let env = TestEnv::world();
    let (stdout, summary, outputs, code) = in_actions(&env, &["deploy", "--by", "ci"]);
    // The walk never prompts: it stops where a person is needed and says the command.
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("shipcheck tick"), "{stdout}");
    assert!(
        summary.starts_with("# Production Deployment Record — maishapoa (production)"),
        "{summary}"
    );
    let get = |k: &str| {
        outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} missing: {outputs}"))
            .to_string()
    };
    assert_eq!(get("status"), "active");
    assert_eq!(get("phase"), "prepare");
    assert!(!get("run_id").is_empty());
    // status in Actions writes the same record again.
    let (_, again, outputs2, code) = in_actions(&env, &["status"]);
    assert_eq!(code, 0);
    assert!(
        again.starts_with("# Production Deployment Record"),
        "{again}"
    );
    assert!(
        outputs2.contains(&format!("run_id={}", get("run_id"))),
        "{outputs2}"
    );
}
