//! What the watch does when a series changes: raise an incident when it has failed N samples
//! in a row, resolve what it raised when it recovers, and verify a rollback.

use std::collections::BTreeMap;

use serde_json::json;

use crate::incidents::respond::Asker;
use crate::incidents::respond::decide;
use crate::incidents::respond::raise_incident;
use crate::journal::watch::Leg;
use crate::model::event::Event;
use crate::model::incident::IncidentInput;
use crate::model::incident::{Decision, Source};
use crate::model::outcome::Status;
use crate::model::watch::Purpose;
use crate::model::watch::{Metric, Reading, SeriesKey};
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};
use crate::watch::WatchContext;
use crate::watch::rules::Judged;
use crate::watch::tick::Live;
use crate::watch::watcher::WATCHER;

pub(super) async fn raise_from_watch(
    session: &Session,
    run_id: &str,
    reading: &Reading,
    judged: &Judged,
    live: &Live,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    let severity = live.severity(reading, judged);
    let run = session.load(run_id).await?;
    let n = live.rules.consecutive;
    // One incident per failing thing: an open incident of the same kind (errors, or
    // latency and resources) at least as severe covers it — one the watch raised, for any
    // app (a bad release fails every app it runs on), or a person's for the same app. A
    // covered series is recorded on that incident; a more severe one is a new incident.
    let family = reading.key.metric.family();
    let covering = run.monitor.open_incidents().find(|i| {
        i.record.severity >= severity
            && i.record.series.as_ref().is_some_and(|k| {
                k.metric.family() == family
                    && (i.record.source == Source::Watch || k.app == reading.key.app)
            })
    });
    if let Some(i) = covering {
        // The same app's other series (its failed-probe rate when its health fails) are
        // the same failure: nothing to add.
        let same = i.record.series.as_ref().map(|k| &k.app) == Some(&reading.key.app);
        let noted = i.decisions.iter().any(|d| {
            d.decision == Decision::AlsoFailing
                && d.reason.starts_with(&format!("{} ", reading.key))
        });
        if !same && !noted {
            let m = reading.key.metric;
            let reason = format!(
                "{} at {} on {n} consecutive samples ({}); part of this incident",
                reading.key,
                reading
                    .value
                    .map(|v| m.show(v))
                    .unwrap_or_else(|| "no value".into()),
                severity.as_str()
            );
            decide(
                session,
                run_id,
                i.record.id,
                Decision::AlsoFailing,
                WATCHER,
                &reason,
                None,
                ask.observer,
            )
            .await?;
        }
        return Ok(());
    }
    let base = live.baseline.as_ref().and_then(|b| b.value(&reading.key));
    let m = reading.key.metric;
    let shown = reading
        .value
        .map(|v| m.show(v))
        .unwrap_or_else(|| "no value".into());
    let summary = match m {
        Metric::Health => format!(
            "{}: health endpoint failing on {n} consecutive samples ({})",
            reading.key.app.as_deref().unwrap_or("app"),
            reading.detail.as_deref().unwrap_or("no answer")
        ),
        _ => format!(
            "{} at {shown}, over its limit {}{} on {n} consecutive samples",
            reading.key,
            judged.limits.map(|l| m.show(l.fail)).unwrap_or_default(),
            base.map(|b| format!(" (baseline {})", m.show(b)))
                .unwrap_or_default()
        ),
    };
    let report = raise_incident(
        session,
        run_id,
        IncidentInput {
            severity,
            summary,
            by: WATCHER.into(),
            source: Source::Watch,
            series: Some(reading.key.clone()),
            evidence: json!({
                "value": reading.value,
                "detail": reading.detail,
                "limits": judged.limits,
                "baseline": base,
                "consecutive": n,
            }),
        },
        ask,
    )
    .await?;
    ask.observer
        .on_watch(&WatchEvent::Incident(Box::new(report)));
    Ok(())
}

/// Series that passed N samples in a row: resolve what they raised (the release's
/// watch), or verify the rollback (the watch after it).
pub(super) async fn recoveries(
    session: &Session,
    run_id: &str,
    ctx: &WatchContext,
    leg: &Leg,
    recovered: &[SeriesKey],
    live: &mut Live,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    let run = session.load(run_id).await?;
    let n = live.rules.consecutive;
    match leg.purpose {
        Purpose::Release => {
            for i in run.monitor.open_incidents() {
                let Some(key) = &i.record.series else {
                    continue;
                };
                // An incident covers every series of its kind that failed while it was
                // open: it is over when one of them recovered and none still fails.
                let family = key.metric.family();
                let back: Vec<String> = recovered
                    .iter()
                    .filter(|k| k.metric.family() == family)
                    .map(|k| k.to_string())
                    .collect();
                let still_failing = live
                    .streaks
                    .iter()
                    .any(|(k, s)| k.metric.family() == family && s.failing(n))
                    || (family == crate::model::watch::Family::Errors
                        && live.evidence.deciding()
                        && live.evidence.failing());
                if !back.is_empty()
                    && !still_failing
                    && i.record.source == Source::Watch
                    && !i.decided(Decision::Rollback)
                {
                    let reason = format!(
                        "{} recovered: passed {n} consecutive samples; nothing of its kind fails",
                        back.join(", ")
                    );
                    decide(
                        session,
                        run_id,
                        i.record.id,
                        Decision::Resolved,
                        WATCHER,
                        &reason,
                        None,
                        ask.observer,
                    )
                    .await?;
                }
            }
        }
        Purpose::AfterRollback => {
            if run.monitor.verification.is_some() {
                return Ok(());
            }
            let healthy: Vec<&SeriesKey> = live
                .streaks
                .iter()
                .filter(|(k, _)| {
                    matches!(
                        k.metric,
                        Metric::Health | Metric::HttpErrors | Metric::ErrorRate
                    )
                })
                .map(|(k, _)| k)
                .collect();
            let apps: Vec<&str> = healthy
                .iter()
                .filter(|k| k.metric == Metric::Health)
                .filter_map(|k| k.app.as_deref())
                .collect();
            // The sequential tests verify each app's failed-probe rate back at its baseline;
            // Sentry confirms later (and can raise again) but does not hold the verification.
            let evidence: Option<Vec<String>> = live.evidence.deciding().then(|| {
                apps.iter()
                    .filter_map(|a| live.evidence.verified(a).map(|v| format!("{a}: {v}")))
                    .collect()
            });
            let all_pass = match &evidence {
                Some(lines) => {
                    !apps.is_empty() && lines.len() == apps.len() && !live.evidence.failing()
                }
                None => old_rule_passes(live, &healthy, &apps, n),
            };
            if all_pass {
                // Healthy is not enough: the commit the rollback went back to must be the
                // one answering (when the apps say which commit they run).
                // The leg's clients (its HTTP client), with the run as it is now.
                // Read beside this round's sampling, or in an earlier round once it passed;
                // otherwise (a resumed watch's first round) read now.
                let version = match (live.version_live.clone(), live.version_this_round.take()) {
                    (Some(v), _) => v,
                    (None, Some(o)) => Some(o),
                    (None, None) => {
                        let fly_apps = crate::checks::fly::FlyApps::of(&ctx.clients);
                        crate::checks::fly::version_after_rollback(&fly_apps, Some(&run), &run.env)
                            .await
                    }
                };
                let version_line = match &version {
                    Some(o) if o.status != Status::Pass => {
                        if live.version_pending.as_deref() != Some(o.summary.as_str()) {
                            ask.observer.on_watch(&WatchEvent::Note(format!(
                                "healthy again after the rollback, but not verified yet: {}",
                                o.summary
                            )));
                        }
                        live.version_pending = Some(o.summary.clone());
                        return Ok(());
                    }
                    Some(o) => o.summary.clone(),
                    None => "the version served was not checked (no app has `version` in shipcheck.toml)".into(),
                };
                live.version_pending = None;
                let summary = match &evidence {
                    Some(lines) => format!(
                        "healthy again after the rollback: {}; {version_line}",
                        lines.join("; ")
                    ),
                    None => format!(
                        "healthy again after the rollback: {} answered on {n} consecutive samples; error rate under its criterion; {version_line}",
                        apps.join(", ")
                    ),
                };
                let version_evidence = version.map(|o| o.evidence);
                verified(session, run_id, true, &summary, version_evidence, live, ask).await?;
                let open: Vec<u32> = session
                    .load(run_id)
                    .await?
                    .monitor
                    .open_incidents()
                    .map(|i| i.record.id)
                    .collect();
                for id in open {
                    decide(
                        session,
                        run_id,
                        id,
                        Decision::Resolved,
                        WATCHER,
                        "rolled back; the rollback is verified",
                        None,
                        ask.observer,
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// The N-consecutive-samples rule's verification: every health and error series (Sentry's
/// too) passed N samples in a row, and every app's failed-probe rate.
fn old_rule_passes(live: &Live, healthy: &[&SeriesKey], apps: &[&str], n: u32) -> bool {
    !apps.is_empty()
        && healthy.iter().all(|k| live.streaks[*k].passing() >= n)
        && apps.iter().all(|a| {
            live.streaks
                .get(&SeriesKey::new(Metric::HttpErrors, Some(a)))
                .is_some_and(|s| s.passing() >= n)
        })
}

/// Records the rollback's verification: the health series' passing streaks, and what the
/// version check saw (`version`, when the apps say which commit they run).
pub(super) async fn verified(
    session: &Session,
    run_id: &str,
    ok: bool,
    summary: &str,
    version: Option<serde_json::Value>,
    live: &Live,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    let streaks: BTreeMap<String, u32> = live
        .streaks
        .iter()
        .map(|(k, s)| (k.to_string(), s.passing()))
        .collect();
    let mut evidence = json!({ "consecutive_passing": streaks });
    if let Some(v) = version {
        evidence["version"] = v;
    }
    session
        .append(
            run_id,
            Event::RollbackVerified {
                ok,
                summary: summary.to_string(),
                evidence,
            },
        )
        .await?;
    ask.observer.on_watch(&WatchEvent::Verified {
        ok,
        summary: summary.to_string(),
    });
    Ok(())
}
