//! Rollback strategy `git-revert`: the seed's quick rollback, made to work. The seed's
//! `git revert HEAD --no-edit` fails on the `--no-ff` release merge (git needs `-m 1` for a
//! merge) and assumes the release is still `HEAD`. Here the release's merge commit comes
//! from the run (the `git.merge` item's evidence) and is reverted with `-m 1`:
//!
//! ```text
//! git fetch origin
//! git checkout production
//! git pull --ff-only origin production
//! git revert -m 1 <merge commit> --no-edit
//! git push origin production
//! ```
//!
//! Idempotent: a revert of that merge already on the remote is done; one made locally but
//! not pushed is pushed. The approve and watch steps for the revert are the caller's.

use serde_json::json;

use crate::actions::gitflow::{Flow, Unpushed, from_git, short, strings};
use crate::actions::{ActionError, ActionResult};
use crate::clients::git::Repo;

/// What the revert works with: the repository of `[git]` and whether to change nothing.
#[derive(Clone, Copy, Debug)]
pub struct Revert<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// Show the plan; change nothing.
    pub dry_run: bool,
}
use crate::journal::state::RunState;
use crate::model::changes::CommitInfo;

/// The release's merge commit as the run recorded it (the fact its merge action recorded).
pub fn release_merge(run: &RunState) -> Option<String> {
    run.merge_commit()
        .ok()
        .filter(|s| crate::model::changes::is_sha(s))
        .map(str::to_string)
}

fn reverts(c: &CommitInfo, merge: &str) -> bool {
    c.message.contains(&format!("This reverts commit {merge}"))
}

fn result(flow: &Flow, c: &CommitInfo, merge: &str, summary: String, note: &str) -> ActionResult {
    ActionResult {
        summary,
        evidence: json!({
            "revert_commit": c.sha,
            "reverted_merge": merge,
            "parents": c.parents,
            "message": c.message,
            "remote_ref": flow.tracking(&flow.cfg.production),
            "pushed_to": format!("{} refs/heads/{}", flow.cfg.remote, flow.cfg.production),
            "pushed": true,
            "commands": flow.ran,
            "note": note,
        }),
        facts: Vec::new(),
    }
}

/// Checks `merge` is a merge commit on remote production; returns its full id.
async fn the_merge(flow: &Flow, merge: &str, prod: &str) -> Result<String, ActionError> {
    let info = flow.git.commit(merge).await.map_err(|e| match e {
        crate::clients::git::GitError::MissingRef { .. } => ActionError::new(format!(
            "commit {merge} is not in the repository (after fetching {}); nothing was changed",
            flow.cfg.remote
        )),
        other => from_git(other, "read the merge commit"),
    })?;
    if info.parents.len() != 2 {
        return Err(ActionError::new(format!(
            "{} is not a merge commit ({} parent{}); git-revert rolls back the release's merge; nothing was changed",
            short(&info.sha),
            info.parents.len(),
            crate::model::changes::plural(info.parents.len())
        )));
    }
    let on = flow
        .git
        .is_ancestor(&info.sha, prod)
        .await
        .map_err(|e| from_git(e, "compare the merge with production"))?;
    if !on {
        return Err(ActionError::new(format!(
            "merge {} is not on {}: there is nothing to revert; nothing was changed",
            short(&info.sha),
            flow.tracking(&flow.cfg.production)
        )));
    }
    Ok(info.sha)
}

/// The revert's steps after `fetch`.
async fn steps(flow: &Flow, merge: &str) -> Result<[Vec<String>; 4], ActionError> {
    let c = &flow.cfg;
    Ok([
        flow.checkout_args(&c.production).await?,
        strings(&["pull", "--ff-only", &c.remote, &c.production]),
        strings(&["revert", "-m", "1", merge, "--no-edit"]),
        strings(&["push", &c.remote, &c.production]),
    ])
}

/// The exact commands the revert runs (no fetch with `ctx.dry_run`: it changes nothing).
pub async fn plan(ctx: &Revert<'_>, merge_sha: &str) -> Result<Vec<String>, ActionError> {
    let mut flow = Flow::open(ctx.repo).await?;
    if !ctx.dry_run {
        flow.fetch().await?;
    }
    let prod = flow.remote_sha(&flow.cfg.production.clone()).await?;
    let merge = the_merge(&flow, merge_sha, &prod).await?;
    let mut out = vec![flow.git.display(&["fetch", &flow.cfg.remote])];
    let mut all: Vec<Vec<String>> = steps(&flow, &merge).await?.into();
    all.extend(flow.restore_args());
    for a in all {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        out.push(flow.git.display(&refs));
    }
    Ok(out)
}

async fn done_already(
    flow: &mut Flow,
    ctx: &Revert<'_>,
    merge: &str,
    prod: &str,
) -> Result<Option<ActionResult>, ActionError> {
    let after = flow
        .git
        .commits(&[&format!("{merge}..{prod}")])
        .await
        .map_err(|e| from_git(e, "read the production history"))?;
    let tracking = flow.tracking(&flow.cfg.production);
    if let Some(r) = after.iter().find(|c| reverts(c, merge)) {
        let s = format!(
            "already rolled back: revert {} of {} is on {tracking}",
            short(&r.sha),
            short(merge)
        );
        return Ok(Some(result(
            flow,
            r,
            merge,
            s,
            "found on the remote; not reverted again",
        )));
    }
    if let Unpushed::OnRemote(r) = flow.unpushed(prod, |c| reverts(c, merge)).await? {
        if ctx.dry_run {
            return Ok(None);
        }
        flow.push(&r.sha, prod, "revert").await?;
        let s = format!(
            "pushed revert {} (made before an interruption) to {tracking}",
            short(&r.sha)
        );
        let note = "reverted locally before an interruption; pushed on resume, not reverted again";
        return Ok(Some(result(flow, &r, merge, s, note)));
    }
    Ok(None)
}

/// After a crash: the revert already on the remote → done; made locally but not pushed →
/// pushed now. `None`: it has not happened.
pub async fn reconcile(
    ctx: &Revert<'_>,
    merge_sha: &str,
) -> Result<Option<ActionResult>, ActionError> {
    let mut flow = Flow::open(ctx.repo).await?;
    if !ctx.dry_run {
        flow.fetch().await?;
    }
    let prod = flow.remote_sha(&flow.cfg.production.clone()).await?;
    let merge = the_merge(&flow, merge_sha, &prod).await?;
    done_already(&mut flow, ctx, &merge, &prod).await
}

/// Reverts the release's merge commit `merge_sha` on production and pushes (with
/// `ctx.dry_run`: returns the plan and changes nothing).
pub async fn git_revert(ctx: &Revert<'_>, merge_sha: &str) -> Result<ActionResult, ActionError> {
    if ctx.dry_run {
        let commands = plan(ctx, merge_sha).await?;
        return Ok(ActionResult {
            summary: format!(
                "dry run: {} git commands would run; nothing changed",
                commands.len()
            ),
            evidence: json!({ "dry_run": true, "commands": commands }),
            facts: Vec::new(),
        });
    }
    let mut flow = Flow::open(ctx.repo).await?;
    flow.require_clean("revert").await?;
    flow.fetch().await?;
    let c = flow.cfg.clone();
    let prod = flow.remote_sha(&c.production).await?;
    let merge = the_merge(&flow, merge_sha, &prod).await?;
    if let Some(done) = done_already(&mut flow, ctx, &merge, &prod).await? {
        return Ok(done);
    }
    let mut note = String::new();
    if let Unpushed::Stale(r) = flow.unpushed(&prod, |x| reverts(x, &merge)).await? {
        flow.reset_production(&prod).await?;
        note = format!(
            "dropped an unpushed revert {} ({} had moved); reverted again",
            short(&r.sha),
            flow.tracking(&c.production)
        );
    }
    let [checkout, pull, revert, _push] = steps(&flow, &merge).await?;
    flow.must(&checkout, "checking out production failed")
        .await?;
    flow.must(&pull, "updating production failed").await?;
    let before = flow.head_sha().await?;
    let remote_now = flow.remote_sha(&c.production).await?;
    if before != remote_now {
        return Err(flow
            .fail(format!(
                "local {} has commits that {} does not; push or remove them, then run again; nothing was reverted or pushed.",
                c.production,
                flow.tracking(&c.production)
            ))
            .await);
    }
    let out = flow.step(&revert).await?;
    if !out.success() {
        let conflicts = flow.git.conflicted().await.unwrap_or_default();
        if flow
            .git
            .resolve("REVERT_HEAD")
            .await
            .ok()
            .flatten()
            .is_some()
        {
            flow.step(&strings(&["revert", "--abort"])).await?;
        }
        let refs: Vec<&str> = revert.iter().map(String::as_str).collect();
        let why = if conflicts.is_empty() {
            format!("the revert failed: {}", flow.git.failed(&refs, &out))
        } else {
            format!(
                "reverting {} conflicts with later changes in {}; revert aborted, {} unchanged; use the platform rollback or fix forward",
                short(&merge),
                crate::model::changes::list_some(&conflicts, 5),
                c.production
            )
        };
        return Err(flow.fail(format!("{why}; nothing was pushed.")).await);
    }
    let new = flow.head_sha().await?;
    if new == before {
        return Err(flow
            .fail(format!(
                "reverting {} changed nothing; nothing was pushed.",
                short(&merge)
            ))
            .await);
    }
    let info = flow
        .push_and_finish(&new, &before, "revert", &mut note)
        .await?;
    let summary = format!(
        "reverted release merge {} with {} and pushed to {}",
        short(&merge),
        short(&new),
        flow.tracking(&c.production)
    );
    Ok(result(
        &flow,
        &info,
        &merge,
        summary,
        note.trim_start_matches("; "),
    ))
}

#[cfg(test)]
#[path = "revert_tests.rs"]
mod tests;
