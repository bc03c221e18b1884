//! Sentry: application errors per minute of the configured projects (and environment), over
//! the last `[sentry] watch_window`; the baseline over `[sentry] baseline_lookback`.

use std::time::Duration;

use crate::model::watch::{Metric, Reading, SeriesKey};
use crate::watch::WatchContext;
use crate::watch::signal::{BoxFuture, Signal};

/// The window one sample counts errors over when `[sentry] watch_window` is not set.
pub const WINDOW: Duration = Duration::from_secs(3 * 60);

/// Sentry's error rate.
#[derive(Default)]
pub struct SentrySignal {
    projects: tokio::sync::OnceCell<Vec<String>>,
}

impl SentrySignal {
    /// Errors per minute over `window` before now, and not before `since`.
    async fn rate(
        &self,
        ctx: &WatchContext,
        window: Duration,
        since: Option<jiff::Timestamp>,
    ) -> Reading {
        let key = SeriesKey::new(Metric::ErrorRate, None);
        let none = |detail: String| Reading {
            key: key.clone(),
            value: None,
            detail: Some(detail),
            observations: Vec::new(),
            counts: None,
        };
        let sentry = match ctx.sentry() {
            Ok(s) => s,
            Err(e) => return none(e.to_string()),
        };
        let projects = match self
            .projects
            .get_or_try_init(|| async { sentry.project_ids().await })
            .await
        {
            Ok(p) => p.clone(),
            Err(e) => return none(e.to_string()),
        };
        let end = ctx.clock.now();
        let start = window_start(end, window, since);
        if end.duration_since(start).as_secs() < 60 {
            return none(
                "counting only the minutes since the rollback finished: no complete minute yet"
                    .into(),
            );
        }
        let minutes = window.as_secs() / 60;
        let bucket = if minutes <= 120 {
            1
        } else if minutes <= 2 * 1440 {
            60
        } else {
            1440
        };
        match sentry.error_count(&projects, start, end, bucket).await {
            Ok(c) => match c.per_minute() {
                Some(v) => Reading {
                    key,
                    value: Some(v),
                    detail: Some(format!(
                        "{} error event(s) in {:.0} min",
                        c.events,
                        c.minutes()
                    )),
                    observations: Vec::new(),
                    counts: None,
                },
                None => none("Sentry has no complete minute yet".into()),
            },
            Err(e) => none(e.to_string()),
        }
    }
}

impl Signal for SentrySignal {
    fn name(&self) -> String {
        "Sentry error rate".into()
    }
    fn app(&self) -> Option<&str> {
        None
    }
    fn min_interval(&self) -> Duration {
        // Sentry counts in one-minute buckets; asking more often adds nothing.
        Duration::from_secs(60)
    }
    fn sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let window = ctx
                .config
                .sentry
                .as_ref()
                .map(|s| s.watch_window.get())
                .unwrap_or(WINDOW)
                .max(Duration::from_secs(60));
            // After a rollback, the errors the bad release made before it are known; the
            // question is whether errors go on, so only the minutes since it count.
            let since = ctx.run.as_deref().and_then(|r| {
                r.rollbacks
                    .iter()
                    .rev()
                    .find(|rb| rb.succeeded == Some(true))
                    .and_then(|rb| rb.finished_at)
            });
            vec![self.rate(ctx, window, since).await]
        })
    }
    fn baseline_sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let lookback = ctx
                .config
                .sentry
                .as_ref()
                .map(|s| s.baseline_lookback.get())
                .unwrap_or(WINDOW);
            vec![self.rate(ctx, lookback, None).await]
        })
    }
}

/// The start of a sample's window: `window` before `end`, and not before `since`.
fn window_start(
    end: jiff::Timestamp,
    window: Duration,
    since: Option<jiff::Timestamp>,
) -> jiff::Timestamp {
    let start = jiff::SignedDuration::try_from(window)
        .ok()
        .and_then(|w| end.checked_sub(w).ok())
        .unwrap_or(end);
    match since {
        Some(s) if s > start => s.min(end),
        _ => start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_rollback_only_the_minutes_since_it_count() {
        let end: jiff::Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let w = Duration::from_secs(180);
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(window_start(end, w, None), at("2026-11-25T11:57:00Z"));
        assert_eq!(
            window_start(end, w, Some(at("2026-11-25T11:50:00Z"))),
            at("2026-11-25T11:57:00Z"),
            "a rollback long ago changes nothing"
        );
        assert_eq!(
            window_start(end, w, Some(at("2026-11-25T11:58:30Z"))),
            at("2026-11-25T11:58:30Z")
        );
        assert_eq!(
            window_start(end, w, Some(at("2026-11-25T12:05:00Z"))),
            end,
            "never after the end"
        );
    }
}
