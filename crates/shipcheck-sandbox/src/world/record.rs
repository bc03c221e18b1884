//! What the stand-ins were asked: every request (service, method, path with query, body,
//! answer status), kept in memory and appended to `world/requests.jsonl`, so a test in
//! another process, or a person, can read exactly what shipcheck sent.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One request a stand-in answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `github`, `sentry`, `prometheus`, `slack` or `cdevents`.
    pub service: String,
    /// GET, POST, …
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The body: JSON when it parsed, else the text (`null` when empty).
    pub body: serde_json::Value,
    /// The status answered.
    pub status: u16,
    /// Wall-clock time.
    pub at: String,
}

/// One Slack message received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// The `text` (the notification fallback).
    pub text: String,
    /// The `blocks`, if any.
    pub blocks: serde_json::Value,
    /// World time it arrived.
    pub at: String,
}

/// The request log.
pub(crate) struct Recorder {
    path: PathBuf,
    slack_path: PathBuf,
    cdevents_path: PathBuf,
    seen: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    pub fn new(dir: &Path) -> Recorder {
        Recorder {
            path: dir.join("requests.jsonl"),
            slack_path: dir.join("slack.jsonl"),
            cdevents_path: dir.join("cdevents.jsonl"),
            seen: Mutex::new(Vec::new()),
        }
    }

    pub fn record(&self, service: &str, method: &str, path: &str, body: &[u8], status: u16) {
        let body = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
            })
        };
        let r = RecordedRequest {
            service: service.into(),
            method: method.into(),
            path: path.into(),
            body,
            status,
            at: jiff::Timestamp::now().to_string(),
        };
        append(&self.path, &r);
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }

    pub fn slack(&self, m: &SlackMessage) {
        append(&self.slack_path, m);
    }

    pub fn cdevent(&self, e: &super::cdevents::ReceivedEvent) {
        append(&self.cdevents_path, e);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn append<T: Serialize>(path: &Path, value: &T) {
    let Ok(mut line) = serde_json::to_string(value) else {
        return;
    };
    line.push('\n');
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// The requests recorded in a world directory (for a process other than the world's).
pub fn read_requests(world_dir: &Path) -> Vec<RecordedRequest> {
    read_lines(&world_dir.join("world").join("requests.jsonl"))
}

/// The Slack messages recorded in a world directory.
pub fn read_slack(world_dir: &Path) -> Vec<SlackMessage> {
    read_lines(&world_dir.join("world").join("slack.jsonl"))
}

/// The POSTs the CDEvents sink received in a world directory, in order.
pub fn read_cdevents(world_dir: &Path) -> Vec<super::cdevents::ReceivedEvent> {
    read_lines(&world_dir.join("world").join("cdevents.jsonl"))
}

fn read_lines<T: for<'de> Deserialize<'de>>(path: &Path) -> Vec<T> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// An axum middleware body for the stand-ins: records each request with its answer.
pub(crate) mod layer {
    use std::sync::Arc;

    use axum::body::{Body, to_bytes};
    use axum::extract::{Request, State};
    use axum::middleware::Next;
    use axum::response::Response;

    use crate::world::Shared;

    /// Bodies larger than this are not recorded (or accepted).
    const MAX_BODY: usize = 1 << 20;

    pub async fn record(
        State((shared, service)): State<(Arc<Shared>, &'static str)>,
        req: Request,
        next: Next,
    ) -> Response {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
        let method = parts.method.to_string();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let req = Request::from_parts(parts, Body::from(bytes.clone()));
        let resp = next.run(req).await;
        shared
            .recorder
            .record(service, &method, &path, &bytes, resp.status().as_u16());
        resp
    }
}
