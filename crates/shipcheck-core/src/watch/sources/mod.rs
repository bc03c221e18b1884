//! Signals from the integrations, one small adapter each: Sentry's error rate
//! ([`sentry`]), Prometheus' CPU, memory and edge p95 per app ([`prometheus`]), and the
//! database's connections against its maximum ([`postgres`]). Each exists only when its
//! `shipcheck.toml` table does.

pub mod postgres;
pub mod prometheus;
pub mod sentry;

use crate::checks::CheckContext;
use crate::watch::signal::Signal;

/// The integrations' signals for `env`.
pub fn signals(ctx: &CheckContext, env: &str) -> Vec<Box<dyn Signal>> {
    let mut out: Vec<Box<dyn Signal>> = Vec::new();
    if ctx.config.sentry.is_some() {
        out.push(Box::new(sentry::SentrySignal::default()));
    }
    if ctx.config.prometheus.is_some() {
        for app in ctx
            .config
            .environments
            .get(env)
            .map(|e| e.apps.as_slice())
            .unwrap_or_default()
        {
            out.push(Box::new(prometheus::PrometheusSignal {
                app: app.name.clone(),
                target: app.fly_app.clone().unwrap_or_else(|| app.name.clone()),
            }));
        }
    }
    if ctx.config.database.is_some() {
        out.push(Box::new(postgres::PostgresSignal));
    }
    out
}
