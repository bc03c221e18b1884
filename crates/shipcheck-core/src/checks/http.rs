//! HTTP checks: one probe ([`run`]), and every app's health URL in an environment
//! ([`run_health`], in [`health`]).
//!
//! One attempt is a [`probe`]: the request with a per-attempt timeout, the status, the latency
//! to the response head, and the body (capped). A check makes up to `retries + 1` attempts,
//! waiting `backoff` (doubling) between them, and retries only when an attempt could not be
//! made (refused, timed out, …) or the server answered 5xx or 429. A wrong status is a
//! `fail`; no answer is an `error` with the reason.

mod health;

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::model::checklist::{HealthCheck, HttpCheck, StatusSpec};
use crate::model::config::Environments;
use crate::model::outcome::{Outcome, Status};
use crate::model::redact::{redact, redact_json};

/// Timeout of one attempt unless the check sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Further attempts after a failed one unless the check sets a number.
pub const DEFAULT_RETRIES: u32 = 2;
/// Wait before the first retry (doubled for each further one) unless the check sets one.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
/// Bodies are read up to this many bytes.
pub const BODY_CAP: usize = 1 << 20;
/// Body excerpts in evidence are at most this many characters.
pub const EXCERPT_CHARS: usize = 300;

/// Why an attempt got no (complete) answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// No complete answer within the attempt's timeout.
    Timeout(Duration),
    /// Nobody listens at the address.
    Refused,
    /// Another failure to connect (DNS, TLS, reset, …), with the reason.
    Connect(String),
    /// The request cannot be made as written (URL, method, header); retrying will not help.
    Invalid(String),
    /// Anything else (reading the body failed, …).
    Other(String),
}

impl ProbeError {
    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        !matches!(self, ProbeError::Invalid(_))
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Timeout(t) => {
                write!(f, "timed out after {}", crate::model::duration::format(*t))
            }
            ProbeError::Refused => f.write_str("connection refused"),
            ProbeError::Connect(why) => write!(f, "could not connect: {why}"),
            ProbeError::Invalid(why) => write!(f, "invalid request: {why}"),
            ProbeError::Other(why) => f.write_str(why),
        }
    }
}

/// One attempt's result.
#[derive(Clone, Debug)]
pub struct ProbeResult {
    /// The status, when the server answered.
    pub status: Option<u16>,
    /// Time to the response head (or to the failure).
    pub latency: Duration,
    /// The body (lossy UTF-8, at most [`BODY_CAP`] bytes); empty without an answer.
    pub body: String,
    /// Whether the body was longer than [`BODY_CAP`] and cut.
    pub body_truncated: bool,
    /// Why there is no complete answer.
    pub error: Option<ProbeError>,
    /// The answer's headers (names lowercase; a value that is not text is left out).
    pub headers: Vec<(String, String)>,
}

impl ProbeResult {
    fn failed(error: ProbeError, latency: Duration) -> ProbeResult {
        ProbeResult {
            status: None,
            latency,
            body: String::new(),
            body_truncated: false,
            error: Some(error),
            headers: Vec::new(),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.trim()))
            .map(|(_, v)| v.as_str())
    }

    /// Whether another attempt is worth making: no answer (unless the request is invalid), or
    /// an unexpected 5xx or 429.
    pub fn retryable(&self, expect: &StatusSpec) -> bool {
        match (&self.error, self.status) {
            (Some(e), _) => e.retryable(),
            (None, Some(s)) => !expect.accepts(s) && (s >= 500 || s == 429),
            (None, None) => true,
        }
    }
}

/// One attempt of `check` (method, URL, headers, per-attempt timeout; no retries). The watch
/// samples with this.
pub async fn probe(client: &reqwest::Client, check: &HttpCheck) -> ProbeResult {
    let timeout = check.timeout.map(|s| s.get()).unwrap_or(DEFAULT_TIMEOUT);
    let start = Instant::now();
    let method =
        match reqwest::Method::from_bytes(check.method.trim().to_ascii_uppercase().as_bytes()) {
            Ok(m) => m,
            Err(_) => {
                return ProbeResult::failed(
                    ProbeError::Invalid(format!("{:?} is not an HTTP method", check.method)),
                    start.elapsed(),
                );
            }
        };
    let url = match reqwest::Url::parse(check.url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(u) => {
            return ProbeResult::failed(
                ProbeError::Invalid(format!("URL scheme {:?} is not http or https", u.scheme())),
                start.elapsed(),
            );
        }
        Err(e) => {
            return ProbeResult::failed(
                ProbeError::Invalid(format!("{:?} is not a URL: {e}", check.url)),
                start.elapsed(),
            );
        }
    };
    // Headers a team wrote for this URL (a key, say) go nowhere else: such a request follows
    // a redirect only within its origin.
    let client = if check.headers.is_empty() {
        client.clone()
    } else {
        static SAME_ORIGIN: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
        SAME_ORIGIN
            .get_or_init(|| crate::clients::http::same_origin_client(Duration::from_secs(300)))
            .clone()
    };
    let mut request = client.request(method, url).timeout(timeout);
    for (k, v) in &check.headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let attempt = async {
        let mut response = request
            .send()
            .await
            .map_err(|e| (classify(&e, timeout), None))?;
        let latency = start.elapsed();
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = BODY_CAP - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let err = match classify(&e, timeout) {
                        ProbeError::Timeout(t) => ProbeError::Timeout(t),
                        other => ProbeError::Other(format!("reading the body failed: {other}")),
                    };
                    return Err((err, Some((status, latency))));
                }
            }
        }
        Ok((
            status,
            latency,
            String::from_utf8_lossy(&body).into_owned(),
            truncated,
            headers,
        ))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok((status, latency, body, body_truncated, headers))) => ProbeResult {
            status: Some(status),
            latency,
            body,
            body_truncated,
            error: None,
            headers,
        },
        Ok(Err((error, head))) => ProbeResult {
            status: head.map(|(s, _)| s),
            latency: head.map(|(_, l)| l).unwrap_or_else(|| start.elapsed()),
            body: String::new(),
            body_truncated: false,
            error: Some(error),
            headers: Vec::new(),
        },
        Err(_) => ProbeResult::failed(ProbeError::Timeout(timeout), start.elapsed()),
    }
}

/// Names a reqwest failure the way an operator says it.
fn classify(e: &reqwest::Error, timeout: Duration) -> ProbeError {
    if e.is_timeout() {
        return ProbeError::Timeout(timeout);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut parts: Vec<String> = Vec::new();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return ProbeError::Refused,
                std::io::ErrorKind::TimedOut => return ProbeError::Timeout(timeout),
                _ => {}
            }
        }
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    let text = parts.join(": ");
    if text.to_ascii_lowercase().contains("connection refused") {
        ProbeError::Refused
    } else if e.is_builder() || e.is_redirect() {
        ProbeError::Invalid(text)
    } else if e.is_connect() {
        ProbeError::Connect(text)
    } else {
        ProbeError::Other(text)
    }
}

/// Every attempt of one check, and the verdict on the last.
#[derive(Clone, Debug)]
pub(crate) struct Attempts {
    pub probes: Vec<ProbeResult>,
    pub status: Status,
    /// `answered 200 in 12ms`, `answered 500, expected 200`, `connection refused`.
    pub reason: String,
}

impl Attempts {
    fn last(&self) -> Option<&ProbeResult> {
        self.probes.last()
    }

    /// `" after 3 attempts"`, or nothing for one.
    pub fn attempts_note(&self) -> String {
        match self.probes.len() {
            0 | 1 => String::new(),
            n => format!(" after {n} attempts"),
        }
    }

    /// Evidence common to a probe and a health app (not redacted).
    pub fn evidence(&self, check: &HttpCheck) -> serde_json::Map<String, serde_json::Value> {
        let last = self.last();
        let mut e = serde_json::Map::new();
        e.insert("url".into(), json!(display_url(&check.url)));
        e.insert(
            "method".into(),
            json!(check.method.trim().to_ascii_uppercase()),
        );
        e.insert(
            "expect_status".into(),
            json!(expected_list(&check.expect_status)),
        );
        e.insert("status".into(), json!(last.and_then(|p| p.status)));
        e.insert(
            "latency_ms".into(),
            json!(last.map(|p| p.latency.as_millis() as u64)),
        );
        e.insert("attempts".into(), json!(self.probes.len()));
        let log: Vec<_> = self
            .probes
            .iter()
            .map(|p| {
                json!({
                    "status": p.status,
                    "latency_ms": p.latency.as_millis() as u64,
                    "error": p.error.as_ref().map(|e| e.to_string()),
                })
            })
            .collect();
        e.insert("attempt_log".into(), json!(log));
        if self.status != Status::Pass {
            e.insert("reason".into(), json!(self.reason));
        }
        e
    }
}

/// Makes up to `retries + 1` attempts of `check` and judges the last.
pub(crate) async fn attempt(client: &reqwest::Client, check: &HttpCheck) -> Attempts {
    let retries = check.retries.unwrap_or(DEFAULT_RETRIES);
    let mut backoff = check.backoff.map(|s| s.get()).unwrap_or(DEFAULT_BACKOFF);
    let mut probes = Vec::new();
    loop {
        let p = probe(client, check).await;
        let again = p.retryable(&check.expect_status) && probes.len() < retries as usize;
        probes.push(p);
        if !again {
            break;
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2).min(Duration::from_secs(60));
    }
    let (status, reason) = match probes.last() {
        Some(p) => judge(check, p),
        None => (Status::Error, "no attempt was made".into()),
    };
    Attempts {
        probes,
        status,
        reason,
    }
}

/// The verdict on one answer: status, then `body_contains`, then `json_pointer`/`json_equals`.
fn judge(check: &HttpCheck, p: &ProbeResult) -> (Status, String) {
    let status = match (&p.error, p.status) {
        (Some(e), _) => return (Status::Error, e.to_string()),
        (None, Some(s)) => s,
        (None, None) => return (Status::Error, "no answer".into()),
    };
    if !check.expect_status.accepts(status) {
        return (
            Status::Fail,
            format!(
                "answered {status}, expected {}",
                describe_expected(&check.expect_status)
            ),
        );
    }
    let ok = format!("answered {status} in {}", fmt_latency(p.latency));
    if let Some(needle) = &check.body_contains
        && !p.body.contains(needle.as_str())
    {
        return (
            Status::Fail,
            format!("answered {status} but the body does not contain {needle:?}"),
        );
    }
    if check.json_pointer.is_some() || check.json_equals.is_some() {
        let pointer = check.json_pointer.as_deref().unwrap_or("");
        let shown = if pointer.is_empty() {
            "the body"
        } else {
            pointer
        };
        let doc: serde_json::Value = match serde_json::from_str(&p.body) {
            Ok(v) => v,
            Err(e) => {
                let cut = if p.body_truncated {
                    " (it was cut at 1 MiB)"
                } else {
                    ""
                };
                return (
                    Status::Fail,
                    format!(
                        "answered {status} but the body is not JSON{cut} ({shown} was asked for): {e}"
                    ),
                );
            }
        };
        let Some(found) = doc.pointer(pointer) else {
            let hint = if pointer.starts_with('/') {
                ""
            } else {
                " (a JSON pointer starts with /, like /status)"
            };
            return (
                Status::Fail,
                format!("answered {status} but the JSON has no value at {pointer:?}{hint}"),
            );
        };
        if let Some(want) = &check.json_equals
            && found != want
        {
            return (
                Status::Fail,
                format!("answered {status} but {shown} is {found}, expected {want}"),
            );
        }
    }
    (Status::Pass, ok)
}

/// One HTTP probe with retries.
pub async fn run(c: &HttpCheck, http: &reqwest::Client, secrets: &[String]) -> Outcome {
    let a = attempt(http, c).await;
    let method = c.method.trim().to_ascii_uppercase();
    let url = display_url(&c.url);
    let mut evidence = a.evidence(c);
    if !c.headers.is_empty() {
        evidence.insert(
            "headers".into(),
            json!(c.headers.keys().collect::<Vec<_>>()),
        );
    }
    let sep = if a.status == Status::Error { ": " } else { " " };
    let summary = format!("{method} {url}{sep}{}{}", a.reason, a.attempts_note());
    if a.status != Status::Pass
        && let Some(excerpt) = a.last().and_then(|p| excerpt(p, secrets))
    {
        evidence.insert("body_excerpt".into(), json!(excerpt));
    }
    let mut evidence = serde_json::Value::Object(evidence);
    redact_json(&mut evidence, secrets);
    Outcome::new(a.status, redact(&summary, secrets), evidence)
}

/// Every app of an environment with a health URL, probed concurrently.
pub async fn run_health(
    c: &HealthCheck,
    environments: &Environments,
    http: &reqwest::Client,
    secrets: &[String],
) -> Outcome {
    health::run(c, environments, http, secrets).await
}

/// The first [`EXCERPT_CHARS`] characters of the body, redacted (before cutting, so a
/// secret cut in half cannot leak); `None` without a body.
pub(crate) fn excerpt(p: &ProbeResult, secrets: &[String]) -> Option<String> {
    let body = redact(p.body.trim(), secrets);
    if body.is_empty() {
        return None;
    }
    let mut out: String = body.chars().take(EXCERPT_CHARS).collect();
    if body.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    Some(out)
}

/// The URL with any password replaced, for evidence.
pub(crate) fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.trim().to_string(),
    }
}

fn expected_list(spec: &StatusSpec) -> Vec<u16> {
    match spec {
        StatusSpec::One(s) => vec![*s],
        StatusSpec::Any(list) => list.clone(),
    }
}

/// `200`, `200 or 204`, `200, 201 or 204`.
pub(crate) fn describe_expected(spec: &StatusSpec) -> String {
    let list: Vec<String> = expected_list(spec).iter().map(u16::to_string).collect();
    match list.split_last() {
        None => "no status (the expected list is empty)".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// `12ms`, `1.2s`.
pub(crate) fn fmt_latency(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests;
