//! Actions: the side effects shipcheck performs. Each is journaled intent-first by the
//! caller (`action_started` before, `action_done`/`action_failed` after), and each can
//! `reconcile`: look at the world after a crash and say whether the effect already happened,
//! so a resumed run never repeats it.

pub mod cdevents;
pub mod deployment_record;
pub mod fly;
pub(crate) mod gitflow;
pub mod github;
pub mod ics;
pub mod merge;
pub mod messages;
pub mod revert;
pub mod review;
pub mod sentry;
pub mod slack;

use std::sync::Arc;

use serde_json::json;

use crate::clients::{ClientError, Clients};
use crate::journal::state::RunState;
use crate::model::checklist::ActionSpec;
pub use crate::model::outcome::ActionError;

/// What the actions' dispatcher ([`plan`], [`perform`], [`reconcile`]) hands out: each action
/// gets the parts it uses (its client, the clock, the run's facts, who asked).
#[derive(Clone, Debug)]
pub struct ActionContext {
    /// The clients of the config (built on demand).
    pub clients: Clients,
    /// The run the action belongs to: the facts earlier items recorded.
    pub run: Option<Arc<RunState>>,
    /// The person who confirmed the action.
    pub by: String,
    /// A message the user gave (`--message`), e.g. the release description.
    pub message: Option<String>,
    /// Show what would happen; change nothing.
    pub dry_run: bool,
}

impl ActionContext {
    /// The context of an action in `run` over `clients`, confirmed by `by`.
    pub fn new(clients: Clients, run: Option<&RunState>, by: impl Into<String>) -> ActionContext {
        ActionContext {
            clients,
            run: run.map(|r| Arc::new(r.clone())),
            by: by.into(),
            message: None,
            dry_run: false,
        }
    }

    /// The run's facts.
    pub fn run(&self) -> Option<&RunState> {
        self.run.as_deref()
    }
}

/// The release merge's parts.
pub(crate) fn merge_of<'a>(
    ctx: &'a ActionContext,
    repo: &'a crate::clients::git::Repo,
) -> merge::Merge<'a> {
    merge::Merge {
        repo,
        run: ctx.run(),
        message: ctx.message.as_deref(),
        dry_run: ctx.dry_run,
    }
}

/// The error of an action whose client cannot be built (the message names the config table
/// or the environment variable to add).
fn unavailable(e: ClientError) -> ActionError {
    ActionError::new(e)
}

/// A completed action.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionResult {
    /// One line.
    pub summary: String,
    /// Evidence (what was done: commit, release, message id, ...).
    pub evidence: serde_json::Value,
    /// The run facts it recorded (the merge commit, the deploy's start).
    pub facts: Vec<crate::model::facts::Fact>,
}

impl ActionResult {
    /// A result without facts.
    pub fn new(summary: impl Into<String>, evidence: serde_json::Value) -> Self {
        ActionResult {
            summary: summary.into(),
            evidence,
            facts: Vec::new(),
        }
    }
}

/// The exact commands or requests the action would make (for `--dry-run` and the intent
/// that is journaled before the action runs).
pub async fn plan(spec: &ActionSpec, ctx: &ActionContext) -> Result<Vec<String>, ActionError> {
    match spec {
        ActionSpec::Command(c) => Ok(vec![match &c.shell {
            Some(line) => format!("sh -c {}", crate::clients::exec::quote(line)),
            None => c
                .argv
                .iter()
                .map(|a| crate::clients::exec::quote(a))
                .collect::<Vec<_>>()
                .join(" "),
        }]),
        ActionSpec::RollbackCommands(_) => Ok(rollback_commands(ctx)),
        ActionSpec::Merge(_) => merge::plan(&merge_of(ctx, &ctx.clients.repo())).await,
        ActionSpec::GithubApprove(_) => {
            let c = &ctx.clients;
            let gh = c.github().map_err(unavailable)?;
            github::plan(&gh, &c.config.git.production, ctx.run(), &c.clock, &ctx.by).await
        }
        ActionSpec::SlackNotify(a) => slack::plan(a, ctx).await,
        ActionSpec::SentryRelease(_) => {
            let c = &ctx.clients;
            let sentry = c.sentry().map_err(unavailable)?;
            sentry::plan(&sentry, &c.config, ctx.run(), &c.clock).await
        }
        ActionSpec::GithubDeploymentStatus(_) => {
            let c = &ctx.clients;
            let gh = c.github().map_err(unavailable)?;
            deployment_record::plan(&gh, &c.config, ctx.run()).await
        }
        ActionSpec::MonitorReview(_) => crate::actions::review::review_plan(ctx),
    }
}

/// After a crash between intent and result: has the effect already happened? `Some` when
/// it has (the item becomes `done` without running again).
pub async fn reconcile(
    spec: &ActionSpec,
    ctx: &ActionContext,
) -> Result<Option<ActionResult>, ActionError> {
    match spec {
        // A team's own command cannot be observed; the walk asks the person.
        ActionSpec::Command(_) => Ok(None),
        ActionSpec::RollbackCommands(_) => Ok(None),
        ActionSpec::Merge(_) => merge::reconcile(&merge_of(ctx, &ctx.clients.repo())).await,
        ActionSpec::GithubApprove(_) => {
            let c = &ctx.clients;
            let gh = c.github().map_err(unavailable)?;
            github::reconcile(&gh, &c.config.git.production, ctx.run(), &c.clock).await
        }
        ActionSpec::SlackNotify(a) => slack::reconcile(a, ctx).await,
        ActionSpec::SentryRelease(_) => {
            let c = &ctx.clients;
            let sentry = c.sentry().map_err(unavailable)?;
            sentry::reconcile(&sentry, &c.config, ctx.run()).await
        }
        ActionSpec::GithubDeploymentStatus(_) => {
            let gh = ctx.clients.github().map_err(unavailable)?;
            deployment_record::reconcile(&gh, ctx.run()).await
        }
        ActionSpec::MonitorReview(_) => crate::actions::review::review_reconcile(ctx),
    }
}

/// Whether [`reconcile`] answering "not done" is a fact about the world (the action looked
/// and the effect is not there, so performing it again is safe) rather than "cannot tell".
pub fn reconcile_is_authoritative(spec: &ActionSpec) -> bool {
    match spec {
        ActionSpec::Merge(_)
        | ActionSpec::GithubApprove(_)
        | ActionSpec::SentryRelease(_)
        | ActionSpec::GithubDeploymentStatus(_) => true,
        ActionSpec::RollbackCommands(_) => true,
        // The invitation is written before it is announced: no file, no announcement.
        ActionSpec::MonitorReview(_) => true,
        // A team's command cannot be observed; a Slack message cannot be read back.
        ActionSpec::Command(_) | ActionSpec::SlackNotify(_) => false,
    }
}

/// Performs the action.
pub async fn perform(spec: &ActionSpec, ctx: &ActionContext) -> Result<ActionResult, ActionError> {
    match spec {
        ActionSpec::Command(c) => {
            let clients = &ctx.clients;
            // An action's command is no item's check: the hint names no item to retune.
            let outcome = crate::checks::command::run(
                c,
                &clients.base_dir,
                &clients.repo_dir(),
                &crate::model::checklist::Checklist::default(),
                &clients.secrets,
            )
            .await;
            match outcome.status {
                crate::model::outcome::Status::Pass => Ok(ActionResult {
                    summary: outcome.summary,
                    evidence: outcome.evidence,
                    facts: Vec::new(),
                }),
                _ => Err(ActionError::new(outcome.summary)),
            }
        }
        ActionSpec::RollbackCommands(_) => {
            let commands = rollback_commands(ctx);
            Ok(ActionResult {
                summary: format!("{} rollback commands ready", commands.len()),
                evidence: json!({ "commands": commands }),
                facts: Vec::new(),
            })
        }
        ActionSpec::Merge(_) => merge::perform(&merge_of(ctx, &ctx.clients.repo())).await,
        ActionSpec::GithubApprove(_) => {
            let c = &ctx.clients;
            let gh = c.github().map_err(unavailable)?;
            github::perform(&gh, &c.config.git.production, ctx.run(), &c.clock, &ctx.by).await
        }
        ActionSpec::SlackNotify(a) => slack::perform(a, ctx).await,
        ActionSpec::SentryRelease(_) => {
            let c = &ctx.clients;
            let sentry = c.sentry().map_err(unavailable)?;
            sentry::perform(&sentry, &c.config, ctx.run(), &c.clock).await
        }
        ActionSpec::GithubDeploymentStatus(_) => {
            let c = &ctx.clients;
            let gh = c.github().map_err(unavailable)?;
            deployment_record::perform(&gh, &c.config, ctx.run()).await
        }
        ActionSpec::MonitorReview(_) => crate::actions::review::review(ctx).await,
    }
}

/// The seed's rollback commands for this config: git revert of the release merge, and each
/// production app's Fly rollback, with what the run recorded where it has it.
pub fn rollback_commands(ctx: &ActionContext) -> Vec<String> {
    let cfg = &ctx.clients.config;
    let prod = &cfg.git.production;
    let remote = &cfg.git.remote;
    let mut out = vec![
        format!("git checkout {prod}"),
        format!(
            "git revert -m 1 <release merge commit> --no-edit   # HEAD of {prod} after the release"
        ),
        format!("git push {remote} {prod}"),
    ];
    if let Some(env) = cfg.environments.get("production") {
        let targets = ctx
            .run()
            .and_then(crate::checks::fly::recorded_targets)
            .unwrap_or_default();
        let client = ctx.clients.fly();
        for app in &env.apps {
            if let Some(fly) = &app.fly_app {
                match targets.iter().find(|t| &t.fly_app == fly) {
                    Some(t) => out.push(format!(
                        "{}   # {} back to v{}",
                        crate::checks::fly::rollback_command(&client, t),
                        t.app,
                        t.version
                    )),
                    None => {
                        out.push(format!(
                            "flyctl releases -a {fly} --image   # pick the previous release's image"
                        ));
                        out.push(format!(
                            "flyctl deploy --image <previous image> -a {fly} --yes"
                        ));
                    }
                }
            }
        }
        if let Some(fly) = env.apps.iter().find_map(|a| a.fly_app.as_ref()) {
            out.push(format!(
                "flyctl scale count 0 -a {fly} --yes   # emergency stop"
            ));
        }
    }
    out
}
