//! The Sentry stand-in (`reference/external-apis.md` §3): one organization (`maishapoa`)
//! with a project per app. Every 5xx an app answers is an error event of its project, in its
//! environment; events with the same title are one issue.
//!
//! A world is born without a past, so the day before it holds yesterday's background errors:
//! one `TimeoutError` per project and hour (an old, known issue). That is the baseline the
//! error rate after the deploy is compared with.
//!
//! Endpoints: `GET /api/0/projects/{org}/{project}/`,
//! `GET /api/0/organizations/{org}/events-timeseries/` (buckets inside the 90 s ingestion
//! delay are `incomplete`), `GET /api/0/organizations/{org}/stats_v2/`,
//! `GET /api/0/organizations/{org}/issues/`, `POST …/releases/`, `POST|GET
//! …/releases/{version}/deploys/`. Bearer token required (401 otherwise); unknown
//! organizations, projects and releases are 404; bad parameters are 400.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::Shared;
use super::query::{decode, get1, interval, pairs, time};

/// The organization slug.
pub const ORG: &str = "maishapoa";
/// Sentry's ingestion delay: younger buckets are incomplete.
const INGESTION_DELAY: SignedDuration = SignedDuration::from_secs(90);

/// One error event.
#[derive(Clone, Debug)]
struct Event {
    project: String,
    environment: String,
    at: Timestamp,
    title: String,
    culprit: String,
}

/// Releases and their deploys, and yesterday's events.
pub struct SentryState {
    history: Vec<Event>,
    releases: Mutex<BTreeMap<String, Vec<Value>>>,
    old_issue_first_seen: Timestamp,
}

/// Project slugs and ids.
const PROJECTS: [(&str, &str); 3] = [
    ("internal-api", "4501"),
    ("agent-registration", "4502"),
    ("public-api", "4503"),
];

const OLD_ISSUE: &str = "TimeoutError: upstream request timed out after 10000ms";

impl SentryState {
    pub(crate) fn new(start: Timestamp) -> SentryState {
        let mut history = Vec::new();
        for (slug, _) in PROJECTS {
            for h in 1..=24 {
                history.push(Event {
                    project: slug.into(),
                    environment: "production".into(),
                    at: start - SignedDuration::from_mins(60 * h - 17),
                    title: OLD_ISSUE.into(),
                    culprit: "GET /api/agents".into(),
                });
            }
        }
        SentryState {
            history,
            releases: Mutex::new(BTreeMap::new()),
            old_issue_first_seen: start - SignedDuration::from_hours(24 * 9),
        }
    }
}

fn events(shared: &Shared, from: Timestamp, to: Timestamp) -> Vec<Event> {
    let mut out: Vec<Event> = shared
        .sentry
        .history
        .iter()
        .filter(|e| e.at > from && e.at <= to)
        .cloned()
        .collect();
    for h in shared.apps.hits(None, from, to) {
        if h.status < 500 {
            continue;
        }
        let Some(spec) = shared.apps.spec(&h.fly_app) else {
            continue;
        };
        out.push(Event {
            project: spec.name.into(),
            environment: spec.env.into(),
            at: h.at,
            title: spec.error.into(),
            culprit: format!("GET {}", h.path.split('?').next().unwrap_or("/")),
        });
    }
    out
}

fn detail(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "detail": text }))).into_response()
}

/// A refusal, answered as Sentry's `{"detail": …}`.
struct Bad(StatusCode, String);

impl IntoResponse for Bad {
    fn into_response(self) -> Response {
        detail(self.0, &self.1)
    }
}

fn bad(status: StatusCode, text: &str) -> Bad {
    Bad(status, text.to_string())
}

async fn auth(
    State(shared): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == shared.secrets.sentry);
    if ok {
        next.run(req).await
    } else {
        detail(StatusCode::UNAUTHORIZED, "Invalid token")
    }
}

/// The router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/0/projects/{org}/{project}/", get(project))
        .route(
            "/api/0/organizations/{org}/events-timeseries/",
            get(timeseries),
        )
        .route("/api/0/organizations/{org}/stats_v2/", get(stats_v2))
        .route("/api/0/organizations/{org}/issues/", get(issues))
        .route(
            "/api/0/organizations/{org}/releases/",
            axum::routing::post(create_release),
        )
        .route(
            "/api/0/organizations/{org}/releases/{version}/deploys/",
            get(list_deploys).post(create_deploy),
        )
        .fallback(|| async {
            detail(
                StatusCode::NOT_FOUND,
                "The requested resource does not exist",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), auth))
        .layer(middleware::from_fn_with_state(
            (shared.clone(), "sentry"),
            super::record::layer::record,
        ))
        .with_state(shared)
}

/// The window of a request: `start`/`end`, or `statsPeriod` back from now.
fn window(shared: &Shared, p: &[(String, String)]) -> Result<(Timestamp, Timestamp), Bad> {
    let now = shared.now();
    if let Some(period) = get1(p, "statsPeriod") {
        let d = interval(period).ok_or_else(|| {
            bad(
                StatusCode::BAD_REQUEST,
                &format!("Invalid statsPeriod: {period}"),
            )
        })?;
        return Ok((now - d, now));
    }
    match (get1(p, "start").map(time), get1(p, "end").map(time)) {
        (Some(Some(s)), Some(Some(e))) if s < e => Ok((s, e)),
        (None, None) => Ok((now - SignedDuration::from_hours(24), now)),
        _ => Err(bad(
            StatusCode::BAD_REQUEST,
            "start and end must be ISO 8601 times or epoch seconds, start before end",
        )),
    }
}

/// The project slugs a request names (ids or slugs; none or `-1`: all).
fn projects(p: &[(String, String)]) -> Result<Vec<&'static str>, Bad> {
    let asked: Vec<&str> = p
        .iter()
        .filter(|(k, _)| k == "project")
        .map(|(_, v)| v.as_str())
        .collect();
    if asked.is_empty() || asked.contains(&"-1") {
        return Ok(PROJECTS.iter().map(|(s, _)| *s).collect());
    }
    asked
        .iter()
        .map(|a| {
            PROJECTS
                .iter()
                .find(|(s, id)| s == a || id == a)
                .map(|(s, _)| *s)
                .ok_or_else(|| {
                    bad(
                        StatusCode::FORBIDDEN,
                        &format!(
                            "You do not have permission to perform this action (project {a})."
                        ),
                    )
                })
        })
        .collect()
}

fn check_org(org: &str) -> Result<(), Bad> {
    if org == ORG {
        Ok(())
    } else {
        Err(bad(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist",
        ))
    }
}

fn filtered(
    shared: &Shared,
    p: &[(String, String)],
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Event>, Bad> {
    let projects = projects(p)?;
    let env = get1(p, "environment");
    Ok(events(shared, from, to)
        .into_iter()
        .filter(|e| projects.contains(&e.project.as_str()))
        .filter(|e| env.is_none_or(|v| v == e.environment))
        .collect())
}

async fn project(Path((org, slug)): Path<(String, String)>) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    match PROJECTS.iter().find(|(s, id)| *s == slug || *id == slug) {
        Some((s, id)) => axum::Json(json!({ "id": id, "slug": s, "name": s, "platform": "node" }))
            .into_response(),
        None => detail(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist",
        ),
    }
}

async fn timeseries(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    let p = pairs(&q);
    if get1(&p, "dataset").is_none() {
        return detail(StatusCode::BAD_REQUEST, "dataset is required");
    }
    let (start, end) = match window(&shared, &p) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let step = match get1(&p, "interval").map(interval) {
        Some(Some(d)) => d,
        None => SignedDuration::from_hours(1),
        Some(None) => return detail(StatusCode::BAD_REQUEST, "Invalid interval"),
    };
    if end.duration_since(start).as_secs() / step.as_secs().max(1) > 10_000 {
        return detail(
            StatusCode::BAD_REQUEST,
            "Your interval and date range would create too many results. Use a larger interval, or a smaller date range.",
        );
    }
    let evs = match filtered(&shared, &p, start - step, end) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    let now = shared.now();
    let step_s = step.as_secs().max(1);
    let mut t = Timestamp::from_second(start.as_second() / step_s * step_s).unwrap_or(start);
    let mut values = Vec::new();
    while t < end {
        let next = t + step;
        let n = evs.iter().filter(|e| e.at >= t && e.at < next).count();
        let mut v = json!({ "timestamp": t.as_millisecond(), "value": n, "incomplete": false });
        if next > now - INGESTION_DELAY {
            v["incomplete"] = json!(true);
            v["incompleteReason"] = json!("INCOMPLETE_BUCKET");
        }
        values.push(v);
        t = next;
    }
    axum::Json(json!({
        "timeSeries": [ { "yAxis": get1(&p, "yAxis").unwrap_or("count()"), "values": values,
            "meta": { "valueType": "integer", "valueUnit": null, "interval": step.as_millis() } } ],
        "meta": { "dataset": get1(&p, "dataset"), "start": start.as_millisecond(), "end": end.as_millisecond() },
    }))
    .into_response()
}

async fn stats_v2(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    let p = pairs(&q);
    if get1(&p, "field").is_none() || get1(&p, "groupBy").is_none() {
        return detail(StatusCode::BAD_REQUEST, "field and groupBy are required");
    }
    let step = get1(&p, "interval")
        .and_then(interval)
        .unwrap_or(SignedDuration::from_hours(1));
    if step < SignedDuration::from_hours(1) {
        return detail(
            StatusCode::BAD_REQUEST,
            "The interval has to be at least 1h.",
        );
    }
    let (start, end) = match window(&shared, &p) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let evs = match filtered(&shared, &p, start, end) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    axum::Json(json!({
        "start": start.to_string(), "end": end.to_string(),
        "intervals": [start.to_string()],
        "groups": [ { "by": { "outcome": "accepted" }, "totals": { "sum(quantity)": evs.len() },
                      "series": { "sum(quantity)": [evs.len()] } } ],
    }))
    .into_response()
}

async fn issues(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    let p = pairs(&q);
    let now = shared.now();
    let (start, end) = match window(&shared, &p) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let query = get1(&p, "query").unwrap_or("is:unresolved");
    // `firstSeen:-30m`: first seen within the last 30 minutes.
    let first_seen_after = query
        .split_whitespace()
        .find_map(|t| t.strip_prefix("firstSeen:-"))
        .and_then(interval)
        .map(|d| now - d);
    let all = match filtered(
        &shared,
        &p,
        start - SignedDuration::from_hours(24 * 30),
        end,
    ) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    let mut groups: BTreeMap<(String, String), Vec<&Event>> = BTreeMap::new();
    for e in &all {
        groups
            .entry((e.project.clone(), e.title.clone()))
            .or_default()
            .push(e);
    }
    let mut list = Vec::new();
    for ((project, title), evs) in groups {
        let mut first = evs.iter().map(|e| e.at).min().unwrap_or(now);
        if title == OLD_ISSUE {
            first = shared.sentry.old_issue_first_seen;
        }
        let last = evs.iter().map(|e| e.at).max().unwrap_or(now);
        if last < start || first_seen_after.is_some_and(|a| first < a) {
            continue;
        }
        let (_, pid) = PROJECTS
            .iter()
            .find(|(s, _)| *s == project)
            .copied()
            .unwrap_or(("", "0"));
        let id = format!(
            "{}{:04}",
            pid,
            super::apps::mix(title.len() as u64 + pid.len() as u64) % 10_000
        );
        let short = format!("{}-{}", project.to_uppercase(), &id[id.len() - 3..]);
        list.push((
            first,
            json!({
                "id": id, "shortId": short, "title": title, "culprit": evs[0].culprit,
                "level": "error", "status": "unresolved", "substatus": "new",
                "firstSeen": first.to_string(), "lastSeen": last.to_string(),
                "count": evs.len().to_string(), "userCount": evs.len().min(40),
                "permalink": format!("https://{ORG}.sentry.io/issues/{id}/"),
                "project": { "id": pid, "name": project, "slug": project, "platform": "node" },
                "isUnhandled": true, "issueCategory": "error", "issueType": "error",
                "metadata": { "title": title },
            }),
        ));
    }
    list.sort_by_key(|x| std::cmp::Reverse(x.0));
    let limit = get1(&p, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100usize)
        .min(100);
    axum::Json(Value::Array(
        list.into_iter().take(limit).map(|(_, v)| v).collect(),
    ))
    .into_response()
}

async fn create_release(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return detail(StatusCode::BAD_REQUEST, "Malformed request");
    };
    let Some(version) = v
        .get("version")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 200)
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "version": ["This field is required."] })),
        )
            .into_response();
    };
    if v.get("projects")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
    {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "projects": ["This field is required."] })),
        )
            .into_response();
    }
    let mut r = shared
        .sentry
        .releases
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let existed = r.contains_key(version);
    r.entry(version.to_string()).or_default();
    let body = json!({ "version": version, "dateCreated": shared.now().to_string(), "projects": v["projects"] });
    let status = if existed {
        StatusCode::ALREADY_REPORTED
    } else {
        StatusCode::CREATED
    };
    (status, axum::Json(body)).into_response()
}

async fn list_deploys(
    State(shared): State<Arc<Shared>>,
    Path((org, version)): Path<(String, String)>,
) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    let version = decode(&version);
    match shared
        .sentry
        .releases
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&version)
    {
        Some(d) => axum::Json(Value::Array(d.clone())).into_response(),
        None => detail(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist",
        ),
    }
}

async fn create_deploy(
    State(shared): State<Arc<Shared>>,
    Path((org, version)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = check_org(&org) {
        return r.into_response();
    }
    let version = decode(&version);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return detail(StatusCode::BAD_REQUEST, "Malformed request");
    };
    let Some(env) = v
        .get("environment")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 64)
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "environment": ["This field is required."] })),
        )
            .into_response();
    };
    let now = shared.now().to_string();
    let mut r = shared
        .sentry
        .releases
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(list) = r.get_mut(&version) else {
        return detail(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist",
        );
    };
    let d = json!({
        "id": (list.len() + 1).to_string(), "environment": env,
        "name": v.get("name"), "url": v.get("url"),
        "dateStarted": v.get("dateStarted").cloned().unwrap_or(json!(now)),
        "dateFinished": v.get("dateFinished").cloned().unwrap_or(json!(now)),
    });
    list.push(d.clone());
    (StatusCode::CREATED, axum::Json(d)).into_response()
}
