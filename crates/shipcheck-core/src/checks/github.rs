//! GitHub checks: `github.reviews` (`prepare.prs-approved`) and `github.checks` (an
//! alternative for `prepare.tests`), and what the run checks share: the release merge commit
//! and the workflow run recorded for it. The run checks are in [`crate::checks::github_run`].

use crate::model::error::Invalid;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::checks::gitlog;
use crate::clients::git::Repo;
use crate::clients::github::{GitHub, PullRequest, Review};
use crate::journal::state::RunState;
use crate::model::checklist::GithubChecksCheck;
use crate::model::facts::FactKind;
use crate::model::outcome::Outcome;

/// More commits than this in one release is an `error` (too many requests to check them).
pub const MAX_COMMITS: usize = 200;

/// The release's merge commit, as the run recorded it (the fact of its merge action, whatever
/// that item is called). `Err` says why there is none and which item records it.
pub fn merge_commit(run: Option<&RunState>) -> Result<String, Invalid> {
    let Some(run) = run else {
        return Err("this check belongs to a run: it needs the release's merge commit, which the run's merge action records; run it with `shipcheck next`".into());
    };
    match run.merge_commit() {
        Ok(sha) if is_sha(sha) => Ok(sha.to_string()),
        Ok(sha) => Err(format!(
            "the merge commit recorded in this run ({sha:?}) is not a commit SHA"
        )
        .into()),
        Err(missing) => {
            Err(format!("{missing} (if it was done by hand, settle this item by hand too)").into())
        }
    }
}

/// A full or abbreviated hex commit id.
pub fn is_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The workflow run this run recorded for `merge` (by whichever item found it, as a run fact):
/// its id, the link to the merge commit that item recorded (`link` in its evidence), and the
/// item's id.
pub fn recorded_run(run: Option<&RunState>, merge: &str) -> Option<(i64, Option<Value>, String)> {
    let run = run?;
    let (id, sha, _) = run.workflow_run().ok()?;
    if !(sha.is_empty() || sha == merge) {
        return None;
    }
    // The link (how the run was tied to the merge commit: head SHA, run name or upstream run)
    // is in the evidence of the item that found the run; a later item (the approval) may have
    // recorded the same run again.
    let item = run.facts.get(FactKind::WorkflowRun)?.item.clone();
    let found = run
        .items
        .iter()
        .filter(|r| r.evidence.get("workflow_run_id").and_then(|v| v.as_i64()) == Some(id))
        .find_map(|r| Some((r.evidence.get("link")?.clone(), r.item.id.clone())));
    Some(match found {
        Some((link, by)) => (id, Some(link), by),
        None => (id, None, item),
    })
}

/// When the release merge was done (runs created before it cannot deploy it): when the run's
/// merge action recorded the merge commit.
pub fn merged_at(run: Option<&RunState>) -> Option<jiff::Timestamp> {
    run?.merged_at()
}

/// The first 7 characters of a SHA.
pub fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// `github.reviews`.
pub async fn reviews(gh: &GitHub, repo: &Repo) -> Outcome {
    let shas = match gitlog::release_commits(repo).await {
        Ok(s) => s,
        Err(e) => return Outcome::error(e, Value::Null),
    };
    if shas.is_empty() {
        return Outcome::error(
            format!(
                "{} has no commits: nothing to review (fetch the remote, or is there nothing to release?)",
                gitlog::release_range(repo)
            ),
            Value::Null,
        );
    }
    if shas.len() > MAX_COMMITS {
        return Outcome::error(
            format!(
                "{} has {} commits, more than the {MAX_COMMITS} shipcheck checks one by one; review them in GitHub and tick",
                gitlog::release_range(repo),
                shas.len()
            ),
            json!({ "commits": shas.len() }),
        );
    }
    review_commits(gh, &shas).await
}

/// The review verdict of one pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct PrVerdict {
    /// Reviewers (not the author) whose latest review approves.
    pub approved_by: Vec<String>,
    /// Reviewers whose latest review requests changes.
    pub changes_requested_by: Vec<String>,
}

impl PrVerdict {
    /// Approved by someone other than the author, nothing outstanding.
    pub fn ok(&self) -> bool {
        !self.approved_by.is_empty() && self.changes_requested_by.is_empty()
    }
}

/// Each reviewer's latest deciding review (APPROVED, CHANGES_REQUESTED or DISMISSED;
/// comments decide nothing), in submission order; the author's own reviews do not count.
pub fn verdict(pr: &PullRequest, reviews: &[Review]) -> PrVerdict {
    let author = pr.user.as_ref().map(|u| u.login.as_str());
    let mut latest: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (i, r) in reviews.iter().enumerate() {
        let Some(user) = &r.user else { continue };
        if Some(user.login.as_str()) == author {
            continue;
        }
        if matches!(
            r.state.as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        ) {
            latest.insert(user.login.clone(), (i, r.state.clone()));
        }
    }
    let who = |state: &str| {
        latest
            .iter()
            .filter(|(_, (_, s))| s == state)
            .map(|(u, _)| u.clone())
            .collect::<Vec<_>>()
    };
    PrVerdict {
        approved_by: who("APPROVED"),
        changes_requested_by: who("CHANGES_REQUESTED"),
    }
}

/// Checks the pull requests of `shas`.
pub async fn review_commits(gh: &GitHub, shas: &[String]) -> Outcome {
    let mut direct = Vec::new();
    let mut prs: BTreeMap<u64, PullRequest> = BTreeMap::new();
    let mut commit_prs: Vec<(String, Vec<u64>)> = Vec::new();
    for sha in shas {
        let list = match gh.pulls_for_commit(sha).await {
            Ok(l) => l,
            Err(e) => return Outcome::error(e.to_string(), Value::Null),
        };
        if list.is_empty() {
            direct.push(short(sha).to_string());
        }
        commit_prs.push((sha.clone(), list.iter().map(|p| p.number).collect()));
        for p in list {
            prs.entry(p.number).or_insert(p);
        }
    }
    let mut verdicts: BTreeMap<u64, PrVerdict> = BTreeMap::new();
    for (number, pr) in &prs {
        let reviews = match gh.reviews(*number).await {
            Ok(r) => r,
            Err(e) => return Outcome::error(e.to_string(), Value::Null),
        };
        verdicts.insert(*number, verdict(pr, &reviews));
    }
    // A commit is covered when one of its pull requests is approved.
    let uncovered: BTreeSet<u64> = commit_prs
        .iter()
        .filter(|(_, nums)| !nums.is_empty() && !nums.iter().any(|n| verdicts[n].ok()))
        .flat_map(|(_, nums)| nums.iter().copied())
        .collect();
    let mut problems = Vec::new();
    for n in &uncovered {
        let v = &verdicts[n];
        if !v.changes_requested_by.is_empty() {
            problems.push(format!(
                "#{n}: changes requested by {}",
                v.changes_requested_by.join(", ")
            ));
        } else {
            problems.push(format!("#{n}: not approved by anyone but its author"));
        }
    }
    if !direct.is_empty() {
        problems.push(format!(
            "{} commit(s) without a pull request (pushed directly): {}",
            direct.len(),
            direct.join(", ")
        ));
    }
    let evidence = json!({
        "commits": shas.len(),
        "pull_requests": prs.values().map(|p| {
            let v = &verdicts[&p.number];
            json!({
                "number": p.number,
                "title": p.title,
                "url": p.html_url,
                "author": p.user.as_ref().map(|u| u.login.clone()),
                "approved_by": v.approved_by,
                "changes_requested_by": v.changes_requested_by,
                "ok": v.ok(),
            })
        }).collect::<Vec<_>>(),
        "direct_pushes": direct,
    });
    if problems.is_empty() {
        Outcome::pass(
            format!(
                "{} commit(s) in {} pull request(s), all approved by someone other than the author",
                shas.len(),
                prs.len()
            ),
            evidence,
        )
    } else {
        Outcome::fail(problems.join("; "), evidence)
    }
}

/// `github.checks`: the check runs and statuses of the branch head.
/// (The branch defaults to `staging`, `[git] staging`.)
pub async fn checks(spec: &GithubChecksCheck, gh: &GitHub, staging: &str) -> Outcome {
    let branch = spec.branch.clone().unwrap_or_else(|| staging.to_string());
    let sha = match gh.commit_sha(&branch).await {
        Ok(s) => s,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let runs = match gh.check_runs(&sha).await {
        Ok(r) => r,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let status = match gh.combined_status(&sha).await {
        Ok(s) => s,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let evidence = json!({
        "branch": branch,
        "sha": sha,
        "check_runs": runs.iter().map(|r| json!({
            "name": r.name, "status": r.status, "conclusion": r.conclusion, "url": r.html_url,
        })).collect::<Vec<_>>(),
        "statuses": status.statuses.iter().map(|s| json!({
            "context": s.context, "state": s.state, "url": s.target_url,
        })).collect::<Vec<_>>(),
    });
    if runs.is_empty() && status.statuses.is_empty() {
        return Outcome::error(
            format!(
                "no check runs and no commit statuses on {branch} ({}): no data",
                short(&sha)
            ),
            evidence,
        );
    }
    let mut pending = Vec::new();
    let mut failed = Vec::new();
    for r in &runs {
        match (r.status.as_str(), r.conclusion.as_deref()) {
            ("completed", Some("success" | "neutral" | "skipped")) => {}
            ("completed", c) => {
                failed.push(format!("{} ({})", r.name, c.unwrap_or("no conclusion")))
            }
            (s, _) => pending.push(format!("{} ({s})", r.name)),
        }
    }
    for s in &status.statuses {
        match s.state.as_str() {
            "success" => {}
            "pending" => pending.push(format!("{} (pending)", s.context)),
            other => failed.push(format!("{} ({other})", s.context)),
        }
    }
    let total = runs.len() + status.statuses.len();
    if failed.is_empty() && pending.is_empty() {
        Outcome::pass(
            format!(
                "{total} check(s) on {branch} ({}) all succeeded",
                short(&sha)
            ),
            evidence,
        )
    } else {
        let mut parts = Vec::new();
        if !failed.is_empty() {
            parts.push(format!("failed: {}", failed.join(", ")));
        }
        if !pending.is_empty() {
            parts.push(format!("not finished: {}", pending.join(", ")));
        }
        Outcome::fail(
            format!("{branch} ({}): {}", short(&sha), parts.join("; ")),
            evidence,
        )
    }
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
