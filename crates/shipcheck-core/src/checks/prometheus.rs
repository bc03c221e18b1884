//! `prometheus`: instant PromQL queries per production app against a condition, with the
//! presets for Fly's managed Prometheus: `cpu_memory` (`verify.cpu-memory`) and
//! `response_time` (`verify.response-times`). An empty answer or NaN is an `error` ("no
//! data"), never a pass.

use crate::model::error::Invalid;
use serde_json::{Value, json};

use crate::clients::prometheus::{CPU_QUERY, MEMORY_QUERY, P95_QUERY, Prometheus, Sample};
use crate::model::checklist::{PrometheusCheck, PrometheusPreset};
use crate::model::config::{Environments, PrometheusConfig};
use crate::model::outcome::{Outcome, Status};

/// A comparison such as `< 0.8`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    /// `<`, `<=`, `>`, `>=`, `==` or `!=`.
    pub op: &'static str,
    /// The number.
    pub value: f64,
}

impl Condition {
    /// Parses `< 0.8`, `<=2`, `!= 0`.
    pub fn parse(s: &str) -> Result<Condition, Invalid> {
        let t = s.trim();
        for op in ["<=", ">=", "==", "!=", "<", ">"] {
            if let Some(rest) = t.strip_prefix(op) {
                let value: f64 = rest
                    .trim()
                    .parse()
                    .map_err(|_| format!("condition {s:?}: {:?} is not a number", rest.trim()))?;
                if !value.is_finite() {
                    return Err(format!("condition {s:?}: the number must be finite").into());
                }
                return Ok(Condition { op, value });
            }
        }
        Err(format!(
            "condition {s:?} must start with <, <=, >, >=, == or != and a number, like \"< 0.8\""
        )
        .into())
    }

    /// Whether `x` satisfies it.
    pub fn holds(&self, x: f64) -> bool {
        match self.op {
            "<" => x < self.value,
            "<=" => x <= self.value,
            ">" => x > self.value,
            ">=" => x >= self.value,
            "==" => x == self.value,
            _ => x != self.value,
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.op, self.value)
    }
}

/// One query to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// Its name in evidence.
    pub name: String,
    /// PromQL with `{app}`.
    pub promql: String,
    /// What every series must satisfy.
    pub condition: Condition,
    /// At most this multiple of the value just before the deploy.
    pub baseline_factor: Option<f64>,
}

/// The queries a spec stands for.
pub fn queries(spec: &PrometheusCheck, cfg: &PrometheusConfig) -> Result<Vec<Query>, Invalid> {
    let q = |name: &str, default: &str| cfg.queries.get(name).cloned().unwrap_or(default.into());
    let cond = |default: &str| Condition::parse(spec.condition.as_deref().unwrap_or(default));
    Ok(match (spec.preset, &spec.query) {
        (Some(_), Some(_)) => {
            return Err("a prometheus check has either `preset` or `query`, not both".into());
        }
        (Some(PrometheusPreset::CpuMemory), None) => vec![
            Query {
                name: "cpu".into(),
                promql: q("cpu", CPU_QUERY),
                condition: cond("< 0.8")?,
                baseline_factor: spec.baseline_factor,
            },
            Query {
                name: "memory".into(),
                promql: q("memory", MEMORY_QUERY),
                condition: cond("< 0.9")?,
                baseline_factor: spec.baseline_factor,
            },
        ],
        (Some(PrometheusPreset::ResponseTime), None) => vec![Query {
            name: "p95".into(),
            promql: q("p95", P95_QUERY),
            condition: cond("< 2")?,
            baseline_factor: Some(spec.baseline_factor.unwrap_or(1.5)),
        }],
        (None, Some(promql)) => vec![Query {
            name: spec.name.clone().unwrap_or_else(|| "query".into()),
            promql: promql.clone(),
            condition: Condition::parse(
                spec.condition
                    .as_deref()
                    .ok_or("a prometheus check with `query` needs `condition`, like \"< 0.8\"")?,
            )?,
            baseline_factor: spec.baseline_factor,
        }],
        (None, None) => {
            return Err("a prometheus check needs `query` (with `condition`) or `preset`".into());
        }
    })
}

fn describe(s: &Sample) -> String {
    let who = ["instance", "region", "host"]
        .iter()
        .find_map(|k| s.labels.get(*k))
        .cloned();
    match who {
        Some(w) => format!("{w}={:.3}", s.value),
        None => format!("{:.3}", s.value),
    }
}

/// When `baseline_factor` compares with: the release merge (just before the deploy, which
/// waits for approval), else the run's start.
pub fn baseline_time(run: &crate::journal::state::RunState) -> jiff::Timestamp {
    run.merged_at().unwrap_or(run.started_at)
}

/// Runs the check.
/// The apps of `spec.env` come from `environments`; the baseline time from `run`.
pub async fn run(
    spec: &PrometheusCheck,
    prom: &Prometheus,
    environments: &Environments,
    run: Option<&crate::journal::state::RunState>,
) -> Outcome {
    let qs = match queries(spec, &prom.cfg) {
        Ok(q) => q,
        Err(e) => return Outcome::error(e, Value::Null),
    };
    let apps: Vec<String> = environments
        .get(&spec.env)
        .map(|e| {
            e.apps
                .iter()
                .map(|a| a.fly_app.clone().unwrap_or_else(|| a.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let per_app = qs.iter().any(|q| q.promql.contains("{app}"));
    if per_app && apps.is_empty() {
        return Outcome::error(
            format!(
                "the query names {{app}} but [environments.{}] has no apps",
                spec.env
            ),
            Value::Null,
        );
    }
    let targets: Vec<Option<&str>> = if per_app {
        apps.iter().map(|a| Some(a.as_str())).collect()
    } else {
        vec![None]
    };
    let started = run.map(baseline_time);
    let mut status = Status::Pass;
    let mut parts = Vec::new();
    let mut results = Vec::new();
    for app in &targets {
        for q in &qs {
            let promql = match app {
                Some(a) => q.promql.replace("{app}", a),
                None => q.promql.clone(),
            };
            let label = match app {
                Some(a) => format!("{} of {a}", q.name),
                None => q.name.clone(),
            };
            let (st, line, ev) = evaluate(prom, q, &promql, started).await;
            status = status.worst(st);
            parts.push(format!("{label}: {line}"));
            results.push(json!({ "app": app, "name": q.name, "query": promql, "result": ev }));
        }
    }
    Outcome::new(status, parts.join("; "), json!({ "queries": results }))
}

async fn evaluate(
    prom: &Prometheus,
    q: &Query,
    promql: &str,
    started: Option<jiff::Timestamp>,
) -> (Status, String, Value) {
    let samples = match prom.query(promql, None).await {
        Ok(s) => s,
        Err(e) => return (Status::Error, e.to_string(), Value::Null),
    };
    let mut ev = json!({ "condition": q.condition.to_string(), "samples": samples });
    if samples.is_empty() {
        return (Status::Error, "no data (empty result)".into(), ev);
    }
    if samples.iter().any(|s| !s.value.is_finite()) {
        return (
            Status::Error,
            "no data (a series is NaN or infinite; no traffic?)".into(),
            ev,
        );
    }
    let shown: Vec<String> = samples.iter().take(6).map(describe).collect();
    let bad: Vec<String> = samples
        .iter()
        .filter(|s| !q.condition.holds(s.value))
        .map(describe)
        .collect();
    let max = samples.iter().map(|s| s.value).fold(f64::MIN, f64::max);
    let mut notes = Vec::new();
    let mut status = if bad.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    if let (Some(factor), Some(at)) = (q.baseline_factor, started) {
        match prom.query(promql, Some(at)).await {
            Ok(base) if !base.is_empty() && base.iter().all(|s| s.value.is_finite()) => {
                let bmax = base.iter().map(|s| s.value).fold(f64::MIN, f64::max);
                ev["baseline"] = json!({ "at": at.to_string(), "max": bmax, "factor": factor });
                if bmax > 0.0 && max > bmax * factor {
                    status = Status::Fail;
                    notes.push(format!(
                        "{max:.3} is over {factor}× the {bmax:.3} before the deploy"
                    ));
                } else {
                    notes.push(format!("{bmax:.3} before the deploy"));
                }
            }
            Ok(_) => notes.push("no value before the deploy to compare with".into()),
            Err(e) => notes.push(format!("baseline unavailable: {e}")),
        }
    }
    let mut line = if bad.is_empty() {
        format!("{} ({})", shown.join(", "), q.condition)
    } else {
        format!("{} not {}", bad.join(", "), q.condition)
    };
    if !notes.is_empty() {
        line.push_str(&format!("; {}", notes.join("; ")));
    }
    (status, line, ev)
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
