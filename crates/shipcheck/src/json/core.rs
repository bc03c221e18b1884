//! The schemas of the `shipcheck-core` types the documents carry. Each struct is listed field
//! by field and destructured exhaustively ([`describe!`](crate::describe)), each enum variant by
//! variant ([`describe_enum!`](crate::describe_enum)): a field or variant added in the core does
//! not compile here until its schema says it. Parts a document leaves open (a check's
//! evidence) are `{}` or plain objects. The journal's events are in [`super::events`].

use serde_json::{Value, json};
use shipcheck_core::engine::stop::StopOutcome;
use shipcheck_core::engine::{Need, StepReport};
use shipcheck_core::journal::state::{ItemState, Rollback, RunStatus, Stop};
use shipcheck_core::journal::watch::{Leg, Verdict, VerdictKind, Verification};
use shipcheck_core::loadtest::{Comparison, Latency, Report, Violation};
use shipcheck_core::logscan::{AppCount, LineMatch, PatternCount, ScanReport};
use shipcheck_core::model::changes::{AddedLine, BranchSync, ChangeSet, FileChange, LogCommit};
use shipcheck_core::model::checklist::{Condition, ItemKind, Phase};
use shipcheck_core::model::config::discover::{Env, FlyFile, Ignored, NotSearched};
use shipcheck_core::model::config::{LeftOut, Question, RollbackStrategy};
use shipcheck_core::model::event::{Event, StoredEvent};
use shipcheck_core::model::incident::{
    Decision, DecisionRecord, Incident, IncidentRecord, Notice, RollbackOutcome, Severity, Source,
};
use shipcheck_core::model::outcome::Status;
use shipcheck_core::model::watch::{
    Baseline, BaselineValue, Counts, Grade, Metric, ProbeSample, Purpose, Schedule, SeriesKey,
    SeriesSummary, Tick,
};
use shipcheck_core::report::criteria::{Criterion, Met};
use shipcheck_core::report::json::{ByReason, ItemReport, NoteReport, Notes, RunReport, Signed};
use shipcheck_core::report::markers::Marker;
use shipcheck_core::report::watch::WatchSummary;

use super::schema::{Describe, object};
use crate::{describe, describe_enum};

/// A duration as the config writes it (`30s`, `5m`, `2h`).
fn span() -> Value {
    json!({"type": "string"})
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

describe_enum!(Metric[Health, HttpErrors, Latency, P95, EdgeErrors, ErrorRate, Cpu, Memory, DbConnections]);
describe_enum!(Grade[Pass, Warn, NoData, Fail]);
describe_enum!(Decision[
    Rollback,
    RollbackFailed,
    AwaitingPerson,
    DecisionTimer,
    Escalated,
    FixForward,
    NoteForNextDeploy,
    Resolved,
    AlsoFailing,
]);

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
    config_trust: Option<String>,
    window_override: Option<ByReason>,
    aborted: Option<ByReason>,
    signed: Option<Signed>,
    items: Vec<ItemReport>,
    rollbacks: Vec<Rollback>,
    stops: Vec<Stop>,
    markers: Vec<Marker>,
    notes: Notes,
    success_criteria: Vec<Criterion>,
    events: usize,
    verdict: Verdict,
    watch: WatchSummary,
    anomalies: Vec<String>,
} omittable [anomalies]);

describe!(Marker {
    service: &'static str => json!({"enum": ["github", "sentry", "cdevents"]}),
    target: String,
    what: String,
    outcome: String,
});
describe!(ByReason {
    by: String,
    reason: String
});
describe!(Signed {
    by: String,
    at: jiff::Timestamp,
    ssh_signatures: Vec<shipcheck_core::model::event::SshSignature>
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
    apps: Option<Vec<String>>,
    started_at: jiff::Timestamp,
    succeeded: Option<bool>,
    outcome: Option<String>,
    evidence: Value,
    finished_at: Option<jiff::Timestamp>,
} omittable [apps]);
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
    values: Vec<BaselineValue>,
});
describe!(BaselineValue {
    key: SeriesKey,
    value: Option<f64>,
    p50: Option<f64>,
    p95: Option<f64>,
    samples: u32,
    note: Option<String>,
} omittable [p50, p95, note]);
describe!(SeriesKey {
    metric: Metric,
    app: Option<String>,
} omittable [app]);
describe!(Schedule {
    interval: _ => span(),
    duration: _ => span(),
    sample_every: _ => span(),
    consecutive_failures: u32,
});
describe!(Tick {
    leg: u32,
    n: u32,
    of: u32,
    due_at: jiff::Timestamp,
    grade: Grade,
    missed: u32,
    samples: u32,
    series: Vec<SeriesSummary>,
});
describe!(Counts {
    total: u64,
    failed: u64,
    span_ms: u64,
});
describe!(ProbeSample {
    at: jiff::Timestamp,
    app: String,
    sent: u32,
    failed: u32,
    ms: Vec<u32>,
    edge: Option<Counts>,
} omittable [ms, edge]);
describe!(SeriesSummary {
    key: SeriesKey,
    grade: Grade,
    samples: u32,
    failed: u32,
    last: Option<f64>,
    p95: Option<f64>,
    limit: Option<f64>,
    baseline: Option<f64>,
    note: Option<String>,
} omittable [last, p95, limit, baseline, note]);
describe!(DecisionRecord {
    decision: Decision,
    by: String,
    reason: String,
    until: Option<jiff::Timestamp>,
    at: jiff::Timestamp,
} omittable [until]);
describe!(Notice {
    posted: bool,
    detail: String,
    at: jiff::Timestamp,
});
describe!(Leg {
    leg: u32,
    purpose: Purpose,
    schedule: Schedule,
    started_at: jiff::Timestamp,
    rollbacks_before: usize,
    ticks: Vec<Tick>,
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
            ("decisions", Vec::<DecisionRecord>::schema(), false, ""),
            ("notified", Notice::schema(), true, ""),
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
    series: Option<SeriesKey> => SeriesKey::schema(),
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
    event: Event => super::events::schema(),
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
    commits: Vec<LogCommit>,
    files: Vec<FileChange>,
    added: Vec<AddedLine>,
    added_unread: Vec<String>,
    branches: Vec<BranchSync>,
} omittable [added_unread]);
describe!(LogCommit {
    sha: String,
    short: String,
    author: String,
    email: String,
    date: String,
    subject: String,
});
describe!(FileChange {
    path: String,
    old_path: Option<String>,
    insertions: u64,
    deletions: u64,
    binary: bool,
} omittable [old_path, binary]);
describe!(BranchSync {
    branch: String,
    local: Option<String>,
    remote: Option<String>,
    ahead: u64,
    behind: u64,
});
describe!(AddedLine {
    file: String,
    line: u64,
    text: String
});

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

// A conditional item's condition (as in shipcheck.toml).
describe!(Condition {
    paths_changed: Vec<String>,
    path_groups: Vec<String>,
    files_changed_over: Option<u64>,
    lines_changed_over: Option<u64>,
} omittable [paths_changed, path_groups, files_changed_over, lines_changed_over]);

// What `init` read and concluded.
describe_enum!(Env[Production, Staging, Development, Preview, Test, Other, Unknown]);
describe!(FlyFile {
    path: std::path::PathBuf,
    app: Option<String>,
    environment: Env,
    why: String,
    app_group: String,
    group_why: String,
    public_http: bool,
    internal_port: Option<u16>,
    health_path: Option<String>,
    health_url: Option<String>,
    health_why: String,
    region: Option<String>,
    auto_stop: Option<String>,
    min_machines_running: Option<i64>,
    process_groups: Vec<String>,
    release_command: bool,
    problem: Option<String>,
    notes: Vec<String>,
});
describe!(Ignored {
    path: std::path::PathBuf,
    why: String
});
describe!(NotSearched {
    dir: std::path::PathBuf,
    fly_files: usize
});
describe!(LeftOut {
    path: std::path::PathBuf,
    app: Option<String>,
    environment: Env,
    why: String,
});

impl Describe for Question {
    /// Tagged by `ask`: one object per question.
    fn schema() -> Value {
        let tagged = |ask: &str, mut fields: Vec<(&str, Value, bool, &str)>| {
            fields.insert(0, ("ask", json!({"const": ask}), false, ""));
            object(fields)
        };
        let file_app_why = || {
            vec![
                ("file", String::schema(), false, ""),
                ("app", String::schema(), false, ""),
                ("why", String::schema(), false, ""),
            ]
        };
        json!({"anyOf": [
            tagged("environment", file_app_why()),
            tagged("production", vec![
                ("group", String::schema(), false, ""),
                ("candidates", Vec::<(String, String)>::schema(), false, ""),
            ]),
            tagged("health", file_app_why()),
        ]})
    }
}
const _: fn(&Question) = |x| match x {
    Question::Environment { file, app, why } | Question::Health { file, app, why } => {
        let _: (&std::path::PathBuf, &String, &String) = (file, app, why);
    }
    Question::Production { group, candidates } => {
        let _: (&String, &Vec<(std::path::PathBuf, String)>) = (group, candidates);
    }
};

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
