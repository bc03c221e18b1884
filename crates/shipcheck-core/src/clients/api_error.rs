//! The typed errors of [`crate::clients::api`]: what went wrong with a request, and what to do.

use std::time::Duration;

use jiff::Timestamp;

use crate::clients::api::Service;

/// Why a request did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The token's environment variable is unset or empty.
    #[error("{0}")]
    MissingToken(String),
    /// 401.
    #[error(
        "{service} rejected the token (401) for {what}: it is missing, expired or invalid; the token needs {permission}{}",
        detail(message)
    )]
    Unauthorized {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// The permission the request needs.
        permission: String,
        /// The service's message.
        message: String,
    },
    /// 403 that is not a rate limit.
    #[error(
        "{service} refused {what} (403): the token lacks {permission}{}",
        detail(message)
    )]
    Forbidden {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// The permission the request needs.
        permission: String,
        /// The service's message.
        message: String,
    },
    /// 404.
    #[error("{service}: {what} not found (404){}", detail(message))]
    NotFound {
        /// The service.
        service: Service,
        /// The resource.
        what: String,
        /// The service's message.
        message: String,
    },
    /// 422 (GitHub's validation failures).
    #[error("{service} rejected {what} (422): {message}")]
    Unprocessable {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// The API's own message.
        message: String,
    },
    /// A rate limit that did not reset within the wait bound.
    #[error(
        "{service} rate limit hit for {what}; it resets at {reset_at} (waited {}, the bound is {}); run the item again after that",
        crate::model::duration::format(*waited),
        crate::model::duration::format(*bound)
    )]
    RateLimited {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// When the limit resets (or when `Retry-After` ends).
        reset_at: Timestamp,
        /// How long shipcheck already waited.
        waited: Duration,
        /// The wait bound.
        bound: Duration,
    },
    /// Any other unsuccessful status.
    #[error("{service} answered {status} for {what}{}", detail(message))]
    Status {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The service's message.
        message: String,
    },
    /// No answer within the request timeout.
    #[error(
        "{service} did not answer {what} within {} (the request timeout)",
        crate::model::duration::format(*limit)
    )]
    Timeout {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// The timeout.
        limit: Duration,
    },
    /// Could not connect, or the connection broke.
    #[error("could not reach {service} for {what}: {reason}")]
    Network {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// Why.
        reason: String,
    },
    /// A URL from an answer, or a redirect, that shipcheck did not follow: another origin (the
    /// token stays with the one it is configured for), a write's or a webhook's redirect.
    #[error(
        "{service}: {what} not read: {refusal}; shipcheck sends {service}'s credentials only to {home}"
    )]
    OtherOrigin {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// What the answer pointed to and why it was not followed.
        refusal: crate::clients::bounds::OriginRefusal,
        /// The origin the integration is configured for.
        home: String,
    },
    /// The body was larger than the service's cap.
    #[error(
        "{service} answered more than {} for {what}; shipcheck reads at most {} from {service}",
        crate::clients::bounds::format_bytes(*cap),
        crate::clients::bounds::format_bytes(*cap)
    )]
    TooLarge {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// The cap in bytes.
        cap: usize,
    },
    /// A 2xx answer that is not the documented shape.
    #[error("{service} answered {what} with something shipcheck cannot use: {reason}")]
    Malformed {
        /// The service.
        service: Service,
        /// What was asked for.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn detail(message: &str) -> String {
    if message.trim().is_empty() {
        String::new()
    } else {
        format!(" — {}", message.trim())
    }
}

impl ApiError {
    /// The HTTP status, when the service answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Unprocessable { .. } => Some(422),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The longest message quoted from an error body.
const MAX_MESSAGE: usize = 300;

/// One clear line from an error body, whatever shape it has:
///
/// - an HTML page (GitHub's "Unicorn!", Slack's 500): its `<title>`, never the page;
/// - GitHub: `message`, its `errors` (strings, or `{resource, field, code, message}`), and
///   `documentation_url`; the `status` string GitHub adds since 2024 repeats the HTTP status;
/// - Sentry: `{"detail": "…"}`, `{"detail": {"code", "message"}}`, field errors
///   `{"version": ["This field is required."]}`, and a bare JSON string;
/// - Prometheus and VictoriaMetrics: `{"status":"error","errorType","error"}` (VictoriaMetrics
///   puts the HTTP status in `errorType`, which is then left out);
/// - Fly-style `{"error": "…"}`;
/// - plain text (Slack's codes, with what they mean).
///
/// Cut to 300 characters, on one line. Empty for an empty body.
pub fn api_message(body: &str) -> String {
    let text = summarise(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(MAX_MESSAGE).collect();
    if one_line.chars().count() > MAX_MESSAGE {
        out.push('…');
    }
    out
}

fn summarise(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    if looks_html(trimmed) {
        return html_summary(trimmed);
    }
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(v) => json_summary(&v).unwrap_or_else(|| compact(&v)),
        Err(_) => slack_code(trimmed),
    }
}

/// Whether a body is an HTML page.
pub fn looks_html(body: &str) -> bool {
    let head: String = body
        .trim_start()
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    // JSON and Slack's codes never start with `<`; a page may open with a comment or `<?xml`.
    head.starts_with('<') && (head.starts_with("<!doctype html") || head.contains("<html"))
}

/// "an HTML page “Unicorn! · GitHub”" (or "… without a title").
pub fn html_summary(body: &str) -> String {
    match html_title(body) {
        Some(t) => format!("an HTML page \u{201c}{t}\u{201d} instead of an API answer"),
        None => "an HTML page without a title instead of an API answer".into(),
    }
}

/// The text of the first `<title>`, entities decoded, whitespace collapsed.
pub fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let raw = body.get(start..end)?;
    let text = decode_entities(raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            "middot" => Some('\u{b7}'),
            "ndash" => Some('\u{2013}'),
            "mdash" => Some('\u{2014}'),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn compact(v: &serde_json::Value) -> String {
    v.to_string()
}

fn json_summary(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let obj = match v {
        Value::String(s) => return Some(s.clone()),
        Value::Object(o) => o,
        _ => return None,
    };
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    // Prometheus / VictoriaMetrics.
    if obj.get("status").and_then(Value::as_str) == Some("error")
        && let Some(error) = s("error")
    {
        return Some(match s("errorType") {
            Some(t) if !t.is_empty() && !t.chars().all(|c| c.is_ascii_digit()) => {
                format!("{t}: {error}")
            }
            _ => error,
        });
    }
    // GitHub.
    if let Some(message) = s("message") {
        let mut m = message;
        if let Some(errs) = obj.get("errors").and_then(Value::as_array) {
            let parts: Vec<String> = errs.iter().filter_map(github_error_item).collect();
            if !parts.is_empty() {
                m = format!("{m} ({})", parts.join("; "));
            }
        }
        if let Some(url) = s("documentation_url") {
            m = format!("{m} [{url}]");
        }
        return Some(m);
    }
    // Sentry.
    match obj.get("detail") {
        Some(Value::String(d)) => return Some(d.clone()),
        Some(Value::Object(d)) => {
            let message = d.get("message").and_then(Value::as_str);
            let code = d.get("code").and_then(Value::as_str);
            return Some(match (message, code) {
                (Some(m), Some(c)) => format!("{m} ({c})"),
                (Some(m), None) => m.to_string(),
                (None, Some(c)) => c.to_string(),
                (None, None) => compact(&Value::Object(d.clone())),
            });
        }
        _ => {}
    }
    // Fly and others.
    if let Some(error) = s("error") {
        return Some(error);
    }
    // Sentry's serializer field errors: {"field": ["message", …], …}.
    let fields: Vec<String> = obj
        .iter()
        .filter_map(|(k, v)| {
            let msgs: Vec<&str> = v.as_array()?.iter().filter_map(Value::as_str).collect();
            (!msgs.is_empty()).then(|| format!("{k}: {}", msgs.join(" ")))
        })
        .collect();
    (!fields.is_empty()).then(|| fields.join("; "))
}

/// One of GitHub's `errors`: a string, or `{resource, field, code, message}`.
fn github_error_item(e: &serde_json::Value) -> Option<String> {
    if let Some(s) = e.as_str() {
        return Some(s.to_string());
    }
    let g = |k: &str| e.get(k).and_then(|v| v.as_str());
    if let Some(m) = g("message") {
        return Some(m.to_string());
    }
    let what = match (g("resource"), g("field")) {
        (Some(r), Some(f)) => format!("{r}.{f}"),
        (Some(r), None) => r.to_string(),
        (None, Some(f)) => f.to_string(),
        (None, None) => return None,
    };
    Some(match g("code") {
        Some(c) => format!("{what} {}", c.replace('_', " ")),
        None => what,
    })
}

/// Slack's plain-text error codes, with what they mean (`external-apis.md` §4).
const SLACK_CODES: &[(&str, &str)] = &[
    (
        "invalid_payload",
        "the message is not valid JSON or not sent as application/json",
    ),
    (
        "user_not_found",
        "the user the webhook posts to does not exist",
    ),
    (
        "action_prohibited",
        "a workspace admin restricted posting to this channel",
    ),
    (
        "channel_not_found",
        "the webhook's channel is gone, or the app was removed from it",
    ),
    ("channel_is_archived", "the webhook's channel is archived"),
    ("rollup_error", "Slack failed on its side; try again later"),
    (
        "no_service",
        "the webhook is disabled, removed or invalid: create a new one",
    ),
    ("no_service_id", "the webhook URL is incomplete"),
    ("no_team", "the workspace in the webhook URL does not exist"),
    ("team_disabled", "the workspace is disabled"),
    (
        "invalid_token",
        "the webhook's token is revoked (app uninstalled or URL regenerated): create a new webhook",
    ),
    ("no_text", "the message has no text"),
    ("no_active_hooks", "the app has no active webhooks"),
    (
        "posting_to_general_channel_denied",
        "only admins may post to this channel",
    ),
    ("invalid_blocks", "Slack rejected the message's blocks"),
    (
        "invalid_blocks_format",
        "Slack rejected the message's blocks",
    ),
    (
        "too_many_attachments",
        "the message has too many attachments",
    ),
];

fn slack_code(text: &str) -> String {
    match SLACK_CODES.iter().find(|(c, _)| *c == text) {
        Some((c, meaning)) => format!("{c} ({meaning})"),
        None => text.to_string(),
    }
}

/// An error and its causes on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

impl crate::model::error::HasKind for ApiError {
    fn kind(&self) -> crate::model::error::ErrorKind {
        match self {
            ApiError::MissingToken(_) => crate::model::error::ErrorKind::Config,
            _ => crate::model::error::ErrorKind::Integration,
        }
    }
}

#[cfg(test)]
#[path = "api_error_tests.rs"]
mod tests;
