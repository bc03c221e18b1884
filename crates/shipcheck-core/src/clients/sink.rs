//! `[events] sink`: an HTTP endpoint that receives CDEvents as CloudEvents in the HTTP
//! binding's **binary content mode** (the mode of the CDEvents spec's own example,
//! `cloudevents-binding.md`): the CloudEvents attributes in `ce-*` headers, the CDEvent as
//! the body with `Content-Type: application/cdevents+json; charset=utf-8`.
//!
//! One POST per event, bounded: at most [`ATTEMPTS`] tries with doubling backoff, each
//! within `[events] timeout`, all within [`Sink::budget`] (a `Retry-After` longer than what is
//! left is not waited for). A 2xx is delivery — except an HTML page, which is not a
//! CloudEvents receiver's answer. 408, 429 and 5xx answers and network errors are tried
//! again; other 4xx are not. The token goes only to the sink's URL: the client follows no
//! redirect.

use std::time::{Duration, Instant};

use crate::clients::ClientError;
use crate::model::config::EventsConfig;

/// Tries of one event per send.
pub const ATTEMPTS: u32 = 3;
/// The wait before the second try (doubled before the third).
pub const BACKOFF: Duration = Duration::from_millis(250);
/// The most of an answer's body read (for the error's excerpt).
const BODY_CAP: usize = 64 << 10;

/// Why an event was not delivered (every try's reason, in order).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .tries.join("; then "))]
pub struct SinkError {
    /// Each try's reason.
    pub tries: Vec<String>,
}

/// The sink of `[events]`.
#[derive(Clone)]
pub struct Sink {
    http: reqwest::Client,
    /// The URL events are POSTed to.
    pub url: String,
    token: Option<String>,
    /// Timeout of one request.
    pub timeout: Duration,
    secrets: std::sync::Arc<Vec<String>>,
    /// Backoff before the second try (tests shorten it).
    pub backoff: Duration,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The CloudEvents attributes of one event (binary mode's `ce-*` headers).
#[derive(Clone, Debug, PartialEq)]
pub struct Attributes<'a> {
    /// `ce-id`.
    pub id: &'a str,
    /// `ce-source`.
    pub source: &'a str,
    /// `ce-type`.
    pub kind: &'a str,
    /// `ce-subject`.
    pub subject: &'a str,
    /// `ce-time`.
    pub time: &'a str,
}

impl Sink {
    /// The sink of `cfg`, with the token from the variable it names (if any).
    pub fn new(cfg: &EventsConfig, kit: &crate::clients::Kit) -> Result<Sink, ClientError> {
        let token = match &cfg.token_env {
            Some(var) => Some(
                crate::model::config::env_token(var, "[events] sink")
                    .map_err(|e| ClientError(e.0))?,
            ),
            None => None,
        };
        let timeout = cfg.timeout.get();
        Ok(Sink {
            http: crate::clients::http::api_client(timeout),
            url: cfg.sink.clone(),
            token,
            timeout,
            secrets: kit.secrets.clone(),
            backoff: BACKOFF,
        })
    }

    /// The longest one event's send may take: every try's timeout and the backoffs.
    pub fn budget(&self) -> Duration {
        self.timeout * ATTEMPTS + self.backoff * ((1 << (ATTEMPTS - 1)) - 1)
    }

    /// POSTs one event; `Ok(status)` when the sink accepted it.
    pub async fn send(&self, attrs: &Attributes<'_>, body: &str) -> Result<u16, SinkError> {
        let started = Instant::now();
        let budget = self.budget();
        let mut tries = Vec::new();
        let mut backoff = self.backoff;
        for attempt in 1..=ATTEMPTS {
            let left = budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                tries.push("no time left within the send's bound".into());
                break;
            }
            let answer = self.once(attrs, body, self.timeout.min(left)).await;
            let (retry, wait) = match answer {
                Ok(status) => return Ok(status),
                Err(Try {
                    reason,
                    retry,
                    wait,
                }) => {
                    tries.push(crate::model::redact::redact(&reason, &self.secrets));
                    (retry, wait)
                }
            };
            if !retry || attempt == ATTEMPTS {
                break;
            }
            let wait = wait.unwrap_or(backoff);
            if wait > budget.saturating_sub(started.elapsed()) {
                tries.push(format!(
                    "not tried again: the wait asked for ({} s) is longer than the send's bound",
                    wait.as_secs_f64().ceil()
                ));
                break;
            }
            tokio::time::sleep(wait).await;
            backoff *= 2;
        }
        Err(SinkError { tries })
    }

    async fn once(&self, a: &Attributes<'_>, body: &str, timeout: Duration) -> Result<u16, Try> {
        let mut rb = self
            .http
            .post(&self.url)
            .timeout(timeout)
            .header("ce-specversion", "1.0")
            .header("ce-id", a.id)
            .header("ce-source", a.source)
            .header("ce-type", a.kind)
            .header("ce-subject", a.subject)
            .header("ce-time", a.time)
            .header("content-type", CONTENT_TYPE)
            .body(body.to_string());
        if let Some(t) = &self.token {
            rb = rb.header(reqwest::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(Try::again(format!(
                    "no answer within {} ms",
                    timeout.as_millis()
                )));
            }
            Err(e) => {
                return Err(Try::again(format!(
                    "cannot reach the sink: {}",
                    crate::clients::api_error::error_chain(&e.without_url())
                )));
            }
        };
        let status = resp.status().as_u16();
        let retry_after = crate::clients::api::retry_after(resp.headers());
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text =
            match tokio::time::timeout(timeout, crate::clients::bounds::read_body(resp, BODY_CAP))
                .await
            {
                Ok(Ok(t)) => t,
                Ok(Err(crate::clients::bounds::BodyError::TooLarge)) => {
                    "(an answer larger than 64 KiB)".into()
                }
                Ok(Err(crate::clients::bounds::BodyError::Http(_))) | Err(_) => String::new(),
            };
        judge(status, &text, retry_after, location.as_deref())
    }
}

/// `Content-Type` of every event sent.
pub const CONTENT_TYPE: &str = "application/cdevents+json; charset=utf-8";

/// One try's failure.
#[derive(Debug, PartialEq)]
pub struct Try {
    /// Why.
    pub reason: String,
    /// Worth trying again.
    pub retry: bool,
    /// The wait the sink asked for (`Retry-After`).
    pub wait: Option<Duration>,
}

impl Try {
    fn again(reason: String) -> Try {
        Try {
            reason,
            retry: true,
            wait: None,
        }
    }
}

/// What an answer means: `Ok(status)` delivered, else why not and whether to try again.
/// Pure (the unit tests and the fuzz target call it).
pub fn judge(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    location: Option<&str>,
) -> Result<u16, Try> {
    let excerpt = || {
        let m = crate::clients::api_error::api_message(body);
        if m.is_empty() {
            String::new()
        } else {
            format!(": {m}")
        }
    };
    if (200..300).contains(&status) {
        if crate::clients::api_error::looks_html(body.trim()) {
            return Err(Try {
                reason: format!(
                    "HTTP {status} with an HTML page{} where a CloudEvents receiver answers with no body or JSON",
                    excerpt()
                ),
                retry: false,
                wait: None,
            });
        }
        return Ok(status);
    }
    if (300..400).contains(&status) {
        return Err(Try {
            reason: format!(
                "HTTP {status}: redirected to {}, not followed (the token goes only to the configured sink)",
                location.unwrap_or("nowhere")
            ),
            retry: false,
            wait: None,
        });
    }
    let retry = status == 408 || status == 429 || status >= 500;
    Err(Try {
        reason: format!("HTTP {status}{}", excerpt()),
        retry,
        wait: if retry { retry_after } else { None },
    })
}

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;
