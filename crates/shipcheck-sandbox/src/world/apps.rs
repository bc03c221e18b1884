//! The seed's apps as real HTTP servers: `internal-api` (`/api/health`),
//! `agent-registration` (`/`) and `public-api` (`/`), each for staging and production, on
//! random loopback ports.
//!
//! An app behaves as the image its Fly release runs, and says which commit that image was
//! built from (`"version"` in its health answer, an `x-release` header on every answer). The
//! world watches the Fly stand-in's
//! `state.json` (never writing it), so `flyctl deploy --image` switches an app's behaviour
//! and `flyctl scale count 0` stops it (the edge then answers 503 and the app logs nothing).
//! Every request is logged in Fly's log shape to `fly/logs/APP.jsonl` (what `flyctl logs`
//! prints) and kept in memory for the Sentry and Prometheus stand-ins.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::{Shared, WorldError};
use crate::fly::{FlyState, LogLine, state::LOGS_DIR};

/// How an image behaves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Behaviour {
    /// Fastest answer, milliseconds (wall clock).
    pub min_ms: u64,
    /// Slowest answer, milliseconds.
    pub max_ms: u64,
    /// Fraction of requests answered with a 5xx.
    pub error_rate: f64,
    /// CPU busy fraction per machine at rest.
    pub cpu: f64,
    /// Memory used fraction per machine.
    pub memory: f64,
    /// World seconds after the release went live before `error_rate` applies (before then
    /// it answers like a good release): a fault that shows only under a while of real
    /// traffic, after the first five minutes' checks.
    pub onset_s: u64,
}

impl Behaviour {
    /// The release running now, and a good new one: fast, no 5xx.
    pub fn good() -> Behaviour {
        Behaviour {
            min_ms: 4,
            max_ms: 24,
            error_rate: 0.0,
            cpu: 0.12,
            memory: 0.41,
            onset_s: 0,
        }
    }
    /// The bad release: 30 % 5xx, from 12 minutes after it went live (it passes the first
    /// five minutes' checks; then its database connection pool runs dry under traffic).
    pub fn bad() -> Behaviour {
        Behaviour {
            min_ms: 6,
            max_ms: 40,
            error_rate: 0.30,
            cpu: 0.18,
            memory: 0.47,
            onset_s: 12 * 60,
        }
    }

    /// The error rate `since` world seconds after the release went live.
    pub fn error_rate_at(&self, since: i64) -> f64 {
        if since >= 0 && since as u64 >= self.onset_s {
            self.error_rate
        } else {
            0.0
        }
    }
}

/// One app of one environment.
#[derive(Clone, Debug)]
pub struct AppSpec {
    /// `internal-api`.
    pub name: &'static str,
    /// `staging` or `production`.
    pub env: &'static str,
    /// `maishapoa-production-internal-api`.
    pub fly_app: String,
    /// `/api/health` or `/`.
    pub health_path: &'static str,
    /// Routes the traffic visits.
    pub routes: &'static [&'static str],
    /// The error a failing request raises (its Sentry issue title).
    pub error: &'static str,
}

/// The seed's apps: (name, health path, routes, error).
const SEED: [(&str, &str, &[&str], &str); 3] = [
    (
        "internal-api",
        "/api/health",
        &[
            "/api/health",
            "/api/agents",
            "/api/agents?region=nairobi",
            "/api/session",
        ],
        "TypeError: Cannot read properties of undefined (reading 'region')",
    ),
    (
        "agent-registration",
        "/",
        &["/", "/register", "/status"],
        "DatabaseError: column agents.region does not exist",
    ),
    (
        "public-api",
        "/",
        &["/", "/v1/quotes", "/v1/agents"],
        "UpstreamError: internal-api answered 500 for /api/agents",
    ),
];

/// What the world knows of one Fly app right now (from `state.json`).
#[derive(Clone, Debug, Default)]
pub struct View {
    /// Ids of the started Machines with the HTTP service.
    pub machines: Vec<String>,
    /// The image the machines run.
    pub image: String,
    /// The release version.
    pub version: u64,
    /// When that release was made (world time).
    pub deployed_at: Option<Timestamp>,
}

/// One request an app answered.
#[derive(Clone, Debug)]
pub struct Hit {
    /// Fly app.
    pub fly_app: String,
    /// World time.
    pub at: Timestamp,
    /// Wall-clock latency, seconds.
    pub latency: f64,
    /// Status answered.
    pub status: u16,
    /// The route.
    pub path: String,
    /// The machine.
    pub machine: String,
}

/// The header every answer of an app carries: the commit its image was built from.
pub const RELEASE_HEADER: &str = "x-release";

/// Hits kept in memory at most.
const MAX_HITS: usize = 200_000;

/// The apps, what they run, and what they answered.
pub struct Apps {
    /// Every app.
    pub specs: Vec<AppSpec>,
    view: RwLock<BTreeMap<String, View>>,
    images: Mutex<BTreeMap<String, (Behaviour, String)>>,
    hits: Mutex<VecDeque<Hit>>,
    /// Every answer since the world began, per (Fly app, status): the edge's counters
    /// (`fly_edge_http_responses_count`), which never forget what [`MAX_HITS`] drops.
    totals: Mutex<BTreeMap<(String, u16), u64>>,
    counter: AtomicU64,
}

impl Apps {
    pub(crate) fn new(project: &str) -> Apps {
        let mut specs = Vec::new();
        for env in ["staging", "production"] {
            for (name, health_path, routes, error) in SEED {
                specs.push(AppSpec {
                    name,
                    env,
                    fly_app: format!("{project}-{env}-{name}"),
                    health_path,
                    routes,
                    error,
                });
            }
        }
        Apps {
            specs,
            view: RwLock::new(BTreeMap::new()),
            images: Mutex::new(BTreeMap::new()),
            hits: Mutex::new(VecDeque::new()),
            totals: Mutex::new(BTreeMap::new()),
            counter: AtomicU64::new(0),
        }
    }

    /// Records how `image` behaves and the commit it was built from (what its answers give
    /// as their version).
    pub fn register(&self, image: &str, b: Behaviour, commit: &str) {
        self.images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(image.to_string(), (b, commit.to_string()));
    }

    /// The commit `image` was built from (empty when the world did not build it).
    pub fn commit(&self, image: &str) -> String {
        self.images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(image)
            .map(|(_, c)| c.clone())
            .unwrap_or_default()
    }

    /// How `image` behaves (an image the world did not build behaves well).
    pub fn behaviour(&self, image: &str) -> Behaviour {
        self.images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(image)
            .map(|(b, _)| *b)
            .unwrap_or_else(Behaviour::good)
    }

    /// Re-reads the Fly state.
    pub(crate) fn refresh(&self, fly_dir: &Path) {
        let Ok(state) = FlyState::load(fly_dir) else {
            return;
        };
        let mut view = BTreeMap::new();
        for (name, a) in &state.apps {
            // Requests reach started Machines with the HTTP service (not a worker group's,
            // not one stopped by auto-stop).
            let started: Vec<_> = a
                .machines
                .iter()
                .filter(|m| m.state == "started" && m.service)
                .collect();
            let version = started.iter().map(|m| m.release).max().unwrap_or(0);
            view.insert(
                name.clone(),
                View {
                    machines: started.iter().map(|m| m.id.clone()).collect(),
                    image: a.image_of(version),
                    version,
                    deployed_at: a
                        .releases
                        .iter()
                        .find(|r| r.version == version)
                        .and_then(|r| r.created_at.parse().ok()),
                },
            );
        }
        *self.view.write().unwrap_or_else(|e| e.into_inner()) = view;
    }

    /// What `fly_app` runs now.
    pub fn view(&self, fly_app: &str) -> View {
        self.view
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(fly_app)
            .cloned()
            .unwrap_or_default()
    }

    /// The image each production app runs now, by Fly app.
    pub fn production_images(&self) -> BTreeMap<String, String> {
        self.specs
            .iter()
            .filter(|s| s.env == "production")
            .map(|s| (s.fly_app.clone(), self.view(&s.fly_app).image))
            .collect()
    }

    /// The spec of a Fly app.
    pub fn spec(&self, fly_app: &str) -> Option<&AppSpec> {
        self.specs.iter().find(|s| s.fly_app == fly_app)
    }

    /// Hits of `fly_app` (all apps when `None`) in `(from, to]`.
    ///
    /// Hits are appended in about the order of their times (handlers racing to append can
    /// swap neighbours by milliseconds), so the window is found by binary search from a
    /// second before `from` and only it is read: the apps' handlers append under the same
    /// lock, and a scan of every hit kept made the apps slower the longer the world ran.
    pub fn hits(&self, fly_app: Option<&str>, from: Timestamp, to: Timestamp) -> Vec<Hit> {
        let early = from
            .checked_sub(jiff::SignedDuration::from_secs(1))
            .unwrap_or(from);
        let late = to
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap_or(to);
        let hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let first = hits.partition_point(|h| h.at <= early);
        hits.range(first..)
            .take_while(|h| h.at <= late)
            .filter(|h| fly_app.is_none_or(|a| h.fly_app == a) && h.at > from && h.at <= to)
            .cloned()
            .collect()
    }

    /// The edge's response counters of `fly_app` at `at` (`at` within the last
    /// [`MAX_HITS`] answers): every answer by status since the world began, minus those after
    /// `at`.
    pub fn counters(&self, fly_app: &str, at: Timestamp) -> BTreeMap<u16, u64> {
        // The same lock order as `push` (hits, then totals): a consistent snapshot.
        let hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: BTreeMap<u16, u64> = self
            .totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .range((fly_app.to_string(), 0)..=(fly_app.to_string(), u16::MAX))
            .map(|((_, status), n)| (*status, *n))
            .collect();
        let early = at
            .checked_sub(jiff::SignedDuration::from_secs(1))
            .unwrap_or(at);
        let first = hits.partition_point(|h| h.at <= early);
        for h in hits
            .range(first..)
            .filter(|h| h.fly_app == fly_app && h.at > at)
        {
            if let Some(n) = out.get_mut(&h.status) {
                *n = n.saturating_sub(1);
            }
        }
        out
    }

    fn push(&self, hit: Hit) {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        *self
            .totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((hit.fly_app.clone(), hit.status))
            .or_default() += 1;
        if hits.len() >= MAX_HITS {
            hits.pop_front();
        }
        hits.push_back(hit);
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

/// A well-mixed number from a counter (deterministic "randomness").
pub(crate) fn mix(n: u64) -> u64 {
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A fraction in [0, 1) from a counter.
pub(crate) fn unit(n: u64) -> f64 {
    (mix(n) >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    index: usize,
}

async fn handle(State(st): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let shared = &st.shared;
    let spec = &shared.apps.specs[st.index];
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let method = req.method().to_string();
    let view = shared.apps.view(&spec.fly_app);
    if view.machines.is_empty() {
        // No machine to route to: Fly's edge answers; the app logs nothing.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no started machines for app {}\n", spec.fly_app),
        )
            .into_response();
    }
    let n = shared.apps.next();
    let machine = view.machines[(n as usize) % view.machines.len()].clone();
    let b = shared.apps.behaviour(&view.image);
    let commit = shared.apps.commit(&view.image);
    let span = b.max_ms.saturating_sub(b.min_ms);
    let ms = b.min_ms + (unit(n.wrapping_mul(3)) * span as f64) as u64;
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let known = spec
        .routes
        .iter()
        .any(|r| r.split('?').next() == Some(req.uri().path()));
    let live_for = view
        .deployed_at
        .map(|t| shared.now().duration_since(t).as_secs())
        .unwrap_or(i64::MAX);
    let failing = known && unit(n) < b.error_rate_at(live_for);
    let (status, body) = if !known {
        (
            StatusCode::NOT_FOUND,
            format!("{{\"error\":\"no route {}\"}}", req.uri().path()),
        )
    } else if failing {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"error\":{:?}}}", spec.error),
        )
    } else if req.uri().path() == spec.health_path {
        // The health answer says which commit the image was built from.
        let mut body = serde_json::json!({ "status": "ok", "app": spec.name, "release": format!("v{}", view.version) });
        if !commit.is_empty() {
            body["version"] = serde_json::json!(commit);
        }
        (StatusCode::OK, body.to_string())
    } else {
        (
            StatusCode::OK,
            format!("{{\"ok\":true,\"app\":\"{}\"}}", spec.name),
        )
    };
    let latency = started.elapsed();
    let now = shared.now();
    let message = if failing {
        format!(
            "{method} {path} {} {}ms: {}",
            status.as_u16(),
            latency.as_millis(),
            spec.error
        )
    } else {
        format!(
            "{method} {path} {} {}ms",
            status.as_u16(),
            latency.as_millis()
        )
    };
    let line = LogLine {
        timestamp: now.to_string(),
        // As Fly's log shipper does: every line an app prints is `info`; the failure shows
        // in the message (`GET /x 503 12ms: …`).
        level: "info".into(),
        message,
        instance: machine.clone(),
        status_code: status.as_u16(),
    };
    append_log(&shared.fly_dir, &spec.fly_app, &line);
    shared.apps.push(Hit {
        fly_app: spec.fly_app.clone(),
        at: now,
        latency: latency.as_secs_f64(),
        status: status.as_u16(),
        path,
        machine,
    });
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&commit)
        && !commit.is_empty()
    {
        resp.headers_mut().insert(RELEASE_HEADER, v);
    }
    resp
}

fn append_log(fly_dir: &Path, app: &str, line: &LogLine) {
    let Ok(mut text) = serde_json::to_string(line) else {
        return;
    };
    text.push('\n');
    let path = fly_dir.join(LOGS_DIR).join(format!("{app}.jsonl"));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Starts every app's server and the task following the Fly state. Returns each app's base
/// URL by Fly app name.
pub(crate) async fn start(
    shared: &Arc<Shared>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<BTreeMap<String, String>, WorldError> {
    let mut urls = BTreeMap::new();
    for (index, spec) in shared.apps.specs.iter().enumerate() {
        let router = Router::new().fallback(handle).with_state(AppState {
            shared: shared.clone(),
            index,
        });
        let (url, task) = super::serve::spawn(router, shared.stop.subscribe()).await?;
        urls.insert(spec.fly_app.clone(), url);
        tasks.push(task);
    }
    let s = shared.clone();
    tasks.push(tokio::spawn(async move {
        let path = s.fly_dir.join(crate::fly::state::STATE_FILE);
        let mut last = None;
        while !s.stopped() {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            if modified != last {
                last = modified;
                s.apps.refresh(&s.fly_dir);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }));
    Ok(urls)
}

/// Steady traffic on the production apps: `rps` requests per second (wall clock) to each,
/// across their routes, until the world stops or `limit` passes.
pub(crate) fn spawn_traffic(
    shared: Arc<Shared>,
    urls: &BTreeMap<String, String>,
    rps: u32,
    limit: Duration,
) -> JoinHandle<()> {
    let targets: Vec<(String, &'static [&'static str])> = shared
        .apps
        .specs
        .iter()
        .filter(|s| s.env == "production")
        .filter_map(|s| Some((urls.get(&s.fly_app)?.clone(), s.routes)))
        .collect();
    tokio::spawn(async move {
        if rps == 0 {
            return;
        }
        let period = Duration::from_secs_f64(1.0 / f64::from(rps));
        let end = Instant::now() + limit;
        let mut tick = tokio::time::interval(period);
        let mut n: usize = 0;
        while !shared.stopped() && Instant::now() < end {
            tick.tick().await;
            for (base, routes) in &targets {
                let url = format!("{base}{}", routes[n % routes.len()]);
                let http = shared.http.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), http.get(url).send()).await;
                });
            }
            n = n.wrapping_add(1);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(app: &str, at: &str) -> Hit {
        Hit {
            fly_app: app.into(),
            at: at.parse().unwrap(),
            latency: 0.01,
            status: 200,
            path: "/".into(),
            machine: "m1".into(),
        }
    }

    #[test]
    fn the_edge_counters_count_every_answer_by_status_up_to_a_time() {
        let apps = Apps::new("acme");
        for (app, at, status) in [
            ("a", "2026-11-25T11:00:00Z", 200),
            ("a", "2026-11-25T11:00:01Z", 500),
            ("b", "2026-11-25T11:00:02Z", 200),
            ("a", "2026-11-25T11:00:04Z", 200),
            ("a", "2026-11-25T11:00:06Z", 503),
        ] {
            let mut h = hit(app, at);
            h.status = status;
            apps.push(h);
        }
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let at = |s| apps.counters("a", t(s)).into_iter().collect::<Vec<_>>();
        assert_eq!(at("2026-11-25T11:00:10Z"), [(200, 2), (500, 1), (503, 1)]);
        // Before the 503 was answered: it is not counted yet (its series reads 0).
        assert_eq!(at("2026-11-25T11:00:05Z"), [(200, 2), (500, 1), (503, 0)]);
        assert_eq!(at("2026-11-25T11:00:00Z"), [(200, 1), (500, 0), (503, 0)]);
        assert_eq!(apps.counters("b", t("2026-11-25T11:00:10Z")).len(), 1);
    }

    #[test]
    fn hits_reads_the_window_even_when_neighbours_were_appended_out_of_order() {
        let apps = Apps::new("acme");
        for (app, at) in [
            ("a", "2026-11-25T11:00:00Z"),
            ("b", "2026-11-25T11:00:10Z"),
            ("a", "2026-11-25T11:00:20.004Z"),
            ("a", "2026-11-25T11:00:20.001Z"), // appended a little late
            ("a", "2026-11-25T11:00:30Z"),
            ("a", "2026-11-25T11:00:40Z"),
        ] {
            apps.push(hit(app, at));
        }
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let got = apps.hits(
            Some("a"),
            t("2026-11-25T11:00:20Z"),
            t("2026-11-25T11:00:30Z"),
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            apps.hits(None, t("2026-11-25T11:00:00Z"), t("2026-11-25T11:00:10Z"))
                .len(),
            1
        );
        assert!(
            apps.hits(
                Some("a"),
                t("2026-11-25T12:00:00Z"),
                t("2026-11-25T13:00:00Z")
            )
            .is_empty()
        );
    }
}
