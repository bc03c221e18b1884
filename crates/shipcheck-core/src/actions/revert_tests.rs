use super::*;
use crate::actions::{ActionContext, merge_of};
use crate::model::event::Event;
use crate::testkit::repo::{TestRepo, git, run_state};

// The revert with the parts the rollback gives it.

async fn plan(ctx: &ActionContext, merge: &str) -> Result<Vec<String>, ActionError> {
    let repo = ctx.clients.repo();
    let dry_run = ctx.dry_run;
    super::plan(
        &Revert {
            repo: &repo,
            dry_run,
        },
        merge,
    )
    .await
}

async fn reconcile(ctx: &ActionContext, merge: &str) -> Result<Option<ActionResult>, ActionError> {
    let repo = ctx.clients.repo();
    let dry_run = ctx.dry_run;
    super::reconcile(
        &Revert {
            repo: &repo,
            dry_run,
        },
        merge,
    )
    .await
}

async fn git_revert(ctx: &ActionContext, merge: &str) -> Result<ActionResult, ActionError> {
    let repo = ctx.clients.repo();
    let dry_run = ctx.dry_run;
    super::git_revert(
        &Revert {
            repo: &repo,
            dry_run,
        },
        merge,
    )
    .await
}

/// Releases staging and returns the merge commit, as the run recorded it.
async fn release(t: &TestRepo) -> String {
    let ctx = t.action_ctx(None, false);
    let done = crate::actions::merge::perform(&merge_of(&ctx, &ctx.clients.repo()))
        .await
        .unwrap();
    let run = run_state(
        "run-1",
        vec![Event::ActionDone {
            item: "release.merge".into(),
            summary: done.summary,
            evidence: done.evidence,
            facts: done.facts,
        }],
    );
    release_merge(&run).expect("the run knows its merge")
}

fn tree(dir: &std::path::Path, rev: &str) -> String {
    git(dir, &["rev-parse", &format!("{rev}^{{tree}}")])
        .trim()
        .to_string()
}

#[tokio::test]
async fn revert_restores_the_tree_pushes_once_and_is_idempotent() {
    let t = TestRepo::new();
    let merge = release(&t).await;
    assert_eq!(merge, t.origin_ref("production"));
    let pushes = t.pushes("production");
    let ctx = t.action_ctx(None, false);
    assert!(
        reconcile(&ctx, &merge).await.unwrap().is_none(),
        "not reverted yet"
    );

    let r = git_revert(&ctx, &merge).await.unwrap();
    let head = t.origin_ref("production");
    assert_eq!(r.evidence["revert_commit"], head);
    assert_eq!(r.evidence["reverted_merge"], merge);
    assert_eq!(
        tree(&t.origin, &head),
        tree(&t.origin, &format!("{merge}^1"))
    );
    assert_eq!(t.pushes("production"), pushes + 1);
    assert_eq!(
        git(&t.work, &["branch", "--show-current"]).trim(),
        "staging"
    );

    let again = reconcile(&ctx, &merge).await.unwrap().expect("done");
    assert!(
        again.summary.starts_with("already rolled back"),
        "{}",
        again.summary
    );
    let again = git_revert(&ctx, &merge).await.unwrap();
    assert_eq!(again.evidence["revert_commit"], head);
    assert_eq!(t.pushes("production"), pushes + 1, "pushed once");
}

#[tokio::test]
async fn reverts_the_release_merge_even_when_it_is_not_head() {
    let t = TestRepo::new();
    let merge = release(&t).await;
    t.commit(
        "production",
        &[("HOTFIX.md", "fix\n")],
        "hotfix after the release",
    );
    t.push("production");
    git(&t.work, &["checkout", "--quiet", "staging"]);

    git_revert(&t.action_ctx(None, false), &merge)
        .await
        .unwrap();
    let files = git(&t.origin, &["ls-tree", "-r", "--name-only", "production"]);
    assert!(files.contains("HOTFIX.md"), "{files}");
    assert!(
        !files.contains("src/limit.ts"),
        "the release is gone: {files}"
    );
}

#[tokio::test]
async fn dry_run_plan_and_crash_before_push() {
    let t = TestRepo::new();
    let merge = release(&t).await;
    let before = t.snapshot();
    let dry = t.action_ctx(None, true);
    assert_eq!(
        plan(&dry, &merge).await.unwrap(),
        [
            "git fetch origin".to_string(),
            "git checkout production".into(),
            "git pull --ff-only origin production".into(),
            format!("git revert -m 1 {merge} --no-edit"),
            "git push origin production".into(),
            "git checkout staging".into(),
        ]
    );
    git_revert(&dry, &merge).await.unwrap();
    assert_eq!(t.snapshot(), before, "dry run changed nothing");

    // The revert made, the push never happened: reconcile pushes it, once.
    git(&t.work, &["checkout", "--quiet", "production"]);
    git(&t.work, &["revert", "-m", "1", &merge, "--no-edit"]);
    let local = git(&t.work, &["rev-parse", "HEAD"]).trim().to_string();
    let pushes = t.pushes("production");
    let r = reconcile(&t.action_ctx(None, false), &merge)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.evidence["revert_commit"], local);
    assert_eq!(t.origin_ref("production"), local);
    assert_eq!(t.pushes("production"), pushes + 1);
}

#[tokio::test]
async fn refuses_what_is_not_the_release_merge() {
    let t = TestRepo::new();
    let ctx = t.action_ctx(None, false);
    let plain = t.origin_ref("production");
    let err = git_revert(&ctx, &plain).await.unwrap_err();
    assert!(
        err.message.contains("is not a merge commit"),
        "{}",
        err.message
    );
    let err = git_revert(&ctx, &"f".repeat(40)).await.unwrap_err();
    assert!(
        err.message.contains("is not in the repository"),
        "{}",
        err.message
    );
    assert!(release_merge(&run_state("r", Vec::new())).is_none());
}
