//! The schemas of the `shipcheck-core` types the documents carry. Each struct is listed field
//! by field and destructured exhaustively ([`describe!`](crate::describe)), each enum variant by
//! variant ([`describe_enum!`](crate::describe_enum)): a field or variant added in the core does
//! not compile here until its schema says it. Parts a document leaves open (a check's evidence,
//! the details of a watch's ticks, the change set's commits) are `{}` or plain objects.

use serde_json::{Value, json};
use shipcheck_core::engine::stop::StopOutcome;
use shipcheck_core::engine::{Need, StepReport};
use shipcheck_core::journal::state::{ItemState, Rollback, RunStatus, Stop};
use shipcheck_core::journal::watch::{Leg, Verdict, VerdictKind, Verification};
use shipcheck_core::loadtest::{Comparison, Latency, Report, Violation};
use shipcheck_core::logscan::{AppCount, LineMatch, PatternCount, ScanReport};
use shipcheck_core::model::changes::ChangeSet;
use shipcheck_core::model::checklist::{ItemKind, Phase};
use shipcheck_core::model::config::RollbackStrategy;
use shipcheck_core::model::event::StoredEvent;
use shipcheck_core::model::incident::{
    Incident, IncidentRecord, RollbackOutcome, Severity, Source,
};
use shipcheck_core::model::outcome::Status;
use shipcheck_core::model::watch::{Baseline, Purpose};
use shipcheck_core::report::criteria::{Criterion, Met};
use shipcheck_core::report::json::{ByReason, ItemReport, NoteReport, Notes, RunReport, Signed};
use shipcheck_core::report::watch::WatchSummary;

use super::schema::{Describe, object, open_object};
use crate::{describe, describe_enum};

/// An array of objects whose fields the document leaves open.
fn open_array() -> Value {
    json!({"type": "array", "items": {"type": "object"}})
}

describe_enum!(Status[Pass, Fail, Error]);
describe_enum!(ItemState[Pending, Pass, Fail, Error, Waived, NotRequired, Done]);
describe_enum!(Phase[Prepare, Preflight, Release, Approve, Rollout, Verify, Watch, Close]);
describe_enum!(RunStatus[Active, Completed, Signed, Aborted]);
describe_enum!(ItemKind[Check, Action, Manual]);
describe_enum!(Severity[Low, Medium, High, Critical]);
describe_enum!(Source[Person, Watch]);
describe_enum!(VerdictKind[Pending, Success, Failed, RolledBack, Aborted]);
describe_enum!(Met[Met, NotMet, Unknown]);
describe_enum!(RollbackStrategy[Platform, GitRevert]);
describe_enum!(Purpose[Release, AfterRollback]);

type WatchOutcome = shipcheck_core::model::watch::Outcome;
describe_enum!(WatchOutcome[Pass, Fail, RolledBack, Stopped]);

// The run document (`status --json`, `report --format json`).
describe!(RunReport {
    schema: &'static str => json!({"const": shipcheck_core::JSON_SCHEMA}),
    kind: &'static str => json!({"const": "run"}),
    id: String,
    project: String,
    env: String,
    status: RunStatus,
    phase: Option<Phase>,
    completed_phases: Vec<Phase>,
    started_by: String,
    started_at: jiff::Timestamp,
    scheduled_at: Option<jiff::Timestamp>,
    updated_at: jiff::Timestamp,
    config_digest: String,
    window_override: Option<ByReason>,
    aborted: Option<ByReason>,
    signed: Option<Signed>,
    items: Vec<ItemReport>,
    rollbacks: Vec<Rollback>,
    stops: Vec<Stop>,
    notes: Notes,
    success_criteria: Vec<Criterion>,
    events: usize,
    verdict: Verdict,
    watch: WatchSummary,
    anomalies: Vec<String>,
} omittable [anomalies]);

describe!(ByReason {
    by: String,
    reason: String
});
describe!(Signed {
    by: String,
    at: jiff::Timestamp
});
describe!(NoteReport {
    text: String,
    by: String,
    at: jiff::Timestamp
});
describe!(Notes {
    issues: Vec<NoteReport>,
    lessons: Vec<NoteReport>,
    general: Vec<NoteReport>,
});
describe!(ItemReport {
    id: String,
    phase: Phase,
    section: Option<String>,
    title: String,
    kind: ItemKind,
    required: bool,
    automatic: bool,
    manual_because: Option<String>,
    state: ItemState,
    summary: Option<String>,
    evidence: Value,
    by: Option<String>,
    at: Option<jiff::Timestamp>,
    note: Option<String>,
    reason: Option<String>,
    duration_ms: Option<u64>,
    attempts: u32,
});
describe!(Criterion { title: &'static str, met: Met, because: String });
describe!(Verdict {
    verdict: VerdictKind,
    reason: String
});
describe!(Rollback {
    strategy: String,
    by: String,
    reason: String,
    started_at: jiff::Timestamp,
    succeeded: Option<bool>,
    outcome: Option<String>,
    evidence: Value,
    finished_at: Option<jiff::Timestamp>,
});
describe!(Stop {
    app: String,
    undo: bool,
    by: String,
    started_at: jiff::Timestamp,
    succeeded: Option<bool>,
    outcome: Option<String>,
    evidence: Value,
});

// The watch.
describe!(WatchSummary {
    verdict: Verdict,
    baseline: Option<Baseline>,
    baseline_at: Option<jiff::Timestamp>,
    release_live_at: Option<jiff::Timestamp>,
    watches: Vec<Leg>,
    incidents: Vec<Incident>,
    rollback_verified: Option<Verification>,
    time_to_detect_s: Option<u64>,
    time_to_recover_s: Option<u64>,
});
describe!(Baseline {
    probes: u32,
    values: _ => open_array(),
});
describe!(Leg {
    leg: u32,
    purpose: Purpose,
    schedule: _ => open_object(),
    started_at: jiff::Timestamp,
    rollbacks_before: usize,
    ticks: _ => open_array(),
    outcome: Option<WatchOutcome>,
    reason: Option<String>,
    ended_at: Option<jiff::Timestamp>,
} omittable [outcome, reason, ended_at]);
describe!(Verification {
    ok: bool,
    summary: String,
    evidence: Value,
    at: jiff::Timestamp,
});

impl Describe for Incident {
    /// The record's fields (flattened) and the incident's own.
    fn schema() -> Value {
        let mut s = IncidentRecord::schema();
        let own = object(vec![
            ("raised_at", jiff::Timestamp::schema(), false, ""),
            ("decisions", open_array(), false, ""),
            ("notified", open_object(), true, ""),
            ("open", bool::schema(), false, ""),
        ]);
        if let (Some(props), Some(more)) = (
            s.get_mut("properties").and_then(Value::as_object_mut),
            own["properties"].as_object(),
        ) {
            props.extend(more.clone());
        }
        if let (Some(req), Some(more)) = (
            s.get_mut("required").and_then(Value::as_array_mut),
            own["required"].as_array(),
        ) {
            req.extend(more.iter().cloned());
        }
        s
    }
}
const _: fn(&Incident) = |x| {
    let Incident {
        record: _,
        raised_at: _,
        decisions: _,
        notified: _,
        open: _,
    } = x;
};
describe!(IncidentRecord {
    id: u32,
    severity: Severity,
    summary: String,
    by: String,
    source: Source,
    series: _ => open_object(),
    evidence: Value,
} omittable [series, evidence]);
describe!(RollbackOutcome {
    strategy: RollbackStrategy,
    plan: Vec<String>,
    performed: bool,
    summary: String,
    evidence: Value,
    reconciled: bool,
});
describe!(StopOutcome {
    app: String,
    undo: bool,
    plan: Vec<String>,
    performed: bool,
    summary: String,
    evidence: Value,
});

// A step of the walk.
describe!(StepReport {
    phase: Option<Phase>,
    advanced: bool,
    now_in: Option<Phase>,
    status: RunStatus,
    settled: Vec<(String, ItemState, String)>,
    needs: Vec<Need>,
    planned: Vec<(String, Vec<String>)>,
});
describe!(Need {
    item: String,
    title: String,
    // A string in the core (engine::walk::need_for and the walk's waits): every value it takes.
    need: &'static str => json!({
        "type": "string",
        "enum": ["tick", "fix", "retry", "confirm", "wait", "info"],
    }),
    detail: String,
});

// The journal.
describe!(StoredEvent {
    run_id: String,
    seq: i64,
    at: jiff::Timestamp,
    event: _ => json!({
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string"}},
        "description": "the journal's event, tagged by `type` (docs/json.md)",
    }),
    prev_hash: String,
    hash: String,
});

// The change set.
describe!(ChangeSet {
    remote: String,
    base: String,
    head: String,
    base_sha: String,
    head_sha: String,
    commits: _ => open_array(),
    files: _ => open_array(),
    added: _ => open_array(),
    added_unread: Vec<String>,
    branches: _ => open_array(),
} omittable [added_unread]);

// The log scanner.
describe!(ScanReport {
    lines: u64,
    bytes: u64,
    matched_lines: u64,
    patterns: Vec<PatternCount>,
    apps: std::collections::BTreeMap<String, AppCount>,
    first: Vec<LineMatch>,
    long_lines: u64,
    prefilter: String,
});
describe!(PatternCount {
    name: String,
    regex: String,
    lines: u64
});
describe!(AppCount {
    lines: u64,
    patterns: std::collections::BTreeMap<String, u64>,
});
describe!(LineMatch {
    line: u64,
    app: Option<String>,
    patterns: Vec<String>,
    text: String,
    truncated: bool,
    message: Option<String>,
} omittable [message]);

// The load test.
describe!(Report {
    url: String,
    model: String,
    concurrency: usize,
    rate: Option<f64>,
    requests: u64,
    responses: u64,
    ok: u64,
    errors: _ => json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}),
    status: _ => json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}),
    error_rate: f64,
    elapsed_s: f64,
    rps: f64,
    latency_ms: Latency,
    connections: u64,
    bytes: u64,
    unsent: u64,
} omittable [rate]);
describe!(Latency {
    min: f64,
    mean: f64,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    max: f64,
});
describe!(Violation {
    threshold: String,
    limit: f64,
    actual: f64,
    text: String,
});
describe!(Comparison {
    previous_p95_ms: f64,
    previous_p99_ms: f64,
    previous_rps: f64,
    previous_error_rate: f64,
    p95_change: Option<f64>,
    p99_change: Option<f64>,
    rps_change: Option<f64>,
    text: String,
});
