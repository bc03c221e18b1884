use super::*;
use crate::actions::{ActionContext, merge_of};
use crate::testkit::repo::{TestRepo, git};

// The merge with the parts the actions' dispatcher gives it.

async fn plan(ctx: &ActionContext) -> Result<Vec<String>, ActionError> {
    super::plan(&merge_of(ctx, &ctx.clients.repo())).await
}

async fn perform(ctx: &ActionContext) -> Result<ActionResult, ActionError> {
    super::perform(&merge_of(ctx, &ctx.clients.repo())).await
}

async fn reconcile(ctx: &ActionContext) -> Result<Option<ActionResult>, ActionError> {
    super::reconcile(&merge_of(ctx, &ctx.clients.repo())).await
}

fn sha_of(dir: &std::path::Path, rev: &str) -> String {
    git(dir, &["rev-parse", rev]).trim().to_string()
}

#[tokio::test]
async fn happy_path_merges_no_ff_pushes_once_and_returns_to_the_branch() {
    let t = TestRepo::new();
    let prod_before = t.origin_ref("production");
    let staging = t.origin_ref("staging");
    let pushes = t.pushes("production");

    let r = perform(&t.action_ctx(None, false)).await.unwrap();

    let head = t.origin_ref("production");
    assert_eq!(
        t.origin_show("%P", &head),
        format!("{prod_before} {staging}")
    );
    assert_eq!(
        t.origin_show("%s", &head),
        "Release: 2 changes — add rate limit, update changelog"
    );
    assert_eq!(t.pushes("production"), pushes + 1, "pushed once");
    assert_eq!(r.evidence["merge_commit"], head);
    assert_eq!(
        r.evidence["parents"],
        serde_json::json!([prod_before, staging])
    );
    assert_eq!(r.evidence["remote_ref"], "origin/production");
    assert!(
        r.summary.starts_with("merged staging into production ("),
        "{}",
        r.summary
    );
    let cmds: Vec<&str> = r.evidence["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(cmds[0], "git fetch origin");
    assert_eq!(cmds.last(), Some(&"git checkout staging"));
    assert_eq!(
        git(&t.work, &["branch", "--show-current"]).trim(),
        "staging"
    );
    assert_eq!(
        sha_of(&t.work, "production"),
        head,
        "local production has the merge"
    );
}

#[tokio::test]
async fn message_comes_from_the_user_and_carries_the_run() {
    let t = TestRepo::new();
    let ctx = t.run_ctx("run-7", Some("login rate limit"));
    perform(&ctx).await.unwrap();
    let head = t.origin_ref("production");
    assert_eq!(
        t.origin_show("%B", &head),
        "Release: login rate limit\n\nShipcheck-Run: run-7"
    );
}

#[tokio::test]
async fn dry_run_lists_the_exact_commands_and_changes_nothing() {
    let t = TestRepo::new();
    let before = t.snapshot();
    let ctx = t.action_ctx(None, true);
    let cmds = plan(&ctx).await.unwrap();
    assert_eq!(
        cmds,
        [
            "git fetch origin",
            "git checkout staging",
            "git pull --ff-only origin staging",
            "git checkout production",
            "git pull --ff-only origin production",
            "git merge staging --no-ff -m 'Release: 2 changes — add rate limit, update changelog'",
            "git push origin production",
            "git checkout staging",
        ]
    );
    let r = perform(&ctx).await.unwrap();
    assert_eq!(r.evidence["commands"].as_array().unwrap().len(), 8);
    assert!(reconcile(&ctx).await.unwrap().is_none());
    assert_eq!(t.snapshot(), before, "refs, HEAD and status unchanged");
}

#[tokio::test]
async fn conflict_is_aborted_the_branch_restored_and_nothing_pushed() {
    let t = TestRepo::new();
    t.commit(
        "production",
        &[("CHANGELOG.md", "# Changelog\n\n- hotfix\n")],
        "hotfix notes",
    );
    t.push("production");
    git(&t.work, &["checkout", "--quiet", "staging"]);
    let origin_prod = t.origin_ref("production");
    let local_prod = sha_of(&t.work, "production");
    let pushes = t.pushes("production");

    let err = perform(&t.action_ctx(None, false)).await.unwrap_err();
    assert!(
        err.message.contains("the merge conflicts in CHANGELOG.md"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("nothing was pushed"),
        "{}",
        err.message
    );
    assert!(err.message.ends_with("Back on staging."), "{}", err.message);
    assert!(!err.integration);
    assert_eq!(t.origin_ref("production"), origin_prod);
    assert_eq!(t.pushes("production"), pushes);
    assert_eq!(sha_of(&t.work, "production"), local_prod);
    assert_eq!(
        git(&t.work, &["branch", "--show-current"]).trim(),
        "staging"
    );
    assert_eq!(
        git(&t.work, &["status", "--porcelain"]),
        "",
        "no merge left behind"
    );
}

#[tokio::test]
async fn rejected_push_resets_local_production_and_a_rerun_succeeds() {
    let t = TestRepo::new();
    let other = t.clone_to("other");
    t.commit_in(&other, "production", &[("HOTFIX.md", "fix\n")], "hotfix");
    let their = sha_of(&other, "HEAD");
    // Someone pushes between our pull and our push: the pre-push hook of our clone makes
    // the other clone push first, once.
    let hook = t.work.join(".git/hooks/pre-push");
    let mark = t.root.join("raced");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ -f '{m}' ] && exit 0\ntouch '{m}'\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX\ncd '{o}' && git push --quiet origin production\nexit 0\n",
            m = mark.display(),
            o = other.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let local_before = sha_of(&t.work, "production");
    let pushes = t.pushes("production");

    let err = perform(&t.action_ctx(None, false)).await.unwrap_err();
    assert!(
        err.message.contains("the push was rejected"),
        "{}",
        err.message
    );
    assert!(err.message.contains("moved to"), "{}", err.message);
    assert!(
        err.message.contains("local production was reset to"),
        "{}",
        err.message
    );
    assert_eq!(
        t.origin_ref("production"),
        their,
        "origin has their push, not our merge"
    );
    assert_eq!(t.pushes("production"), pushes + 1, "only theirs");
    assert_eq!(sha_of(&t.work, "production"), local_before);
    assert_eq!(
        git(&t.work, &["branch", "--show-current"]).trim(),
        "staging"
    );

    // Resumable: run again, the release lands on top of their change.
    perform(&t.action_ctx(None, false)).await.unwrap();
    let head = t.origin_ref("production");
    assert_eq!(
        t.origin_show("%P", &head),
        format!("{their} {}", t.origin_ref("staging"))
    );
    assert_eq!(t.pushes("production"), pushes + 2);
}

#[tokio::test]
async fn dirty_tree_is_refused_before_anything_is_touched() {
    let t = TestRepo::new();
    std::fs::write(t.work.join("src/legacy.ts"), "edited\n").unwrap();
    let before = t.snapshot();
    let err = perform(&t.action_ctx(None, false)).await.unwrap_err();
    assert!(
        err.message
            .starts_with("refusing to merge: the working tree"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("1 uncommitted change (M src/legacy.ts)"),
        "{}",
        err.message
    );
    assert_eq!(t.snapshot(), before);
}

#[tokio::test]
async fn missing_branch_and_unpushed_local_commits_are_clear_errors() {
    let t = TestRepo::new();
    let mut ctx = t.action_ctx(None, false);
    let mut cfg = (*ctx.clients.config).clone();
    cfg.git.staging = "develop".into();
    ctx.clients.config = std::sync::Arc::new(cfg);
    let err = perform(&ctx).await.unwrap_err();
    assert!(
        err.message.starts_with("origin/develop does not exist"),
        "{}",
        err.message
    );

    // A local production commit nobody reviewed would ride along: refused.
    let pushes = t.pushes("production");
    t.commit("production", &[("local.txt", "x\n")], "local only");
    git(&t.work, &["checkout", "--quiet", "staging"]);
    let err = perform(&t.action_ctx(None, false)).await.unwrap_err();
    assert!(
        err.message
            .starts_with("local production has 1 commit that origin/production does not"),
        "{}",
        err.message
    );
    assert_eq!(t.pushes("production"), pushes);
    assert_eq!(
        git(&t.work, &["branch", "--show-current"]).trim(),
        "staging"
    );
}

#[tokio::test]
async fn crash_between_merge_and_push_then_reconcile_pushes_once() {
    let t = TestRepo::new();
    let ctx = t.run_ctx("run-9", Some("rate limit"));
    // What perform does up to the crash: the merge, exactly as planned, not pushed.
    git(&t.work, &["checkout", "--quiet", "production"]);
    git(
        &t.work,
        &[
            "merge",
            "--quiet",
            "staging",
            "--no-ff",
            "-m",
            "Release: rate limit",
            "-m",
            "Shipcheck-Run: run-9",
        ],
    );
    let merge = sha_of(&t.work, "HEAD");
    let pushes = t.pushes("production");
    let merges = t.origin_merges("production").len();

    let r = reconcile(&ctx).await.unwrap().expect("done on resume");
    assert_eq!(r.evidence["merge_commit"], merge);
    assert!(r.summary.starts_with("pushed merge"), "{}", r.summary);
    assert_eq!(t.origin_ref("production"), merge);
    assert_eq!(t.pushes("production"), pushes + 1);
    assert_eq!(
        t.origin_merges("production").len(),
        merges + 1,
        "one merge commit"
    );

    // Again, and perform: already done, nothing more happens.
    assert!(
        reconcile(&ctx)
            .await
            .unwrap()
            .unwrap()
            .summary
            .starts_with("already released")
    );
    let again = perform(&ctx).await.unwrap();
    assert!(
        again.summary.starts_with("already released"),
        "{}",
        again.summary
    );
    assert_eq!(t.pushes("production"), pushes + 1);
    assert_eq!(t.origin_merges("production").len(), merges + 1);
}

async fn full_release_then_reconcile(in_run: bool) {
    let t = TestRepo::new();
    let ctx = if in_run {
        t.run_ctx("run-1", None)
    } else {
        t.action_ctx(None, false)
    };
    assert!(reconcile(&ctx).await.unwrap().is_none(), "not merged yet");
    let first = perform(&ctx).await.unwrap();
    let pushes = t.pushes("production");
    let r = reconcile(&ctx).await.unwrap().expect("done");
    assert_eq!(r.evidence["merge_commit"], first.evidence["merge_commit"]);
    assert!(r.summary.starts_with("already released"), "{}", r.summary);
    let again = perform(&ctx).await.unwrap();
    assert_eq!(
        again.evidence["merge_commit"],
        first.evidence["merge_commit"]
    );
    assert_eq!(t.pushes("production"), pushes, "no second push");
    assert_eq!(t.origin_merges("production").len(), 1, "no second merge");
}

#[tokio::test]
async fn reconcile_after_a_full_release_is_done_without_a_second_merge() {
    full_release_then_reconcile(true).await;
    full_release_then_reconcile(false).await;
    // Another run's release of the same staging is not this run's: nothing to ship.
    let t = TestRepo::new();
    perform(&t.run_ctx("run-1", None)).await.unwrap();
    assert!(
        reconcile(&t.run_ctx("run-2", None))
            .await
            .unwrap()
            .is_none()
    );
    let err = perform(&t.run_ctx("run-2", None)).await.unwrap_err();
    assert!(
        err.message.starts_with("nothing to ship"),
        "{}",
        err.message
    );
}

#[test]
fn descriptions_stay_short() {
    let c = |s: &str| LogCommit {
        sha: "a".repeat(40),
        short: "aaaaaaa".into(),
        author: "a".into(),
        email: "e".into(),
        date: "d".into(),
        subject: s.into(),
    };
    assert_eq!(
        describe_release(&[c("add login rate limit")]),
        "add login rate limit"
    );
    let many: Vec<LogCommit> = [
        "Merge pull request #3 from x/y",
        "fix the login redirect loop",
        "add login rate limit",
        "update the changelog for 2.3",
        "bump deps",
    ]
    .into_iter()
    .map(c)
    .collect();
    let d = describe_release(&many);
    assert!(
        d.starts_with("4 changes — bump deps, update the changelog for 2.3, "),
        "{d}"
    );
    assert!(d.ends_with(", …"), "{d}");
    assert!(release_subject(&d).chars().count() <= 72, "{d}");
    assert_eq!(release_subject("Release: x"), "Release: x");
    assert_eq!(release_subject("  big one "), "Release: big one");
    let long = "x".repeat(100);
    assert_eq!(
        release_subject(&describe_release(&[c(&long)]))
            .chars()
            .count(),
        72
    );
}
