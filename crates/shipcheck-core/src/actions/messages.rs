//! The Slack messages of the seed checklist: their words ([`seed_text`]) and the Block Kit
//! body with its text fallback ([`message`]). [`crate::clients::slack`] only posts them.

use serde_json::{Value, json};

use crate::model::checklist::SlackMessage;

/// The seed's words for each message.
pub fn seed_text(kind: SlackMessage) -> &'static str {
    match kind {
        SlackMessage::TeamNotified => "Production deployment scheduled",
        SlackMessage::Starting => "Starting production deployment",
        SlackMessage::Incident => "⚠️ Issue detected in production. Investigating...",
        SlackMessage::Stable => "Deployment stable",
    }
}

/// Escapes `&`, `<` and `>` for Slack's mrkdwn.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What a message is about.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageFacts {
    /// The project.
    pub project: String,
    /// The environment.
    pub env: String,
    /// The shipcheck run id.
    pub run_id: Option<String>,
    /// The person.
    pub by: String,
    /// When the deployment is scheduled, already formatted.
    pub scheduled: Option<String>,
    /// The release description the person gave.
    pub description: Option<String>,
    /// One line per change (`abc1234 Fix login`).
    pub changes: Vec<String>,
    /// More changes than listed.
    pub more_changes: bool,
    /// The release was rolled back (the closing message says so instead of "stable").
    pub rolled_back: bool,
    /// The run's journal head (event, hash), carried by the closing message: an anchor of
    /// the journal outside the store (`shipcheck verify` compares it).
    pub journal_head: Option<(i64, String)>,
}

/// The webhook body: Block Kit blocks and the text fallback.
pub fn message(kind: SlackMessage, f: &MessageFacts) -> Value {
    let headline = match (kind, &f.scheduled) {
        (SlackMessage::TeamNotified, Some(at)) => {
            format!("Production deployment scheduled for {at}")
        }
        (SlackMessage::TeamNotified, None) => "Production deployment scheduled for today".into(),
        (SlackMessage::Stable, _) if f.rolled_back => {
            "Deployment rolled back: production is stable on the previous release".into()
        }
        (k, _) => seed_text(k).to_string(),
    };
    let run = f.run_id.as_deref().unwrap_or("(no run)");
    let mut text = format!(
        "{headline} — {} to {}, run {run}, by {}",
        f.project, f.env, f.by
    );
    let summary = match (&f.description, f.changes.len()) {
        (Some(d), _) => Some(d.clone()),
        (None, 0) => None,
        (None, n) => Some(format!(
            "{n}{} change(s)",
            if f.more_changes { "+" } else { "" }
        )),
    };
    if let Some(s) = &summary {
        text.push_str(&format!(": {s}"));
    }
    if let (SlackMessage::Stable, Some((seq, head))) = (kind, &f.journal_head) {
        text.push_str(&format!("\njournal head {head} at event {seq}"));
    }
    let mut blocks = vec![
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("*{}*", escape(&headline)) } }),
        json!({ "type": "section", "fields": [
            { "type": "mrkdwn", "text": format!("*Project*\n{}", escape(&f.project)) },
            { "type": "mrkdwn", "text": format!("*Environment*\n{}", escape(&f.env)) },
            { "type": "mrkdwn", "text": format!("*Run*\n{}", escape(run)) },
            { "type": "mrkdwn", "text": format!("*By*\n{}", escape(&f.by)) },
        ] }),
    ];
    if let Some(d) = &f.description {
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("*Release*\n{}", escape(d)) } }));
    }
    if !f.changes.is_empty() {
        let mut list: Vec<String> = f
            .changes
            .iter()
            .map(|c| format!("• {}", escape(c)))
            .collect();
        if f.more_changes {
            list.push("• …".into());
        }
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("*Changes*\n{}", list.join("\n")) } }));
    }
    blocks.push(json!({ "type": "context", "elements": [ { "type": "mrkdwn", "text": "sent by shipcheck" } ] }));
    json!({ "text": text, "blocks": blocks })
}
