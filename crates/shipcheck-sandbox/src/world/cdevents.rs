//! A CDEvents sink: `POST /cdevents` receiving CloudEvents in the HTTP binding's binary
//! content mode (CDEvents spec `cloudevents-binding.md`: `ce-specversion: 1.0`, `ce-id`,
//! `ce-source`, `ce-type`, `ce-subject`, `ce-time` headers; the CDEvent as the body with
//! `Content-Type: application/cdevents+json`). Every POST is recorded, accepted or not
//! (`world/cdevents.jsonl`: the `ce-*` attributes, the content type, the body, the status).
//!
//! Answers: `202` with no body when accepted; `401` without the world's bearer token; `400`
//! (a JSON error) when a required attribute is missing, `ce-specversion` is not `1.0`, the
//! content type is not JSON, the body is not a JSON object, or `ce-id`/`ce-type` differ from
//! the body's `context.id`/`context.type`. A flaky sink ([`super::WorldOptions::flaky_sink`])
//! records the first POST of each id and answers it `503`, as a receiver that stored the event
//! but lost its answer: the sender tries again, and the receiver sees the id twice.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;

/// The path events are POSTed to.
pub const PATH: &str = "/cdevents";

/// One POST the sink received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceivedEvent {
    /// `ce-id`.
    pub id: String,
    /// `ce-type`.
    pub kind: String,
    /// `ce-source`.
    pub source: String,
    /// `ce-subject`.
    pub subject: String,
    /// `ce-time`.
    pub time: String,
    /// `ce-specversion`.
    pub specversion: String,
    /// `Content-Type`.
    pub content_type: String,
    /// The body (JSON when it parsed, else the text).
    pub body: Value,
    /// The status answered.
    pub status: u16,
}

/// The router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(axum::middleware::from_fn_with_state(
            (shared.clone(), "cdevents"),
            super::record::layer::record,
        ))
        .with_state(shared)
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn bad(message: String) -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, json!({ "error": message }))
}

/// What the sink answers to a POST: (status, JSON error body if any).
fn judge(shared: &Shared, h: &HeaderMap, body: &Value) -> (StatusCode, Value) {
    let auth = header(h, "authorization");
    if auth != format!("Bearer {}", shared.secrets.events) {
        return (
            StatusCode::UNAUTHORIZED,
            json!({ "error": "a bearer token is required" }),
        );
    }
    for name in [
        "ce-specversion",
        "ce-id",
        "ce-source",
        "ce-type",
        "ce-subject",
        "ce-time",
    ] {
        if header(h, name).is_empty() {
            return bad(format!(
                "the {name} header is required (binary content mode)"
            ));
        }
    }
    if header(h, "ce-specversion") != "1.0" {
        return bad("ce-specversion must be 1.0".into());
    }
    let ct = header(h, "content-type");
    if !(ct.starts_with("application/cdevents+json") || ct.starts_with("application/json")) {
        return bad(format!("content type {ct:?} is not JSON"));
    }
    if !body.is_object() {
        return bad("the body is not a JSON object".into());
    }
    if body["context"]["id"].as_str() != Some(header(h, "ce-id").as_str())
        || body["context"]["type"].as_str() != Some(header(h, "ce-type").as_str())
    {
        return bad("ce-id and ce-type must be the CDEvent's context.id and context.type".into());
    }
    (StatusCode::ACCEPTED, Value::Null)
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let parsed: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let (mut status, error) = judge(&shared, &headers, &parsed);
    let id = header(&headers, "ce-id");
    if status == StatusCode::ACCEPTED && shared.flaky_sink {
        let mut seen = shared.sink_seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.contains(&id) {
            seen.push(id.clone());
            status = StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let r = ReceivedEvent {
        id,
        kind: header(&headers, "ce-type"),
        source: header(&headers, "ce-source"),
        subject: header(&headers, "ce-subject"),
        time: header(&headers, "ce-time"),
        specversion: header(&headers, "ce-specversion"),
        content_type: header(&headers, "content-type"),
        body: parsed,
        status: status.as_u16(),
    };
    shared.recorder.cdevent(&r);
    if status == StatusCode::ACCEPTED {
        status.into_response()
    } else if status == StatusCode::SERVICE_UNAVAILABLE {
        (status, axum::Json(json!({ "error": "try again" }))).into_response()
    } else {
        (status, axum::Json(error)).into_response()
    }
}
