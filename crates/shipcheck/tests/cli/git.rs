//! The git steps as a user sees them: the change set, the release merge a run performs on the
//! real origin, and the git-revert rollback. Assertions are on the repository, not on
//! shipcheck's words.

use crate::support::{Answers, TestEnv, git_out, walk_until_with};

#[test]
fn changes_lists_commits_files_and_conditional_items() {
    let env = TestEnv::world();
    let out = env.shipcheck(&["changes", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let commits = v["changes"]["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0]["subject"], "add x");
    let items = v["conditional_items"].as_array().unwrap();
    let migrations = items
        .iter()
        .find(|i| i["id"] == "prepare.migrations-tested")
        .unwrap();
    assert_eq!(migrations["required"], false);
    assert!(
        migrations["reason"]
            .as_str()
            .unwrap()
            .contains("migrations"),
        "{migrations}"
    );
    let text = env.shipcheck(&["changes"]);
    assert!(text.stdout.contains("add x"), "{}", text.stdout);
    assert!(text.stdout.contains("src/app.ts"), "{}", text.stdout);
}

#[test]
fn a_run_merges_with_no_ff_once_and_git_revert_undoes_it() {
    let env = TestEnv::world();
    env.heal_production();
    let origin = env.origin.clone();
    let before = git_out(&env, &origin, &["rev-parse", "production"]);
    let before_tree = git_out(&env, &origin, &["rev-parse", "production^{tree}"]);
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);

    // Without --yes and without a terminal the walk stops before the merge and says how.
    walk_until_with(
        &env,
        "approve",
        Answers {
            confirm_args: &["-m", "login rate limit"],
            ..Answers::default()
        },
    );

    let head = git_out(&env, &origin, &["rev-parse", "production"]);
    assert_ne!(head, before);
    let parents = git_out(
        &env,
        &origin,
        &["rev-list", "--parents", "-n", "1", "production"],
    );
    assert_eq!(
        parents.split_whitespace().count(),
        3,
        "a merge commit has two parents: {parents}"
    );
    let subject = git_out(&env, &origin, &["log", "-1", "--format=%s", "production"]);
    assert_eq!(subject, "Release: login rate limit");
    let merges = git_out(
        &env,
        &origin,
        &[
            "rev-list",
            "--merges",
            "--count",
            &format!("{before}..production"),
        ],
    );
    assert_eq!(merges, "1");

    // Dry run: the exact commands, nothing changes.
    let dry = env.shipcheck(&["rollback", "--strategy", "git-revert", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("git revert -m 1"), "{}", dry.stdout);
    assert_eq!(git_out(&env, &origin, &["rev-parse", "production"]), head);
    // No terminal, no --yes: refused with the plan.
    let refused = env.shipcheck(&["rollback", "--strategy", "git-revert"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);

    let done = env.shipcheck(&[
        "rollback",
        "--strategy",
        "git-revert",
        "--yes",
        "--reason",
        "error rate doubled",
    ]);
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let after_tree = git_out(&env, &origin, &["rev-parse", "production^{tree}"]);
    assert_eq!(
        after_tree, before_tree,
        "the revert restores the pre-release tree"
    );
    let reverts = git_out(
        &env,
        &origin,
        &["rev-list", "--count", &format!("{head}..production")],
    );
    assert_eq!(reverts, "1");

    // Again: nothing more is pushed.
    let again = env.shipcheck(&["rollback", "--strategy", "git-revert", "--yes"]);
    assert!(again.code == 0 || again.code == 1, "{}", again.stderr);
    assert_eq!(
        git_out(
            &env,
            &origin,
            &["rev-list", "--count", &format!("{head}..production")]
        ),
        "1"
    );

    // The record says so.
    let report = env.shipcheck(&["report"]);
    assert!(
        report.stdout.contains("## If Something Goes Wrong"),
        "{}",
        report.stdout
    );
    assert!(
        report.stdout.contains("error rate doubled"),
        "{}",
        report.stdout
    );
    assert!(
        report
            .stdout
            .contains("❌ No rollback needed within 2 hours"),
        "{}",
        report.stdout
    );
    assert_eq!(env.shipcheck(&["verify"]).code, 0);
}

/// On a terminal or not, `next` says what each action did as it happens: the merge's intent,
/// then its result with the merge commit; the person does not have to look it up.
#[test]
fn next_shows_each_actions_result_as_it_happens() {
    let env = TestEnv::world();
    env.heal_production();
    assert_eq!(env.shipcheck(&["start", "--by", "Tess Deployer"]).code, 0);
    walk_until_with(&env, "release", Answers::default());
    let out = env.shipcheck(&["next", "--yes", "-m", "login rate limit"]);
    let merge = git_out(
        &env,
        &env.origin.clone(),
        &["rev-parse", "--short=7", "production"],
    );
    assert!(
        out.stdout
            .contains("→ release.merge  performing (confirmed by"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "✓ release.merge  done  merged staging into production ({merge}"
        )),
        "{}",
        out.stdout
    );
    // The run's history reads the same.
    let history = env.shipcheck(&["events"]);
    assert!(
        history.stdout.contains("action_done") && history.stdout.contains("✓ release.merge  done"),
        "{}",
        history.stdout
    );
    let events = env.shipcheck(&["events", "--json"]).json();
    assert_eq!(events["kind"], "events");
    assert!(events["events"].as_array().unwrap().len() > 10);
}
