//! The Prometheus stand-in: Fly's managed Prometheus query API (`reference/external-apis.md`
//! §1.10) answering from the apps' real requests.
//!
//! It is not a PromQL engine. It recognises the queries a deploy check sends against Fly's
//! metrics and computes what they mean from what the apps really did:
//!
//! - `histogram_quantile(Q, … fly_edge_http_response_time_seconds_bucket{app="A"}[W] …)` (or
//!   `fly_app_…`): the Q-quantile of A's real request latencies over the window W;
//! - `… fly_edge_http_responses_count{app="A", status=~"5.."}[W] …`: the request rate (per
//!   second) over W, of the statuses matched;
//! - `fly_edge_http_responses_count{app="A"}` (no range): the counter itself, every answer
//!   since the world began by status, as of the last scrape ([`SCRAPE_EVERY_S`]), labelled
//!   `app`, `region`, `host`, `status` like Fly's edge series;
//! - `… fly_instance_cpu{app="A", mode!="idle"} …`: each machine's CPU busy fraction (the
//!   image's rest level plus load);
//! - `1 - fly_instance_memory_mem_available{…} / fly_instance_memory_mem_total{…}`: each
//!   machine's used memory fraction; either metric alone gives bytes;
//! - `fly_instance_up{app="A"}`: 1 per started machine.
//!
//! Any other metric has no series (an empty vector, as Prometheus answers for an unknown
//! metric); unbalanced brackets are a 400 `bad_data`. `GET|POST /api/v1/query` and
//! `/api/v1/query_range`; `Authorization: Bearer` or `FlyV1` with the world's token.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::Shared;
use super::query::decode as percent_decode;

/// How often the stand-in "scrapes" the edge's counters: a bare counter reads its value at
/// the last multiple of this many seconds. Fly does not document its edge metrics' interval;
/// 5 s is this world's assumption (a longer real one delays what the watch sees by as much).
pub const SCRAPE_EVERY_S: i64 = 5;

/// The edge host the counters' series name (Fly's `host` label: 4 characters).
const EDGE_HOST: &str = "a1f2";

/// Memory per machine, bytes (shared-cpu-1x, 256 MB).
const MEM_TOTAL: f64 = 268_435_456.0;

async fn auth(
    State(shared): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("FlyV1 "))
        })
        .is_some_and(|t| t.trim() == shared.secrets.prometheus);
    if ok {
        next.run(req).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid token",
        )
    }
}

fn error(status: StatusCode, kind: &str, text: &str) -> Response {
    (
        status,
        axum::Json(json!({ "status": "error", "errorType": kind, "error": text })),
    )
        .into_response()
}

/// The router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/query", get(query).post(query_post))
        .route("/api/v1/query_range", get(range).post(range_post))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "unknown endpoint") })
        .layer(middleware::from_fn_with_state(shared.clone(), auth))
        .layer(middleware::from_fn_with_state(
            (shared.clone(), "prometheus"),
            super::record::layer::record,
        ))
        .with_state(shared)
}

fn params(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn time(s: &str) -> Option<Timestamp> {
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .and_then(|x| Timestamp::from_millisecond((x * 1000.0) as i64).ok())
        .or_else(|| s.parse().ok())
        .filter(super::query::sane)
}

async fn query(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    instant(&shared, &params(q.as_deref().unwrap_or_default()))
}

async fn query_post(State(shared): State<Arc<Shared>>, body: String) -> Response {
    instant(&shared, &params(&body))
}

async fn range(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    ranged(&shared, &params(q.as_deref().unwrap_or_default()))
}

async fn range_post(State(shared): State<Arc<Shared>>, body: String) -> Response {
    ranged(&shared, &params(&body))
}

fn instant(shared: &Shared, p: &BTreeMap<String, String>) -> Response {
    let Some(q) = p.get("query").filter(|q| !q.trim().is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "bad_data", "query is required");
    };
    let at = match p.get("time") {
        Some(t) => match time(t) {
            Some(t) => t,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_data",
                    &format!("cannot parse {t:?} to a valid timestamp"),
                );
            }
        },
        None => shared.now(),
    };
    match evaluate(shared, q, at) {
        Ok(Answer::Scalar(x)) => {
            ok(json!({ "resultType": "scalar", "result": [secs(at), fmt(x)] }))
        }
        Ok(Answer::Vector(series)) => ok(json!({
            "resultType": "vector",
            "result": series.into_iter().map(|(m, x)| json!({ "metric": m, "value": [secs(at), fmt(x)] })).collect::<Vec<_>>(),
        })),
        Err(e) => error(StatusCode::BAD_REQUEST, "bad_data", &e),
    }
}

fn ranged(shared: &Shared, p: &BTreeMap<String, String>) -> Response {
    let (Some(q), Some(start), Some(end), Some(step)) = (
        p.get("query"),
        p.get("start").and_then(|s| time(s)),
        p.get("end").and_then(|s| time(s)),
        p.get("step")
            .and_then(|s| s.trim_end_matches('s').parse::<f64>().ok())
            .filter(|s| *s > 0.0),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_data",
            "query, start, end and step are required",
        );
    };
    let points = ((end.as_second() - start.as_second()) as f64 / step).floor() as i64 + 1;
    if !(1..=11_000).contains(&points) {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        );
    }
    let mut by_metric: BTreeMap<String, (Value, Vec<Value>)> = BTreeMap::new();
    for i in 0..points {
        let at = start + SignedDuration::from_secs_f64(step * i as f64);
        let series = match evaluate(shared, q, at) {
            Ok(Answer::Vector(s)) => s,
            Ok(Answer::Scalar(x)) => vec![(json!({}), x)],
            Err(e) => return error(StatusCode::BAD_REQUEST, "bad_data", &e),
        };
        for (m, x) in series {
            let e = by_metric
                .entry(m.to_string())
                .or_insert_with(|| (m.clone(), Vec::new()));
            e.1.push(json!([secs(at), fmt(x)]));
        }
    }
    ok(json!({
        "resultType": "matrix",
        "result": by_metric.into_values().map(|(m, v)| json!({ "metric": m, "values": v })).collect::<Vec<_>>(),
    }))
}

fn ok(data: Value) -> Response {
    axum::Json(json!({ "status": "success", "data": data })).into_response()
}

fn secs(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{x}")
    }
}

enum Answer {
    Scalar(f64),
    Vector(Vec<(Value, f64)>),
}

/// The value of label `name` in the query's first selector that has it (`app="x"`).
fn label<'q>(q: &'q str, name: &str) -> Option<&'q str> {
    let pat = format!("{name}=\"");
    let i = q.find(&pat)? + pat.len();
    let rest = &q[i..];
    Some(&rest[..rest.find('"')?])
}

/// The first range selector's duration (`[5m]`), default 5 minutes.
fn range_window(q: &str) -> SignedDuration {
    q.find('[')
        .and_then(|i| q[i + 1..].find(']').map(|j| &q[i + 1..i + 1 + j]))
        .and_then(|r| {
            let (n, u) = r.split_at(r.find(|c: char| !c.is_ascii_digit())?);
            let n: i64 = n.parse().ok().filter(|n| (1..=100_000).contains(n))?;
            Some(match u {
                "s" => SignedDuration::from_secs(n),
                "m" => SignedDuration::from_mins(n),
                "h" => SignedDuration::from_hours(n),
                _ => return None,
            })
        })
        .unwrap_or(SignedDuration::from_mins(5))
}

fn balanced(q: &str) -> bool {
    let mut stack = Vec::new();
    let mut in_str = false;
    for c in q.chars() {
        match c {
            '"' => in_str = !in_str,
            _ if in_str => {}
            '(' | '[' | '{' => stack.push(c),
            ')' if stack.pop() != Some('(') => return false,
            ']' if stack.pop() != Some('[') => return false,
            '}' if stack.pop() != Some('{') => return false,
            _ => {}
        }
    }
    stack.is_empty() && !in_str
}

fn evaluate(shared: &Shared, q: &str, at: Timestamp) -> Result<Answer, String> {
    if !balanced(q) {
        return Err(format!(
            "1:{}: parse error: unclosed or unbalanced brackets in {q:?}",
            q.len()
        ));
    }
    if let Ok(x) = q.trim().parse::<f64>() {
        return Ok(Answer::Scalar(x));
    }
    let apps: Vec<String> = match label(q, "app") {
        Some(a) => vec![a.to_string()],
        None => shared
            .apps
            .specs
            .iter()
            .filter(|s| s.env == "production")
            .map(|s| s.fly_app.clone())
            .collect(),
    };
    let window = range_window(q);
    let mut out = Vec::new();
    if q.contains("histogram_quantile(") && q.contains("_http_response_time_seconds") {
        let quantile: f64 = q
            .split("histogram_quantile(")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|x| x.trim().parse().ok())
            .filter(|x: &f64| (0.0..=1.0).contains(x))
            .ok_or("histogram_quantile needs a quantile between 0 and 1")?;
        let mut lat: Vec<f64> = apps
            .iter()
            .flat_map(|a| shared.apps.hits(Some(a), at - window, at))
            .map(|h| h.latency)
            .collect();
        if lat.is_empty() {
            return Ok(Answer::Vector(Vec::new()));
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        let idx = ((lat.len() as f64 - 1.0) * quantile).round() as usize;
        out.push((json!({}), lat[idx.min(lat.len() - 1)]));
    } else if q.contains("_http_responses_count") && !q.contains('[') {
        // A bare counter: its value at the last scrape, one series per status (an edge
        // series has no `instance`).
        let name = if q.contains("fly_app_http_responses_count") {
            "fly_app_http_responses_count"
        } else {
            "fly_edge_http_responses_count"
        };
        let five = q.contains("status=~\"5..\"") || q.contains("status=~\"5.*\"");
        let filter = label(q, "status");
        let scraped =
            Timestamp::from_second(at.as_second() - at.as_second().rem_euclid(SCRAPE_EVERY_S))
                .unwrap_or(at);
        for a in &apps {
            for (status, n) in shared.apps.counters(a, scraped) {
                let s = status.to_string();
                // A series exists from its first answer on (absent before, as in Prometheus).
                if n == 0 || (five && status < 500) || (!five && filter.is_some_and(|f| f != s)) {
                    continue;
                }
                out.push((
                    json!({ "__name__": name, "app": a, "region": "fra", "host": EDGE_HOST, "status": s }),
                    n as f64,
                ));
            }
        }
    } else if q.contains("_http_responses_count") {
        let filter = label(q, "status").map(str::to_string);
        let five = q.contains("status=~\"5..\"") || q.contains("status=~\"5.*\"");
        let mut by: BTreeMap<String, f64> = BTreeMap::new();
        for a in &apps {
            for h in shared.apps.hits(Some(a), at - window, at) {
                let s = h.status.to_string();
                let keep = if five {
                    h.status >= 500
                } else {
                    filter.as_ref().is_none_or(|f| *f == s)
                };
                if keep {
                    *by.entry(if q.contains("sum(") { String::new() } else { s })
                        .or_default() += 1.0 / window.as_secs_f64();
                }
            }
        }
        if by.is_empty()
            && q.contains("sum(")
            && apps
                .iter()
                .any(|a| !shared.apps.view(a).machines.is_empty())
        {
            by.insert(String::new(), 0.0);
        }
        for (s, x) in by {
            out.push((
                if s.is_empty() {
                    json!({})
                } else {
                    json!({ "status": s })
                },
                x,
            ));
        }
    } else if q.contains("fly_instance_cpu") {
        for a in &apps {
            let view = shared.apps.view(a);
            let b = shared.apps.behaviour(&view.image);
            let load = shared.apps.hits(Some(a), at - window, at).len() as f64
                / window.as_secs_f64().max(1.0);
            for m in &view.machines {
                let jitter =
                    (super::apps::unit(at.as_second() as u64 / 30 + m.len() as u64) - 0.5) * 0.04;
                let busy = (b.cpu + 0.002 * load / view.machines.len().max(1) as f64 + jitter)
                    .clamp(0.0, 1.0);
                out.push((json!({ "app": a, "instance": m, "region": "fra" }), busy));
            }
        }
    } else if q.contains("fly_instance_memory_mem") {
        let used_fraction = q.contains("mem_available")
            && q.contains("mem_total")
            && q.trim_start().starts_with('1');
        for a in &apps {
            let view = shared.apps.view(a);
            let b = shared.apps.behaviour(&view.image);
            for m in &view.machines {
                let jitter = (super::apps::unit(at.as_second() as u64 / 60 + 7 * m.len() as u64)
                    - 0.5)
                    * 0.03;
                let used = (b.memory + jitter).clamp(0.0, 1.0);
                let x = if used_fraction {
                    used
                } else if q.contains("mem_total") {
                    MEM_TOTAL
                } else {
                    MEM_TOTAL * (1.0 - used)
                };
                out.push((json!({ "app": a, "instance": m, "region": "fra" }), x));
            }
        }
    } else if q.contains("fly_instance_up") {
        for a in &apps {
            for m in shared.apps.view(a).machines {
                out.push((json!({ "app": a, "instance": m, "region": "fra" }), 1.0));
            }
        }
    }
    Ok(Answer::Vector(out))
}
