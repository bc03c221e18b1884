//! A run's incidents on its page, and answering them from the browser: a high incident's
//! decision timer is shown counting down (the seconds left when the page was rendered, which
//! `app.js` counts on; without JavaScript the deadline reads as a time), and a logged-in
//! person answers it as the CLI offers — resolve it (`shipcheck incident --resolve ID
//! --summary …`, the same core function and journal event) or roll back (the rollback page,
//! its commands first and a typed confirmation).

use std::fmt::Write as _;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use shipcheck_core::incidents::respond::resolve_incident;
use shipcheck_core::journal::state::RunState;

use crate::html::esc;
use crate::{App, authorize, load, refused};

/// The incidents section of a run's live part.
pub(crate) fn section(run: &RunState, now: Timestamp, who: Option<&(String, String)>) -> String {
    let incidents = &run.monitor.incidents;
    if incidents.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Incidents</h2><ul class=\"incidents\">");
    for i in incidents {
        let _ = write!(
            out,
            "<li id=\"incident-{id}\"><b>#{id} {sev}</b> {summary} — raised by {by} at {at}; <span class=\"state {cls}\">{state}</span>",
            id = i.record.id,
            sev = esc(i.record.severity.as_str()),
            summary = esc(&i.record.summary),
            by = esc(&i.record.by),
            at = i.raised_at.strftime("%H:%M:%S UTC"),
            cls = if i.open { "fail" } else { "pass" },
            state = if i.open { "open" } else { "resolved" },
        );
        if let Some(d) = i.decisions.last() {
            let _ = write!(
                out,
                "<br><small>last decision: {} by {} — {}</small>",
                esc(d.decision.as_str()),
                esc(&d.by),
                esc(&d.reason)
            );
        }
        if let Some(until) = i.timer_until().filter(|_| i.open) {
            let left = until.as_second() - now.as_second();
            let _ = write!(
                out,
                "<p class=\"timer\">Decision timer: a quick fix or a rollback, decided by <time datetime=\"{iso}\">{hm}</time> — <b class=\"countdown\" data-left=\"{left}\">{text}</b></p>",
                iso = until,
                hm = until.strftime("%H:%M:%S UTC"),
                left = left.max(0),
                text = if left > 0 {
                    format!("{}:{:02} left", left / 60, left % 60)
                } else {
                    "ran out: the watch asks to roll back".into()
                },
            );
        }
        if let (true, Some((_, csrf))) = (i.open, who) {
            let _ = write!(
                out,
                "<form class=\"act\" method=\"post\" action=\"/runs/{run}/decide\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"incident\" value=\"{id}\"><input type=\"hidden\" name=\"decision\" value=\"resolve\"><input type=\"text\" name=\"summary\" required placeholder=\"fixed forward: how\" aria-label=\"how incident {id} was resolved\"><button>Resolve</button></form><p><a href=\"/runs/{run}/rollback\">Roll back instead…</a></p>",
                run = esc(&run.id),
                csrf = esc(csrf),
                id = i.record.id,
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    out
}

#[derive(serde::Deserialize)]
pub(crate) struct DecideForm {
    csrf: String,
    incident: String,
    decision: String,
    #[serde(default)]
    summary: String,
}

/// `POST /runs/ID/decide`: a person's answer to an incident, journaled as the CLI journals it.
pub(crate) async fn decide(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<DecideForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(incident) = f.incident.trim().parse::<u32>() else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{:?} is not an incident number\n", f.incident),
        )
            .into_response();
    };
    if f.decision != "resolve" {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "unknown decision {:?}: resolve here, or roll back from the rollback page\n",
                f.decision
            ),
        )
            .into_response();
    }
    let run = match load(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let who = s.person.identity();
    match resolve_incident(&app.session, &run.id, incident, &who, &f.summary).await {
        Ok(run) => Redirect::to(&format!("/runs/{}#incident-{incident}", run.id)).into_response(),
        Err(e) => refused(e),
    }
}
