//! The schema of a journal event (`model::event::Event`, tagged by `type`): one object per
//! variant, its fields described by their types. The variants are matched and destructured
//! exhaustively, so an event or a field added in the core does not compile here until its
//! schema says it.

use jiff::Timestamp;
use serde_json::{Value, json};
use shipcheck_core::model::checklist::Phase;
use shipcheck_core::model::event::{AnchorPlace, Event, JournalAnchor, NoteKind, SshSignature};
use shipcheck_core::model::facts::{Fact, RollbackTarget};
use shipcheck_core::model::incident::{Decision, IncidentRecord};
use shipcheck_core::model::outcome::Status;
use shipcheck_core::model::watch::{Baseline, ProbeSample, Purpose, Schedule, Tick};

use super::schema::{Describe, object};
use crate::{describe, describe_enum};

type WatchOutcome = shipcheck_core::model::watch::Outcome;

describe_enum!(NoteKind[Issue, Lesson, General]);

/// `snake_case` of a `CamelCase` identifier (serde's `rename_all = "snake_case"`).
fn snake_case(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

describe!(RollbackTarget {
    app: String,
    fly_app: String,
    version: u64,
    image_ref: String,
    status: String,
    created_at: String,
} omittable [created_at]);

impl Describe for Fact {
    /// Tagged by `fact`: one object per role.
    fn schema() -> Value {
        let tagged = |name: &str, mut fields: Vec<(&str, Value, bool, &str)>| {
            fields.insert(0, ("fact", json!({"const": name}), false, ""));
            object(fields)
        };
        json!({"anyOf": [
            tagged("merge_commit", vec![("sha", String::schema(), false, "")]),
            tagged("deploy_started", vec![]),
            tagged("workflow_run", vec![
                ("id", i64::schema(), false, ""),
                ("sha", String::schema(), true, ""),
                ("html_url", Option::<String>::schema(), true, ""),
            ]),
            tagged("rollback_targets", vec![
                ("targets", Vec::<RollbackTarget>::schema(), false, ""),
            ]),
            tagged("github_deployment", vec![
                ("id", i64::schema(), false, ""),
                ("statuses_url", String::schema(), true, ""),
            ]),
        ]})
    }
}
const _: fn(&Fact) = |x| match x {
    Fact::MergeCommit { sha } => {
        let _: &String = sha;
    }
    Fact::DeployStarted => {}
    Fact::WorkflowRun { id, sha, html_url } => {
        let _: (&i64, &String, &Option<String>) = (id, sha, html_url);
    }
    Fact::RollbackTargets { targets } => {
        let _: &Vec<RollbackTarget> = targets;
    }
    Fact::GithubDeployment { id, statuses_url } => {
        let _: (&i64, &String) = (id, statuses_url);
    }
};

describe!(SshSignature {
    seq: i64,
    head: String,
    by: String,
    key: String,
    signature: String
});
describe!(JournalAnchor {
    seq: i64,
    head: String,
    places: Vec<AnchorPlace>,
});
describe!(AnchorPlace {
    kind: String,
    location: String,
    ok: bool,
    detail: String,
});

/// The checklist as the run started with it (the items' specs, as in shipcheck.toml).
fn items() -> Value {
    json!({"type": "array", "items": {"type": "object"}})
}

/// One variant's object: its `type` and its fields.
fn variant(name: &str, mut fields: Vec<(&str, Value, bool, &str)>) -> Value {
    fields.insert(0, ("type", json!({"const": snake_case(name)}), false, ""));
    object(fields)
}

macro_rules! events {
    ( $( $v:ident { $( $f:ident : $t:ty $(=> $s:expr)? ),* $(,)? } $([ $($o:ident),* ])? ),* $(,)? ) => {{
        const _: fn(&Event) = |x| match x {
            $( Event::$v { $($f),* } => { $( let _: &$t = $f; )* } )*
        };
        vec![$({
            let omittable: &[&str] = &[$($(stringify!($o)),*)?];
            variant(stringify!($v), vec![$(
                (
                    stringify!($f),
                    $crate::describe!(@schema $t $(, $s)?),
                    omittable.contains(&stringify!($f)),
                    "",
                ),
            )*])
        }),*]
    }};
}

/// Every event type's object.
fn variants() -> Vec<Value> {
    events![
        RunStarted {
            project: String,
            env: String,
            by: String,
            scheduled_at: Option<Timestamp>,
            config_digest: String,
            config: Option<String>,
            items: _ => items(),
        } [scheduled_at, config],
        ConfigTrusted { differences: Vec<String>, by: String },
        ConfigNotCompared { reason: String, settings: Vec<String> },
        ConfigAccepted { digest: String, config: String, by: String, reason: String },
        JournalAnchored { anchor: JournalAnchor },
        WindowOverridden { reason: String, by: String },
        ItemNotRequired { item: String, reason: String },
        CheckFinished {
            item: String,
            status: Status,
            summary: String,
            evidence: Value,
            duration_ms: u64,
            facts: Vec<Fact>,
        } [facts],
        ItemTicked { item: String, by: String, note: Option<String> } [note],
        ItemWaived { item: String, by: String, reason: String },
        ActionStarted { item: String, by: String, intent: String },
        ActionDone {
            item: String,
            summary: String,
            evidence: Value,
            facts: Vec<Fact>,
        } [facts],
        ActionFailed { item: String, error: String, unsure: bool } [unsure],
        PhaseCompleted { phase: Phase },
        NoteAdded { kind: NoteKind, text: String, by: String },
        RunAborted { reason: String, by: String },
        RollbackStarted {
            strategy: String,
            by: String,
            reason: String,
            intent: String,
            apps: Option<Vec<String>>,
        } [apps],
        RollbackDone { strategy: String, summary: String, evidence: Value },
        RollbackFailed { strategy: String, error: String },
        StopStarted { app: String, undo: bool, by: String, intent: String },
        StopDone { app: String, undo: bool, summary: String, evidence: Value },
        StopFailed { app: String, undo: bool, error: String },
        RunSigned { by: String },
        RecordSshSigned { signature: SshSignature },
        BaselineRecorded { baseline: Baseline },
        WatchStarted { leg: u32, purpose: Purpose, schedule: Schedule },
        WatchTick { tick: Tick },
        WatchSamples { leg: u32, samples: Vec<ProbeSample> },
        WatchEnded { leg: u32, outcome: WatchOutcome, reason: String },
        IncidentRaised { incident: IncidentRecord },
        IncidentDecision {
            incident: u32,
            decision: Decision,
            by: String,
            reason: String,
            until: Option<Timestamp>,
        } [until],
        IncidentNotified { incident: u32, posted: bool, detail: String },
        RollbackVerified { ok: bool, summary: String, evidence: Value },
        DeploymentStatusStarted { deployment: i64, state: String, intent: String },
        DeploymentStatusPosted { deployment: i64, state: String, status_id: i64, description: String },
        DeploymentStatusFailed { deployment: i64, state: String, error: String },
        CdeventDelivered { id: String, status: u16 },
        CdeventFailed { id: String, error: String },
    ]
}

/// A journal event: one of the variants, by its `type`.
pub fn schema() -> Value {
    json!({"anyOf": variants()})
}
