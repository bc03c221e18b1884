//! Deployment statuses in the GitHub stand-in: `GET|POST
//! /repos/{o}/{r}/deployments/{id}/statuses`, with GitHub's shapes
//! (`fixtures/api/github/deployment-statuses-pygithub-2020.json`,
//! `deployment-status-create-pygithub-2020.json`) and rules: the states GitHub accepts, a
//! description of at most 140 characters (422 "Validation Failed" otherwise), an unknown
//! deployment 404; the list newest first. `log_url` sets `target_url` too, as on GitHub.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::Shared;
use super::github::{REPO, REVIEWER, base, error, not_found, ours};

/// The states GitHub accepts.
pub const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

/// One status a deployment received.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusRecord {
    /// The id.
    pub id: i64,
    /// The deployment.
    pub deployment: i64,
    /// The state.
    pub state: String,
    /// The description.
    pub description: String,
    /// The log URL.
    pub log_url: String,
    /// The environment URL.
    pub environment_url: String,
    /// When (world time).
    pub created_at: Timestamp,
}

type St = State<Arc<Shared>>;

fn status_json(base: &str, s: &StatusRecord) -> Value {
    let api = format!("{base}/repos/{REPO}/deployments/{}", s.deployment);
    json!({
        "url": format!("{api}/statuses/{}", s.id),
        "id": s.id,
        "node_id": format!("DES_kwDO{}", s.id),
        "state": s.state,
        "creator": { "login": REVIEWER, "id": 1, "type": "User" },
        "description": s.description,
        "environment": "production",
        "target_url": s.log_url,
        "created_at": s.created_at.to_string(),
        "updated_at": s.created_at.to_string(),
        "deployment_url": api,
        "repository_url": format!("{base}/repos/{REPO}"),
        "environment_url": s.environment_url,
        "log_url": s.log_url,
        "performed_via_github_app": null,
    })
}

fn known(shared: &Shared, id: &str) -> Option<i64> {
    let id: i64 = id.parse().ok()?;
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    g.deployments.iter().any(|d| d.id == id).then_some(id)
}

/// `GET …/deployments/{id}/statuses`, newest first.
pub(crate) async fn list(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = known(&shared, &id).filter(|_| ours(&owner, &repo)) else {
        return not_found();
    };
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let base = base(&headers);
    let list: Vec<Value> = g
        .statuses
        .iter()
        .rev()
        .filter(|s| s.deployment == id)
        .map(|s| status_json(&base, s))
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

fn invalid(field: &str, code: &str, message: Option<&str>) -> Response {
    let mut e = json!({ "resource": "DeploymentStatus", "field": field, "code": code });
    if let Some(m) = message {
        e["message"] = json!(m);
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "message": "Validation Failed",
            "errors": [e],
            "documentation_url": "https://docs.github.com/rest/deployments/statuses#create-a-deployment-status",
            "status": "422",
        })),
    )
        .into_response()
}

/// `POST …/deployments/{id}/statuses`: 201 with the status.
pub(crate) async fn create(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(id) = known(&shared, &id).filter(|_| ours(&owner, &repo)) else {
        return not_found();
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let Some(state) = v
        .get("state")
        .and_then(Value::as_str)
        .filter(|s| STATES.contains(s))
    else {
        return invalid("state", "invalid", None);
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let description = text("description");
    if description.chars().count() > 140 {
        return invalid(
            "description",
            "custom",
            Some("description is too long (maximum is 140 characters)"),
        );
    }
    let log_url = match text("log_url") {
        s if s.is_empty() => text("target_url"),
        s => s,
    };
    let now = shared.now();
    let mut g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    g.next_status += 1;
    let s = StatusRecord {
        id: g.next_status,
        deployment: id,
        state: state.to_string(),
        description,
        log_url,
        environment_url: text("environment_url"),
        created_at: now,
    };
    g.statuses.push(s.clone());
    (
        StatusCode::CREATED,
        axum::Json(status_json(&base(&headers), &s)),
    )
        .into_response()
}
