//! Sentry checks: `sentry.rate` (`verify.sentry-rate`) and `sentry.new_issues`
//! (`rollout.sentry-new-errors`).
//!
//! The baseline needs no stored state: it is the error rate over `[sentry] baseline_lookback`
//! before the run started (`started_at`), a window Sentry can still be asked about after the
//! deploy. "Since the deploy" starts when `approve.approve` was done (else `release.merge`,
//! else the run's start).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::clients::sentry::Sentry;
use crate::journal::state::RunState;
use crate::model::clock::SharedClock;
use crate::model::outcome::Outcome;

/// A current window shorter than this is "not enough data".
pub const MIN_WINDOW_SECS: i64 = 60;

/// When the deploy started, and which item says so (the run's start when none recorded it).
pub fn deploy_start(run: &RunState) -> (Timestamp, &str) {
    run.deploy_started()
        .unwrap_or((run.started_at, "the run's start"))
}

fn setup(run: Option<&RunState>) -> Result<&RunState, Outcome> {
    run.ok_or_else(|| {
        Outcome::error(
            "this check belongs to a run: it compares with the time before the run started; run it with `shipcheck next`",
            Value::Null,
        )
    })
}

/// Bucket length for a window: minutes up to 2 hours, hours up to 2 days, else days.
fn interval_for(window: SignedDuration) -> u32 {
    let mins = window.as_secs() / 60;
    if mins <= 120 {
        1
    } else if mins <= 2 * 1440 {
        60
    } else {
        1440
    }
}

/// `sentry.rate`: errors per minute since the deploy ≤ baseline × (1 + tolerance).
pub async fn rate(sentry: &Sentry, run: Option<&RunState>, clock: &SharedClock) -> Outcome {
    let run = match setup(run) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let cfg = &sentry.cfg;
    let now = clock.now();
    let (since, from) = deploy_start(run);
    let lookback = SignedDuration::try_from(cfg.baseline_lookback.get()).unwrap_or_default();
    let base_end = run.started_at;
    let base_start = base_end - lookback;
    let mut evidence = json!({
        "baseline_window": { "start": base_start.to_string(), "end": base_end.to_string() },
        "window": { "start": since.to_string(), "end": now.to_string(), "from": from },
        "tolerance": cfg.tolerance,
        "min_events": cfg.min_events,
        "environment": cfg.environment,
        "endpoint": "events-timeseries (dataset=errors, yAxis=count())",
    });
    let window = now.duration_since(since);
    if window.as_secs() < MIN_WINDOW_SECS {
        return Outcome::error(
            format!(
                "not enough data: only {}s since the deploy started ({from}); run it again in a minute",
                window.as_secs().max(0)
            ),
            evidence,
        );
    }
    if !(0.0..=100.0).contains(&cfg.tolerance) {
        return Outcome::error(
            format!(
                "[sentry] tolerance = {} is not a fraction like 0.10",
                cfg.tolerance
            ),
            evidence,
        );
    }
    let projects = match sentry.project_ids().await {
        Ok(p) => p,
        Err(e) => return Outcome::error(e.to_string(), evidence),
    };
    let baseline = match sentry
        .error_count(&projects, base_start, base_end, interval_for(lookback))
        .await
    {
        Ok(c) => c,
        Err(e) => return Outcome::error(e.to_string(), evidence),
    };
    let current = match sentry
        .error_count(&projects, since, now, interval_for(window))
        .await
    {
        Ok(c) => c,
        Err(e) => return Outcome::error(e.to_string(), evidence),
    };
    evidence["baseline"] = json!(baseline);
    evidence["current"] = json!(current);
    let (Some(base_rate), Some(now_rate)) = (baseline.per_minute(), current.per_minute()) else {
        return Outcome::error(
            format!(
                "no data: Sentry returned {} complete baseline bucket(s) and {} complete bucket(s) since the deploy",
                baseline.buckets, current.buckets
            ),
            evidence,
        );
    };
    if baseline.events < cfg.min_events as f64 {
        return Outcome::error(
            format!(
                "not enough data: {} error event(s) in the {} baseline, fewer than [sentry] min_events = {}; compare by hand (or lower min_events)",
                baseline.events,
                crate::model::duration::format(cfg.baseline_lookback.get()),
                cfg.min_events
            ),
            evidence,
        );
    }
    let limit = base_rate * (1.0 + cfg.tolerance);
    evidence["baseline_per_minute"] = json!(base_rate);
    evidence["current_per_minute"] = json!(now_rate);
    evidence["limit_per_minute"] = json!(limit);
    let text = format!(
        "{now_rate:.2} errors/min since the deploy ({} events in {:.0} min) vs baseline {base_rate:.2}/min (limit {limit:.2}/min, +{:.0} %)",
        current.events,
        current.minutes(),
        cfg.tolerance * 100.0
    );
    if now_rate <= limit {
        Outcome::pass(text, evidence)
    } else {
        Outcome::fail(text, evidence)
    }
}

/// `sentry.new_issues`: no unresolved issue first seen since the deploy started.
pub async fn new_issues(sentry: &Sentry, run: Option<&RunState>, clock: &SharedClock) -> Outcome {
    let run = match setup(run) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let now = clock.now();
    let (since, from) = deploy_start(run);
    let projects = match sentry.project_ids().await {
        Ok(p) => p,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let issues = match sentry.new_issues(&projects, since, now).await {
        Ok(i) => i,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let evidence = json!({
        "since": since.to_string(),
        "from": from,
        "issues": issues.iter().map(|i| json!({
            "short_id": i.short_id,
            "title": i.title,
            "level": i.level,
            "first_seen": i.first_seen.to_string(),
            "count": i.count,
            "permalink": i.permalink,
        })).collect::<Vec<_>>(),
    });
    if issues.is_empty() {
        Outcome::pass(
            format!("no new Sentry issue since {since} ({from})"),
            evidence,
        )
    } else {
        let list: Vec<String> = issues
            .iter()
            .take(5)
            .map(|i| format!("{} {} <{}>", i.short_id, i.title, i.permalink))
            .collect();
        Outcome::fail(
            format!(
                "{} new Sentry issue(s) since {since}: {}{}",
                issues.len(),
                list.join("; "),
                if issues.len() > 5 { "; …" } else { "" }
            ),
            evidence,
        )
    }
}

#[cfg(test)]
#[path = "sentry_tests.rs"]
mod tests;
