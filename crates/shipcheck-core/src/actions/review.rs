//! `close.review-scheduled`: the post-deployment review invitation (`.ics`, see [`crate::actions::ics`])
//! written next to the store and announced in the team's channel.

use serde_json::json;

use crate::actions::{ActionContext, ActionError, ActionResult};

/// What `close.review-scheduled` will do.
pub fn review_plan(ctx: &ActionContext) -> Result<Vec<String>, ActionError> {
    let (path, invite) = review_invite(ctx)?;
    Ok(vec![format!(
        "write {} (post-deployment review {}, {}; attendees: {})",
        path.display(),
        invite.local,
        crate::model::duration::format(invite.end.duration_since(invite.start).unsigned_abs()),
        invite.attendee_names().join(", ")
    )])
}

fn review_invite(
    ctx: &ActionContext,
) -> Result<(std::path::PathBuf, crate::actions::ics::Invite), ActionError> {
    let run = ctx.run.as_deref().ok_or_else(|| {
        ActionError::new("the review invitation belongs to a run; it is written within one")
    })?;
    let invite =
        crate::actions::ics::review_invite(run, &ctx.clients.config, ctx.clients.clock.now())
            .map_err(ActionError::new)?;
    let short: String = run.id.chars().take(8).collect();
    let path = ctx
        .clients
        .base_dir
        .join(".shipcheck")
        .join(format!("review-{short}.ics"));
    Ok((path, invite))
}

/// `close.review-scheduled`: writes the `.ics` next to the store (its path is the evidence)
/// and announces it in the team's channel when `[slack]` is configured.
pub async fn review(ctx: &ActionContext) -> Result<ActionResult, ActionError> {
    let (path, invite) = review_invite(ctx)?;
    let text = crate::actions::ics::render(&invite);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ActionError::new(format!("creating {}: {e}", dir.display())))?;
    }
    std::fs::write(&path, text)
        .map_err(|e| ActionError::new(format!("writing {}: {e}", path.display())))?;
    let (announced, how) = announce(ctx, &invite, &path).await;
    Ok(ActionResult {
        summary: format!(
            "review invitation for {} written to {}; {how}",
            invite.local,
            path.display()
        ),
        evidence: json!({
            "path": path.display().to_string(),
            "uid": invite.uid,
            "start": invite.start,
            "end": invite.end,
            "local": invite.local,
            "attendees": invite.attendee_names(),
            "announced": announced,
            "announcement": how,
        }),
        facts: Vec::new(),
    })
}

/// A review already written (a crash after writing): done, without announcing it again.
pub fn review_reconcile(ctx: &ActionContext) -> Result<Option<ActionResult>, ActionError> {
    let (path, invite) = review_invite(ctx)?;
    let written = std::fs::read_to_string(&path).is_ok_and(|t| t.contains(&invite.uid));
    Ok(written.then(|| ActionResult {
        summary: format!(
            "review invitation found at {}; if it is not announced in the team's channel, share it",
            path.display()
        ),
        evidence: json!({ "path": path.display().to_string(), "uid": invite.uid }),
        facts: Vec::new(),
    }))
}

async fn announce(
    ctx: &ActionContext,
    invite: &crate::actions::ics::Invite,
    path: &std::path::Path,
) -> (bool, String) {
    if ctx.clients.config.slack.is_none() {
        return (
            false,
            "not announced (no [slack] webhook configured): share it with the team".into(),
        );
    }
    let slack = match ctx.clients.slack() {
        Ok(s) => s,
        Err(e) => {
            return (
                false,
                format!("not announced ({e}): share it with the team"),
            );
        }
    };
    let text = format!(
        "📅 {} — {} ({}). Invitation: {}",
        invite.summary,
        invite.local,
        invite.attendee_names().join(", "),
        path.file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default()
    );
    match slack.post(json!({ "text": text })).await {
        Ok(_) => (true, format!("announced in {}", slack.destination())),
        Err(e) => (
            false,
            format!("not announced ({e}): share it with the team"),
        ),
    }
}
