//! The pages: runs history, a run (live), its record, the login form, and `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use shipcheck_core::journal::state::{ItemState, RunState};
use shipcheck_core::journal::watch::verdict;
use shipcheck_core::report::{self, Format};

use crate::html::{esc, page};
use crate::{App, current};

/// How many runs the history and `/metrics` read.
const HISTORY: usize = 200;

fn who(app: &App, headers: &HeaderMap) -> Option<(String, String)> {
    current(app, headers).map(|(_, s)| (s.person.identity(), s.csrf))
}

pub(crate) fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub(crate) async fn history(State(app): State<App>, headers: HeaderMap) -> Response {
    let runs = match app.session.store.list_runs(None, HISTORY).await {
        Ok(r) => r,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    };
    let broken: Vec<bool> = {
        let folded = app.folded.lock().await;
        runs.iter().map(|r| folded.seen_broken(&r.id)).collect()
    };
    let mut body =
        String::from("<h1>Runs</h1><p><a href=\"/team\">The team and its DORA metrics</a></p>");
    if runs.is_empty() {
        body.push_str("<p>No runs yet: <code>shipcheck deploy</code> starts one.</p>");
    } else {
        body.push_str("<table><thead><tr><th>Run</th><th>Env</th><th>Status</th><th>Started</th><th>By</th></tr></thead><tbody>");
        for (r, broken) in runs.iter().zip(broken) {
            let _ = write!(
                body,
                "<tr><td><a href=\"/runs/{id}\">{short}</a></td><td>{env}</td><td class=\"state\">{status}{phase}{mark}</td><td>{at}</td><td>{by}</td></tr>",
                id = esc(&r.id),
                short = esc(&r.id[..r.id.len().min(13)]),
                env = esc(&r.env),
                status = esc(&r.status),
                phase = r
                    .phase
                    .as_deref()
                    .map(|p| format!(" · {}", esc(p)))
                    .unwrap_or_default(),
                at = when(r.started_at),
                by = esc(&r.started_by),
                mark = if broken {
                    " <span class=\"broken-mark\" title=\"this run's journal does not verify\">✗ journal broken</span>"
                } else {
                    ""
                },
            );
        }
        body.push_str("</tbody></table>");
    }
    let who = who(&app, &headers);
    Html(page("Runs", who.as_ref().map(|w| w.0.as_str()), &body)).into_response()
}

pub(crate) async fn run_page(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let summary = match app.session.store.find_run(&id).await {
        Ok(s) => s,
        Err(e) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    };
    let who = who(&app, &headers);
    let (status, count, frag) = match live_part(
        &app,
        &summary.id,
        summary.event_count,
        summary.event_count,
        who.as_ref(),
    )
    .await
    {
        Ok((count, frag)) => (StatusCode::OK, count, frag),
        Err(problem) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            summary.event_count,
            unreadable(&problem),
        ),
    };
    let short = &summary.id[..summary.id.len().min(13)];
    let body = format!(
        "<h1>Run {short} <small>{env}</small></h1><p class=\"live\">served {now}</p>\
<p><a href=\"/runs/{id}/record\">The record (Markdown)</a></p><div data-live=\"{id}\" data-events=\"{count}\">{frag}</div>",
        short = esc(short),
        env = esc(&summary.env),
        id = esc(&summary.id),
        now = when(jiff::Timestamp::now()),
    );
    (
        status,
        Html(page(
            &format!("Run {short}"),
            who.as_ref().map(|w| w.0.as_str()),
            &body,
        )),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub(crate) struct At {
    /// The journal position the viewer was told of.
    at: Option<i64>,
}

pub(crate) async fn run_fragment(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<At>,
    headers: HeaderMap,
) -> Response {
    let summary = match app.session.store.find_run(&id).await {
        Ok(s) => s,
        Err(e) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    };
    let wanted = q.at.unwrap_or(summary.event_count).min(summary.event_count);
    match live_part(
        &app,
        &summary.id,
        wanted,
        summary.event_count,
        who(&app, &headers).as_ref(),
    )
    .await
    {
        Ok((_, html)) => Html(html).into_response(),
        Err(problem) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(unreadable(&problem)),
        )
            .into_response(),
    }
}

/// The live part of a run whose journal cannot be read (an event edited into something that
/// is not an event): the banner, in the integrity line's place, naming the event.
fn unreadable(problem: &str) -> String {
    format!(
        "<p class=\"integrity broken\" role=\"alert\">✗ This run's journal cannot be read: {}</p>",
        esc(problem)
    )
}

/// The most notes a run's live part lists (the newest; the record has them all), so that a
/// page's size and its render do not grow with the journal.
const NOTES_SHOWN: usize = 50;
/// How long a rendered live part may be served (its decision timers count from its render).
const RENDERED_FOR: Duration = Duration::from_secs(2);
/// The most runs whose live part is kept.
const RENDERED_RUNS: usize = 64;

/// A run's live part as rendered: at which journal position, when, with a placeholder for
/// the viewer's CSRF token in its forms, and without forms (for a reader not logged in).
pub(crate) struct Rendered {
    count: i64,
    at: Instant,
    forms: String,
    plain: String,
}

/// The run's live part for `who`, at journal position `wanted` or later: rendered once per
/// position however many viewers ask (a hundred open pages fetch it after every event), then
/// the viewer's CSRF token is put into its forms; `known` is the run's event count as the
/// store gave it. Returns (the position it shows, the HTML).
async fn live_part(
    app: &App,
    id: &str,
    wanted: i64,
    known: i64,
    who: Option<&(String, String)>,
) -> Result<(i64, String), String> {
    let mut cache = app.rendered.lock().await;
    let fresh = cache
        .get(id)
        .is_some_and(|r| r.count >= wanted && r.at.elapsed() < RENDERED_FOR);
    if !fresh {
        let mut runs = app.folded.lock().await;
        let f = runs.catch_up(&app.session, id, known).await?;
        let run = &f.run;
        let watch = crate::charts::watch(run, &f.samples);
        let integrity = crate::integrity::html(f);
        let forms = fragment(
            app,
            run,
            Some(&(String::new(), app.placeholder.clone())),
            &integrity,
            &watch,
        );
        let plain = fragment(app, run, None, &integrity, &watch);
        let count = run.event_count as i64;
        drop(runs);
        if cache.len() >= RENDERED_RUNS {
            cache.clear();
        }
        cache.insert(
            id.to_string(),
            Rendered {
                count,
                at: Instant::now(),
                forms,
                plain,
            },
        );
    }
    let Some(r) = cache.get(id) else {
        return Err("its live part was not rendered".into());
    };
    let html = match who {
        Some((_, csrf)) => r.forms.replace(&app.placeholder, &esc(csrf)),
        None => r.plain.clone(),
    };
    Ok((r.count, html))
}

/// The live part of a run's page: whether its journal verifies, its state, phases and items,
/// notes, and (for a logged-in person) the forms.
fn fragment(
    app: &App,
    run: &RunState,
    who: Option<&(String, String)>,
    integrity: &str,
    watch: &str,
) -> String {
    let v = verdict(run);
    let mut out = integrity.to_string();
    let _ = write!(
        out,
        "<p><b>Status</b>: <span class=\"state\">{status}</span>{phase} · <b>started</b> by {by}, {at} · <b>events</b>: {events} · <b>verdict</b>: {verdict} — {reason}</p>",
        status = esc(run.status.as_str()),
        phase = run
            .current_phase()
            .map(|p| format!(" · phase <b>{}</b>", esc(p.as_str())))
            .unwrap_or_default(),
        by = esc(&run.started_by),
        at = when(run.started_at),
        events = run.event_count,
        verdict = esc(v.verdict.as_str()),
        reason = esc(&v.reason),
    );
    if let Some((by, at)) = &run.signed {
        let _ = write!(out, "<p><b>Signed</b> by {} at {}", esc(by), when(*at));
        for s in &run.ssh_signatures {
            let _ = write!(
                out,
                " · SSH signature with {} (by {})",
                esc(&s.key),
                esc(&s.by)
            );
        }
        out.push_str("</p>");
    }
    let open = run.status.is_open();
    let mut by_phase: BTreeMap<usize, (String, Vec<&shipcheck_core::journal::state::ItemRecord>)> =
        BTreeMap::new();
    for r in &run.items {
        by_phase
            .entry(r.item.phase as usize)
            .or_insert_with(|| (r.item.phase.as_str().to_string(), Vec::new()))
            .1
            .push(r);
    }
    for (_, (phase, items)) in by_phase {
        let done = run.completed.iter().any(|p| p.as_str() == phase);
        let _ = write!(
            out,
            "<h2>{}{}</h2><table><thead><tr><th>Item</th><th>State</th><th>Evidence</th><th>Who, when</th></tr></thead><tbody>",
            esc(&phase),
            if done { " ✓" } else { "" }
        );
        for r in items {
            let state = r.state.as_str();
            let who_when = match (&r.by, r.at) {
                (Some(b), Some(at)) => format!("{}, {}", esc(b), when(at)),
                (None, Some(at)) => when(at),
                _ => String::new(),
            };
            let mut forms = String::new();
            if let (
                true,
                Some((_, csrf)),
                ItemState::Pending | ItemState::Fail | ItemState::Error,
            ) = (open && !done, who, r.state)
            {
                if r.item.is_ticked_by_person() {
                    let _ = write!(
                        forms,
                        "<form class=\"act\" method=\"post\" action=\"/runs/{run}/tick\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"item\" value=\"{item}\"><input type=\"text\" name=\"note\" placeholder=\"note\" aria-label=\"note for {item}\"><button>Tick</button></form>",
                        run = esc(&run.id),
                        csrf = esc(csrf),
                        item = esc(&r.item.id),
                    );
                }
                let _ = write!(
                    forms,
                    "<form class=\"act\" method=\"post\" action=\"/runs/{run}/waive\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"item\" value=\"{item}\"><input type=\"text\" name=\"note\" placeholder=\"why it is waived\" required aria-label=\"reason to waive {item}\"><button>Waive</button></form>",
                    run = esc(&run.id),
                    csrf = esc(csrf),
                    item = esc(&r.item.id),
                );
            }
            let _ = write!(
                out,
                "<tr id=\"item-{id}\"><td>{title}<br><small>{id}</small>{forms}</td><td class=\"state {state}\">{state}</td><td>{summary}</td><td>{who_when}</td></tr>",
                id = esc(&r.item.id),
                title = esc(&r.item.title),
                state = esc(state),
                summary = esc(r.summary.as_deref().unwrap_or("")),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str(&crate::incidents::section(
        run,
        app.session.clock.now(),
        who,
    ));
    out.push_str(watch);
    if !run.notes.is_empty() {
        out.push_str("<h2>Notes</h2>");
        let earlier = run.notes.len().saturating_sub(NOTES_SHOWN);
        if earlier > 0 {
            let _ = write!(
                out,
                "<p>The newest {NOTES_SHOWN} of {} notes; the {earlier} earlier ones are in <a href=\"/runs/{}/record\">the record</a>.</p>",
                run.notes.len(),
                esc(&run.id)
            );
        }
        out.push_str("<ul>");
        for n in &run.notes[earlier..] {
            let _ = write!(out, "<li>{} — {}</li>", esc(&n.text), esc(&n.by));
        }
        out.push_str("</ul>");
    }
    if let Some((_, csrf)) = who {
        if run.status == shipcheck_core::journal::state::RunStatus::Completed {
            let _ = write!(
                out,
                "<h2>Sign</h2><form class=\"act\" method=\"post\" action=\"/runs/{run}/sign\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>Sign the record</button></form>",
                run = esc(&run.id),
                csrf = esc(csrf),
            );
        }
        if open {
            let _ = write!(
                out,
                "<h2>Raise an incident</h2><form class=\"act\" method=\"post\" action=\"/runs/{run}/incident\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><select name=\"severity\" aria-label=\"severity\"><option>low</option><option>medium</option><option>high</option><option>critical</option></select><input type=\"text\" name=\"summary\" required aria-label=\"what is wrong\"><button>Raise</button></form>",
                run = esc(&run.id),
                csrf = esc(csrf),
            );
        }
        if run.status != shipcheck_core::journal::state::RunStatus::Aborted {
            let _ = write!(
                out,
                "<p><a href=\"/runs/{}/rollback\">Roll back…</a> (the exact commands are shown first)</p>",
                esc(&run.id)
            );
        }
        let _ = write!(
            out,
            "<h2>Add a note</h2><form class=\"act\" method=\"post\" action=\"/runs/{run}/note\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><select name=\"kind\" aria-label=\"kind\"><option value=\"general\">note</option><option value=\"issue\">issue observed</option><option value=\"lesson\">lesson learned</option></select><input type=\"text\" name=\"text\" required aria-label=\"note\"><button>Add</button></form>",
            run = esc(&run.id),
            csrf = esc(csrf),
        );
    }
    out
}

/// The record (Markdown) of the run as kept folded, after whether its journal verifies.
pub(crate) async fn record(State(app): State<App>, Path(id): Path<String>) -> Response {
    let summary = match app.session.store.find_run(&id).await {
        Ok(s) => s,
        Err(e) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    };
    let mut runs = app.folded.lock().await;
    let f = match runs
        .catch_up(&app.session, &summary.id, summary.event_count)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
                format!("> **✗ This run's journal cannot be read: {e}**\n"),
            )
                .into_response();
        }
    };
    let mut md = crate::integrity::markdown(f);
    md.push_str(&report::render(
        &f.run,
        Format::Markdown,
        &app.session.loaded.config.project.timezone,
    ));
    drop(runs);
    ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], md).into_response()
}

pub(crate) fn login_body(problem: Option<&str>) -> String {
    format!(
        "<h1>Log in</h1>{}<form method=\"post\" action=\"/login\" class=\"act\"><input type=\"password\" name=\"token\" autocomplete=\"off\" required aria-label=\"personal token\" placeholder=\"your personal token (shipcheck_…)\"><button>Log in</button></form><p>A lead gives you a token with <code>shipcheck team add</code>. It is sent once, in this form's body, never in a URL.</p>",
        problem
            .map(|p| format!("<p class=\"fail\">{}</p>", esc(p)))
            .unwrap_or_default()
    )
}

pub(crate) async fn login_form() -> Response {
    Html(page("Log in", None, &login_body(None))).into_response()
}

/// Prometheus text: runs by verdict, incidents by severity, time to detect.
pub(crate) async fn metrics(State(app): State<App>) -> Response {
    let runs = match folded(&app).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut verdicts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut severities: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut detect_sum, mut detect_n) = (0.0f64, 0u64);
    let (mut recover_sum, mut recover_n) = (0.0f64, 0u64);
    for run in &runs {
        if let Some(s) = shipcheck_core::report::dora::time_to_restore(run) {
            recover_sum += s as f64;
            recover_n += 1;
        }
        *verdicts.entry(verdict(run).verdict.as_str()).or_default() += 1;
        for i in &run.monitor.incidents {
            *severities.entry(i.record.severity.as_str()).or_default() += 1;
            if let Some(live) = run.monitor.release_live_at {
                let secs = (i.raised_at.as_second() - live.as_second()) as f64;
                if secs >= 0.0 {
                    detect_sum += secs;
                    detect_n += 1;
                }
            }
        }
    }
    let mut out = String::from(
        "# HELP shipcheck_runs Runs in the store (the newest 200) by verdict.\n# TYPE shipcheck_runs gauge\n",
    );
    for v in ["pending", "success", "failed", "rolled_back", "aborted"] {
        let _ = writeln!(
            out,
            "shipcheck_runs{{verdict=\"{v}\"}} {}",
            verdicts.get(v).copied().unwrap_or(0)
        );
    }
    out.push_str("# HELP shipcheck_incidents Incidents of those runs by severity.\n# TYPE shipcheck_incidents gauge\n");
    for s in ["low", "medium", "high", "critical"] {
        let _ = writeln!(
            out,
            "shipcheck_incidents{{severity=\"{s}\"}} {}",
            severities.get(s).copied().unwrap_or(0)
        );
    }
    out.push_str("# HELP shipcheck_time_to_detect_seconds From the release going live to each incident.\n# TYPE shipcheck_time_to_detect_seconds summary\n");
    let _ = writeln!(out, "shipcheck_time_to_detect_seconds_sum {detect_sum}");
    let _ = writeln!(out, "shipcheck_time_to_detect_seconds_count {detect_n}");
    out.push_str("# HELP shipcheck_time_to_recover_seconds From a run's first incident to its rollback verified healthy.\n# TYPE shipcheck_time_to_recover_seconds summary\n");
    let _ = writeln!(out, "shipcheck_time_to_recover_seconds_sum {recover_sum}");
    let _ = writeln!(out, "shipcheck_time_to_recover_seconds_count {recover_n}");
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

fn dur(s: Option<i64>) -> String {
    match s {
        None => "no data".into(),
        Some(s) if s < 3600 => format!("{} min", s / 60),
        Some(s) if s < 86_400 => format!("{:.1} h", s as f64 / 3600.0),
        Some(s) => format!("{:.1} days", s as f64 / 86_400.0),
    }
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "no data".into())
}

/// The newest [`HISTORY`] runs as last folded, by id; each with the event count the store
/// listed it at when it was folded.
pub(crate) type History = std::collections::HashMap<String, (i64, std::sync::Arc<RunState>)>;

/// Every run of the newest [`HISTORY`], folded: a run whose listed event count is the one it
/// was folded at is taken as it was (a run that moves is read again; runs that left the
/// newest [`HISTORY`] are dropped).
pub(crate) async fn folded(app: &App) -> Result<Vec<std::sync::Arc<RunState>>, Response> {
    let rows = app
        .session
        .store
        .list_runs(None, HISTORY)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response())?;
    let mut kept = app.history.lock().await;
    let mut fresh = History::with_capacity(rows.len());
    let mut runs = Vec::with_capacity(rows.len());
    for r in &rows {
        let run = match kept.remove(&r.id) {
            Some((count, run)) if count == r.event_count => run,
            _ => match app.session.load(&r.id).await {
                Ok(run) => std::sync::Arc::new(run),
                Err(_) => continue,
            },
        };
        fresh.insert(r.id.clone(), (r.event_count, run.clone()));
        runs.push(run);
    }
    *kept = fresh;
    Ok(runs)
}

/// The team page: the five DORA metrics from the journals, and the people.
pub(crate) async fn team(State(app): State<App>, headers: HeaderMap) -> Response {
    let runs = match folded(&app).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let d = shipcheck_core::report::dora::compute(runs.iter().map(|r| r.as_ref()));
    let mut body = format!(
        "<h1>Team</h1><h2>DORA metrics</h2><p>From the journals of the newest {HISTORY} runs: {n} production deployment(s) over {days:.0} day(s).</p>\
<table><tbody>\
<tr><th>Deployment frequency</th><td>{freq}</td></tr>\
<tr><th>Lead time for changes (median, first commit → live)</th><td>{lead}</td></tr>\
<tr><th>Change fail rate (rolled back or critical incident)</th><td>{cfr} ({failed} of {n})</td></tr>\
<tr><th>Time to restore (median, first incident → rollback verified)</th><td>{ttr}</td></tr>\
<tr><th>Rework rate (deployments right after a failed one)</th><td>{rework} ({rw} of {n})</td></tr>\
</tbody></table>",
        n = d.deployments,
        days = d.period_days,
        freq = d
            .per_week
            .map(|w| format!("{w:.1} per week"))
            .unwrap_or_else(|| "no data".into()),
        lead = dur(d.lead_time_median_s),
        cfr = pct(d.change_fail_rate),
        failed = d.failed,
        ttr = dur(d.time_to_restore_median_s),
        rework = pct(d.rework_rate),
        rw = d.rework,
    );
    match app.session.store.people().await {
        Ok(people) if !people.is_empty() => {
            body.push_str("<h2>People</h2><table><tbody>");
            for p in &people {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(&p.identity()),
                    esc(p.role.as_str())
                );
            }
            body.push_str("</tbody></table>");
        }
        _ => body.push_str("<p>No team in this store yet (<code>shipcheck team add</code>).</p>"),
    }
    let who = who(&app, &headers);
    Html(page("Team", who.as_ref().map(|w| w.0.as_str()), &body)).into_response()
}
