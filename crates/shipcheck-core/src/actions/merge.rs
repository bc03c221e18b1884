//! `git.merge`: the seed's release, exactly its steps —
//!
//! ```text
//! git fetch origin
//! git checkout staging
//! git pull --ff-only origin staging
//! git checkout production
//! git pull --ff-only origin production
//! git merge staging --no-ff -m "Release: <description>" [-m "Shipcheck-Run: <run id>"]
//! git push origin production
//! ```
//!
//! then back to the branch the user was on. The description is `--message`, or made from the
//! commit subjects. Within a run a second `-m` adds the trailer `Shipcheck-Run: <run id>`,
//! which is how a resumed run recognises its own merge: found on the remote → done, not
//! merged again; found only locally → pushed. A dirty tree is refused before anything is
//! touched; a conflict is aborted; a rejected push resets local production to where it was;
//! in each case the user is put back on their branch, nothing is pushed, and the action can
//! simply run again.

use serde_json::json;

use crate::actions::gitflow::{Flow, Unpushed, from_git, short, strings};
use crate::actions::{ActionError, ActionResult};
use crate::clients::git::Repo;
use crate::journal::state::RunState;

/// What the release merge works with: the repository of `[git]`, the run (its id goes into the
/// trailer), the release description (`--message`), and whether to change nothing.
#[derive(Clone, Copy, Debug)]
pub struct Merge<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// The run the merge belongs to.
    pub run: Option<&'a RunState>,
    /// The release description.
    pub message: Option<&'a str>,
    /// Show the plan; change nothing.
    pub dry_run: bool,
}
use crate::model::changes::{CommitInfo, LogCommit};
use crate::model::facts::Fact;

/// The trailer that ties a release merge to its run.
pub const RUN_TRAILER: &str = "Shipcheck-Run";
/// The subject prefix of every release merge.
pub const RELEASE_PREFIX: &str = "Release: ";
/// A generated subject stays within this many characters.
const SUBJECT_MAX: usize = 72;

/// "Release: <description>" (a description that already starts with "Release:" is kept).
pub fn release_subject(description: &str) -> String {
    let d = description.trim();
    match d.strip_prefix("Release:") {
        Some(rest) => format!("{RELEASE_PREFIX}{}", rest.trim_start()),
        None => format!("{RELEASE_PREFIX}{d}"),
    }
}

/// A short description from the commits (newest first, as `git log` lists them): one
/// change → its subject; more → "4 changes — add login rate limit, fix …", oldest first,
/// within a 72-character subject. Merge commits' subjects ("Merge pull request …") are left
/// out when there are others.
pub fn describe_release(commits: &[LogCommit]) -> String {
    let own: Vec<&str> = commits
        .iter()
        .rev()
        .map(|c| c.subject.trim())
        .filter(|s| !s.starts_with("Merge "))
        .collect();
    let subjects: Vec<&str> = if own.is_empty() {
        commits.iter().rev().map(|c| c.subject.trim()).collect()
    } else {
        own
    };
    let room = SUBJECT_MAX - RELEASE_PREFIX.chars().count();
    match subjects.as_slice() {
        [] => "no changes".into(),
        [one] => cut(one, room),
        many => {
            let head = format!("{} changes — ", many.len());
            let mut out = head.clone();
            for (i, s) in many.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let rest_marker = if i + 1 < many.len() { 3 } else { 0 };
                if out.chars().count() + sep.len() + s.chars().count() + rest_marker > room {
                    if i == 0 {
                        out += &cut(s, room.saturating_sub(head.chars().count()));
                    } else {
                        out += ", …";
                    }
                    return out;
                }
                out += sep;
                out += s;
            }
            out
        }
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// How a resumed run recognises its release merge.
struct Identity {
    run_id: Option<String>,
    staging_tip: String,
}

impl Identity {
    fn of(ctx: &Merge<'_>, staging_tip: &str) -> Identity {
        Identity {
            run_id: ctx.run.map(|r| r.id.clone()),
            staging_tip: staging_tip.to_string(),
        }
    }

    /// Within a run: a release merge carrying the run's trailer. Without one: a release
    /// merge of the current staging tip.
    fn matches(&self, c: &CommitInfo) -> bool {
        if c.parents.len() != 2 || !c.subject().starts_with(RELEASE_PREFIX) {
            return false;
        }
        match &self.run_id {
            Some(id) => {
                let line = format!("{RUN_TRAILER}: {id}");
                c.message.lines().any(|l| l.trim() == line)
            }
            None => c.parents[1] == self.staging_tip,
        }
    }
}

/// The `-m` values of the merge.
async fn messages(
    ctx: &Merge<'_>,
    flow: &Flow,
    prod: &str,
    staging: &str,
) -> Result<Vec<String>, ActionError> {
    let subject = match ctx.message.map(str::trim) {
        Some(m) if !m.is_empty() => release_subject(m),
        _ => {
            let commits = flow
                .git
                .log(&format!("{prod}..{staging}"))
                .await
                .map_err(|e| from_git(e, "list the commits to release"))?;
            release_subject(&describe_release(&commits))
        }
    };
    let mut out = vec![subject];
    if let Some(run) = ctx.run {
        out.push(format!("{RUN_TRAILER}: {}", run.id));
    }
    Ok(out)
}

/// The steps after `fetch`, each as git arguments.
struct Steps {
    checkout_staging: Vec<String>,
    pull_staging: Vec<String>,
    checkout_production: Vec<String>,
    pull_production: Vec<String>,
    merge: Vec<String>,
    push: Vec<String>,
}

async fn steps(
    ctx: &Merge<'_>,
    flow: &Flow,
    prod: &str,
    staging: &str,
) -> Result<Steps, ActionError> {
    let c = &flow.cfg;
    let mut merge = strings(&["merge", &c.staging, "--no-ff"]);
    for m in messages(ctx, flow, prod, staging).await? {
        merge.push("-m".into());
        merge.push(m);
    }
    Ok(Steps {
        checkout_staging: flow.checkout_args(&c.staging).await?,
        pull_staging: strings(&["pull", "--ff-only", &c.remote, &c.staging]),
        checkout_production: flow.checkout_args(&c.production).await?,
        pull_production: strings(&["pull", "--ff-only", &c.remote, &c.production]),
        merge,
        push: strings(&["push", &c.remote, &c.production]),
    })
}

/// The exact commands the merge runs, in order. With `ctx.dry_run` nothing is fetched and
/// the description comes from the remote-tracking refs as last fetched; otherwise (the
/// intent journaled just before [`perform`]) it fetches first, as the merge will.
pub async fn plan(ctx: &Merge<'_>) -> Result<Vec<String>, ActionError> {
    let mut flow = Flow::open(ctx.repo).await?;
    let c = flow.cfg.clone();
    if !ctx.dry_run {
        flow.fetch().await?;
    }
    let (prod, staging) = remote_tips(&flow).await?;
    let s = steps(ctx, &flow, &prod, &staging).await?;
    let mut out = vec![flow.git.display(&["fetch", &c.remote])];
    for args in [
        &s.checkout_staging,
        &s.pull_staging,
        &s.checkout_production,
        &s.pull_production,
        &s.merge,
        &s.push,
    ] {
        out.push(display(&flow, args));
    }
    if let Some(r) = flow.restore_args() {
        out.push(display(&flow, &r));
    }
    Ok(out)
}

fn display(flow: &Flow, args: &[String]) -> String {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    flow.git.display(&refs)
}

fn result(flow: &Flow, c: &CommitInfo, summary: String, note: &str) -> ActionResult {
    let cfg = &flow.cfg;
    ActionResult {
        summary,
        evidence: json!({
            "merge_commit": c.sha,
            "parents": c.parents,
            "production_before": c.parents.first(),
            "staging_tip": c.parents.get(1),
            "message": c.message,
            "subject": c.subject(),
            "remote_ref": flow.tracking(&cfg.production),
            "pushed_to": format!("{} refs/heads/{}", cfg.remote, cfg.production),
            "pushed": true,
            "commands": flow.ran,
            "note": note,
        }),
        facts: vec![
            Fact::MergeCommit { sha: c.sha.clone() },
            Fact::DeployStarted,
        ],
    }
}

/// Looks at the remote (after a fetch) for this run's merge.
async fn find_on_remote(
    flow: &Flow,
    id: &Identity,
    prod: &str,
) -> Result<Option<CommitInfo>, ActionError> {
    let recent = flow
        .git
        .commits(&["--first-parent", "--merges", "-n", "50", prod])
        .await
        .map_err(|e| from_git(e, "read the production history"))?;
    Ok(recent.into_iter().find(|c| id.matches(c)))
}

/// After a crash between intent and result: the merge already on the remote → done; merged
/// locally but not pushed → pushed now (done). `None`: it has not happened; perform it.
/// With `ctx.dry_run` it only reads (no fetch, no push).
pub async fn reconcile(ctx: &Merge<'_>) -> Result<Option<ActionResult>, ActionError> {
    let mut flow = Flow::open(ctx.repo).await?;
    if !ctx.dry_run {
        flow.fetch().await?;
    }
    let (prod, staging) = remote_tips(&flow).await?;
    done_already(&mut flow, ctx, &prod, &staging).await
}

async fn remote_tips(flow: &Flow) -> Result<(String, String), ActionError> {
    let prod = flow.remote_sha(&flow.cfg.production).await?;
    let staging = flow.remote_sha(&flow.cfg.staging).await?;
    Ok((prod, staging))
}

async fn done_already(
    flow: &mut Flow,
    ctx: &Merge<'_>,
    prod: &str,
    staging: &str,
) -> Result<Option<ActionResult>, ActionError> {
    let id = Identity::of(ctx, staging);
    let tracking = flow.tracking(&flow.cfg.production);
    if let Some(m) = find_on_remote(flow, &id, prod).await? {
        let s = format!(
            "already released: merge {} is on {tracking}; not merged again",
            short(&m.sha)
        );
        return Ok(Some(result(
            flow,
            &m,
            s,
            "found on the remote; not merged again",
        )));
    }
    if let Unpushed::OnRemote(m) = flow.unpushed(prod, |x| id.matches(x)).await? {
        if ctx.dry_run {
            return Ok(None);
        }
        flow.push(&m.sha, prod, "release").await?;
        let s = format!(
            "pushed merge {} (made before an interruption) to {tracking}",
            short(&m.sha)
        );
        let note = "merged locally before an interruption; pushed on resume, not merged again";
        return Ok(Some(result(flow, &m, s, note)));
    }
    Ok(None)
}

/// Performs the release merge (with `ctx.dry_run`: returns the plan and changes nothing).
pub async fn perform(ctx: &Merge<'_>) -> Result<ActionResult, ActionError> {
    if ctx.dry_run {
        let commands = plan(ctx).await?;
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
    flow.require_clean("merge").await?;
    let c = flow.cfg.clone();
    flow.fetch().await?;
    let (prod, staging) = remote_tips(&flow).await?;
    if let Some(done) = done_already(&mut flow, ctx, &prod, &staging).await? {
        return Ok(done);
    }
    let id = Identity::of(ctx, &staging);
    let mut note = String::new();
    if let Unpushed::Stale(m) = flow.unpushed(&prod, |x| id.matches(x)).await? {
        flow.reset_production(&prod).await?;
        note = format!(
            "dropped this run's unpushed merge {} ({} had moved); merged again",
            short(&m.sha),
            flow.tracking(&c.production)
        );
    }
    let nothing = flow
        .git
        .is_ancestor(&staging, &prod)
        .await
        .map_err(|e| from_git(e, "compare staging and production"))?;
    if nothing {
        return Err(ActionError::new(format!(
            "nothing to ship: {} already contains {}; no merge made",
            flow.tracking(&c.production),
            flow.tracking(&c.staging)
        )));
    }
    let s = steps(ctx, &flow, &prod, &staging).await?;

    flow.must(&s.checkout_staging, "checking out staging failed")
        .await?;
    flow.must(&s.pull_staging, "updating staging failed")
        .await?;
    same_as_remote(&mut flow, &c.staging).await?;
    flow.must(&s.checkout_production, "checking out production failed")
        .await?;
    flow.must(&s.pull_production, "updating production failed")
        .await?;
    same_as_remote(&mut flow, &c.production).await?;
    let before = flow.head_sha().await?;

    let out = flow.step(&s.merge).await?;
    if !out.success() {
        let conflicts = flow.git.conflicted().await.unwrap_or_default();
        let in_merge = flow
            .git
            .resolve("MERGE_HEAD")
            .await
            .ok()
            .flatten()
            .is_some();
        if in_merge {
            flow.step(&strings(&["merge", "--abort"])).await?;
        }
        let refs: Vec<&str> = s.merge.iter().map(String::as_str).collect();
        let why = if conflicts.is_empty() {
            format!("the merge failed: {}", flow.git.failed(&refs, &out))
        } else {
            format!(
                "the merge conflicts in {}; merge aborted, {} unchanged; resolve it on staging (merge {} into {}) and run again",
                crate::model::changes::list_some(&conflicts, 5),
                c.production,
                c.production,
                c.staging
            )
        };
        return Err(flow.fail(format!("{why}; nothing was pushed.")).await);
    }
    let merge = flow.head_sha().await?;
    if merge == before {
        return Err(flow
            .fail(format!(
                "nothing to ship: {} already contains {}; no merge made",
                c.production, c.staging
            ))
            .await);
    }
    let info = flow
        .push_and_finish(&merge, &before, "release", &mut note)
        .await?;
    let summary = format!(
        "merged {} into {} ({}) and pushed to {}",
        c.staging,
        c.production,
        short(&merge),
        flow.tracking(&c.production)
    );
    Ok(result(&flow, &info, summary, note.trim_start_matches("; ")))
}

/// After `pull --ff-only`, the local branch must be exactly the remote's: commits only the
/// local branch has would be released without having been reviewed.
async fn same_as_remote(flow: &mut Flow, branch: &str) -> Result<(), ActionError> {
    let head = flow.head_sha().await?;
    let remote = flow.remote_sha(branch).await?;
    if head == remote {
        return Ok(());
    }
    let (ahead, _) = flow
        .git
        .ahead_behind(&head, &remote)
        .await
        .unwrap_or((0, 0));
    Err(flow
        .fail(format!(
            "local {branch} has {ahead} commit{} that {} does not; a release ships only what is on the remote. Push or remove {}, then run again; nothing was merged or pushed.",
            crate::model::changes::plural(ahead as usize),
            flow.tracking(branch),
            if ahead == 1 { "it" } else { "them" }
        ))
        .await)
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
