//! `slack.notify`: posts one of the seed's messages to the team's channel, at most once.
//! A failed message never blocks anything but its own item, which is left `error` and can be
//! retried; a message whose sending was interrupted is never sent again automatically.

use serde_json::json;

use crate::actions::messages::{MessageFacts, message, seed_text};
use crate::actions::{ActionContext, ActionError, ActionResult};
use crate::checks::github::{merge_commit, short};
use crate::checks::gitlog;
use crate::model::checklist::{SlackMessage, SlackNotifyAction};

const MAX_CHANGES: usize = 10;

/// What the message says about this run.
pub async fn facts(ctx: &ActionContext) -> MessageFacts {
    let c = &ctx.clients;
    let run = ctx.run();
    let repo = c.repo();
    let scheduled = run.and_then(|r| r.scheduled_at).map(|at| {
        match jiff::tz::TimeZone::get(&c.config.project.timezone) {
            Ok(tz) => at.to_zoned(tz).strftime("%a %Y-%m-%d %H:%M %Z").to_string(),
            Err(_) => at.to_string(),
        }
    });
    // After the merge, the release is what its second parent brought (the staging commits,
    // as the earlier messages counted them); a release commit that is not a merge is itself.
    let mut changes = match merge_commit(run) {
        Ok(m) => match gitlog::oneline(&repo, &format!("{m}^1..{m}^2"), MAX_CHANGES + 1).await {
            Ok(list) => list,
            Err(_) => gitlog::oneline(&repo, &format!("{m}^1..{m}"), MAX_CHANGES + 1)
                .await
                .unwrap_or_default(),
        },
        Err(_) => gitlog::oneline(&repo, &gitlog::release_range(&repo), MAX_CHANGES + 1)
            .await
            .unwrap_or_default(),
    };
    let more = changes.len() > MAX_CHANGES;
    changes.truncate(MAX_CHANGES);
    if let Ok(m) = merge_commit(run)
        && changes.is_empty()
    {
        changes.push(format!("release merge {}", short(&m)));
    }
    MessageFacts {
        project: c.config.project.name.clone(),
        env: run
            .map(|r| r.env.clone())
            .unwrap_or_else(|| "production".into()),
        run_id: run.map(|r| r.id.clone()),
        by: ctx.by.clone(),
        scheduled,
        description: ctx.message.clone(),
        changes,
        more_changes: more,
        rolled_back: run.is_some_and(|r| r.rollbacks.iter().any(|rb| rb.succeeded == Some(true))),
        journal_head: run
            .filter(|r| !r.head_hash.is_empty())
            .map(|r| (r.event_count as i64, r.head_hash.clone())),
    }
}

/// The closing message never contradicts production: with a rollback in flight (production
/// may run either release) or a rollback that failed (it may still run the release the
/// watch condemned), neither "stable" nor "rolled back" is true yet.
fn closing_is_true(spec: &SlackNotifyAction, ctx: &ActionContext) -> Result<(), ActionError> {
    if spec.message != SlackMessage::Stable {
        return Ok(());
    }
    let Some(run) = ctx.run() else {
        return Ok(());
    };
    if let Some(r) = run.rollback_in_flight() {
        return Err(ActionError::new(format!(
            "a {} rollback started by {} has not reported back; production may run either release, so the closing message is not posted: `shipcheck next` finishes the rollback first",
            r.strategy, r.by
        )));
    }
    if let Some(r) = run.rollbacks.last().filter(|r| r.succeeded == Some(false)) {
        return Err(ActionError::new(format!(
            "the {} rollback failed ({}); production may still run the release, so the closing message is not posted: roll back by hand, then post it yourself and tick",
            r.strategy,
            r.outcome.as_deref().unwrap_or("no detail")
        )));
    }
    Ok(())
}

/// The message that would be posted (the URL is never shown).
pub async fn plan(
    spec: &SlackNotifyAction,
    ctx: &ActionContext,
) -> Result<Vec<String>, ActionError> {
    closing_is_true(spec, ctx)?;
    let slack = ctx.clients.slack().map_err(ActionError::new)?;
    // The head is the one when it is posted (after its intent is journaled).
    let mut f = facts(ctx).await;
    f.journal_head = None;
    let body = message(spec.message, &f);
    Ok(vec![format!(
        "POST the Slack webhook (${}) to {}: {}",
        slack.cfg.webhook_env,
        slack.destination(),
        body["text"].as_str().unwrap_or_default()
    )])
}

/// Posts the message.
pub async fn perform(
    spec: &SlackNotifyAction,
    ctx: &ActionContext,
) -> Result<ActionResult, ActionError> {
    closing_is_true(spec, ctx)?;
    let slack = ctx.clients.slack().map_err(ActionError::new)?;
    let body = message(spec.message, &facts(ctx).await);
    let text = body["text"].as_str().unwrap_or_default().to_string();
    let answer = slack.post(body).await.map_err(|e| {
        ActionError::integration(format!(
            "{e}; the message was not posted (nothing else waits for it): fix the cause and `shipcheck retry` this item, or post it yourself and tick"
        ))
    })?;
    Ok(ActionResult {
        summary: format!(
            "posted \"{}\" to {}",
            if spec.message == SlackMessage::Stable {
                text.split(" — ").next().unwrap_or_default()
            } else {
                seed_text(spec.message)
            },
            slack.destination()
        ),
        evidence: json!({
            "message": spec.message,
            "text": text,
            "channel": slack.cfg.channel_name,
            "answer": answer,
        }),
        facts: Vec::new(),
    })
}

/// An interrupted message is not sent again (at most once): the person looks at the channel.
pub async fn reconcile(
    spec: &SlackNotifyAction,
    ctx: &ActionContext,
) -> Result<Option<ActionResult>, ActionError> {
    let channel = ctx
        .clients
        .config
        .slack
        .as_ref()
        .and_then(|s| s.channel_name.clone())
        .unwrap_or_else(|| "the team's channel".into());
    let what = match spec.message {
        SlackMessage::TeamNotified => "the deployment-time message".to_string(),
        k => format!("\"{}\"", seed_text(k)),
    };
    Err(ActionError::new(format!(
        "shipcheck stopped while posting {what} to Slack and never sends a message twice: look in {channel}; if it is there, `shipcheck tick` this item; if not, post it yourself and tick"
    )))
}

#[cfg(test)]
#[path = "slack_tests.rs"]
mod tests;
