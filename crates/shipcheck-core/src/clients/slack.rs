//! Slack incoming webhooks (`external-apis.md` §4): one POST of Block Kit blocks with a
//! text fallback. Success is HTTP 200 with the body `ok`; errors are plain-text bodies
//! (`channel_not_found`, `invalid_payload`, ...); 429 carries `Retry-After`.
//!
//! The webhook URL is a secret: it is read from the environment and never printed.

use serde_json::Value;

use crate::clients::api::{Api, ApiError, Policy, Request, Service};
use crate::clients::{ClientError, Kit};
use crate::model::config::SlackConfig;

/// What a webhook needs (it carries its own authorization).
pub const PERM_WEBHOOK: &str =
    "a valid incoming-webhook URL of an installed Slack app (the URL is the credential)";

/// A webhook client.
#[derive(Clone, Debug)]
pub struct Slack {
    api: Api,
    /// `[slack]`.
    pub cfg: SlackConfig,
}

impl Slack {
    /// A client for `[slack]`, with the webhook URL from the environment variable it names.
    /// `Err` names what is missing.
    pub fn new(cfg: &SlackConfig, kit: &Kit) -> Result<Slack, ClientError> {
        let cfg = cfg.clone();
        let url = crate::model::config::env_token(&cfg.webhook_env, "Slack")
            .map_err(|e| ClientError(e.0))?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ClientError(format!(
                "Slack: the environment variable {} does not hold a webhook URL (https://hooks.slack.com/services/…)",
                cfg.webhook_env
            )));
        }
        let api = Api::new(
            kit.http.clone(),
            Service::Slack,
            &url,
            None,
            Policy::from(cfg.limits()),
            kit.clock.clone(),
        )
        .with_secrets(kit.secrets.clone());
        Ok(Slack { api, cfg })
    }

    /// Where messages go, for people (`#deploys`, or the variable's name).
    pub fn destination(&self) -> String {
        self.cfg
            .channel_name
            .clone()
            .unwrap_or_else(|| format!("the channel of ${}", self.cfg.webhook_env))
    }

    /// Posts `body` once (429 waits for `Retry-After`; nothing else is retried). Anything but
    /// `200 ok` is an error: Slack's plain-text codes are explained, an HTML page is named
    /// by its title.
    pub async fn post(&self, body: Value) -> Result<String, ApiError> {
        let what = format!("the message to {}", self.destination());
        let reply = self
            .api
            .send(Request::post("", body, what, PERM_WEBHOOK))
            .await?;
        read_answer(&reply.body).map_err(|r| reply.malformed(r))
    }
}

/// Reads a webhook's successful answer: Slack's `ok`. Anything else (a proxy's page, another
/// service) means not posted as far as anyone can tell; `Err` says what came instead.
pub fn read_answer(body: &str) -> Result<String, String> {
    let answer = body.trim();
    if answer != "ok" {
        return Err(format!(
            "{} where Slack answers `ok`",
            if answer.is_empty() {
                "an empty body".to_string()
            } else {
                crate::clients::api::api_message(answer)
            }
        ));
    }
    Ok(answer.to_string())
}

#[cfg(test)]
#[path = "slack_tests.rs"]
mod tests;
