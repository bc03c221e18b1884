//! `shipcheck serve`: the team's page over the store. Server-rendered HTML (readable without
//! JavaScript, on a phone), a little JavaScript compiled into the binary for live updates
//! (Server-Sent Events fed by polling the store's journal position, so an append by any
//! process reaches every viewer), a strict Content-Security-Policy, and team actions that go
//! through the same core functions as the CLI, by a logged-in person with a CSRF token.

mod actions;
mod auth;
mod charts;
mod folded;
mod html;
mod incidents;
mod integrity;
mod limit;
mod live;
mod pages;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use shipcheck_core::runs::Session;

pub use auth::COOKIE;
pub use html::esc;
pub use limit::{LOGIN_FAILURES, LOGIN_WINDOW};

/// How often a watched run's journal position is polled when nothing announces appends
/// (SQLite; see [`live`]).
pub const POLL: Duration = Duration::from_millis(200);
pub use live::POLL_LISTENING;
/// How long one event stream lasts before the browser reconnects (a bounded loop).
pub const STREAM_FOR: Duration = Duration::from_secs(3600);

/// Options of the server.
#[derive(Clone, Debug)]
pub struct Options {
    /// Served over TLS (directly or by a proxy): cookies are `Secure`.
    pub tls: bool,
    /// The header a proxy in front sets to the client's address (`Fly-Client-IP`,
    /// `X-Forwarded-For`: of a list, the last entry), for the login rate limit; `None`: the
    /// TCP peer is the client.
    pub client_ip_header: Option<String>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    session: Session,
    sessions: Arc<Mutex<auth::Sessions>>,
    /// Wrong tokens by client address.
    logins: Arc<Mutex<limit::LoginLimit>>,
    options: Options,
    /// Each run's live part as last rendered (see [`pages::live_part`]); the lock is held
    /// while one is rendered, so many viewers asking at once cause one render.
    rendered: Arc<tokio::sync::Mutex<std::collections::HashMap<String, pages::Rendered>>>,
    /// Each open run's state as last folded, caught up with the events appended since
    /// (locked inside `rendered`'s lock, never the other way round).
    folded: Arc<tokio::sync::Mutex<folded::FoldedRuns>>,
    /// The team page's and `/metrics`' runs as last folded, by id with the event count they
    /// were folded at: a run that has not moved since is not read again.
    history: Arc<tokio::sync::Mutex<pages::History>>,
    /// Each watched run's journal position, for the event streams.
    positions: Arc<live::Positions>,
    /// Stands for a viewer's CSRF token in a cached live part (random per process).
    placeholder: String,
}

impl App {
    /// An app over `session` (store, config, clock).
    pub fn new(session: Session, options: Options) -> App {
        App {
            session,
            sessions: Arc::new(Mutex::new(auth::Sessions::default())),
            logins: Arc::default(),
            options,
            rendered: Arc::default(),
            folded: Arc::default(),
            history: Arc::default(),
            positions: Arc::new(live::Positions::new(POLL, POLL_LISTENING)),
            placeholder: format!(
                "csrf-{}",
                auth::random_hex(16).unwrap_or_else(|| "unset".into())
            ),
        }
    }
}

#[cfg(test)]
impl App {
    /// The app with other polling intervals (to show what arrives without polling).
    pub(crate) fn with_poll(mut self, poll: Duration, poll_listening: Duration) -> App {
        self.positions = Arc::new(live::Positions::new(poll, poll_listening));
        self
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listen address beyond loopback without TLS in front.
    #[error(
        "refusing to listen on {0} without TLS: the session cookie and tokens would cross the network in clear. Put it behind a TLS proxy (Fly's, nginx, Caddy) and pass --behind-tls-proxy, or listen on 127.0.0.1"
    )]
    NotLoopback(SocketAddr),
    /// A `--client-ip-header` that is not a header name.
    #[error("{0:?} is not an HTTP header name (for example Fly-Client-IP or X-Forwarded-For)")]
    BadHeader(String),
    /// Binding failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Checks the listen address: loopback always; beyond it only behind TLS.
pub fn check_listen(addr: SocketAddr, tls: bool) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || tls {
        Ok(())
    } else {
        Err(ServeError::NotLoopback(addr))
    }
}

/// A header name as given (`--client-ip-header`), checked and in lower case.
pub fn header_name(name: &str) -> Result<String, ServeError> {
    axum::http::HeaderName::from_bytes(name.trim().as_bytes())
        .map(|h| h.as_str().to_string())
        .map_err(|_| ServeError::BadHeader(name.to_string()))
}

/// Binds `addr` (after [`check_listen`]); returns the listener and the address bound.
pub async fn bind(
    addr: SocketAddr,
    tls: bool,
) -> Result<(tokio::net::TcpListener, SocketAddr), ServeError> {
    check_listen(addr, tls)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok((listener, bound))
}

/// Serves `app` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, app: App) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Every route.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(pages::history))
        .route("/healthz", get(healthz))
        .route("/metrics", get(pages::metrics))
        .route("/team", get(pages::team))
        .route("/assets/app.js", get(app_js))
        .route("/assets/app.css", get(app_css))
        .route("/login", get(pages::login_form).post(login))
        .route("/logout", post(logout))
        .route("/runs/{id}", get(pages::run_page))
        .route("/runs/{id}/fragment", get(pages::run_fragment))
        .route("/runs/{id}/record", get(pages::record))
        .route("/runs/{id}/events", get(events))
        .route("/runs/{id}/note", post(act_note))
        .route("/runs/{id}/tick", post(act_tick))
        .route("/runs/{id}/waive", post(act_waive))
        .route("/runs/{id}/sign", post(actions::sign))
        .route("/runs/{id}/incident", post(actions::incident))
        .route("/runs/{id}/decide", post(incidents::decide))
        .route(
            "/runs/{id}/rollback",
            get(actions::rollback_page).post(actions::rollback_do),
        )
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null`
    // with the page's own form posts, which the cross-site check must refuse (found by the
    // browser tests). Nothing leaves the origin either way.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

async fn healthz(State(app): State<App>) -> Response {
    match app.session.store.list_runs(None, 1).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store does not answer: {e}\n"),
        )
            .into_response(),
    }
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/app.js"),
    )
        .into_response()
}

async fn app_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/app.css"),
    )
        .into_response()
}

/// The logged-in session of a request, if any.
fn current(app: &App, headers: &HeaderMap) -> Option<(String, auth::WebSession)> {
    let cookie = headers.get(header::COOKIE)?.to_str().ok()?;
    let id = auth::cookie_value(cookie)?;
    let mut sessions = app.sessions.lock().ok()?;
    sessions.get(id).map(|s| (id.to_string(), s))
}

/// Refuses a cross-site request: an `Origin` or `Sec-Fetch-Site` that is not this site's.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => {
            let bare = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .unwrap_or(origin);
            bare != host
        }
        (Some(_), None) => true,
        _ => false,
    }
}

/// A person's mutation: not cross-site, logged in, with the session's CSRF token. The error
/// is the handler's answer as it is sent.
#[allow(clippy::result_large_err)]
fn authorize(app: &App, headers: &HeaderMap, csrf: &str) -> Result<auth::WebSession, Response> {
    if cross_site(headers) {
        return Err((StatusCode::FORBIDDEN, "cross-site request refused\n").into_response());
    }
    let Some((_, s)) = current(app, headers) else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "log in first: nothing is recorded without a person\n",
        )
            .into_response());
    };
    if !auth::same(&s.csrf, csrf) {
        return Err((
            StatusCode::FORBIDDEN,
            "the form's CSRF token is not this session's; reload the page\n",
        )
            .into_response());
    }
    Ok(s)
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Response {
    if cross_site(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    let peer = extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = limit::client(&headers, app.options.client_ip_header.as_deref(), peer)
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let now = std::time::Instant::now();
    let may = app
        .logins
        .lock()
        .map(|mut l| l.may_try(client, now))
        .unwrap_or(false);
    if !may {
        eprintln!(
            "shipcheck serve: login from {client} refused: {LOGIN_FAILURES} wrong tokens from it in the last minute"
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            "too many wrong tokens; wait a minute\n",
        )
            .into_response();
    }
    let person = match app.session.authenticate(&f.token).await {
        Ok(p) => p,
        Err(_) => {
            if let Ok(mut l) = app.logins.lock() {
                l.failed(client, now);
            }
            eprintln!("shipcheck serve: a login with a wrong token from {client} was refused");
            return (
                StatusCode::UNAUTHORIZED,
                axum::response::Html(html::page(
                    "Log in",
                    None,
                    &pages::login_body(Some("That token is not a team member's.")),
                )),
            )
                .into_response();
        }
    };
    let opened = app.sessions.lock().ok().and_then(|mut s| s.open(person));
    let Some((id, _)) = opened else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "no session could be made\n",
        )
            .into_response();
    };
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        auth::SESSION_IDLE.as_secs(),
        if app.options.tls { "; Secure" } else { "" }
    );
    let mut res = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    if cross_site(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    if let Some((id, _)) = current(&app, &headers)
        && let Ok(mut s) = app.sessions.lock()
    {
        s.close(&id);
    }
    let mut res = Redirect::to("/").into_response();
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(serde::Deserialize)]
struct NoteForm {
    csrf: String,
    text: String,
    #[serde(default)]
    kind: String,
}

#[derive(serde::Deserialize)]
struct ItemForm {
    csrf: String,
    item: String,
    #[serde(default)]
    note: String,
}

fn refused(e: impl std::fmt::Display) -> Response {
    (StatusCode::CONFLICT, format!("{e}\n")).into_response()
}

/// The run `id` names (or a unique prefix of it); a 404 naming why when there is none.
#[allow(clippy::result_large_err)] // the error is the handler's answer
pub(crate) async fn load(
    app: &App,
    id: &str,
) -> Result<shipcheck_core::journal::state::RunState, Response> {
    app.session
        .load(id)
        .await
        .map_err(|e| (StatusCode::NOT_FOUND, format!("{e}\n")).into_response())
}

#[allow(clippy::result_large_err)] // the error is the handler's answer
async fn open_run(
    app: &App,
    id: &str,
) -> Result<shipcheck_core::journal::state::RunState, Response> {
    let run = load(app, id).await?;
    app.session
        .open_run(Some(&run.id), &run.env)
        .await
        .map_err(refused)
}

async fn act_note(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<NoteForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let run = match load(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    use shipcheck_core::model::event::NoteKind;
    let kind = match f.kind.as_str() {
        "issue" => NoteKind::Issue,
        "lesson" => NoteKind::Lesson,
        _ => NoteKind::General,
    };
    match app
        .session
        .note(&run, kind, &f.text, &s.person.identity())
        .await
    {
        Ok(run) => Redirect::to(&format!("/runs/{}", run.id)).into_response(),
        Err(e) => refused(e),
    }
}

async fn act_tick(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ItemForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let run = match open_run(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let note = Some(f.note).filter(|n| !n.trim().is_empty());
    match app
        .session
        .tick(&run, &f.item, &s.person.identity(), note)
        .await
    {
        Ok(run) => Redirect::to(&format!("/runs/{}", run.id)).into_response(),
        Err(e) => refused(e),
    }
}

async fn act_waive(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ItemForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let run = match open_run(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match app
        .session
        .waive(&run, &f.item, &s.person.identity(), &f.note)
        .await
    {
        Ok(run) => Redirect::to(&format!("/runs/{}", run.id)).into_response(),
        Err(e) => refused(e),
    }
}

/// Server-Sent Events: one `journal` event (data: the event count) now, then whenever the
/// run's journal grows, from any process (announced by PostgreSQL, else polled: [`live`]),
/// for at most [`STREAM_FOR`].
async fn events(State(app): State<App>, Path(id): Path<String>) -> Response {
    let summary = match app.session.store.find_run(&id).await {
        Ok(s) => s,
        Err(e) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    };
    let rx = live::subscribe(
        &app.positions,
        &app.session.store,
        &summary.id,
        summary.event_count,
    );
    let end = tokio::time::Instant::now() + STREAM_FOR;
    let state = (rx, summary.event_count, true);
    let stream = futures_util::stream::unfold(state, move |(mut rx, seen, first)| async move {
        if first {
            let ev = SseEvent::default().event("journal").data(seen.to_string());
            return Some((Ok::<_, Infallible>(ev), (rx, seen, false)));
        }
        loop {
            match tokio::time::timeout_at(end, rx.changed()).await {
                Ok(Ok(())) => {
                    let now = *rx.borrow_and_update();
                    if now != seen {
                        let ev = SseEvent::default().event("journal").data(now.to_string());
                        return Some((Ok(ev), (rx, now, false)));
                    }
                }
                // The watcher ended (it never does while a stream holds it) or time is up.
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests;
