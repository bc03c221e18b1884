//! `shipcheck monitor` (the watch, live, resumable) and `shipcheck incident` (raise one,
//! the policy acts; or resolve one).

use shipcheck_core::incidents::respond::Asker;
use shipcheck_core::incidents::{Severity, Source};
use shipcheck_core::journal::watch::VerdictKind;
use shipcheck_core::model::incident::IncidentInput;
use shipcheck_core::watch::WatchOptions;

use super::walk::TtyConfirm;
use crate::cli::{Global, IncidentArgs, MonitorArgs, SeverityArg};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};
use crate::output::Progress;

pub async fn monitor(g: &Global, args: &MonitorArgs) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    // The watch is part of the walk: one process at a time (exit 4 while `deploy` watches).
    let _guard = session
        .store
        .walk_guard(session.project(), &args.env)
        .await?;
    let run = session.open_run(args.run.as_deref(), &args.env).await?;
    let by = context::actor(&session, &args.by).await?;
    let m = &session.loaded.config.monitor;
    let interval = args.interval.unwrap_or(m.interval.get());
    let duration = args.duration.unwrap_or(m.duration.get());
    let sample_every = args.sample_every.unwrap_or(m.sample_every.get());
    if let Err((key, message)) =
        shipcheck_core::model::config::check_schedule(interval, duration, sample_every)
    {
        return Err(CliError::Usage(format!(
            "--{}: {message}",
            key.replace('_', "-")
        )));
    }
    let opts = WatchOptions {
        by,
        interval: args.interval,
        duration: args.duration,
        sample_every: args.sample_every,
        yes: args.yes,
    };
    let progress = Progress::new(g.json);
    let confirm = TtyConfirm::new(g.json);
    let tail = crate::journal_view::Tail::follow(&session, g.json);
    let report =
        shipcheck_core::watch::watcher::watch(&session, &run.id, &opts, &confirm, &progress)
            .await?;
    tail.finish().await;
    if g.json {
        json::print(
            "watch",
            &docs::Watch {
                run: run.id.clone(),
                verdict: report.verdict.clone(),
                watches: report.legs,
                incidents: report.incidents,
                ticks_recorded: report.ticks_recorded,
                time_to_detect_s: report.time_to_detect_s,
                time_to_recover_s: report.time_to_recover_s,
            },
        );
    } else {
        say!(
            "verdict: {} — {}",
            report.verdict.verdict.as_str(),
            report.verdict.reason
        );
        let open: Vec<String> = report
            .incidents
            .iter()
            .filter(|i| i.open)
            .map(|i| format!("#{} {}", i.record.id, i.record.severity.as_str()))
            .collect();
        if !open.is_empty() {
            say!(
                "open incidents: {} (`shipcheck incident --resolve ID --summary TEXT`)",
                open.join(", ")
            );
        }
        if let Some(s) = report.time_to_detect_s {
            say!("time to detect: {}", fmt_secs(s));
        }
        if let Some(s) = report.time_to_recover_s {
            say!("time to recover: {}", fmt_secs(s));
        }
    }
    Ok(match report.verdict.verdict {
        VerdictKind::Success => 0,
        _ => 1,
    })
}

fn fmt_secs(s: u64) -> String {
    shipcheck_core::model::duration::format(std::time::Duration::from_secs(s))
}

pub async fn incident(g: &Global, args: &IncidentArgs) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session
        .open_run(args.who.run.as_deref(), &args.who.env)
        .await?;
    let by = context::actor(&session, &args.who.by).await?;
    if let Some(id) = args.resolve {
        let run = shipcheck_core::incidents::respond::resolve_incident(
            &session,
            &run.id,
            id,
            &by,
            &args.summary,
        )
        .await?;
        if g.json {
            json::print(
                "incident",
                &docs::IncidentDoc {
                    run: run.id.clone(),
                    incident: run.monitor.incident(id).cloned(),
                    message: json::schema::Omit(None),
                    contacts: json::schema::Omit(None),
                    rollback: json::schema::Omit(None),
                },
            );
        } else {
            say!("incident #{id} resolved by {by}");
        }
        return Ok(0);
    }
    let severity = match args.severity {
        Some(SeverityArg::Critical) => Severity::Critical,
        Some(SeverityArg::High) => Severity::High,
        Some(SeverityArg::Medium) => Severity::Medium,
        Some(SeverityArg::Low) => Severity::Low,
        None => return Err(CliError::Usage("--severity is required".into())),
    };
    let progress = Progress::new(g.json);
    let confirm = TtyConfirm::new(g.json);
    let ask = Asker {
        confirm: &confirm,
        yes: args.yes,
        observer: &progress,
    };
    let report = shipcheck_core::incidents::respond::raise_incident(
        &session,
        &run.id,
        IncidentInput {
            severity,
            summary: args.summary.clone(),
            by,
            source: Source::Person,
            series: None,
            evidence: serde_json::Value::Null,
        },
        &ask,
    )
    .await?;
    if g.json {
        json::print(
            "incident",
            &docs::IncidentDoc {
                run: run.id.clone(),
                incident: Some(report.incident.clone()),
                message: json::schema::Omit(Some(report.message.clone())),
                contacts: json::schema::Omit(Some(
                    report
                        .contacts
                        .iter()
                        .map(|(role, contact)| docs::Contact {
                            role: role.clone(),
                            contact: contact.clone(),
                        })
                        .collect(),
                )),
                rollback: json::schema::Omit(Some(report.rollback.clone())),
            },
        );
    } else {
        crate::watch_output::print_incident(&report);
    }
    Ok(0)
}
