//! Every route through the router (tower's `oneshot`), on a real SQLite store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use shipcheck_core::model::event::NoteKind;
use shipcheck_core::model::person::Role;
use shipcheck_core::runs::team::Actor;
use shipcheck_core::runs::{Session, StartOptions};
use shipcheck_core::store::{Store, StoreTarget};
use tower::ServiceExt;

use crate::{App, Options, router};

pub(crate) struct World {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) session: Session,
    pub(crate) app: App,
    pub(crate) run: String,
    ana: String,
}

pub(crate) async fn world(tls: bool) -> World {
    world_with(Options {
        tls,
        client_ip_header: None,
    })
    .await
}

async fn world_with(options: Options) -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipcheck.toml");
    let text = "[project]\nname = \"acme\"\n";
    std::fs::write(&path, text).unwrap();
    let loaded = shipcheck_core::model::config::load_str(&path, text).unwrap();
    let store = Store::open(&StoreTarget::Sqlite(
        dir.path().join(".shipcheck/shipcheck.db"),
    ))
    .await
    .unwrap();
    let clock =
        shipcheck_core::model::clock::ManualClock::new("2026-08-21T09:00:00Z".parse().unwrap());
    let session = Session::new(store, Arc::new(loaded), Arc::new(clock));
    let (_, ana) = session
        .add_person(
            "Ana",
            "ana@example.com",
            Role::Lead,
            &Actor::Named("t".into()),
        )
        .await
        .unwrap();
    let run = session
        .start(&StartOptions {
            env: "production".into(),
            by: "<script>alert(1)</script>".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    session
        .note(
            &run,
            NoteKind::Issue,
            "commit says \"><img src=x onerror=alert(2)>",
            "bot",
        )
        .await
        .unwrap();
    let app = App::new(session.clone(), options);
    World {
        _dir: dir,
        session,
        app,
        run: run.id,
        ana,
    }
}

pub(crate) async fn send(
    app: &App,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = router(app.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

pub(crate) fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut b = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:8080");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(form.to_string())).unwrap()
}

/// `req` as if it came over TCP from `peer`.
fn from(peer: &str, mut req: Request<Body>) -> Request<Body> {
    let addr: std::net::SocketAddr = peer.parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn events(w: &World) -> usize {
    w.session.store.events(&w.run).await.unwrap().len()
}

/// Logs in as Ana: (cookie header, csrf token from the run page).
async fn login(w: &World) -> (String, String) {
    let (status, headers, _) = send(
        &w.app,
        post("/login", None, &format!("token={}", enc(&w.ana))),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let mut req = get(&format!("/runs/{}", w.run));
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (_, _, page) = send(&w.app, req).await;
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    let csrf = page[at..at + 64].to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn health_assets_history_and_the_record() {
    let w = world(false).await;
    let (s, _, body) = send(&w.app, get("/healthz")).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "ok\n"));
    let (s, h, js) = send(&w.app, get("/assets/app.js")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.contains("EventSource"));
    let (s, h, _) = send(&w.app, get("/assets/app.css")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let (s, h, page) = send(&w.app, get("/")).await;
    assert_eq!(s, StatusCode::OK);
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(page.contains(&w.run[..13]));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));
    let (s, h, md) = send(&w.app, get(&format!("/runs/{}/record", w.run))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(md.contains("Signature"), "{md}");
    let (s, _, _) = send(&w.app, get("/runs/nope")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, form) = send(&w.app, get("/login")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("type=\"password\" name=\"token\""));
}

#[tokio::test]
async fn evidence_shows_as_text_and_the_page_has_no_inline_script() {
    let w = world(false).await;
    let (s, _, page) = send(&w.app, get(&format!("/runs/{}", w.run))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(!page.contains("<img"));
    // The only script is the compiled-in file.
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.contains("<script src=\"/assets/app.js\" defer></script>"));
    // Read-only without a session: no forms.
    assert!(!page.contains("name=\"csrf\""));
    let (s, _, frag) = send(&w.app, get(&format!("/runs/{}/fragment", w.run))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(frag.contains("onerror=alert(2)&gt;") && !frag.contains("<img"));
}

#[tokio::test]
async fn mutations_need_a_session_a_csrf_token_and_this_site() {
    let w = world(false).await;
    let before = events(&w).await;
    let uri = format!("/runs/{}/note", w.run);
    // No session.
    let (s, _, _) = send(&w.app, post(&uri, None, "csrf=x&text=hello")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (cookie, csrf) = login(&w).await;
    // A wrong CSRF token.
    let (s, _, _) = send(&w.app, post(&uri, Some(&cookie), "csrf=0000&text=hello")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Cross-site, even with the right token.
    let mut req = post(&uri, Some(&cookie), &format!("csrf={csrf}&text=hello"));
    req.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let (s, _, _) = send(&w.app, req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let mut req = post(&uri, Some(&cookie), &format!("csrf={csrf}&text=hello"));
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let (s, _, _) = send(&w.app, req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(events(&w).await, before, "nothing journaled");
    // Same site, logged in, the session's token: recorded with the person.
    let mut req = post(
        &uri,
        Some(&cookie),
        &format!("csrf={csrf}&kind=lesson&text=hello"),
    );
    req.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
    let (s, _, _) = send(&w.app, req).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let run = w.session.load(&w.run).await.unwrap();
    let last = run.notes.last().unwrap();
    assert_eq!(
        (last.text.as_str(), last.by.as_str()),
        ("hello", "Ana <ana@example.com>")
    );
    // A refused action says why; nothing journaled.
    let n = events(&w).await;
    let tick = format!("/runs/{}/tick", w.run);
    let (s, _, body) = send(
        &w.app,
        post(&tick, Some(&cookie), &format!("csrf={csrf}&item=nope")),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("unknown item"), "{body}");
    let waive = format!("/runs/{}/waive", w.run);
    let (s, _, body) = send(
        &w.app,
        post(
            &waive,
            Some(&cookie),
            &format!("csrf={csrf}&item=prepare.tests&note="),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(events(&w).await, n);
    let (s, _, _) = send(
        &w.app,
        post(
            &waive,
            Some(&cookie),
            &format!("csrf={csrf}&item=prepare.tests&note=flaky+suite"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let run = w.session.load(&w.run).await.unwrap();
    assert_eq!(
        run.record("prepare.tests").unwrap().by.as_deref(),
        Some("Ana <ana@example.com>")
    );
    // Logged out: the cookie no longer works.
    let (s, h, _) = send(&w.app, post("/logout", Some(&cookie), "")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(
        h[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (s, _, _) = send(
        &w.app,
        post(&uri, Some(&cookie), &format!("csrf={csrf}&text=again")),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_cookie_is_httponly_strict_and_secure_under_tls_and_wrong_tokens_are_limited() {
    let w = world(true).await;
    let (s, h, _) = send(
        &w.app,
        post("/login", None, &format!("token={}", enc(&w.ana))),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let set = h[header::SET_COOKIE].to_str().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains(&w.ana), "the token is not the cookie");
    let wrong = format!("shipcheck_{}", "1".repeat(64));
    let attacker = "203.0.113.7:40000";
    for _ in 0..crate::LOGIN_FAILURES {
        let req = from(attacker, post("/login", None, &format!("token={wrong}")));
        let (s, _, body) = send(&w.app, req).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(!body.contains(&wrong));
    }
    // That client is limited now, even with the right token (from another port too)…
    let req = from(
        "203.0.113.7:40001",
        post("/login", None, &format!("token={}", enc(&w.ana))),
    );
    let (s, h, _) = send(&w.app, req).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(h[header::RETRY_AFTER], "60");
    // …and nobody else is: Ana logs in from her address.
    let req = from(
        "198.51.100.20:50000",
        post("/login", None, &format!("token={}", enc(&w.ana))),
    );
    let (s, _, _) = send(&w.app, req).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let plain = world(false).await;
    let (_, h, _) = send(
        &plain.app,
        post("/login", None, &format!("token={}", enc(&plain.ana))),
    )
    .await;
    assert!(!h[header::SET_COOKIE].to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn metrics_count_runs_by_verdict_and_incidents_by_severity() {
    let w = world(false).await;
    let (s, h, text) = send(&w.app, get("/metrics")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        text.contains("shipcheck_runs{verdict=\"pending\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("shipcheck_incidents{severity=\"critical\"} 0"),
        "{text}"
    );
    assert!(text.contains("# TYPE shipcheck_time_to_detect_seconds summary"));
    assert!(
        text.contains("shipcheck_time_to_recover_seconds_count 0"),
        "{text}"
    );
}

#[tokio::test]
async fn the_team_page_says_no_data_rather_than_zero_and_lists_people() {
    let w = world(false).await;
    let (s, _, page) = send(&w.app, get("/team")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("0 production deployment(s)"), "{page}");
    assert!(
        page.contains("Change fail rate (rolled back or critical incident)</th><td>no data"),
        "{page}"
    );
    assert!(
        page.contains("Ana &lt;ana@example.com&gt;</td><td>lead"),
        "{page}"
    );
}

#[tokio::test]
async fn the_event_stream_says_when_the_journal_grows_from_any_writer() {
    let w = world(false).await;
    let res = router(w.app.clone())
        .oneshot(get(&format!("/runs/{}/events", w.run)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = res.into_body().into_data_stream();
    let first = body.next().await.unwrap().unwrap();
    let n = events(&w).await;
    assert!(String::from_utf8_lossy(&first).contains(&format!("event: journal\ndata: {n}")));
    // Another writer (a second handle on the store, as another process would be).
    let run = w.session.load(&w.run).await.unwrap();
    w.session
        .note(&run, NoteKind::General, "from a terminal", "ben")
        .await
        .unwrap();
    let next = tokio::time::timeout(std::time::Duration::from_secs(30), body.next())
        .await
        .expect("the stream moves")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&next).contains(&format!("data: {}", n + 1)));
}

#[test]
fn beyond_loopback_only_behind_tls() {
    let lan: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
    assert!(crate::check_listen(lan, false).is_err());
    assert!(crate::check_listen(lan, true).is_ok());
    assert!(crate::check_listen("127.0.0.1:0".parse().unwrap(), false).is_ok());
    assert!(crate::check_listen("[::1]:0".parse().unwrap(), false).is_ok());
}

#[tokio::test]
async fn sign_incident_and_rollback_from_the_browser_ask_and_record_the_person() {
    let w = world(false).await;
    let (cookie, csrf) = login(&w).await;
    let n = events(&w).await;
    // Sign: the run is not complete; refused, nothing journaled.
    let (s, _, body) = send(
        &w.app,
        post(
            &format!("/runs/{}/sign", w.run),
            Some(&cookie),
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("sign when every phase is complete"), "{body}");
    // Rollback: the page needs a session; the action needs the typed words.
    let (s, h, _) = send(&w.app, get(&format!("/runs/{}/rollback", w.run))).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/login");
    let (s, _, body) = send(
        &w.app,
        post(
            &format!("/runs/{}/rollback", w.run),
            Some(&cookie),
            &format!("csrf={csrf}&reason=bad&confirm=yes"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, _, _) = send(
        &w.app,
        post(
            &format!("/runs/{}/rollback", w.run),
            None,
            "csrf=x&reason=bad&confirm=roll+back",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(events(&w).await, n, "nothing journaled");
    // An incident, by the person.
    let (s, _, body) = send(
        &w.app,
        post(
            &format!("/runs/{}/incident", w.run),
            Some(&cookie),
            &format!("csrf={csrf}&severity=low&summary=%3Cb%3Eslow%3C%2Fb%3E+pages"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(
        body.contains("Incident #1 (low) raised by Ana &lt;ana@example.com&gt;"),
        "{body}"
    );
    assert!(!body.contains("<b>slow"));
    let run = w.session.load(&w.run).await.unwrap();
    assert_eq!(run.monitor.incidents[0].record.by, "Ana <ana@example.com>");
    let (s, _, _) = send(
        &w.app,
        post(
            &format!("/runs/{}/incident", w.run),
            Some(&cookie),
            &format!("csrf={csrf}&severity=huge&summary=x"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The logged-in page offers the forms.
    let mut req = get(&format!("/runs/{}", w.run));
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (_, _, page) = send(&w.app, req).await;
    assert!(
        page.contains("/incident\"") && page.contains("Roll back…"),
        "{page}"
    );
}

#[tokio::test]
async fn a_high_incident_shows_its_decision_timer_and_a_person_resolves_it() {
    let w = world(false).await;
    let (cookie, csrf) = login(&w).await;
    let run_uri = format!("/runs/{}", w.run);
    let (s, _, body) = send(
        &w.app,
        post(
            &format!("{run_uri}/incident"),
            Some(&cookie),
            &format!("csrf={csrf}&severity=high&summary=p95+doubled"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // The page counts down from the seconds left (the default timer is 30 minutes; the
    // clock is pinned), and states the deadline for a reader without JavaScript.
    let (_, _, page) = send(&w.app, get(&run_uri)).await;
    assert!(
        page.contains("class=\"countdown\" data-left=\"1800\">30:00 left"),
        "{page}"
    );
    assert!(page.contains("datetime=\"2026-08-21T09:30:00Z\""), "{page}");
    assert!(!page.contains("/decide\""), "no forms without a session");
    let mut req = get(&run_uri);
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (_, _, page) = send(&w.app, req).await;
    assert!(
        page.contains("action=\"/runs/") && page.contains("/decide\""),
        "{page}"
    );

    // Refused answers journal nothing.
    let n = events(&w).await;
    let decide = format!("{run_uri}/decide");
    let cases = [
        (
            None,
            "csrf=x&incident=1&decision=resolve&summary=x".to_string(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some(&cookie),
            "csrf=0000&incident=1&decision=resolve&summary=x".to_string(),
            StatusCode::FORBIDDEN,
        ),
        (
            Some(&cookie),
            format!("csrf={csrf}&incident=one&decision=resolve&summary=x"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&cookie),
            format!("csrf={csrf}&incident=1&decision=extend&summary=x"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&cookie),
            format!("csrf={csrf}&incident=9&decision=resolve&summary=x"),
            StatusCode::CONFLICT,
        ),
        (
            Some(&cookie),
            format!("csrf={csrf}&incident=1&decision=resolve&summary=+"),
            StatusCode::CONFLICT,
        ),
    ];
    for (cookie, form, want) in cases {
        let (s, _, body) = send(&w.app, post(&decide, cookie.map(|c| c.as_str()), &form)).await;
        assert_eq!(s, want, "{form}: {body}");
    }
    assert_eq!(events(&w).await, n, "nothing journaled");

    // Resolved by the person, as `incident --resolve` records it; the timer is gone.
    let (s, h, _) = send(
        &w.app,
        post(
            &decide,
            Some(&cookie),
            &format!("csrf={csrf}&incident=1&decision=resolve&summary=fixed+forward"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(
        h[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("#incident-1")
    );
    let run = w.session.load(&w.run).await.unwrap();
    let i = &run.monitor.incidents[0];
    assert!(!i.open);
    let d = i.decisions.last().unwrap();
    assert_eq!(
        (d.decision.as_str(), d.by.as_str(), d.reason.as_str()),
        ("resolved", "Ana <ana@example.com>", "fixed forward")
    );
    let (_, _, page) = send(&w.app, get(&run_uri)).await;
    assert!(!page.contains("countdown"), "{page}");
}

#[tokio::test]
async fn the_watch_is_drawn_from_the_journal_as_svg_with_its_limit_baseline_and_marks() {
    use shipcheck_core::model::event::Event;
    use shipcheck_core::model::watch::{
        Grade, Metric, ProbeSample, Purpose, Schedule, SeriesKey, SeriesSummary, Tick,
    };
    let w = world(false).await;
    let (_, _, page) = send(&w.app, get(&format!("/runs/{}", w.run))).await;
    assert!(!page.contains("The watch"), "no watch, no pictures");

    let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
    let key = SeriesKey::new(Metric::HttpErrors, Some("api"));
    let append = |e: Event| {
        let s = w.session.clone();
        let run = w.run.clone();
        async move { s.append(&run, e).await.unwrap() }
    };
    append(Event::WatchStarted {
        leg: 0,
        purpose: Purpose::Release,
        schedule: Schedule {
            interval: "1m".parse().unwrap(),
            duration: "3m".parse().unwrap(),
            sample_every: "10s".parse().unwrap(),
            consecutive_failures: 3,
        },
    })
    .await;
    for (n, value, grade) in [(1, 0.5, Grade::Pass), (2, 12.5, Grade::Fail)] {
        append(Event::WatchSamples {
            leg: 0,
            samples: vec![ProbeSample {
                at: at(&format!("2026-08-21T09:0{n}:00Z")),
                app: "api".into(),
                sent: 8,
                failed: n,
                ms: vec![3, 4],
                edge: None,
            }],
        })
        .await;
        append(Event::WatchTick {
            tick: Tick {
                leg: 0,
                n,
                of: 3,
                due_at: at(&format!("2026-08-21T09:0{n}:00Z")),
                grade,
                missed: 0,
                samples: 6,
                series: vec![SeriesSummary {
                    key: key.clone(),
                    grade,
                    samples: 6,
                    failed: n,
                    last: Some(value),
                    p95: Some(value),
                    limit: Some(10.0),
                    baseline: Some(1.0),
                    note: None,
                }],
            },
        })
        .await;
    }
    let (_, _, page) = send(&w.app, get(&format!("/runs/{}", w.run))).await;
    let at_watch = page
        .find("<section class=\"watch\"")
        .expect("the watch section");
    let watch = &page[at_watch..];
    let watch = &watch[..watch.find("</section>").unwrap()];
    assert!(
        watch.contains("<figure class=\"chart\"><svg viewBox=\"0 0 640 220\""),
        "{watch}"
    );
    assert!(watch.contains("failed health probes · api"), "{watch}");
    assert!(watch.contains("limit 10.0%"), "{watch}");
    assert!(watch.contains("baseline 1.0%"), "{watch}");
    assert_eq!(watch.matches("<circle class=\"tick ").count(), 2, "{watch}");
    assert!(watch.contains("tick 2: 12.5% (fail)"), "{watch}");
    assert_eq!(
        watch.matches("<circle class=\"sample\"").count(),
        2,
        "{watch}"
    );
    assert!(
        watch.contains("last tick 12.5%; limit 10.0%; baseline 1.0%; worst tick fail"),
        "{watch}"
    );
    assert!(
        watch.contains("watch 0 (the release): 2 of 3 tick(s), worst fail, running"),
        "{watch}"
    );
    // Nothing in it runs or styles inline (the CSP forbids both).
    assert!(!watch.contains("style=") && !watch.contains("<script"));
    assert!(
        !watch
            .split(|c: char| c.is_whitespace() || c == '<')
            .any(|w| w.starts_with("on") && w.contains('=')),
        "an event handler attribute: {watch}"
    );
    // The fragment the live page swaps in carries it too.
    let (_, _, frag) = send(&w.app, get(&format!("/runs/{}/fragment", w.run))).await;
    assert!(frag.contains("<section class=\"watch\""));
}

#[tokio::test]
async fn the_live_part_is_rendered_once_per_position_and_carries_each_viewers_own_token() {
    let w = world(false).await;
    let (cookie, csrf) = login(&w).await;
    let n = events(&w).await;
    let frag = |at: usize, cookie: Option<&str>| {
        let mut req = get(&format!("/runs/{}/fragment?at={at}", w.run));
        if let Some(c) = cookie {
            req.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        req
    };
    let (_, _, mine) = send(&w.app, frag(n, Some(&cookie))).await;
    assert!(
        mine.contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
        "{mine}"
    );
    assert!(!mine.contains(&w.app.placeholder), "the placeholder leaked");
    let (_, _, anon) = send(&w.app, frag(n, None)).await;
    assert!(!anon.contains("name=\"csrf\""), "{anon}");
    // Another writer appends: a viewer told of the new position gets it, not the cached one.
    let run = w.session.load(&w.run).await.unwrap();
    w.session
        .note(&run, NoteKind::General, "appended after the render", "ben")
        .await
        .unwrap();
    let (_, _, anon) = send(&w.app, frag(n + 1, None)).await;
    assert!(anon.contains("appended after the render"), "{anon}");
    // A position beyond the journal is the journal's end, not a wait.
    let (s, _, _) = send(&w.app, frag(n + 1000, None)).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_proxy_the_named_header_is_the_client() {
    let w = world_with(Options {
        tls: true,
        client_ip_header: Some("fly-client-ip".into()),
    })
    .await;
    let wrong = format!("shipcheck_{}", "2".repeat(64));
    // Every request comes from the proxy's address; the header tells the clients apart.
    let via_proxy = |client: &str, token: &str| {
        let mut req = from(
            "172.16.0.2:6000",
            post("/login", None, &format!("token={token}")),
        );
        req.headers_mut()
            .insert("fly-client-ip", client.parse().unwrap());
        req
    };
    for _ in 0..crate::LOGIN_FAILURES {
        let (s, _, _) = send(&w.app, via_proxy("2001:db8:9:9::1", &wrong)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // The same /64 is the same client.
    let (s, _, _) = send(&w.app, via_proxy("2001:db8:9:9::abcd", &enc(&w.ana))).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let (s, _, _) = send(&w.app, via_proxy("192.0.2.44", &enc(&w.ana))).await;
    assert_eq!(
        s,
        StatusCode::SEE_OTHER,
        "another client through the same proxy"
    );
    // Without the option a client's own header is not believed: one peer, one client.
    let direct = world(false).await;
    for n in 0..crate::LOGIN_FAILURES {
        let mut req = from(
            "203.0.113.9:1",
            post("/login", None, &format!("token={wrong}")),
        );
        req.headers_mut()
            .insert("fly-client-ip", format!("192.0.2.{n}").parse().unwrap());
        let (s, _, _) = send(&direct.app, req).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let mut req = from(
        "203.0.113.9:1",
        post("/login", None, &format!("token={}", enc(&direct.ana))),
    );
    req.headers_mut()
        .insert("fly-client-ip", "192.0.2.200".parse().unwrap());
    let (s, _, _) = send(&direct.app, req).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(crate::header_name("Fly-Client-IP").is_ok());
    assert!(crate::header_name("not a header").is_err());
}

/// The team page and `/metrics` fold each of the newest runs once and again only when it
/// moved: a run whose event count is unchanged is the state kept (the same allocation), a run
/// with a new event is read again and shows it.
#[tokio::test]
async fn the_history_folds_a_run_again_only_when_it_moved() {
    let w = world(false).await;
    let first = crate::pages::folded(&w.app).await.unwrap();
    let again = crate::pages::folded(&w.app).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(Arc::ptr_eq(&first[0], &again[0]), "read again unmoved");
    let run = w.session.load(&w.run).await.unwrap();
    w.session
        .note(&run, NoteKind::General, "moved", "bot")
        .await
        .unwrap();
    let moved = crate::pages::folded(&w.app).await.unwrap();
    assert!(!Arc::ptr_eq(&first[0], &moved[0]));
    assert_eq!(moved[0].event_count, first[0].event_count + 1);
    assert_eq!(*moved[0], w.session.load(&w.run).await.unwrap());
    let (s, _, body) = send(&w.app, get("/metrics")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}
