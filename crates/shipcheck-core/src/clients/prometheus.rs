//! A Prometheus query API (Fly's managed Prometheus, `external-apis.md` §1.10): instant
//! queries (`GET /api/v1/query`), values as strings in the standard envelope.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::clients::api::{Api, ApiError, Policy, Request, Service, read_json};
use crate::clients::{ClientError, Kit};
use crate::model::config::{PrometheusAuth, PrometheusConfig};

/// What a query token needs.
pub const PERM_QUERY: &str = "read access to the organization's metrics (Fly: a token from `flyctl auth token` or `fly tokens create readonly`)";

/// CPU busy fraction per instance (`fly_instance_cpu` is centiseconds per CPU).
pub const CPU_QUERY: &str = r#"sum by (instance) (rate(fly_instance_cpu{app="{app}",mode!="idle"}[5m])) / 100 / count by (instance) (fly_instance_cpu{app="{app}",mode="idle"})"#;
/// Memory used fraction per instance.
pub const MEMORY_QUERY: &str = r#"1 - fly_instance_memory_mem_available{app="{app}"} / fly_instance_memory_mem_total{app="{app}"}"#;
/// p95 edge response time in seconds.
pub const P95_QUERY: &str = r#"histogram_quantile(0.95, sum by (le) (rate(fly_edge_http_response_time_seconds_bucket{app="{app}"}[5m])))"#;

/// One series of an instant query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value (NaN and infinities are possible).
    pub value: f64,
}

/// A Prometheus client.
#[derive(Clone, Debug)]
pub struct Prometheus {
    api: Api,
    /// `[prometheus]`.
    pub cfg: PrometheusConfig,
}

/// Parses a Prometheus sample value (`"0.137"`, `"NaN"`, `"+Inf"`).
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

impl Prometheus {
    /// A client for `[prometheus]`, with the token from the environment variable it names,
    /// if any. `Err` names what is missing.
    pub fn new(cfg: &PrometheusConfig, kit: &Kit) -> Result<Prometheus, ClientError> {
        let cfg = cfg.clone();
        let auth = match &cfg.token_env {
            Some(var) => {
                let token = crate::model::config::env_token(var, "Prometheus")
                    .map_err(|e| ClientError(e.0))?;
                let scheme = match cfg.auth {
                    PrometheusAuth::Bearer => "Bearer",
                    PrometheusAuth::Flyv1 => "FlyV1",
                };
                Some(if token.starts_with(&format!("{scheme} ")) {
                    token
                } else {
                    format!("{scheme} {token}")
                })
            }
            None => None,
        };
        let api = Api::new(
            kit.http.clone(),
            Service::Prometheus,
            &cfg.url,
            auth,
            Policy::from(cfg.limits()),
            kit.clock.clone(),
        )
        .with_secrets(kit.secrets.clone());
        Ok(Prometheus { api, cfg })
    }

    /// An instant query, now or at `at`.
    pub async fn query(
        &self,
        promql: &str,
        at: Option<Timestamp>,
    ) -> Result<Vec<Sample>, ApiError> {
        let mut req = Request::get("/api/v1/query", format!("the query {promql}"), PERM_QUERY)
            .query("query", promql);
        if let Some(t) = at {
            req = req.query("time", t.as_second());
        }
        let reply = self.api.send(req).await?;
        read_query(&reply.body).map_err(|r| reply.malformed(r))
    }
}

/// Reads an instant query's answer: one sample per series (a scalar is one sample without
/// labels). `Err` is the reason it is malformed, with Prometheus' own error when it gave one.
pub fn read_query(body: &str) -> Result<Vec<Sample>, String> {
    let v: Value = read_json(body)?;
    if v.get("status").and_then(|s| s.as_str()) != Some("success") {
        // Prometheus' `errorType`/`error`, VictoriaMetrics' `errorType: "422"`.
        let said = crate::clients::api::api_message(body);
        return Err(format!(
            "status {} ({})",
            v.get("status").unwrap_or(&Value::Null),
            if v.get("error").is_some() {
                said.as_str()
            } else {
                "no error given"
            }
        ));
    }
    let data = v.get("data").ok_or("no `data`")?;
    let kind = data
        .get("resultType")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    let result = data.get("result").ok_or("no `data.result`")?;
    let pair = |p: &Value| -> Result<f64, String> {
        p.get(1)
            .and_then(|s| s.as_str())
            .and_then(parse_value)
            .ok_or_else(|| format!("a value is not [time, \"number\"]: {p}"))
    };
    match kind {
        "vector" => {
            let list = result.as_array().ok_or("`data.result` is not an array")?;
            let mut out = Vec::new();
            for s in list {
                let labels = s
                    .get("metric")
                    .and_then(|m| m.as_object())
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                let value = pair(s.get("value").unwrap_or(&Value::Null))?;
                out.push(Sample { labels, value });
            }
            Ok(out)
        }
        "scalar" => Ok(vec![Sample {
            labels: BTreeMap::new(),
            value: pair(result)?,
        }]),
        other => Err(format!(
            "resultType {other:?} where an instant vector or scalar was expected"
        )),
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
