//! The team's bigger actions from the browser: sign, raise an incident, roll back (its exact
//! commands shown first, performed only after a typed confirmation). Each goes through the
//! same core function as the CLI, as the logged-in person.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use shipcheck_core::incidents::respond::{Asker, raise_incident};
use shipcheck_core::incidents::rollback::{rollback, rollback_plan};
use shipcheck_core::journal::state::RunStatus;
use shipcheck_core::model::incident::{IncidentInput, RollbackOptions, Severity, Source};
use shipcheck_core::runs::stream::{NoConfirm, NoObserver};

use crate::html::{esc, page};
use crate::{App, authorize, current, load, refused};

/// What a person types to confirm a rollback.
pub const ROLLBACK_WORDS: &str = "roll back";

#[derive(serde::Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct IncidentForm {
    csrf: String,
    severity: String,
    summary: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct RollbackForm {
    csrf: String,
    reason: String,
    #[serde(default)]
    confirm: String,
}

fn message(who: &str, title: &str, run: &str, lines: &[String]) -> Response {
    let mut body = format!("<h1>{}</h1>", esc(title));
    for l in lines {
        body.push_str(&format!("<p>{}</p>", esc(l)));
    }
    body.push_str(&format!(
        "<p><a href=\"/runs/{0}\">Back to the run</a></p>",
        esc(run)
    ));
    Html(page(title, Some(who), &body)).into_response()
}

pub(crate) async fn sign(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let run = match load(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let who = s.person.identity();
    match shipcheck_core::engine::sign(&app.session, &run, &who).await {
        Ok(run) => {
            let mut lines = vec![format!(
                "Run {} is signed by {who}; the deploy lock is released.",
                run.id
            )];
            if app.session.loaded.config.team.require_ssh_signature {
                lines.push(format!(
                    "The team requires an SSH signature ([team] require_ssh_signature): it is still to be added from a terminal with `shipcheck sign --run {} --key ~/.ssh/id_ed25519`.",
                    run.id
                ));
            }
            message(&who, "Signed", &run.id, &lines)
        }
        Err(e) => refused(e),
    }
}

pub(crate) async fn incident(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<IncidentForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let severity = match f.severity.as_str() {
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        other => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown severity {other:?}: low, medium, high or critical\n"),
            )
                .into_response();
        }
    };
    let run = match load(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(e) = app.session.open_run(Some(&run.id), &run.env).await {
        return refused(e);
    }
    let who = s.person.identity();
    // Nothing destructive without a confirmation: a rollback the policy asks for is not
    // performed from here; the page's rollback form shows its commands and asks.
    let ask = Asker {
        confirm: &NoConfirm,
        yes: false,
        observer: &NoObserver,
    };
    let input = IncidentInput {
        severity,
        summary: f.summary.clone(),
        by: who.clone(),
        source: Source::Person,
        series: None,
        evidence: serde_json::Value::Null,
    };
    match raise_incident(&app.session, &run.id, input, &ask).await {
        Ok(report) => {
            let mut lines = vec![
                format!(
                    "Incident #{} ({}) raised by {who}.",
                    report.incident.record.id,
                    report.incident.record.severity.as_str()
                ),
                report.message.clone(),
            ];
            for (role, contact) in &report.contacts {
                lines.push(format!("{role}: {contact}"));
            }
            if matches!(severity, Severity::Critical | Severity::High) {
                lines.push(format!(
                    "If the release must be rolled back, the run's rollback page shows the exact commands first: /runs/{}/rollback",
                    run.id
                ));
            }
            message(&who, "Incident raised", &run.id, &lines)
        }
        Err(e) => refused(e),
    }
}

fn options(app: &App, by: &str, reason: &str, dry_run: bool) -> RollbackOptions {
    RollbackOptions {
        strategy: app.session.loaded.config.incident.rollback_strategy,
        by: by.to_string(),
        reason: reason.to_string(),
        apps: None,
        dry_run,
    }
}

/// The rollback page: the exact commands, then a form that needs the typed words.
pub(crate) async fn rollback_page(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((_, s)) = current(&app, &headers) else {
        return Redirect::to("/login").into_response();
    };
    let run = match load(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let who = s.person.identity();
    let opts = options(&app, &who, "shown", true);
    let plan = match rollback_plan(&app.session, &run, &opts).await {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let mut body = format!(
        "<h1>Roll back run {}</h1><p>Strategy <b>{}</b>. These exact commands will run:</p><pre>",
        esc(&run.id),
        esc(opts.strategy.as_str())
    );
    for l in &plan {
        body.push_str(&esc(l));
        body.push('\n');
    }
    body.push_str(&format!(
        "</pre><form method=\"post\" action=\"/runs/{run}/rollback\" class=\"act\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"text\" name=\"reason\" required placeholder=\"why\" aria-label=\"reason\"><input type=\"text\" name=\"confirm\" required placeholder=\"type: {words}\" aria-label=\"type {words} to confirm\"><button>Roll back</button></form><p><a href=\"/runs/{run}\">Back to the run</a></p>",
        run = esc(&run.id),
        csrf = esc(&s.csrf),
        words = ROLLBACK_WORDS,
    ));
    Html(page("Roll back", Some(&who), &body)).into_response()
}

pub(crate) async fn rollback_do(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<RollbackForm>,
) -> Response {
    let s = match authorize(&app, &headers, &f.csrf) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if f.confirm.trim() != ROLLBACK_WORDS {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("not rolled back: type \"{ROLLBACK_WORDS}\" to confirm\n"),
        )
            .into_response();
    }
    let run = match load(&app, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if run.status.is_open()
        && let Err(e) = shipcheck_core::runs::pin::check(&app.session, &run)
    {
        return refused(e);
    }
    if run.status == RunStatus::Aborted {
        return refused(format!("run {} is aborted; nothing to roll back", run.id));
    }
    let who = s.person.identity();
    let opts = options(&app, &who, &f.reason, false);
    match rollback(&app.session, &run, &opts).await {
        Ok(outcome) => {
            let mut lines = vec![outcome.summary.clone()];
            lines.extend(outcome.plan.iter().cloned());
            message(&who, "Rolled back", &run.id, &lines)
        }
        Err(e) => refused(e),
    }
}
