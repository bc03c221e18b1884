//! The Fly checks: region, secrets, env differences ([`self`]), releases ([`releases`]),
//! the Machines on the release ([`status`], judged in [`machines`]), the version live
//! ([`version`]), and the log scan ([`logs`]). Every app is asked concurrently; each app's
//! part of the evidence names the app, the Fly app and what was seen. An app flyctl could
//! not answer for makes the check `error`, never `pass`.

mod logs;
#[cfg(test)]
mod logs_tests;
pub(crate) mod machines;
mod releases;
mod status;
mod version;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

pub use logs::{LogMatcher, logs};
pub use releases::{RollbackTarget, recorded_targets, releases, rollback_command};
pub use status::status;
pub use version::{
    Expected, ReleaseCommits, after_rollback as version_after_rollback, names_commit,
    release_commits, version,
};

use crate::checks::join_all;

use crate::clients::fly::{Fly, FlyError};
use crate::model::checklist::{FlyEnvCheck, FlyRegionCheck, FlySecretsCheck};
use crate::model::clock::SharedClock;
use crate::model::config::{App, Environments};
use crate::model::outcome::{Outcome, Status};

/// What every Fly check works with: the flyctl client of `[fly]`, the apps of each
/// environment (`[environments.*]`, their `fly_app`s), time, and the values to keep out of
/// evidence.
#[derive(Clone, Debug)]
pub struct FlyApps<'a> {
    /// The flyctl client.
    pub fly: Fly,
    /// The environments and their apps.
    pub environments: &'a Environments,
    /// The HTTP client for the apps' own URLs (the version a health answer names).
    pub http: &'a reqwest::Client,
    /// Time (polls and waits).
    pub clock: &'a SharedClock,
    /// Values that must never appear in evidence.
    pub secrets: &'a [String],
}

impl<'a> FlyApps<'a> {
    /// The Fly apps of the config `clients` are built from.
    pub fn of(clients: &'a crate::clients::Clients) -> FlyApps<'a> {
        FlyApps {
            fly: clients.fly(),
            environments: &clients.config.environments,
            http: &clients.http,
            clock: &clients.clock,
            secrets: &clients.secrets,
        }
    }
}

/// One app's part of a check.
pub(crate) struct AppResult {
    pub status: Status,
    pub line: String,
    pub evidence: Value,
    /// A failure that may still go away by itself (a deploy landing): worth reading again.
    pub landing: bool,
}

impl AppResult {
    pub fn new(status: Status, line: impl Into<String>, evidence: Value) -> Self {
        AppResult {
            status,
            line: line.into(),
            evidence,
            landing: false,
        }
    }
    /// A failure worth reading again while a deploy lands.
    pub fn landing(line: impl Into<String>, evidence: Value) -> Self {
        AppResult {
            landing: true,
            ..AppResult::new(Status::Fail, line, evidence)
        }
    }
}

/// The apps of `env` that are on Fly, or the outcome that says why there are none.
pub(crate) fn fly_apps<'a>(
    flyapps: &'a FlyApps<'a>,
    env: &str,
) -> Result<Vec<(&'a App, &'a str)>, Outcome> {
    let Some(e) = flyapps.environments.get(env) else {
        return Err(Outcome::error(
            format!("no [environments.{env}] in the config; add its apps with their fly_app"),
            Value::Null,
        ));
    };
    let apps: Vec<_> = e
        .apps
        .iter()
        .filter_map(|a| a.fly_app.as_deref().map(|f| (a, f)))
        .collect();
    if apps.is_empty() {
        return Err(Outcome::error(
            format!("no app under [environments.{env}] has a fly_app; nothing to ask Fly about"),
            Value::Null,
        ));
    }
    Ok(apps)
}

/// The app named `name` in `env`, if it is on Fly.
pub(crate) fn counterpart<'a>(flyapps: &'a FlyApps<'a>, env: &str, name: &str) -> Option<&'a str> {
    flyapps
        .environments
        .get(env)?
        .apps
        .iter()
        .find(|a| a.name == name)?
        .fly_app
        .as_deref()
}

/// Folds per-app results into one outcome: the worst status; the summary is `ok` when all
/// pass, else the lines of the apps that did not.
pub(crate) fn combine(
    flyapps: &FlyApps<'_>,
    results: Vec<AppResult>,
    ok: impl FnOnce(&[AppResult]) -> String,
    mut extra: serde_json::Map<String, Value>,
) -> Outcome {
    let status = results.iter().fold(Status::Pass, |s, r| s.worst(r.status));
    let summary = if status == Status::Pass {
        ok(&results)
    } else {
        results
            .iter()
            .filter(|r| r.status != Status::Pass)
            .map(|r| r.line.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    extra.insert(
        "apps".into(),
        Value::Array(results.into_iter().map(|r| r.evidence).collect()),
    );
    let mut evidence = Value::Object(extra);
    crate::model::redact::redact_json(&mut evidence, flyapps.secrets);
    Outcome::new(
        status,
        crate::model::redact::redact(&summary, flyapps.secrets),
        evidence,
    )
}

/// `fly.region` (`prepare.region`, `prepare.region-verified`): every machine of every app in
/// the configured region. Regions come from `flyctl status --json` (`Machines[].region`);
/// `flyctl info` is deprecated.
pub async fn region(spec: &FlyRegionCheck, flyapps: &FlyApps<'_>) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let fly = &flyapps.fly;
    let futs = apps.iter().map(|(app, fly_app)| {
        let allowed: Vec<String> = if spec.regions.is_empty() {
            app.region.iter().cloned().collect()
        } else {
            spec.regions.clone()
        };
        region_app(fly, &app.name, fly_app, allowed)
    });
    let results = join_all(futs.collect()).await;
    combine(
        flyapps,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("every machine in its region: {}", parts.join(", "))
        },
        serde_json::Map::new(),
    )
}

/// Where each app's machines run (`flyctl status --json -a APP`: `Machines[].region`), for
/// `shipcheck init --ask-fly`: every app asked concurrently; an app flyctl could not answer
/// for gets the reason instead.
pub async fn machine_regions(
    cfg: &crate::model::config::FlyConfig,
    apps: &[String],
) -> BTreeMap<String, Result<Vec<String>, FlyError>> {
    let fly = Fly::new(cfg, &[]);
    let futs = apps.iter().map(|app| {
        let fly = fly.clone();
        async move {
            let regions = fly.status(app).await.map(|s| {
                s.machines
                    .into_iter()
                    .map(|m| m.region)
                    .filter(|r| !r.is_empty())
                    .collect()
            });
            (app.clone(), regions)
        }
    });
    join_all(futs.collect()).await.into_iter().collect()
}

async fn region_app(fly: &Fly, name: &str, fly_app: &str, allowed: Vec<String>) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "expected": allowed });
    if allowed.is_empty() {
        return AppResult::new(
            Status::Error,
            format!("{name}: no region configured; set region = \"fra\" on the app"),
            base,
        );
    }
    let status = match fly.status(fly_app).await {
        Ok(s) => s,
        Err(e) => {
            return AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            );
        }
    };
    let machines: Vec<_> = status.machines.iter().filter(|m| m.is_active()).collect();
    let listed: Vec<Value> = machines
        .iter()
        .map(|m| json!({ "id": m.id, "region": m.region, "state": m.state, "in_region": allowed.contains(&m.region) }))
        .collect();
    let evidence = with(base, "machines", Value::Array(listed));
    if machines.is_empty() {
        return AppResult::new(
            Status::Error,
            format!("{fly_app} has no machines; its region cannot be verified"),
            evidence,
        );
    }
    let wrong: Vec<String> = machines
        .iter()
        .filter(|m| !allowed.contains(&m.region))
        .map(|m| {
            format!(
                "machine {} in {}",
                m.id,
                if m.region.is_empty() {
                    "an unknown region"
                } else {
                    &m.region
                }
            )
        })
        .collect();
    if wrong.is_empty() {
        AppResult::new(
            Status::Pass,
            format!("{fly_app} {}× {}", machines.len(), allowed.join("/")),
            evidence,
        )
    } else {
        AppResult::new(
            Status::Fail,
            format!(
                "{fly_app}: {} (expected {})",
                wrong.join(", "),
                allowed.join(" or ")
            ),
            evidence,
        )
    }
}

/// `fly.secrets` (`prepare.secrets`): each app has its required secret names and every name
/// its counterpart in `compare_with` has; `Staged`/`Partial` secrets are reported (they fail
/// only with `fail_on_pending`). Names only: flyctl never lists values.
pub async fn secrets(spec: &FlySecretsCheck, flyapps: &FlyApps<'_>) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let fly = &flyapps.fly;
    let futs = apps.iter().map(|(app, fly_app)| {
        let other = if spec.compare_with.is_empty() {
            None
        } else {
            counterpart(flyapps, &spec.compare_with, &app.name)
        };
        secrets_app(fly, app, fly_app, other, spec)
    });
    let results = join_all(futs.collect()).await;
    let pending: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.evidence["pending"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    format!(
                        "{} {} on {}",
                        p["name"].as_str().unwrap_or("?"),
                        p["status"].as_str().unwrap_or("?"),
                        r.evidence["fly_app"].as_str().unwrap_or("?")
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out = combine(
        flyapps,
        results,
        |r| format!("every required secret set on {} apps", r.len()),
        serde_json::Map::new(),
    );
    if !pending.is_empty() && !spec.fail_on_pending {
        out.summary.push_str(&format!(
            "; not yet deployed: {} (the next deploy applies them)",
            pending.join(", ")
        ));
    }
    out
}

async fn secrets_app(
    fly: &Fly,
    app: &App,
    fly_app: &str,
    other: Option<&str>,
    spec: &FlySecretsCheck,
) -> AppResult {
    let mut base = json!({ "app": app.name, "fly_app": fly_app, "required": app.required_secrets });
    let (mine, theirs) = match other {
        Some(o) => {
            let (a, b) = tokio::join!(fly.secrets_list(fly_app), fly.secrets_list(o));
            (a, Some(b))
        }
        None => (fly.secrets_list(fly_app).await, None),
    };
    let mine = match mine {
        Ok(s) => s,
        Err(e) => {
            return AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            );
        }
    };
    let names: BTreeSet<&str> = mine.iter().map(|s| s.name.as_str()).collect();
    let missing_required: Vec<&str> = app
        .required_secrets
        .iter()
        .map(String::as_str)
        .filter(|n| !names.contains(n))
        .collect();
    let mut missing_from_other: Vec<String> = Vec::new();
    match (other, theirs) {
        (Some(o), Some(Ok(list))) => {
            missing_from_other = list
                .iter()
                .map(|s| s.name.clone())
                .filter(|n| !names.contains(n.as_str()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            base["compared_with"] = json!(o);
        }
        (Some(_), Some(Err(e))) => {
            return AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            );
        }
        _ => base["compared_with"] = Value::Null,
    }
    let pending: Vec<Value> = mine
        .iter()
        .filter(|s| s.status.as_ref().is_some_and(|st| st.is_pending()))
        .map(|s| json!({ "name": s.name, "status": s.status.as_ref().map(|st| st.as_str()) }))
        .collect();
    base["names"] = json!(names);
    base["missing_required"] = json!(missing_required);
    base["missing_from_compared"] = json!(missing_from_other);
    base["pending"] = json!(pending);
    let mut problems = Vec::new();
    if !missing_required.is_empty() {
        problems.push(format!("missing required {}", missing_required.join(", ")));
    }
    if !missing_from_other.is_empty() {
        problems.push(format!(
            "missing {} that {} has",
            missing_from_other.join(", "),
            other.unwrap_or("?")
        ));
    }
    if spec.fail_on_pending && !pending.is_empty() {
        problems.push(format!("{} secret(s) staged, not deployed", pending.len()));
    }
    if problems.is_empty() {
        AppResult::new(
            Status::Pass,
            format!("{fly_app}: {} secrets", names.len()),
            base,
        )
    } else {
        AppResult::new(
            Status::Fail,
            format!("{fly_app}: {}", problems.join("; ")),
            base,
        )
    }
}

/// `fly.env` (evidence for the manual `prepare.env-reviewed`): the differences between each
/// app's remote config (`flyctl config show`) in `compare_with` and in `env`: `[env]` keys
/// only on one side, values that differ, and the primary region. It passes whenever both
/// configs could be read; the person reading the differences decides.
pub async fn env(spec: &FlyEnvCheck, flyapps: &FlyApps<'_>) -> Outcome {
    let apps = match fly_apps(flyapps, &spec.env) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let fly = &flyapps.fly;
    let futs = apps.iter().map(|(app, fly_app)| {
        let other = counterpart(flyapps, &spec.compare_with, &app.name);
        env_app(fly, &app.name, fly_app, other, spec)
    });
    let results = join_all(futs.collect()).await;
    combine(
        flyapps,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!("env differences: {}", parts.join("; "))
        },
        serde_json::Map::new(),
    )
}

async fn env_app(
    fly: &Fly,
    name: &str,
    fly_app: &str,
    other: Option<&str>,
    spec: &FlyEnvCheck,
) -> AppResult {
    let base = json!({ "app": name, "fly_app": fly_app, "compared_with": other });
    let Some(other) = other else {
        return AppResult::new(
            Status::Pass,
            format!("{name}: no {} app to compare with", spec.compare_with),
            base,
        );
    };
    let (mine, theirs) = tokio::join!(fly.config_show(fly_app), fly.config_show(other));
    let (mine, theirs) = match (mine, theirs) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return AppResult::new(
                Status::Error,
                e.to_string(),
                with(base, "error", json!(e.to_string())),
            );
        }
    };
    let d = env_diff(&theirs.env, &mine.env);
    let mut evidence = base;
    let (a, b) = (spec.compare_with.as_str(), spec.env.as_str());
    evidence["only_in"] = json!({ (a): d.only_left, (b): d.only_right });
    evidence["different"] = Value::Array(
        d.different
            .iter()
            .map(|(k, l, r)| json!({ "key": k, (a): l, (b): r }))
            .collect(),
    );
    evidence["same"] = json!(d.same);
    let mut parts = Vec::new();
    if mine.primary_region != theirs.primary_region {
        evidence["primary_region"] =
            json!({ (a): theirs.primary_region, (b): mine.primary_region });
        parts.push("primary region differs".to_string());
    }
    if !d.different.is_empty() {
        let keys: Vec<&str> = d.different.iter().map(|(k, _, _)| k.as_str()).collect();
        parts.push(format!("{} differ ({})", keys.len(), keys.join(", ")));
    }
    if !d.only_left.is_empty() {
        parts.push(format!("only in {a}: {}", d.only_left.join(", ")));
    }
    if !d.only_right.is_empty() {
        parts.push(format!("only in {b}: {}", d.only_right.join(", ")));
    }
    let line = if parts.is_empty() {
        format!("{name}: same env")
    } else {
        format!("{name}: {}", parts.join(", "))
    };
    AppResult::new(Status::Pass, line, evidence)
}

/// The differences between two env maps.
#[derive(Debug, Default, PartialEq)]
pub struct EnvDiff {
    /// Keys only on the left.
    pub only_left: Vec<String>,
    /// Keys only on the right.
    pub only_right: Vec<String>,
    /// Keys on both sides with different values: (key, left, right).
    pub different: Vec<(String, String, String)>,
    /// How many keys are equal.
    pub same: usize,
}

/// Compares two env maps.
pub fn env_diff(left: &BTreeMap<String, String>, right: &BTreeMap<String, String>) -> EnvDiff {
    let mut d = EnvDiff::default();
    for (k, v) in left {
        match right.get(k) {
            None => d.only_left.push(k.clone()),
            Some(w) if w != v => d.different.push((k.clone(), v.clone(), w.clone())),
            Some(_) => d.same += 1,
        }
    }
    d.only_right = right
        .keys()
        .filter(|k| !left.contains_key(*k))
        .cloned()
        .collect();
    d
}

pub(crate) fn with(mut v: Value, key: &str, value: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.insert(key.into(), value);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_diff_finds_each_kind() {
        let l: BTreeMap<_, _> = [("A", "1"), ("B", "2"), ("C", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r: BTreeMap<_, _> = [("B", "2"), ("C", "x"), ("D", "4")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let d = env_diff(&l, &r);
        assert_eq!(d.only_left, vec!["A"]);
        assert_eq!(d.only_right, vec!["D"]);
        assert_eq!(d.different, vec![("C".into(), "3".into(), "x".into())]);
        assert_eq!(d.same, 1);
    }
}
