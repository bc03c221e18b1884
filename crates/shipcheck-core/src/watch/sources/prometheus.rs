//! Prometheus (Fly's managed metrics): CPU and memory in percent (the busiest instance) and
//! the edge p95 response time in milliseconds, per app.

use std::time::Duration;

use crate::clients::prometheus::{CPU_QUERY, MEMORY_QUERY, P95_QUERY};
use crate::model::watch::{Metric, Reading, SeriesKey};
use crate::watch::WatchContext;
use crate::watch::signal::{BoxFuture, Signal};

/// One app's metrics.
pub struct PrometheusSignal {
    /// The app's short name (the series' app).
    pub app: String,
    /// The name `{app}` stands for in the queries (the Fly app).
    pub target: String,
}

impl Signal for PrometheusSignal {
    fn name(&self) -> String {
        format!("metrics of {}", self.app)
    }
    fn app(&self) -> Option<&str> {
        Some(&self.app)
    }
    fn min_interval(&self) -> Duration {
        // A scrape interval: a faster query returns the same value.
        Duration::from_secs(15)
    }
    fn sample<'a>(&'a self, ctx: &'a WatchContext) -> BoxFuture<'a, Vec<Reading>> {
        Box::pin(async move {
            let app = Some(self.app.as_str());
            let prom = match ctx.prometheus() {
                Ok(p) => p,
                Err(e) => {
                    return [Metric::Cpu, Metric::Memory, Metric::P95]
                        .into_iter()
                        .map(|m| Reading {
                            key: SeriesKey::new(m, app),
                            value: None,
                            detail: Some(e.to_string()),
                            observations: Vec::new(),
                            counts: None,
                        })
                        .collect();
                }
            };
            let mut out = Vec::new();
            for (metric, name, default, scale) in [
                (Metric::Cpu, "cpu", CPU_QUERY, 100.0),
                (Metric::Memory, "memory", MEMORY_QUERY, 100.0),
                (Metric::P95, "p95", P95_QUERY, 1000.0),
            ] {
                let promql = prom
                    .cfg
                    .queries
                    .get(name)
                    .map(String::as_str)
                    .unwrap_or(default)
                    .replace("{app}", &self.target);
                let (value, detail) = match prom.query(&promql, None).await {
                    Ok(samples) => {
                        let worst = samples
                            .iter()
                            .map(|s| s.value)
                            .filter(|v| v.is_finite())
                            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
                        match worst {
                            Some(v) => (Some(v * scale), None),
                            None => (None, Some(format!("the {name} query returned no number"))),
                        }
                    }
                    Err(e) => (None, Some(e.to_string())),
                };
                out.push(Reading {
                    key: SeriesKey::new(metric, app),
                    value,
                    detail,
                    observations: Vec::new(),
                    counts: None,
                });
            }
            out
        })
    }
}
