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
    /// A 2xx answer that is not the documented shape.
    #[error("{service} answered {what} with malformed JSON: {reason}")]
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

/// The message in an error body: GitHub's `message` (with `errors`), Sentry's `detail`,
/// Prometheus's `error`, or the text itself (Slack), cut to 300 characters.
pub fn api_message(body: &str) -> String {
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => {
            let pick = |k: &str| v.get(k).and_then(|m| m.as_str()).map(str::to_string);
            let mut m = pick("message")
                .or_else(|| pick("detail"))
                .or_else(|| pick("error"))
                .unwrap_or_else(|| body.trim().to_string());
            if let Some(errs) = v.get("errors").and_then(|e| e.as_array()) {
                let parts: Vec<String> = errs
                    .iter()
                    .filter_map(|e| {
                        e.as_str().map(str::to_string).or_else(|| {
                            e.get("message")
                                .and_then(|m| m.as_str())
                                .map(str::to_string)
                        })
                    })
                    .collect();
                if !parts.is_empty() {
                    m = format!("{m} ({})", parts.join("; "));
                }
            }
            m
        }
        Err(_) => body.trim().to_string(),
    };
    let mut out: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
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
