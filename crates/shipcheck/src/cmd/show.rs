//! `status`, `history`, `report`, `verify`: reading runs.

use std::path::Path;

use shipcheck_core::journal::state::ItemState;
use shipcheck_core::model::checklist::Phase;
use shipcheck_core::report::{self, Format};
use shipcheck_core::store::ChainReport;

use crate::cli::{FormatArg, Global};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};
use crate::output::state_mark;

pub async fn status(g: &Global, run: Option<&str>, env: &str) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.resolve(run, env).await?;
    if g.json {
        json::print_value(&report::json::report(&run));
        return Ok(0);
    }
    say!(
        "run {} · {} ({}) · started by {} · {}",
        run.id,
        run.project,
        run.env,
        run.started_by,
        run.status.as_str()
    );
    if !run.anomalies.is_empty() {
        say!(
            "warning: {} event(s) of this run's journal could not be applied and are left out:",
            run.anomalies.len()
        );
        for a in &run.anomalies {
            say!("  {a}");
        }
    }
    for phase in Phase::ALL {
        let recs: Vec<_> = run.phase_items(phase).collect();
        if recs.is_empty() {
            continue;
        }
        let settled = recs.iter().filter(|r| r.state.is_settled()).count();
        let marker = if run.completed.contains(&phase) {
            "done"
        } else if run.current_phase() == Some(phase) {
            "← now"
        } else {
            ""
        };
        say!("\n{phase:<10} {settled}/{} settled {marker}", recs.len());
        let show_all = run.current_phase() == Some(phase);
        for r in recs {
            if show_all || matches!(r.state, ItemState::Fail | ItemState::Error) {
                say!(
                    "  {} {:<34} {}",
                    state_mark(r.state),
                    r.item.id,
                    r.summary.as_deref().unwrap_or(&r.item.title)
                );
            }
        }
    }
    if let Some(o) = shipcheck_core::actions::cdevents::outbox(&session, &run.id).await? {
        say!(
            "\nCDEvents to {}: {} of {} delivered, {} to send, {} given up",
            o.sink,
            o.delivered.len(),
            o.events.len(),
            o.pending.len(),
            o.given_up.len()
        );
        for id in &o.pending {
            let key = id.split_once('/').map_or(id.as_str(), |(_, k)| k);
            say!("  would send {key}");
        }
        for (id, error) in &o.given_up {
            let key = id.split_once('/').map_or(id.as_str(), |(_, k)| k);
            say!("  ✗ {key}: {error}");
        }
    }
    Ok(0)
}

pub async fn history(g: &Global, limit: usize) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let mut runs = session
        .store
        .list_runs(Some(session.project()), limit)
        .await?;
    // The status and phase shown are the journal's, not the runs row's (a cache anyone
    // with access to the store can edit; `shipcheck verify` reports a difference).
    for r in &mut runs {
        if let Ok(state) = session.load(&r.id).await {
            r.status = state.status.as_str().to_string();
            r.phase = state.current_phase().map(|p| p.as_str().to_string());
        }
    }
    if g.json {
        let list: Vec<_> = runs
            .iter()
            .map(|r| docs::HistoryRun {
                id: r.id.clone(),
                project: r.project.clone(),
                env: r.env.clone(),
                started_by: r.started_by.clone(),
                started_at: r.started_at,
                updated_at: r.updated_at,
                phase: r.phase.clone(),
                status: r.status.clone(),
                events: r.event_count,
            })
            .collect();
        json::print("history", &docs::History { runs: list });
        return Ok(0);
    }
    if runs.is_empty() {
        say!("no runs yet; `shipcheck start` or `shipcheck deploy` begins one");
    }
    let tz = &session.loaded.config.project.timezone;
    for r in runs {
        say!(
            "{}  {:<10} {:<10} {:<10} {}  {}",
            r.id,
            r.env,
            r.status,
            r.phase.as_deref().unwrap_or("-"),
            report::local_time(r.started_at, tz),
            r.started_by
        );
    }
    Ok(0)
}

pub async fn report(
    g: &Global,
    run: Option<&str>,
    format: FormatArg,
    output: Option<&Path>,
    env: &str,
) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.resolve(run, env).await?;
    let format = match (format, g.json) {
        (_, true) | (FormatArg::Json, _) => Format::Json,
        (FormatArg::Md, _) => Format::Markdown,
        (FormatArg::Junit, _) => Format::Junit,
    };
    let text = report::render(&run, format, &session.loaded.config.project.timezone);
    match output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| CliError::Io {
                what: format!("writing {}", path.display()),
                source,
            })?;
            say_err!("wrote {}", path.display());
        }
        None => say_raw!("{text}"),
    }
    Ok(0)
}

pub async fn verify(g: &Global, run: Option<&str>, env: &str) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let id = session.resolve_id(run, env).await?;
    let chain = session.store.verify_chain(&id).await?;
    // The journal must also read as a run.
    let events = session.store.events(&id).await;
    let folded = match &events {
        Ok(events) => {
            shipcheck_core::journal::state::RunState::fold(events).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    use crate::json::schema::Omit;
    let fold = folded.as_ref().err().cloned();
    let doc = |intact, events, head, first_bad_event, reason| docs::Verify {
        run: id.clone(),
        intact,
        events: Omit(events),
        head: Omit(head),
        first_bad_event: Omit(first_bad_event),
        reason: Omit(reason),
        runs_row_matches: Omit(None),
        anchors: Vec::new(),
        signatures: Vec::new(),
        ok: intact,
    };
    let (mut ok, text, mut value) = match (&chain, &fold) {
        (ChainReport::Intact { events, head }, None) => (
            true,
            format!(
                "run {id}: {events} events, hash chain intact (head {})",
                &head[..head.len().min(16)]
            ),
            doc(true, Some(*events), Some(head.clone()), None, None),
        ),
        (ChainReport::Broken { seq, reason }, _) => (
            false,
            format!("run {id}: hash chain broken at event {seq}: {reason}"),
            doc(false, None, None, Some(*seq), Some(reason.clone())),
        ),
        (ChainReport::Intact { .. }, Some(problem)) => (
            false,
            format!(
                "run {id}: hash chain intact but the journal does not read as a run: {problem}"
            ),
            doc(false, None, None, None, Some(problem.clone())),
        ),
    };
    let mut lines = vec![text];
    // The runs row is a cache: its status and phase must be what the events say.
    if let (Ok(run), Some(row)) = (&folded, session.store.run_summary(&id).await?) {
        let phase = run.current_phase().map(|p| p.as_str().to_string());
        let mut row_ok = true;
        if row.status != run.status.as_str() {
            row_ok = false;
            lines.push(format!(
                "  runs row: its status says {:?}, the journal says {:?} (the status column was edited; shipcheck goes by the journal)",
                row.status,
                run.status.as_str()
            ));
        }
        if row.phase != phase {
            row_ok = false;
            lines.push(format!(
                "  runs row: its phase says {:?}, the journal says {:?}",
                row.phase, phase
            ));
        }
        value.runs_row_matches = Omit(Some(row_ok));
        ok &= row_ok;
    }
    // The anchors outside the store that can be reached from here.
    if let (Ok(run), Ok(events)) = (&folded, &events) {
        let hashes: std::collections::BTreeMap<i64, String> =
            events.iter().map(|e| (e.seq, e.hash.clone())).collect();
        let checks = shipcheck_core::runs::anchor::check_anchors(&session, run, &hashes).await;
        for c in &checks {
            lines.push(format!(
                "  anchor {} ({}): {} — {}",
                c.kind, c.location, c.result, c.detail
            ));
        }
        if checks.iter().any(|c| c.is_mismatch()) {
            ok = false;
        }
        value.anchors = checks
            .iter()
            .map(|c| docs::VerifyAnchor {
                kind: c.kind.clone(),
                location: c.location.clone(),
                result: c.result.clone(),
                detail: c.detail.clone(),
            })
            .collect();
        // The record's SSH signatures, against the repository's allowed signers.
        let sigs = shipcheck_core::runs::signature::check_signatures(&session, run, &hashes).await;
        for s in &sigs {
            lines.push(format!("  SSH signature: {} — {}", s.result, s.detail));
        }
        if sigs.iter().any(|s| s.fails()) {
            ok = false;
        }
        value.signatures = sigs
            .iter()
            .map(|s| docs::VerifySignature {
                seq: s.seq,
                result: s.result.clone(),
                signer: Omit(s.signer.clone()),
                detail: s.detail.clone(),
            })
            .collect();
    }
    value.ok = ok;
    if g.json {
        json::print("verify", &value);
    } else {
        for l in &lines {
            say!("{l}");
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// `shipcheck events`: the run's journal, one line per event.
/// `shipcheck events --send`: the run's CDEvents the sink has not accepted, sent now (given-up
/// ones too; no rest after a failure), each answer journaled. Exit 3 when some are still owed.
pub async fn send_events(
    g: &Global,
    run: Option<&str>,
    env: &str,
    dry_run: bool,
) -> Result<u8, CliError> {
    use shipcheck_core::actions::cdevents;
    let session = context::session(g).await?;
    let run = session.resolve(run, env).await?;
    let Some(before) = cdevents::outbox(&session, &run.id).await? else {
        return Err(CliError::Usage(format!(
            "{}: no [events] table: there is no sink to send CDEvents to (add `[events] sink = \"https://…\"`; docs/events.md)",
            session.loaded.path.display()
        )));
    };
    let owed: Vec<&shipcheck_core::report::cdevents::CdEvent> = before
        .events
        .iter()
        .filter(|e| !before.delivered.contains(&e.id))
        .collect();
    let to_send: Vec<String> = owed.iter().map(|e| e.id.clone()).collect();
    let (delivered, still_owed) = if dry_run || owed.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let after = cdevents::send_owed(&session, &run.id).await?;
        let delivered: Vec<String> = to_send
            .iter()
            .filter(|id| after.cdevents.is_delivered(id))
            .cloned()
            .collect();
        let still: Vec<docs::OwedEvent> = to_send
            .iter()
            .filter(|id| !after.cdevents.is_delivered(id))
            .map(|id| docs::OwedEvent {
                id: id.clone(),
                error: after
                    .cdevents
                    .failures
                    .get(id)
                    .and_then(|f| f.last().cloned()),
            })
            .collect();
        (delivered, still)
    };
    let code = if still_owed.is_empty() { 0 } else { 3 };
    if g.json {
        json::print(
            "events_send",
            &docs::EventsSend {
                run: run.id.clone(),
                sink: before.sink.clone(),
                dry_run,
                to_send,
                delivered,
                still_owed,
            },
        );
        return Ok(code);
    }
    if owed.is_empty() {
        say!(
            "every CDEvent of run {} is delivered to {} ({} of {}): nothing to send",
            run.id,
            before.sink,
            before.delivered.len(),
            before.events.len()
        );
        return Ok(0);
    }
    if dry_run {
        say!(
            "would POST {} CDEvent(s) of run {} to {} (binary mode; nothing sent):",
            owed.len(),
            run.id,
            before.sink
        );
        for e in &owed {
            say!("  {}  {}", e.kind, e.id);
        }
        return Ok(0);
    }
    for id in &delivered {
        say!("  ✓ delivered {id}");
    }
    for o in &still_owed {
        say!(
            "  ✗ not delivered {}: {}",
            o.id,
            o.error
                .as_deref()
                .unwrap_or("not sent (an earlier one failed)")
        );
    }
    say!(
        "{} of {} owed CDEvent(s) delivered to {}{}",
        delivered.len(),
        delivered.len() + still_owed.len(),
        before.sink,
        if still_owed.is_empty() {
            String::new()
        } else {
            "; run `shipcheck events --send` again when the sink is back".into()
        }
    );
    Ok(code)
}

pub async fn events(g: &Global, run: Option<&str>, env: &str) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.resolve(run, env).await?;
    let events = session.store.events(&run.id).await?;
    if g.json {
        json::print(
            "events",
            &docs::Events {
                run: run.id.clone(),
                events,
            },
        );
        return Ok(0);
    }
    for e in &events {
        let line = crate::journal_view::line(e)
            .map(|l| l.trim_start().to_string())
            .unwrap_or_else(|| crate::journal_view::brief(e));
        say!(
            "{:>4}  {}  {:<18}  {line}",
            e.seq,
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.event.type_name()
        );
    }
    Ok(0)
}
