//! Signals from the integrations, one small adapter each: Sentry's error rate
//! ([`sentry`]), Prometheus' CPU, memory and edge p95 per app ([`prometheus`]), the real
//! requests the edge answered and failed per app ([`edge`]), and the
//! database's connections against its maximum ([`postgres`]). Each exists only when its
//! `shipcheck.toml` table does.

pub mod edge;
pub mod postgres;
pub mod prometheus;
pub mod sentry;

use crate::watch::WatchContext;
use crate::watch::signal::HealthSignal;
use crate::watch::signal::Signal;

/// The integrations' signals for `env`.
fn integration_signals(ctx: &WatchContext, env: &str) -> Vec<Box<dyn Signal>> {
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
            let target = app.fly_app.clone().unwrap_or_else(|| app.name.clone());
            out.push(Box::new(edge::EdgeSignal::new(&app.name, &target)));
            out.push(Box::new(prometheus::PrometheusSignal {
                app: app.name.clone(),
                target,
            }));
        }
    }
    if ctx.config.database.is_some() {
        out.push(Box::new(postgres::PostgresSignal));
    }
    out
}

/// Every signal of the environment `env`: each app's health endpoint (`probes` probes a
/// sample), and the integrations' whose tables the config has.
pub fn signals(ctx: &WatchContext, env: &str, probes: u32) -> Vec<Box<dyn Signal>> {
    let mut out: Vec<Box<dyn Signal>> = integration_signals(ctx, env);
    if let Some(e) = ctx.config.environments.get(env) {
        for app in &e.apps {
            if let Some(url) = app.health_url.as_deref().filter(|u| !u.trim().is_empty()) {
                let mut s = HealthSignal::new(&app.name, url, app.expect_status, probes);
                s.spacing = ctx.config.monitor.probe_spacing(s.probes);
                out.push(Box::new(s));
            }
        }
    }
    out
}

/// The apps of `env` that have no health URL (they cannot be watched; said in evidence).
pub fn unwatched_apps(ctx: &WatchContext, env: &str) -> Vec<String> {
    ctx.config
        .environments
        .get(env)
        .map(|e| {
            e.apps
                .iter()
                .filter(|a| a.health_url.as_deref().is_none_or(|u| u.trim().is_empty()))
                .map(|a| a.name.clone())
                .collect()
        })
        .unwrap_or_default()
}
