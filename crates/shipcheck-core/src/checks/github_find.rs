//! Which workflow run deploys the merge commit to the configured environment, whatever event
//! started it (`push`, `workflow_run`, `workflow_dispatch`, `release`, `deployment`).
//!
//! **Candidates.** Two lists, each one request of up to 100 runs (at most
//! [`crate::clients::github::MAX_PAGES`] pages):
//!
//! 1. runs whose `head_sha` is the merge commit (`GET …/actions/runs?head_sha=M`), any event
//!    but pull requests, a `push` only on the production branch: **linked by head SHA**;
//! 2. runs created since the merge (`…/actions/runs?created=>=T`, T = when `release.merge`
//!    was done less [`CLOCK_SKEW`]) whose event is `workflow_run`. GitHub runs such a run on
//!    the default branch's latest commit (`fixtures/api/README.md` G4), so its `head_sha`
//!    says nothing about the commit it deploys, and no REST field names the run that
//!    triggered it. It is linked to the merge commit when
//!    - its title (`display_title`, the workflow's `run-name`) names the merge commit (7 or
//!      more leading hex digits): **linked by run name** — exact, and what we recommend
//!      (`run-name: Deploy ${{ github.event.workflow_run.head_sha }}`); or else
//!    - a run of the merge commit (list 1, not itself `workflow_run`) was created or completed
//!      at most [`LINK_WINDOW`] before it: **linked through that upstream run** — unless a run
//!      of the same upstream workflow for another commit was created or completed in the same
//!      window, when the link is ambiguous and the run is left out (say the commit in
//!      `run-name`).
//!
//! With `[github] workflow` set, only that workflow's runs are candidates.
//!
//! **The environment.** Each candidate (at most [`MAX_CONFIRM`], newest first) is confirmed:
//! a `waiting` run by its pending deployments (it waits for the environment, or for others);
//! a running or completed one by the deployments API (`GET …/deployments?sha=&environment=`,
//! a deployment created after the run was: it reached the environment). Jobs carry no
//! environment (G1), so nothing else tells.
//!
//! **The choice**, when several remain: waiting for the environment, then deployed to it,
//! then (only with `[github] workflow` set) a run of that workflow not yet at the environment;
//! then head SHA over run name over upstream; then the newest (`created_at`, then id). The
//! evidence says which run was chosen and why, and what else was considered.
//!
//! Limits: one hop (a deploy run triggered by a run that was itself triggered by
//! `workflow_run` is found only by its run name); the time link cannot see an upstream run
//! of another commit created before `T`; a repository with more than 1,000 runs in the
//! minutes after the merge is read only in part.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clients::api::ApiError;
use crate::clients::github::{Deployment, GitHub, PendingDeployment, RunFilter, WorkflowRun};

/// How long after an upstream run was created or completed a `workflow_run` run may be
/// created to count as triggered by it.
pub const LINK_WINDOW: Duration = Duration::from_secs(120);
/// Runs created this long before `release.merge` was recorded still count (clock skew
/// between this machine and GitHub, and the push before the record).
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// Candidates whose environment is confirmed at most (newest first): each costs a request.
pub const MAX_CONFIRM: usize = 6;
/// Runs listed in evidence at most.
const MAX_LISTED: usize = 10;

/// How a run is tied to the merge commit.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Link {
    /// Its `head_sha` is the merge commit.
    HeadSha,
    /// Its title (`run-name`) names the merge commit.
    RunName,
    /// It was created within [`LINK_WINDOW`] after a run of the merge commit was created or
    /// completed.
    Upstream {
        /// The upstream run.
        run_id: i64,
        /// Its workflow.
        workflow: String,
        /// Its event.
        event: String,
        /// When it was created or completed (whichever came just before).
        at: Timestamp,
    },
}

impl Link {
    fn rank(&self) -> u8 {
        match self {
            Link::HeadSha => 3,
            Link::RunName => 2,
            Link::Upstream { .. } => 1,
        }
    }

    /// For people: `by its head SHA`, `through upstream run 7 (test, push, at …)`.
    pub fn describe(&self) -> String {
        match self {
            Link::HeadSha => "its head SHA is the merge commit".into(),
            Link::RunName => "its run name names the merge commit".into(),
            Link::Upstream {
                run_id,
                workflow,
                event,
                at,
            } => format!(
                "it is a workflow_run run created within {} after upstream run {run_id} ({workflow}, {event}) of the merge commit, at {} (GitHub does not record which commit a workflow_run run deploys; name it in run-name to make this exact)",
                crate::model::duration::format(LINK_WINDOW),
                at.round(jiff::Unit::Second).unwrap_or(*at)
            ),
        }
    }
}

/// Where a run stands with the configured environment.
#[derive(Clone, Debug, PartialEq)]
pub enum EnvState {
    /// It waits for the environment's protection rules (reviewers, a wait timer).
    Waiting(Box<PendingDeployment>),
    /// It waits, but for other environments.
    OtherEnvs(Vec<String>),
    /// It reached the environment: a deployment was created after the run.
    Deployed(Box<Deployment>),
    /// Nothing says yet (queued, or running jobs before the environment's).
    Unknown,
}

impl EnvState {
    fn rank(&self) -> u8 {
        match self {
            EnvState::Waiting(_) => 3,
            EnvState::Deployed(_) => 2,
            EnvState::Unknown => 1,
            EnvState::OtherEnvs(_) => 0,
        }
    }

    /// For evidence.
    pub fn to_json(&self, env: &str) -> Value {
        match self {
            EnvState::Waiting(p) => json!({
                "state": "waiting", "environment": env, "environment_id": p.environment.id,
                "wait_timer": p.wait_timer, "wait_timer_started_at": p.wait_timer_started_at,
                "current_user_can_approve": p.current_user_can_approve,
                "reviewers": p.who_can_approve(),
            }),
            EnvState::OtherEnvs(names) => {
                json!({ "state": "waiting_for_others", "environments": names })
            }
            EnvState::Deployed(d) => json!({
                "state": "deployed", "environment": env, "deployment_id": d.id,
                "deployment_created_at": d.created_at, "sha": d.sha,
            }),
            EnvState::Unknown => json!({ "state": "not_at_environment_yet" }),
        }
    }
}

/// A run considered, with its link and environment.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The run.
    pub run: WorkflowRun,
    /// How it is tied to the merge commit.
    pub link: Link,
    /// Where it stands with the environment (`Unknown` when not confirmed).
    pub env: EnvState,
}

impl Candidate {
    fn to_json(&self, env: &str) -> Value {
        json!({
            "workflow_run_id": self.run.id, "workflow": self.run.label(), "event": self.run.event,
            "status": self.run.status, "head_sha": self.run.head_sha,
            "created_at": self.run.created_at, "link": self.link,
            "environment": self.env.to_json(env),
        })
    }
}

/// What the search found.
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// Linked runs, newest first.
    pub candidates: Vec<Candidate>,
    /// Runs looked at and left out, with the reason.
    pub left_out: Vec<String>,
}

/// The run chosen, and why.
#[derive(Clone, Debug)]
pub struct Found {
    /// The run, its link and environment.
    pub candidate: Candidate,
    /// Why this one ("it waits for production; its head SHA is the merge commit").
    pub why: String,
    /// Evidence: every candidate and what was left out.
    pub considered: Value,
}

/// The 7+ leading hex digits of `merge` appear in `title` as a word.
pub fn names_commit(title: &str, merge: &str) -> bool {
    title
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() >= 7)
        .any(|w| {
            merge
                .get(..w.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(w))
        })
}

/// When `u` could have triggered a run: its creation and, once completed, its completion.
fn trigger_times(u: &WorkflowRun) -> Vec<Timestamp> {
    let mut t: Vec<Timestamp> = u.created_at.into_iter().collect();
    if u.status.as_deref() == Some("completed")
        && let Some(done) = u.updated_at
    {
        t.push(done);
    }
    t
}

/// The latest trigger time of `u` at most [`LINK_WINDOW`] before `created` (5 s of skew the
/// other way allowed).
fn triggered_at(u: &WorkflowRun, created: Timestamp) -> Option<Timestamp> {
    let window = SignedDuration::try_from(LINK_WINDOW).unwrap_or_default();
    let skew = SignedDuration::from_secs(5);
    trigger_times(u)
        .into_iter()
        .filter(|t| *t - skew <= created && created.duration_since(*t) <= window)
        .max()
}

fn same_workflow(a: &WorkflowRun, b: &WorkflowRun) -> bool {
    match (a.workflow_id, b.workflow_id) {
        (Some(x), Some(y)) => x == y,
        _ => a.label() == b.label(),
    }
}

/// How `run` (a `workflow_run` run whose head SHA is not `merge`) is tied to `merge`, given
/// the runs of `merge` (`upstreams`) and the other runs created since the merge (`others`).
/// `Err` says why it is not.
pub fn workflow_run_link(
    run: &WorkflowRun,
    merge: &str,
    upstreams: &[WorkflowRun],
    others: &[WorkflowRun],
) -> Result<Link, String> {
    if run
        .display_title
        .as_deref()
        .is_some_and(|t| names_commit(t, merge))
    {
        return Ok(Link::RunName);
    }
    let Some(created) = run.created_at else {
        return Err("it has no created_at".into());
    };
    let best = upstreams
        .iter()
        .filter(|u| u.id != run.id && u.event != "workflow_run" && u.head_sha == merge)
        .filter_map(|u| triggered_at(u, created).map(|t| (t, u)))
        .max_by_key(|(t, u)| (*t, u.id));
    let Some((at, up)) = best else {
        return Err(format!(
            "a workflow_run run created at {created}, but no run of the merge commit started or completed within {} before it",
            crate::model::duration::format(LINK_WINDOW)
        ));
    };
    let rivals: Vec<String> = others
        .iter()
        .filter(|v| v.id != run.id && v.head_sha != merge && v.event != "workflow_run")
        .filter(|v| same_workflow(v, up) && triggered_at(v, created).is_some())
        .map(|v| {
            format!(
                "run {} of commit {}",
                v.id,
                crate::checks::github::short(&v.head_sha)
            )
        })
        .collect();
    if !rivals.is_empty() {
        return Err(format!(
            "ambiguous: {} ({}) also started or completed within {} before it; name the commit in the deploy workflow's run-name",
            rivals.join(", "),
            up.label(),
            crate::model::duration::format(LINK_WINDOW)
        ));
    }
    Ok(Link::Upstream {
        run_id: up.id,
        workflow: up.label().to_string(),
        event: up.event.clone(),
        at,
    })
}

fn wanted(run: &WorkflowRun, workflow: Option<&str>) -> Result<(), String> {
    match workflow.map(|w| (w, run.is_of(w))) {
        None | Some((_, Some(true))) => Ok(()),
        Some((w, Some(false))) => Err(format!("workflow {}, not {w}", run.label())),
        Some((w, None)) => Err(format!("GitHub does not say its workflow (is it {w}?)")),
    }
}

/// The linked runs (list 1 and 2 of the module's rule), not yet confirmed.
pub fn link_runs(
    merge: &str,
    production: &str,
    workflow: Option<&str>,
    same_commit: &[WorkflowRun],
    since_merge: &[WorkflowRun],
) -> Search {
    let mut s = Search::default();
    let mut left = |r: &WorkflowRun, why: String| {
        s.left_out
            .push(format!("run {} ({}, {}): {why}", r.id, r.label(), r.event))
    };
    let mut linked: Vec<Candidate> = Vec::new();
    for r in same_commit.iter().filter(|r| r.head_sha == merge) {
        if r.event.starts_with("pull_request") {
            left(r, "a pull request run".into());
        } else if r.event == "push" && r.head_branch.as_deref().is_some_and(|b| b != production) {
            left(
                r,
                format!("a push of {}", r.head_branch.as_deref().unwrap_or("?")),
            );
        } else if let Err(e) = wanted(r, workflow) {
            left(r, e);
        } else {
            linked.push(Candidate {
                run: r.clone(),
                link: Link::HeadSha,
                env: EnvState::Unknown,
            });
        }
    }
    for r in since_merge
        .iter()
        .filter(|r| r.event == "workflow_run" && r.head_sha != merge)
    {
        if linked.iter().any(|c| c.run.id == r.id) {
            continue;
        }
        if let Err(e) = wanted(r, workflow) {
            left(r, e);
            continue;
        }
        match workflow_run_link(
            r,
            merge,
            &upstream_pool(same_commit, since_merge, merge),
            since_merge,
        ) {
            Ok(link) => linked.push(Candidate {
                run: r.clone(),
                link,
                env: EnvState::Unknown,
            }),
            Err(e) => left(r, e),
        }
    }
    linked.sort_by_key(|c| std::cmp::Reverse((c.run.created_at, c.run.id)));
    s.candidates = linked;
    s
}

fn upstream_pool(a: &[WorkflowRun], b: &[WorkflowRun], merge: &str) -> Vec<WorkflowRun> {
    let mut pool: Vec<WorkflowRun> = a
        .iter()
        .chain(b.iter())
        .filter(|r| r.head_sha == merge)
        .cloned()
        .collect();
    pool.sort_by_key(|r| r.id);
    pool.dedup_by_key(|r| r.id);
    pool
}

/// Where `run` stands with `environment` (one or two requests).
pub async fn env_state(
    gh: &GitHub,
    run: &WorkflowRun,
    environment: &str,
) -> Result<EnvState, ApiError> {
    match run.status.as_deref() {
        Some("waiting") => {
            let list = gh.pending_deployments(run.id).await?;
            if let Some(p) = list.iter().find(|p| p.environment.name == environment) {
                return Ok(EnvState::Waiting(Box::new(p.clone())));
            }
            if !list.is_empty() {
                return Ok(EnvState::OtherEnvs(
                    list.iter().map(|p| p.environment.name.clone()).collect(),
                ));
            }
            deployed(gh, run, environment).await
        }
        Some("in_progress" | "completed") => deployed(gh, run, environment).await,
        _ => Ok(EnvState::Unknown),
    }
}

async fn deployed(gh: &GitHub, run: &WorkflowRun, environment: &str) -> Result<EnvState, ApiError> {
    let skew = SignedDuration::from_secs(5);
    let list = gh.deployments(&run.head_sha, environment).await?;
    let hit = list.into_iter().find(|d| {
        let env_ok = d.environment.as_deref() == Some(environment)
            || d.original_environment.as_deref() == Some(environment);
        let after = match (d.created_at, run.created_at) {
            (Some(d), Some(r)) => d + skew >= r,
            _ => false,
        };
        env_ok && after
    });
    Ok(hit.map_or(EnvState::Unknown, |d| EnvState::Deployed(Box::new(d))))
}

/// The run to follow among confirmed candidates, and why; `Err` says why none is.
pub fn choose(
    candidates: &[Candidate],
    environment: &str,
    workflow: Option<&str>,
) -> Result<(usize, String), String> {
    let eligible = |c: &Candidate| match c.env {
        EnvState::Waiting(_) | EnvState::Deployed(_) => true,
        EnvState::Unknown => workflow.is_some_and(|w| c.run.is_of(w) == Some(true)),
        EnvState::OtherEnvs(_) => false,
    };
    let best = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| eligible(c))
        .max_by_key(|(_, c)| (c.env.rank(), c.link.rank(), c.run.created_at, c.run.id));
    let Some((i, c)) = best else {
        let seen: Vec<String> = candidates
            .iter()
            .map(|c| {
                format!(
                    "run {} ({}, {}, {}): {}",
                    c.run.id,
                    c.run.label(),
                    c.run.event,
                    c.run.state(),
                    match &c.env {
                        EnvState::OtherEnvs(n) =>
                            format!("waits for {}, not {environment}", n.join(", ")),
                        _ => format!("not at {environment} (yet)"),
                    }
                )
            })
            .collect();
        return Err(if seen.is_empty() {
            "no workflow run is linked to the merge commit".into()
        } else {
            format!("none deploys to {environment} yet: {}", seen.join("; "))
        });
    };
    let state = match &c.env {
        EnvState::Waiting(_) => format!("it waits for {environment}"),
        EnvState::Deployed(d) => format!("it reached {environment} (deployment {})", d.id),
        _ => format!(
            "it is a run of the configured workflow {} (not at {environment} yet)",
            workflow.unwrap_or("?")
        ),
    };
    let others = candidates.len() - 1;
    let mut why = format!("{state}; {}", c.link.describe());
    if others > 0 {
        why.push_str(&format!(
            "; {others} other candidate(s) rank lower (waiting > deployed > not there yet, then head SHA > run name > upstream, then the newest)"
        ));
    }
    Ok((i, why))
}

/// Lists, links, confirms and chooses. `Ok(Err(reason))` when no run qualifies (yet).
pub async fn search(
    gh: &GitHub,
    merge: &str,
    production: &str,
    merged_at: Option<Timestamp>,
) -> Result<Result<Found, (String, Value)>, ApiError> {
    let environment = gh.cfg.environment.clone();
    let workflow = gh.cfg.workflow.clone();
    let same = gh
        .list_runs(&RunFilter {
            head_sha: Some(merge.to_string()),
            ..RunFilter::default()
        })
        .await?;
    let since = match merged_at {
        Some(t) => {
            let from = t - SignedDuration::try_from(CLOCK_SKEW).unwrap_or_default();
            gh.list_runs(&RunFilter {
                created_since: Some(from),
                ..RunFilter::default()
            })
            .await?
        }
        None => Vec::new(),
    };
    let mut s = link_runs(merge, production, workflow.as_deref(), &same, &since);
    for c in s.candidates.iter_mut().take(MAX_CONFIRM) {
        c.env = env_state(gh, &c.run, &environment).await?;
    }
    let considered = json!({
        "candidates": s.candidates.iter().take(MAX_LISTED).map(|c| c.to_json(&environment)).collect::<Vec<_>>(),
        "left_out": s.left_out.iter().take(MAX_LISTED).collect::<Vec<_>>(),
        "runs_listed": { "same_commit": same.len(), "since_merge": since.len() },
    });
    Ok(
        match choose(&s.candidates, &environment, workflow.as_deref()) {
            Ok((i, why)) => Ok(Found {
                candidate: s.candidates.swap_remove(i),
                why,
                considered,
            }),
            Err(reason) => Err((reason, considered)),
        },
    )
}

/// A run recorded earlier, tied to `merge` again: by head SHA, run name, or the upstream run
/// the record names (its head SHA must still be the merge commit). `Err` says why not.
pub async fn relink(
    gh: &GitHub,
    run: &WorkflowRun,
    merge: &str,
    recorded: Option<&Value>,
) -> Result<Result<Link, String>, ApiError> {
    if run.head_sha == merge {
        return Ok(Ok(Link::HeadSha));
    }
    if run
        .display_title
        .as_deref()
        .is_some_and(|t| names_commit(t, merge))
    {
        return Ok(Ok(Link::RunName));
    }
    let upstream = recorded
        .filter(|l| l.get("kind").and_then(Value::as_str) == Some("upstream"))
        .and_then(|l| {
            Some((
                l.get("run_id")?.as_i64()?,
                l.get("at")?.as_str()?.parse().ok()?,
            ))
        });
    if let Some((id, at)) = upstream {
        let up = gh.run(id).await?;
        if up.head_sha == merge {
            return Ok(Ok(Link::Upstream {
                run_id: up.id,
                workflow: up.label().to_string(),
                event: up.event.clone(),
                at,
            }));
        }
        return Ok(Err(format!(
            "its recorded upstream run {id} is for commit {}",
            crate::checks::github::short(&up.head_sha)
        )));
    }
    Ok(Err(format!(
        "it is for commit {}",
        crate::checks::github::short(&run.head_sha)
    )))
}

#[cfg(test)]
#[path = "github_find_tests.rs"]
mod tests;
