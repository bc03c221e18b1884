//! The checklist items the watch settles: `verify.response-times`, `watch.error-rates`,
//! `watch.metrics`, `close.final-check`, `close.no-critical`, and the action
//! `close.review-scheduled`. The watch's items read what the watch recorded; the others
//! measure now.

use std::collections::BTreeMap;

use serde_json::json;

use crate::watch::WatchContext;

use crate::journal::state::RunState;
use crate::journal::watch::judge_watch;
use crate::model::incident::Severity;
use crate::model::outcome::{Outcome, Status};
use crate::model::watch::Baseline;
use crate::model::watch::Grade;
use crate::model::watch::{Family, Metric, SeriesKey};
use crate::watch::baseline::{self};
use crate::watch::rules::Rules;
use crate::watch::sources;

fn no_run() -> Outcome {
    Outcome::error(
        "this check reads a run (its baseline and its watch); it runs within a run (`shipcheck next`)",
        serde_json::Value::Null,
    )
}

fn rules(ctx: &WatchContext) -> Rules {
    let m = &ctx.config.monitor;
    Rules::new(
        m,
        m.interval.get(),
        m.sample_every.get(),
        m.consecutive_failures,
    )
}

/// `verify.response-times`: each app's p95 now (from `baseline_probes` probes) against the
/// baseline's p95 × (1 + `latency_p95_increase`), and at least `latency_min_increase` more.
pub async fn response_times(ctx: &WatchContext) -> Outcome {
    let Some(run) = ctx.run.as_deref() else {
        return no_run();
    };
    let Some(base) = run.monitor.baseline.as_ref() else {
        return Outcome::error(
            "no baseline was recorded before the release (shipcheck measures it in preflight, before the merge); compare response times by hand and waive with the figures",
            serde_json::Value::Null,
        );
    };
    // Single probes, spaced, like the baseline's: "N probes in a row" below counts probes.
    let signals = sources::signals(ctx, &run.env, 1);
    if signals.is_empty() {
        return Outcome::error(
            format!("no app of {} has a health_url to time", run.env),
            json!({ "unwatched": sources::unwatched_apps(ctx, &run.env) }),
        );
    }
    let probes = ctx.config.monitor.baseline_probes;
    let raw = baseline::readings(ctx, &signals, probes).await;
    let r = rules(ctx);
    // The longest run of consecutive probes over the limit, per series: a p95 over the limit
    // fails only when it is sustained (one slow probe is never a failure).
    let mut streaks: BTreeMap<SeriesKey, (u32, u32)> = BTreeMap::new();
    for reading in &raw {
        let over = r.judge(&reading.key, reading.value, Some(base)).grade == Grade::Fail;
        let e = streaks.entry(reading.key.clone()).or_default();
        e.0 = if over { e.0 + 1 } else { 0 };
        e.1 = e.1.max(e.0);
    }
    let now = crate::model::watch::summarise(raw, probes);
    let mut status = Status::Pass;
    let mut parts = Vec::new();
    let mut apps = Vec::new();
    for v in now
        .values
        .iter()
        .filter(|v| matches!(v.key.metric, Metric::Latency | Metric::P95))
    {
        let j = r.judge(&v.key, v.p95, Some(base));
        let longest = streaks.get(&v.key).map_or(0, |s| s.1);
        let grade = match j.grade {
            Grade::Fail if longest < r.consecutive.min(v.samples.max(1)) => Grade::Warn,
            g => g,
        };
        let app = match v.key.metric {
            Metric::P95 => format!("{} (edge)", v.key.app.as_deref().unwrap_or_default()),
            _ => v.key.app.clone().unwrap_or_default(),
        };
        let shown = |x: Option<f64>| x.map(|x| Metric::Latency.show(x)).unwrap_or("—".into());
        let b = base.value(&v.key);
        let line = match (grade, v.p95) {
            (Grade::NoData, None) => {
                status = status.worst(Status::Error);
                format!(
                    "{app}: no answer to time ({})",
                    v.note.as_deref().unwrap_or("no data")
                )
            }
            (Grade::NoData, Some(_)) => {
                status = status.worst(Status::Error);
                format!(
                    "{app}: p95 {} but no baseline to compare with",
                    shown(v.p95)
                )
            }
            (g, _) => {
                if g == Grade::Fail {
                    status = status.worst(Status::Fail);
                }
                format!(
                    "{app} p95 {} (baseline {}, limit {}){}",
                    shown(v.p95),
                    shown(b),
                    shown(j.limits.map(|l| l.fail)),
                    match g {
                        Grade::Pass => String::new(),
                        Grade::Warn if j.grade == Grade::Fail => {
                            format!(" warn: over the limit on {longest} probe(s), not sustained")
                        }
                        g => format!(" {}", g.as_str()),
                    }
                )
            }
        };
        parts.push(line);
        apps.push(json!({
            "app": app, "p50_ms": v.p50, "p95_ms": v.p95, "samples": v.samples,
            "baseline_p95_ms": b, "limit_ms": j.limits.map(|l| l.fail), "grade": grade,
            "longest_over_limit": longest,
        }));
    }
    Outcome::new(status, parts.join("; "), json!({ "apps": apps }))
}

/// `preflight.production-healthy`: the baseline `preflight` measured before the merge shows
/// production answering. An app whose health probes mostly failed (or never answered), or
/// failed more than `error_rate_increase` points of them, is already failing: deploying on
/// top of it leaves the watch nothing healthy to compare with, and a rollback nothing
/// healthy to go back to. A person who knows why waives the item with the reason.
pub fn baseline_health(ctx: &WatchContext) -> Outcome {
    let Some(run) = ctx.run.as_deref() else {
        return no_run();
    };
    let Some(base) = run.monitor.baseline.as_ref() else {
        return Outcome::error(
            "no baseline was recorded (shipcheck measures it in preflight, before the merge; the merge has already begun): check production by hand and waive with what you saw",
            serde_json::Value::Null,
        );
    };
    let limit = ctx.config.monitor.error_rate_increase;
    let mut status = Status::Pass;
    let mut parts = Vec::new();
    let mut apps = Vec::new();
    for v in base
        .values
        .iter()
        .filter(|v| v.key.metric == Metric::HttpErrors)
    {
        let app = v.key.app.clone().unwrap_or_default();
        let latency = base.get(&SeriesKey::new(Metric::Latency, Some(&app)));
        let answered = latency.is_some_and(|l| l.value.is_some());
        let failed = v.value.filter(|x| x.is_finite());
        let (verdict, line) = match failed {
            None => (
                Status::Error,
                format!(
                    "{app}: no data ({})",
                    v.note.as_deref().unwrap_or("nothing measured")
                ),
            ),
            Some(f) if f > limit => (
                Status::Fail,
                format!(
                    "{app}: already failing before the deploy: {f:.1} % of {} baseline probes failed (more than {limit} %){}",
                    v.samples,
                    if answered {
                        String::new()
                    } else {
                        format!("; {}", v.note.as_deref().unwrap_or("latency no data"))
                    }
                ),
            ),
            Some(_) if !answered => (
                Status::Fail,
                format!(
                    "{app}: no answer to time before the deploy ({})",
                    v.note.as_deref().unwrap_or("no probe answered")
                ),
            ),
            Some(f) => (
                Status::Pass,
                format!(
                    "{app}: {f:.1} % of {} probes failed, p95 {}",
                    v.samples,
                    latency
                        .and_then(|l| l.value)
                        .map(|x| Metric::Latency.show(x))
                        .unwrap_or("—".into())
                ),
            ),
        };
        status = status.worst(verdict);
        apps.push(json!({ "app": app, "failed_percent": failed, "answered": answered, "status": verdict.as_str() }));
        parts.push(line);
    }
    if parts.is_empty() {
        return Outcome::error(
            format!(
                "the baseline has no health probes (no app of {} has a health_url): nothing says production is up; check it by hand and waive with what you saw",
                run.env
            ),
            json!({ "baseline": base.summary() }),
        );
    }
    let head = match status {
        Status::Pass => "production healthy before the deploy",
        Status::Fail => {
            "production is already failing before the deploy (fix it, or waive with the reason: the watch and a rollback have nothing healthy to compare with)"
        }
        Status::Error => "the baseline could not say whether production is healthy",
    };
    Outcome::new(
        status,
        format!("{head}: {}", parts.join("; ")),
        json!({ "apps": apps, "limit_percent": limit }),
    )
}

/// `watch.error-rates`: the watch's verdict on health and error rates.
pub fn error_rates(ctx: &WatchContext) -> Outcome {
    match ctx.run.as_deref() {
        Some(run) => family_verdict(run, Family::Errors),
        None => no_run(),
    }
}

/// `watch.metrics`: the watch's verdict on latency and resources.
pub fn metrics(ctx: &WatchContext) -> Outcome {
    match ctx.run.as_deref() {
        Some(run) => family_verdict(run, Family::Metrics),
        None => no_run(),
    }
}

/// The watch's verdict on one family of metrics (what `watch.error-rates` and
/// `watch.metrics` record).
pub fn family_verdict(run: &RunState, family: Family) -> Outcome {
    let what = match family {
        Family::Errors => "health and error rates",
        Family::Metrics => "latency and resources",
    };
    if let Some(r) = run.rollbacks.iter().find(|r| r.succeeded == Some(true)) {
        return Outcome::fail(
            format!(
                "the release was rolled back ({}) by {}: {}",
                r.strategy, r.by, r.reason
            ),
            json!({ "verdict": crate::journal::watch::verdict(run) }),
        );
    }
    let mut o = judge_watch(run, &|m: Metric| m.family() == family, what);
    if o.status != Status::Error {
        let measured: Vec<&str> = o.evidence["measured"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        o.summary.push_str(&missing_note(family, &measured));
    }
    o
}

fn missing_note(family: Family, measured: &[&str]) -> String {
    let wanted: &[(&str, &str)] = match family {
        Family::Errors => &[("error_rate", "[sentry]")],
        Family::Metrics => &[
            ("cpu", "[prometheus]"),
            ("memory", "[prometheus]"),
            ("db_connections", "[database]"),
        ],
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(w, _)| !measured.contains(w))
        .map(|(w, table)| format!("{w} (no {table} configured, or it gave no data)"))
        .collect();
    if missing.is_empty() {
        String::new()
    } else {
        format!(" (not measured: {})", missing.join(", "))
    }
}

/// `close.final-check`: every signal sampled `consecutive_failures` times now; a series fails
/// when every sample fails, warns when some do, and has no data when none could be judged.
pub async fn final_check(ctx: &WatchContext) -> Outcome {
    let Some(run) = ctx.run.as_deref() else {
        return no_run();
    };
    let signals = sources::signals(ctx, &run.env, ctx.config.monitor.probes);
    if signals.is_empty() {
        return Outcome::error(
            format!(
                "nothing to evaluate: no app of {} has a health_url",
                run.env
            ),
            serde_json::Value::Null,
        );
    }
    let r = rules(ctx);
    let n = r.consecutive;
    let readings = crate::checks::join_all(
        signals
            .iter()
            .map(|s| async move {
                let mut out = Vec::new();
                for i in 0..n {
                    if i > 0 {
                        ctx.clock
                            .sleep(s.min_interval().max(baseline::PROBE_SPACING))
                            .await;
                    }
                    out.extend(s.sample(ctx).await);
                }
                out
            })
            .collect(),
    )
    .await;
    let empty = Baseline::default();
    let base = run.monitor.baseline.as_ref().unwrap_or(&empty);
    let mut grades: BTreeMap<SeriesKey, Vec<Judgement>> = BTreeMap::new();
    for reading in readings.into_iter().flatten() {
        let j = r.judge(&reading.key, reading.value, Some(base));
        let note = j.no_data.or(reading.detail);
        grades
            .entry(reading.key)
            .or_default()
            .push((j.grade, reading.value, note));
    }
    let mut status = Status::Pass;
    let mut bad = Vec::new();
    let mut series = Vec::new();
    for (key, gs) in &grades {
        let fails = gs.iter().filter(|g| g.0 == Grade::Fail).count();
        let grade = if gs.iter().all(|g| g.0 == Grade::NoData) {
            Grade::NoData
        } else if fails as u32 >= n {
            Grade::Fail
        } else if gs.iter().any(|g| g.0 != Grade::Pass) {
            Grade::Warn
        } else {
            Grade::Pass
        };
        let last = gs.iter().rev().find_map(|g| g.1);
        let note = gs.iter().rev().find_map(|g| g.2.clone());
        match grade {
            Grade::Fail => status = status.worst(Status::Fail),
            Grade::NoData => status = status.worst(Status::Error),
            _ => {}
        }
        if grade != Grade::Pass {
            let shown = last.map(|v| key.metric.show(v));
            let detail = match (grade, shown, &note) {
                (Grade::NoData, _, Some(n)) => format!(" ({n})"),
                (_, Some(v), _) => format!(" ({v})"),
                (_, None, Some(n)) => format!(" ({n})"),
                _ => String::new(),
            };
            bad.push(format!("{key} {}{detail}", grade.as_str()));
        }
        series.push(json!({ "series": key, "grade": grade, "last": last, "note": note }));
    }
    let summary = if bad.is_empty() {
        format!(
            "{} series, each within its criterion on {n} samples",
            grades.len()
        )
    } else {
        format!(
            "{} of {} series not pass: {}",
            bad.len(),
            grades.len(),
            bad.join("; ")
        )
    };
    Outcome::new(status, summary, json!({ "series": series, "samples": n }))
}

/// A sample judged: grade, value, why there is no data (or what was seen).
type Judgement = (Grade, Option<f64>, Option<String>);

/// `close.no-critical`: no critical incident is open, and (with `[sentry]`) no unresolved
/// Sentry issue of level error or fatal first seen since the deploy.
pub async fn no_critical(ctx: &WatchContext) -> Outcome {
    let Some(run) = ctx.run.as_deref() else {
        return no_run();
    };
    let mut o = open_critical(run);
    if ctx.config.sentry.is_none() {
        o.summary
            .push_str("; Sentry issues are not checked (no [sentry] configured)");
        return o;
    }
    match sentry_errors(ctx, run).await {
        Ok(issues) if issues.is_empty() => {
            o.summary
                .push_str("; no unresolved error or fatal Sentry issue since the deploy");
        }
        Ok(issues) => {
            o.status = o.status.worst(Status::Fail);
            o.summary.push_str(&format!(
                "; {} unresolved error/fatal Sentry issue(s) since the deploy: {}",
                issues.len(),
                issues.join(", ")
            ));
        }
        Err(e) => {
            o.status = o.status.worst(Status::Error);
            o.summary
                .push_str(&format!("; Sentry could not be asked: {e}"));
        }
    }
    o
}

async fn sentry_errors(ctx: &WatchContext, run: &RunState) -> Result<Vec<String>, String> {
    let sentry = ctx.sentry()?;
    let projects = sentry.project_ids().await.map_err(|e| e.to_string())?;
    let (since, _) = crate::checks::sentry::deploy_start(run);
    let issues = sentry
        .new_issues(&projects, since, ctx.clock.now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(issues
        .iter()
        .filter(|i| matches!(i.level.as_str(), "error" | "fatal"))
        .map(|i| format!("{} {}", i.short_id, i.title))
        .collect())
}

fn open_critical(run: &RunState) -> Outcome {
    let all = run.monitor.incidents.len();
    let open: Vec<String> = run
        .monitor
        .open_incidents()
        .filter(|i| i.record.severity == Severity::Critical)
        .map(|i| {
            format!(
                "#{} {} (raised by {}); resolve with `shipcheck incident --resolve {} --summary TEXT`",
                i.record.id, i.record.summary, i.record.by, i.record.id
            )
        })
        .collect();
    let evidence = json!({
        "incidents": run.monitor.incidents.iter().map(|i| json!({
            "id": i.record.id, "severity": i.record.severity, "open": i.open,
            "summary": i.record.summary,
        })).collect::<Vec<_>>(),
    });
    if open.is_empty() {
        Outcome::pass(
            format!("no critical incident open ({all} incident(s) recorded)"),
            evidence,
        )
    } else {
        Outcome::fail(
            format!(
                "{} critical incident(s) open: {}",
                open.len(),
                open.join("; ")
            ),
            evidence,
        )
    }
}
