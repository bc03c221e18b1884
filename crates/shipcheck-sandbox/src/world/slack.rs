//! The Slack receiver: an incoming webhook (`reference/external-apis.md` §4) at
//! `/services/T0DEMO/B0DEMO/<secret>`. A JSON body with `text` and/or `blocks` is a message:
//! recorded (`world/slack.jsonl`), printed when the world echoes, answered `200 ok`. Errors
//! are Slack's plain-text ones: `invalid_payload` (400) for a body that is not JSON,
//! `no_text` (400) for one without text or blocks, `no_service` (404) for a wrong secret.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::{Shared, SlackMessage};

/// The router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/services/{team}/{bot}/{secret}", post(receive))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no_service").into_response() })
        .layer(axum::middleware::from_fn_with_state(
            (shared.clone(), "slack"),
            super::record::layer::record,
        ))
        .with_state(shared)
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path((team, bot, secret)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if team != "T0DEMO" || bot != "B0DEMO" || secret != shared.secrets.slack {
        return (StatusCode::NOT_FOUND, "no_service").into_response();
    }
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Some(v) = serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(|v| json_type && v.is_object())
    else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let text = v.get("text").and_then(Value::as_str).unwrap_or_default();
    let blocks = v.get("blocks").cloned().unwrap_or(Value::Null);
    if text.trim().is_empty() && blocks.as_array().is_none_or(|b| b.is_empty()) {
        return (StatusCode::BAD_REQUEST, "no_text").into_response();
    }
    if blocks != Value::Null && !blocks.is_array() {
        return (StatusCode::BAD_REQUEST, "invalid_blocks").into_response();
    }
    let m = SlackMessage {
        text: text.to_string(),
        blocks,
        at: shared.now().to_string(),
    };
    if shared.echo_slack {
        let first = m.text.lines().next().unwrap_or_default();
        println!("  💬 slack #deploys: {first}");
    }
    shared.recorder.slack(&m);
    shared
        .slack
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(m);
    (StatusCode::OK, "ok").into_response()
}
