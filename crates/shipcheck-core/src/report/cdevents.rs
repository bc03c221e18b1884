//! The run's life as CDEvents (spec v0.4.1, the version whose schemas are vendored in
//! `fixtures/cdevents/spec-v0.4.1`): a pure function of the journal ([`derive`]), so a
//! resumed run derives exactly the events the interrupted one did — same ids, same content —
//! and a receiver can drop the duplicates that at-least-once delivery may cause.
//!
//! | journal | CDEvent (all `0.2.0`) | key |
//! |---|---|---|
//! | `run_started` | `pipelinerun.started` | `pipelinerun.started` |
//! | `phase_completed` rollout (the release is live) | `service.deployed`, one per app of the environment | `service.deployed/APP` |
//! | `incident_raised` | `incident.detected` | `incident.detected/N` |
//! | `rollback_done` | `service.rolledback`, one per app rolled back | `service.rolledback/K/APP` |
//! | `incident_decision` resolved (the first) | `incident.resolved` | `incident.resolved/N` |
//! | `run_signed` / `run_aborted` | `pipelinerun.finished` with `outcome` | `pipelinerun.finished` |
//!
//! Each event's id is `RUN_ID/KEY`: the run and what happened (the incident's number, the
//! rollback's rank), never the journal's sequence number, which a crash and resume may shift.
//! Its timestamp is the journal event's.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::event::{Event, StoredEvent};
use crate::model::facts::Fact;
use crate::model::incident::Decision;

/// Failed sends of one event before it is given up.
pub const MAX_FAILURES: usize = 3;

/// The CDEvents spec version (`context.version`).
pub const SPEC_VERSION: &str = "0.4.1";

/// What the mapping needs besides the journal (from the run's config).
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    /// `context.source` of every event.
    pub source: String,
    /// The environment's apps: (name, Fly app if any).
    pub apps: Vec<(String, Option<String>)>,
    /// The run's page (`[project] web_url` + `/runs/ID`), if the team serves one.
    pub run_url: Option<String>,
}

impl Context {
    /// The context of `run_id` in `env` of `config`.
    pub fn of(config: &crate::model::config::Config, run_id: &str, env: &str) -> Context {
        let source = config
            .events
            .as_ref()
            .and_then(|e| e.source.clone())
            .unwrap_or_else(|| format!("/shipcheck/{}/{env}", config.project.name));
        let apps = config
            .environments
            .get(env)
            .map(|e| {
                e.apps
                    .iter()
                    .map(|a| (a.name.clone(), a.fly_app.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let run_url = config
            .project
            .web_url
            .as_ref()
            .map(|w| format!("{}/runs/{run_id}", w.trim_end_matches('/')));
        Context {
            source,
            apps,
            run_url,
        }
    }
}

/// One CDEvent, ready to send.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CdEvent {
    /// `RUN_ID/KEY`: stable across crashes.
    pub id: String,
    /// What happened, within the run (`service.deployed/internal-api`).
    pub key: String,
    /// `dev.cdevents.service.deployed.0.2.0`, …
    pub kind: String,
    /// The subject's id (CloudEvents `subject`).
    pub subject: String,
    /// The timestamp (the journal event's `at`, RFC 3339).
    pub time: String,
    /// The journal event it comes from.
    pub seq: i64,
    /// The CDEvent itself (`context`, `subject`): what the spec's JSON schema validates.
    pub body: Value,
}

fn type_of(short: &str) -> String {
    format!("dev.cdevents.{short}.0.2.0")
}

struct Builder<'a> {
    run_id: &'a str,
    env: String,
    pipeline: String,
    ctx: &'a Context,
    out: Vec<CdEvent>,
}

impl Builder<'_> {
    fn push(&mut self, e: &StoredEvent, short: &str, key: String, subject: Value) {
        let id = format!("{}/{key}", self.run_id);
        let time = e.at.to_string();
        let kind = type_of(short);
        let subject_id = subject["id"].as_str().unwrap_or_default().to_string();
        let body = json!({
            "context": {
                "version": SPEC_VERSION,
                "id": id,
                "source": self.ctx.source,
                "type": kind,
                "timestamp": time,
                "chainId": self.run_id,
            },
            "subject": subject,
        });
        self.out.push(CdEvent {
            id,
            key,
            kind,
            subject: subject_id,
            time,
            seq: e.seq,
            body,
        });
    }

    fn environment(&self) -> Value {
        json!({ "id": self.env, "source": self.ctx.source })
    }

    fn pipeline_url(&self) -> String {
        self.ctx
            .run_url
            .clone()
            .unwrap_or_else(|| format!("{}/runs/{}", self.ctx.source, self.run_id))
    }

    fn service(&self, app: &str, artifact: String) -> Value {
        json!({
            "id": app,
            "source": self.ctx.source,
            "type": "service",
            "content": { "environment": self.environment(), "artifactId": artifact },
        })
    }

    fn fly_app<'b>(&'b self, app: &'b str) -> &'b str {
        self.ctx
            .apps
            .iter()
            .find(|(n, _)| n == app)
            .and_then(|(_, f)| f.as_deref())
            .unwrap_or(app)
    }
}

/// A package URL for an image reference (`registry.fly.io/APP:TAG` →
/// `pkg:oci/APP?repository_url=registry.fly.io/APP&tag=TAG`).
pub fn image_purl(image_ref: &str) -> String {
    let (repo, digest) = match image_ref.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image_ref, None),
    };
    let last_slash = repo.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match repo[last_slash..].find(':') {
        Some(i) => (&repo[..last_slash + i], Some(&repo[last_slash + i + 1..])),
        None => (repo, None),
    };
    let name = repo.rsplit('/').next().unwrap_or(repo).to_ascii_lowercase();
    let mut p = format!("pkg:oci/{name}");
    if let Some(d) = digest {
        p.push('@');
        p.push_str(&d.replace(':', "%3A"));
    }
    p.push_str(&format!("?repository_url={repo}"));
    if let Some(t) = tag {
        p.push_str(&format!("&tag={t}"));
    }
    p
}

/// The CDEvents of a run's journal, in journal order. Pure: the same events always give
/// the same CDEvents. Events of the delivery itself (`cdevent_*`) give none.
pub fn derive(run_id: &str, events: &[StoredEvent], ctx: &Context) -> Vec<CdEvent> {
    let mut b = Builder {
        run_id,
        env: String::new(),
        pipeline: String::new(),
        ctx,
        out: Vec::new(),
    };
    let mut merge: Option<String> = None;
    let mut targets: Vec<crate::model::facts::RollbackTarget> = Vec::new();
    let mut rollback_apps: Option<Vec<String>> = None;
    let mut rollbacks = 0usize;
    let mut deployed = false;
    let mut finished = false;
    let mut incidents: Vec<(u32, String, Option<String>)> = Vec::new();
    let mut resolved: Vec<u32> = Vec::new();
    let mut rolled_back = false;
    for e in events {
        let facts: &[Fact] = match &e.event {
            Event::CheckFinished { facts, .. } | Event::ActionDone { facts, .. } => facts,
            _ => &[],
        };
        for f in facts {
            match f {
                Fact::MergeCommit { sha } => merge = Some(sha.clone()),
                Fact::RollbackTargets { targets: t } => targets.clone_from(t),
                _ => {}
            }
        }
        match &e.event {
            Event::RunStarted { project, env, .. } => {
                b.env.clone_from(env);
                b.pipeline = format!("shipcheck {project} {env}");
                let subject = json!({
                    "id": run_id,
                    "source": ctx.source,
                    "type": "pipelineRun",
                    "content": {
                        "pipelineName": b.pipeline,
                        "url": b.pipeline_url(),
                    },
                });
                b.push(
                    e,
                    "pipelinerun.started",
                    "pipelinerun.started".into(),
                    subject,
                );
            }
            Event::PhaseCompleted {
                phase: crate::model::checklist::Phase::Rollout,
            } if !deployed => {
                deployed = true;
                let release = merge.clone().unwrap_or_else(|| "unknown".into());
                for (app, _) in &ctx.apps {
                    let artifact = format!("pkg:generic/{}@{release}", b.fly_app(app));
                    let subject = b.service(app, artifact);
                    b.push(
                        e,
                        "service.deployed",
                        format!("service.deployed/{app}"),
                        subject,
                    );
                }
            }
            Event::IncidentRaised { incident } => {
                let app = incident.series.as_ref().and_then(|s| s.app.clone());
                let description = format!(
                    "#{} ({}): {}",
                    incident.id,
                    incident.severity.as_str(),
                    incident.summary
                );
                incidents.push((incident.id, description.clone(), app.clone()));
                let subject = incident_subject(&b, incident.id, &description, app.as_deref());
                b.push(
                    e,
                    "incident.detected",
                    format!("incident.detected/{}", incident.id),
                    subject,
                );
            }
            Event::IncidentDecision {
                incident,
                decision: Decision::Resolved,
                reason,
                ..
            } if !resolved.contains(incident) => {
                resolved.push(*incident);
                let (description, app) = incidents
                    .iter()
                    .find(|(n, ..)| n == incident)
                    .map(|(_, d, a)| (format!("{d} — resolved: {reason}"), a.clone()))
                    .unwrap_or_else(|| (format!("#{incident} resolved: {reason}"), None));
                let subject = incident_subject(&b, *incident, &description, app.as_deref());
                b.push(
                    e,
                    "incident.resolved",
                    format!("incident.resolved/{incident}"),
                    subject,
                );
            }
            Event::RollbackStarted { apps, .. } => rollback_apps.clone_from(apps),
            Event::RollbackDone {
                strategy, evidence, ..
            } => {
                rollbacks += 1;
                rolled_back = true;
                let apps: Vec<String> = match &rollback_apps {
                    Some(only) => only.clone(),
                    None => ctx.apps.iter().map(|(n, _)| n.clone()).collect(),
                };
                for app in apps {
                    let fly = b.fly_app(&app).to_string();
                    let artifact = match (
                        strategy.as_str(),
                        targets.iter().find(|t| t.app == app || t.fly_app == fly),
                        evidence["revert_commit"].as_str(),
                    ) {
                        ("platform", Some(t), _) => image_purl(&t.image_ref),
                        (_, _, Some(c)) => format!("pkg:generic/{fly}@{c}"),
                        _ => format!("pkg:generic/{fly}"),
                    };
                    let subject = b.service(&app, artifact);
                    b.push(
                        e,
                        "service.rolledback",
                        format!("service.rolledback/{rollbacks}/{app}"),
                        subject,
                    );
                }
            }
            Event::RunSigned { .. } | Event::RunAborted { .. } if !finished => {
                finished = true;
                let mut content = json!({
                    "pipelineName": b.pipeline,
                    "url": b.pipeline_url(),
                });
                let (outcome, errors) = match &e.event {
                    Event::RunAborted { reason, by } => {
                        ("failure", Some(format!("aborted by {by}: {reason}")))
                    }
                    _ if rolled_back => (
                        "failure",
                        Some(match incidents.first() {
                            Some((_, d, _)) => format!("rolled back after incident {d}"),
                            None => "rolled back".into(),
                        }),
                    ),
                    _ => ("success", None),
                };
                content["outcome"] = json!(outcome);
                if let Some(err) = errors {
                    content["errors"] = json!(err);
                }
                let subject = json!({
                    "id": run_id,
                    "source": ctx.source,
                    "type": "pipelineRun",
                    "content": content,
                });
                b.push(
                    e,
                    "pipelinerun.finished",
                    "pipelinerun.finished".into(),
                    subject,
                );
            }
            _ => {}
        }
    }
    b.out
}

fn incident_subject(b: &Builder<'_>, n: u32, description: &str, app: Option<&str>) -> Value {
    let mut content = json!({
        "description": description,
        "environment": b.environment(),
    });
    if let Some(app) = app {
        content["service"] = json!({ "id": app, "source": b.ctx.source });
    }
    json!({
        "id": format!("{}/incident/{n}", b.run_id),
        "source": b.ctx.source,
        "type": "incident",
        "content": content,
    })
}

#[cfg(test)]
#[path = "cdevents_tests.rs"]
mod tests;
