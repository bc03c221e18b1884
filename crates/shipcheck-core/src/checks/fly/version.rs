//! `fly.version` (`verify.version-live`): every app serves **the promoted commit**, read where
//! the app's `version` says — its health answer (a JSON pointer or a header, sampled several
//! times, so a half-rolled deploy shows) or each Machine's image (a label, or the tag
//! `fly deploy --image-label <sha>` gives it). A 200 from the health URL is not the new code:
//! a deploy can fail while the previous release keeps answering (the image did not start, the
//! release command failed). Old code answering is a failure that names the version it saw.
//!
//! After a rollback the watch asks the same question of the commit before the release
//! ([`after_rollback`]).

use crate::model::error::Invalid;
use crate::model::facts::FactKind;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::checks::fly::FlyApps;
use crate::checks::fly::{AppResult, combine, with};
use crate::checks::github::{is_sha, merge_commit, short};
use crate::checks::http::probe;
use crate::checks::join_all;
use crate::clients::fly::{Fly, Machine};
use crate::journal::state::RunState;
use crate::model::checklist::{FlyVersionCheck, HttpCheck};
use crate::model::config::{App, VersionSource};
use crate::model::duration::Span;
use crate::model::outcome::{Outcome, Status};

/// The commits a run's version checks compare with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseCommits {
    /// The release merge commit: the promoted commit.
    pub merge: String,
    /// Production before the merge (its first parent), when recorded.
    pub before: Option<String>,
    /// What should be live after the run's latest successful rollback: the revert commit
    /// of a `git-revert`, the commit before the release for `platform`.
    pub after_rollback: Option<Expected>,
}

/// The commits of `run`. **The one place** the version checks look them up: the merge commit
/// fact (through [`merge_commit`]), the production commit before it from the evidence of the
/// item that recorded that fact (whatever it is called), and the rollback's record.
pub fn release_commits(run: Option<&RunState>) -> Result<ReleaseCommits, Invalid> {
    let merge = merge_commit(run)?;
    let sha = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| is_sha(s))
            .map(str::to_string)
    };
    let before = run
        .and_then(|r| {
            let merged_by = &r.facts.get(FactKind::MergeCommit)?.item;
            r.record(merged_by)
        })
        .and_then(|r| sha(r.evidence.get("production_before")));
    let expected = |sha: String, what: &str| Expected {
        sha,
        what: what.into(),
    };
    let after_rollback = run
        .and_then(|r| r.rollbacks.iter().rev().find(|x| x.succeeded == Some(true)))
        .and_then(|x| match x.strategy.as_str() {
            "git-revert" => {
                sha(x.evidence.get("revert_commit")).map(|s| expected(s, "the revert commit"))
            }
            _ => before
                .clone()
                .map(|s| expected(s, "the commit before the release")),
        });
    Ok(ReleaseCommits {
        merge,
        before,
        after_rollback,
    })
}

/// The commit that must be live, and what it is (`the promoted commit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Full or abbreviated (at least 7 hex digits).
    pub sha: String,
    /// Said after the SHA in a line.
    pub what: String,
}

/// `fly.version`.
pub async fn version(
    spec: &FlyVersionCheck,
    flyapps: &FlyApps<'_>,
    run: Option<&RunState>,
) -> Outcome {
    let merge = match release_commits(run) {
        Ok(c) => c.merge,
        Err(e) => return Outcome::error(e, Value::Null),
    };
    let expected = Expected {
        sha: merge,
        what: "the promoted commit".into(),
    };
    let samples = spec
        .samples
        .unwrap_or(FlyVersionCheck::DEFAULT_SAMPLES)
        .clamp(1, FlyVersionCheck::MAX_SAMPLES);
    live(flyapps, &spec.env, samples, &expected).await
}

/// For the rollback's verification: whether every app of `env` serves what the rollback
/// went back to. `None` when no app of `env` says where its version is (nothing to read).
pub async fn after_rollback(
    flyapps: &FlyApps<'_>,
    run: Option<&RunState>,
    env: &str,
) -> Option<Outcome> {
    let configured = flyapps
        .environments
        .get(env)
        .is_some_and(|e| e.apps.iter().any(|a| a.version.is_some()));
    if !configured {
        return None;
    }
    let commits = match release_commits(run) {
        Ok(c) => c,
        Err(e) => return Some(Outcome::error(e, Value::Null)),
    };
    let Some(expected) = commits.after_rollback else {
        return Some(Outcome::error(
            "the run records no successful rollback with a commit to go back to (the merge's evidence has no production_before, or the revert's no revert_commit)",
            Value::Null,
        ));
    };
    Some(live(flyapps, env, FlyVersionCheck::DEFAULT_SAMPLES, &expected).await)
}

/// Every app of `env` serves `expected`.
pub(crate) async fn live(
    flyapps: &FlyApps<'_>,
    env: &str,
    samples: u32,
    expected: &Expected,
) -> Outcome {
    let apps: Vec<&App> = flyapps
        .environments
        .get(env)
        .map(|e| e.apps.iter().collect())
        .unwrap_or_default();
    if apps.is_empty() {
        return Outcome::error(
            format!("no apps under [environments.{env}]; nothing to read a version from"),
            Value::Null,
        );
    }
    let fly = &flyapps.fly;
    let futs = apps
        .iter()
        .map(|app| app_live(flyapps, fly, env, app, samples, expected));
    let results = join_all(futs.collect()).await;
    let mut extra = serde_json::Map::new();
    extra.insert(
        "expected".into(),
        json!({ "sha": expected.sha, "what": expected.what }),
    );
    combine(
        flyapps,
        results,
        |r| {
            let parts: Vec<String> = r.iter().map(|r| r.line.clone()).collect();
            format!(
                "{} {} is live: {}",
                expected.what,
                short(&expected.sha),
                parts.join(", ")
            )
        },
        extra,
    )
}

/// One reading: a version seen, or why none could be read; and where from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Seen {
    Version { value: String, from: String },
    Problem { why: String, from: String },
}

async fn app_live(
    flyapps: &FlyApps<'_>,
    fly: &Fly,
    env: &str,
    app: &App,
    samples: u32,
    expected: &Expected,
) -> AppResult {
    let base = json!({ "app": app.name, "fly_app": app.fly_app });
    let Some(source) = &app.version else {
        return AppResult::new(
            Status::Error,
            format!(
                "{}: no version source; add version = {{ json_pointer = \"/version\" }} (or header, image_label, image_ref) to its [[environments.{env}.apps]] entry",
                app.name
            ),
            base,
        );
    };
    let seen = if source.is_http() {
        let Some(url) = app.health_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return AppResult::new(
                Status::Error,
                format!("{}: {} needs a health_url", app.name, source.describe()),
                base,
            );
        };
        sample_http(flyapps, url, source, samples).await
    } else {
        let Some(fly_app) = app.fly_app.as_deref() else {
            return AppResult::new(
                Status::Error,
                format!("{}: {} needs a fly_app", app.name, source.describe()),
                base,
            );
        };
        match fly.machines_list(fly_app).await {
            Ok(ms) => from_machines(&ms, source),
            Err(e) => {
                return AppResult::new(
                    Status::Error,
                    e.to_string(),
                    with(base, "error", json!(e.to_string())),
                );
            }
        }
    };
    judge_seen(&app.name, source, &seen, expected, base)
}

/// Each health answer is read once, one after another (at most [`FlyVersionCheck::MAX_SAMPLES`],
/// each within 10 s): Fly's proxy spreads them over the Machines.
async fn sample_http(
    flyapps: &FlyApps<'_>,
    url: &str,
    source: &VersionSource,
    samples: u32,
) -> Vec<Seen> {
    let check = HttpCheck {
        url: url.trim().to_string(),
        method: "GET".into(),
        expect_status: Default::default(),
        timeout: Some(Span::secs(10)),
        retries: None,
        backoff: None,
        body_contains: None,
        json_pointer: None,
        json_equals: None,
        headers: Default::default(),
    };
    let mut seen = Vec::new();
    for n in 1..=samples.min(FlyVersionCheck::MAX_SAMPLES) {
        let p = probe(flyapps.http, &check).await;
        let from = format!("answer {n}");
        let status = p.status.map(|s| s.to_string()).unwrap_or_default();
        let read = match (&p.error, source) {
            (Some(e), _) => Err(format!("no answer ({e})")),
            (None, VersionSource::Header(h)) => p
                .header(h)
                .map(str::to_string)
                .ok_or_else(|| format!("answered {status} without a {h} header")),
            (None, VersionSource::JsonPointer(ptr)) => from_json(&p.body, ptr, &status),
            (None, other) => Err(format!("{} is not read over HTTP", other.describe())),
        };
        seen.push(match read {
            Ok(value) => Seen::Version { value, from },
            Err(why) => Seen::Problem { why, from },
        });
    }
    seen
}

fn from_json(body: &str, ptr: &str, status: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(body)
        .map_err(|_| format!("answered {status} with a body that is not JSON"))?;
    match v.pointer(ptr) {
        None => Err(format!("answered {status} without {ptr:?} in its JSON")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Null) => Err(format!("answered {status} with {ptr:?} null")),
        Some(other) => Err(format!(
            "answered {status} with {ptr:?} = {}, not text",
            crate::clients::fly::snippet(&other.to_string())
        )),
    }
}

/// The version each Machine's image carries (every Machine that runs a release, idle ones
/// too: they run that image when they start).
pub(crate) fn from_machines(machines: &[Machine], source: &VersionSource) -> Vec<Seen> {
    machines
        .iter()
        .filter(|m| m.is_active() && !m.is_special_group() && !m.is_detached())
        .map(|m| {
            let from = format!("machine {} [{}] {}", m.id, m.process_group(), m.state);
            let read = match source {
                VersionSource::ImageLabel(k) => m
                    .image_ref
                    .labels
                    .get(k)
                    .cloned()
                    .ok_or_else(|| format!("its image has no label {k:?}")),
                _ => Some(m.image_tag())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| "its image has no tag".to_string()),
            };
            match read {
                Ok(value) => Seen::Version { value, from },
                Err(why) => Seen::Problem { why, from },
            }
        })
        .collect()
}

/// Whether `seen` names commit `sha`: one of its parts (split at anything not a letter or a
/// digit; a leading `g`, as `git describe` writes it, dropped) is at least 7 hex digits and
/// a prefix of `sha`, or `sha` is a prefix of it.
pub fn names_commit(seen: &str, sha: &str) -> bool {
    let sha = sha.trim().to_ascii_lowercase();
    if sha.len() < 7 {
        return false;
    }
    seen.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|t| match t.strip_prefix('g') {
            Some(rest) if rest.len() >= 7 && rest.chars().all(|c| c.is_ascii_hexdigit()) => rest,
            _ => t,
        })
        .filter(|t| t.len() >= 7 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .any(|t| sha.starts_with(t) || t.starts_with(&sha))
}

/// A version as shown in a line (at most 60 characters).
fn shown(v: &str) -> String {
    let mut s: String = v.chars().take(60).collect();
    if v.chars().count() > 60 {
        s.push('…');
    }
    format!("{s:?}")
}

/// The readings of one app against `expected`: pass when every one names it; a failure
/// naming each other version seen and how often; an error when nothing could be read.
pub(crate) fn judge_seen(
    name: &str,
    source: &VersionSource,
    seen: &[Seen],
    expected: &Expected,
    base: Value,
) -> AppResult {
    let unit = if source.is_http() {
        "answers"
    } else {
        "Machines"
    };
    let n = seen.len();
    let mut matched = 0;
    let mut others: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems: BTreeMap<&str, usize> = BTreeMap::new();
    for s in seen {
        match s {
            Seen::Version { value, .. } if names_commit(value, &expected.sha) => matched += 1,
            Seen::Version { value, .. } => *others.entry(value.as_str()).or_default() += 1,
            Seen::Problem { why, .. } => *problems.entry(why.as_str()).or_default() += 1,
        }
    }
    let listed: Vec<Value> = seen
        .iter()
        .map(|s| match s {
            Seen::Version { value, from } => json!({ "from": from, "version": value, "matches": names_commit(value, &expected.sha) }),
            Seen::Problem { why, from } => json!({ "from": from, "problem": why }),
        })
        .collect();
    let evidence = with(
        with(base, "source", json!(source.describe())),
        "seen",
        Value::Array(listed),
    );
    let count = |k: usize| format!("{k} of {n} {unit}");
    let problem_text = problems
        .iter()
        .map(|(why, k)| format!("{}: {why}", count(*k)))
        .collect::<Vec<_>>()
        .join("; ");
    if n == 0 {
        return AppResult::new(
            Status::Error,
            format!("{name}: no Machine to read {} from", source.describe()),
            evidence,
        );
    }
    if matched == n {
        return AppResult::new(Status::Pass, format!("{name} {n}/{n} {unit}"), evidence);
    }
    if others.is_empty() {
        return AppResult::new(
            Status::Error,
            format!(
                "{name}: cannot tell which commit is live ({}): {problem_text}",
                source.describe()
            ),
            evidence,
        );
    }
    let mut parts: Vec<String> = others
        .iter()
        .map(|(v, k)| format!("{} name {}", count(*k), shown(v)))
        .collect();
    if !problem_text.is_empty() {
        parts.push(problem_text);
    }
    let mut line = format!(
        "{name}: {}, not {} ({})",
        parts.join("; "),
        short(&expected.sha),
        expected.what
    );
    if matched > 0 {
        line.push_str(&format!("; {} name it", count(matched)));
    }
    AppResult::new(Status::Fail, line, evidence)
}

#[cfg(test)]
#[path = "version_tests.rs"]
mod tests;
