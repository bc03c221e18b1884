//! `github.pending` (`approve.review-deployments`, `approve.verify-commit`): the deploy run of
//! the merge commit waits for the configured environment, and what its protection rules ask.
//!
//! - Not there yet (queued, or running the jobs before the environment's): polled every
//!   `poll_interval` for up to `workflow_timeout`.
//! - A **wait timer** that has started and not ended: waited, polling the pending deployment,
//!   for up to `wait_timer_limit` (the engine reports the check as running meanwhile); a timer
//!   ending later is an `error` naming when to come back, and nothing is approved. A timer
//!   that has not started (`wait_timer_started_at` null) is reported, not waited.
//! - **Reviewers**: any one of the listed users or teams approves for all. Whether the token's
//!   user may is GitHub's `current_user_can_approve`; when it may not, the summary names who
//!   can (and `approve.approve` stops there, approving nothing).
//! - A run recorded earlier that is no longer tied to the merge commit **fails**: do not
//!   approve it.

use serde_json::{Value, json};

use crate::checks::github::short;
use crate::checks::github_find::EnvState;
use crate::checks::github_run::run_fact;
use crate::checks::github_run::{
    Locate, Located, MAX_POLLS, locate, located_evidence, merge_of, polls, run_evidence,
};
use crate::checks::gitlog;
use crate::clients::git::Repo;
use crate::clients::github::{GitHub, PendingDeployment};
use crate::journal::state::RunState;
use crate::model::clock::SharedClock;
use crate::model::duration::format as dur;
use crate::model::outcome::Outcome;

/// Who may approve, for people: "the token's user can approve it", or who can instead.
pub fn who(p: &PendingDeployment, started_by: Option<&str>) -> String {
    if p.current_user_can_approve {
        return "the token's user can approve it".into();
    }
    let names = p.who_can_approve();
    if names.is_empty() {
        return "nobody is listed as a required reviewer: it waits for another protection rule (a GitHub App's custom rule?), which shipcheck cannot pass".into();
    }
    let mut s = format!(
        "the token's user cannot approve it; {} can ({})",
        names.join(" or "),
        if names.len() > 1 {
            "one approval suffices"
        } else {
            "a required reviewer"
        }
    );
    if let Some(login) = started_by
        && p.reviewers
            .iter()
            .any(|r| r.kind == "User" && r.name() == login)
    {
        s.push_str(&format!(
            "; {login} started this run, so if the token is theirs the environment's \"prevent self-review\" forbids it"
        ));
    }
    s
}

/// `github.pending`.
pub async fn pending(
    gh: &GitHub,
    repo: &Repo,
    run: Option<&RunState>,
    clock: &SharedClock,
) -> Outcome {
    let merge = match merge_of(run) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let env = gh.cfg.environment.clone();
    let timeout = gh.cfg.workflow_timeout.get();
    let timer_limit = gh.cfg.wait_timer_limit.get();
    let interval = gh.cfg.poll_interval.get();
    let start = clock.now();
    let find_deadline = start + jiff::SignedDuration::try_from(timeout).unwrap_or_default();
    let max = (polls(timeout, interval) + polls(timer_limit, interval)).min(2 * MAX_POLLS);
    let changes = gitlog::oneline(repo, &format!("{merge}^1..{merge}"), 50)
        .await
        .ok();
    let mut waited_timer: Option<jiff::Timestamp> = None;
    let mut last = ("nothing listed yet".to_string(), Value::Null);
    for _ in 0..max {
        let now = clock.now();
        let l = match locate(gh, &repo.cfg.production, run, &merge).await {
            Err(e) => return Outcome::error(e.to_string(), json!({ "merge_commit": merge })),
            Ok(Locate::NotLinked(run, reason)) => {
                let mut evidence = run_evidence(&run, &merge);
                evidence["changes"] = json!(changes);
                return Outcome::fail(
                    format!(
                        "workflow run {} is not the merge commit {}'s: {reason}; do not approve it",
                        run.id,
                        short(&merge)
                    ),
                    evidence,
                );
            }
            Ok(Locate::NotYet(reason, considered)) => {
                last = (reason, considered);
                if now >= find_deadline {
                    break;
                }
                clock.sleep(interval).await;
                continue;
            }
            Ok(Locate::Found(l)) => l,
        };
        let mut evidence = located_evidence(&l, &merge, &env);
        evidence["changes"] = json!(changes);
        let head = format!(
            "workflow run {} ({}, {}) for merge commit {}",
            l.run.id,
            l.run.label(),
            l.run.event,
            short(&merge)
        );
        match &l.env {
            EnvState::Waiting(p) => {
                if let Some(end) = p.timer_ends_at().filter(|end| *end > now) {
                    let left = end.duration_since(now).unsigned_abs();
                    let since = *waited_timer.get_or_insert(now);
                    let bound =
                        since + jiff::SignedDuration::try_from(timer_limit).unwrap_or_default();
                    if end > bound {
                        return Outcome::error(
                            format!(
                                "{head} waits for {env}'s {}-minute wait timer, which ends at {end} ({} from now), beyond [github] wait_timer_limit = {}; nothing was approved: run it again after {end}",
                                p.wait_timer,
                                dur(left),
                                dur(timer_limit)
                            ),
                            evidence,
                        );
                    }
                    clock.sleep(left.min(interval)).await;
                    continue;
                }
                return passed(&head, &l, p, waited_timer, now, &env, evidence)
                    .with_fact(run_fact(&l.run, &merge));
            }
            EnvState::Deployed(d) => {
                return Outcome::pass(
                    format!(
                        "{head} no longer waits for {env}: deployment {} was created at {} (approved, or its rules passed) — {}",
                        d.id,
                        d.created_at
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "?".into()),
                        l.run.html_url
                    ),
                    evidence,
                )
                .with_fact(run_fact(&l.run, &merge));
            }
            EnvState::OtherEnvs(names) => {
                return Outcome::fail(
                    format!(
                        "{head} has no deployment waiting for environment {env} (waiting: {})",
                        names.join(", ")
                    ),
                    evidence,
                );
            }
            EnvState::Unknown if l.run.status.as_deref() == Some("completed") => {
                return Outcome::fail(
                    format!(
                        "{head} completed ({}) without reaching {env}",
                        l.run.conclusion.as_deref().unwrap_or("no conclusion")
                    ),
                    evidence,
                );
            }
            EnvState::Unknown => {
                last = (
                    format!("{head} is {} and not at {env} yet", l.run.state()),
                    evidence,
                );
                if now >= find_deadline {
                    break;
                }
                clock.sleep(interval).await;
            }
        }
    }
    Outcome::fail(
        format!(
            "no deployment of merge commit {} waits for {env} after {}: {}",
            short(&merge),
            dur(timeout),
            last.0
        ),
        json!({ "merge_commit": merge, "last": last.1 }),
    )
}

fn passed(
    head: &str,
    l: &Located,
    p: &PendingDeployment,
    waited_from: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
    env: &str,
    mut evidence: Value,
) -> Outcome {
    let mut timer = String::new();
    if p.wait_timer > 0 {
        match (p.timer_ends_at(), waited_from) {
            (Some(end), Some(from)) => {
                let waited = now.duration_since(from).unsigned_abs();
                evidence["wait_timer_waited_secs"] = json!(waited.as_secs());
                timer = format!(
                    "; its {}-minute wait timer ended at {end} (waited {})",
                    p.wait_timer,
                    dur(waited)
                );
            }
            (Some(end), None) => {
                timer = format!("; its {}-minute wait timer ended at {end}", p.wait_timer);
            }
            (None, _) => {
                timer = format!(
                    "; it has a {}-minute wait timer that has not started (GitHub runs it after the other rules)",
                    p.wait_timer
                );
            }
        }
    }
    Outcome::pass(
        format!(
            "{head} waits for approval of {env}{timer}; {} — {}",
            who(p, l.run.started_by()),
            l.run.html_url
        ),
        evidence,
    )
}
