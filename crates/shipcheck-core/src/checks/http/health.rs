//! Every app's health URL in one environment, probed concurrently with the HTTP check's
//! semantics (the app's `expect_status`, retries, backoff).

use serde_json::json;

use crate::checks::http::{Attempts, attempt, excerpt, fmt_latency};
use crate::model::checklist::{HealthCheck, HttpCheck, StatusSpec};
use crate::model::config::Environments;
use crate::model::outcome::{Outcome, Status};
use crate::model::redact::{redact, redact_json};

pub(super) async fn run(
    c: &HealthCheck,
    environments: &Environments,
    http: &reqwest::Client,
    secrets: &[String],
) -> Outcome {
    let apps = environments
        .get(&c.env)
        .map(|e| e.apps.as_slice())
        .unwrap_or_default();
    let without: Vec<&str> = apps
        .iter()
        .filter(|a| a.health_url.as_deref().is_none_or(|u| u.trim().is_empty()))
        .map(|a| a.name.as_str())
        .collect();
    let probed: Vec<(&str, HttpCheck)> = apps
        .iter()
        .filter_map(|a| {
            let url = a.health_url.as_deref()?.trim();
            (!url.is_empty()).then(|| {
                (
                    a.name.as_str(),
                    HttpCheck {
                        url: url.to_string(),
                        method: "GET".into(),
                        expect_status: StatusSpec::One(a.expect_status),
                        timeout: c.timeout,
                        retries: c.retries,
                        backoff: None,
                        body_contains: None,
                        json_pointer: None,
                        json_equals: None,
                        headers: Default::default(),
                    },
                )
            })
        })
        .collect();
    if probed.is_empty() {
        let env = &c.env;
        let why = if environments.contains_key(env) {
            format!("environment {env} has no apps with a health_url in shipcheck.toml")
        } else {
            format!(
                "environment {env} has no apps with a health_url in shipcheck.toml \
                 (there is no [environments.{env}] at all)"
            )
        };
        return Outcome::error(
            format!("{why}; add health_url to its [[environments.{env}.apps]]"),
            json!({ "env": env, "apps_without_health_url": without }),
        );
    }

    let results = probe_all(http, probed.iter().map(|(_, c)| c.clone()).collect()).await;

    let mut status = Status::Pass;
    let mut healthy = Vec::new();
    let mut problems = Vec::new();
    let mut apps_evidence = Vec::new();
    for ((name, check), a) in probed.iter().zip(&results) {
        status = status.worst(a.status);
        let mut e = a.evidence(check);
        e.insert("name".into(), json!(name));
        e.insert("result".into(), json!(a.status.as_str()));
        if a.status == Status::Pass {
            let latency = a.probes.last().map(|p| fmt_latency(p.latency));
            let code = a.probes.last().and_then(|p| p.status);
            healthy.push(format!(
                "{name} {} in {}{}",
                code.map(|c| c.to_string()).unwrap_or_default(),
                latency.unwrap_or_default(),
                a.attempts_note()
            ));
        } else {
            problems.push(format!("{name} {}{}", a.reason, a.attempts_note()));
            if let Some(x) = a.probes.last().and_then(|p| excerpt(p, secrets)) {
                e.insert("body_excerpt".into(), json!(x));
            }
        }
        apps_evidence.push(serde_json::Value::Object(e));
    }

    let n = probed.len();
    let mut summary = if problems.is_empty() {
        format!("{n}/{n} healthy ({})", healthy.join(", "))
    } else {
        let mut s = format!("{}/{n} healthy; {}", healthy.len(), problems.join("; "));
        if !healthy.is_empty() {
            s.push_str(&format!(" (healthy: {})", healthy.join(", ")));
        }
        s
    };
    if !without.is_empty() {
        summary.push_str(&format!(
            "; not probed, no health_url: {}",
            without.join(", ")
        ));
    }
    let mut evidence = json!({
        "env": c.env,
        "healthy": healthy.len(),
        "total": n,
        "apps": apps_evidence,
        "apps_without_health_url": without,
    });
    redact_json(&mut evidence, secrets);
    Outcome::new(status, redact(&summary, secrets), evidence)
}

/// Probes every app, each on its own task so that the connects and requests of a large
/// environment spread over the runtime's worker threads (one task polling a thousand
/// connects keeps one core busy while the other waits). The tasks are aborted if the check
/// is dropped (its timeout); results keep the apps' order.
async fn probe_all(client: &reqwest::Client, checks: Vec<HttpCheck>) -> Vec<Attempts> {
    let n = checks.len();
    let mut set = tokio::task::JoinSet::new();
    for (i, check) in checks.into_iter().enumerate() {
        let client = client.clone();
        set.spawn(async move { (i, attempt(&client, &check).await) });
    }
    let mut out: Vec<Option<Attempts>> = vec![None; n];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, a)) = joined {
            out[i] = Some(a);
        }
    }
    out.into_iter()
        .map(|a| {
            a.unwrap_or_else(|| Attempts {
                probes: Vec::new(),
                status: Status::Error,
                reason: "the probe's task ended without a result".into(),
            })
        })
        .collect()
}
