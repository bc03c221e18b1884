//! The bodies of the documents the binary builds: each a typed struct whose schema comes from
//! its fields ([`typed!`](crate::typed)). The envelope (`schema`, `kind`) is added by
//! [`super::print`].

use std::path::PathBuf;

use serde_json::Value;
use shipcheck_core::engine::StepReport;
use shipcheck_core::engine::stop::StopOutcome;
use shipcheck_core::journal::state::RunStatus;
use shipcheck_core::journal::watch::{Leg, Verdict};
use shipcheck_core::loadtest::{Comparison, Report, Violation};
use shipcheck_core::logscan::ScanReport;
use shipcheck_core::model::changes::ChangeSet;
use shipcheck_core::model::checklist::{Condition, ItemKind, Phase};
use shipcheck_core::model::config::discover::{Env, FlyFile, Ignored, NotSearched};
use shipcheck_core::model::config::{LeftOut, Question};
use shipcheck_core::model::event::StoredEvent;
use shipcheck_core::model::incident::{Incident, RollbackOutcome};
use shipcheck_core::model::outcome::Status;

use super::schema::{Describe, Omit, one_of_strings};
use crate::typed;

typed! {
    /// `shipcheck changes`: the change set and the conditional items it triggers.
    pub struct Changes {
        /// The change set from production to staging.
        changes: ChangeSet,
        /// Every conditional item, required or not, and why.
        conditional_items: Vec<ConditionalItem>,
    }
}

typed! {
    /// A conditional item and what the change set made of it.
    pub struct ConditionalItem {
        /// The item.
        id: String,
        /// Whether the change set makes it required.
        required: bool,
        /// Why.
        reason: String,
    }
}

typed! {
    /// `shipcheck init`: what was read and written.
    pub struct Init {
        /// The config written.
        path: PathBuf,
        /// The config's JSON Schema written beside it (the file's `#:schema` line names it).
        schema_file: PathBuf,
        /// The project's time zone.
        timezone: String,
        /// No Fly config was found: the seed's apps were written as an example.
        seed_example: bool,
        /// Every Fly config file read, with its conclusions.
        files: Vec<FlyFile>,
        /// Files not read, and why.
        ignored: Vec<Ignored>,
        /// Folders not searched (sample configs).
        not_searched: Vec<NotSearched>,
        /// The apps written, per environment.
        written: InitWritten,
        /// Apps written as comments (something is missing).
        commented: Vec<InitApp>,
        /// Files left out, and why.
        left_out: Vec<LeftOut>,
        /// The TODOs in the file.
        todos: Vec<String>,
        /// What init could not tell and would ask on a terminal.
        questions: Vec<Question>,
    }
}

typed! {
    /// `shipcheck init --workflow`: the GitHub Actions workflow written.
    pub struct InitWorkflow {
        /// The workflow file written.
        path: PathBuf,
        /// The branch whose pushes deploy production.
        production_branch: String,
        /// The branch whose pushes deploy staging.
        staging_branch: String,
        /// The Fly apps deployed on a push to the production branch.
        production: Vec<String>,
        /// The Fly apps deployed on a push to the staging branch.
        staging: Vec<String>,
        /// Production apps without a health URL (no health step).
        no_health_check: Vec<String>,
        /// Apps init could not place (not in the workflow).
        commented: Vec<String>,
    }
}

typed! {
    /// The apps `init` wrote, per environment.
    pub struct InitWritten {
        /// Production's apps.
        production: Vec<InitApp>,
        /// Staging's apps.
        staging: Vec<InitApp>,
    }
}

typed! {
    /// An app `init` wrote.
    pub struct InitApp {
        /// production or staging.
        env: Env,
        /// The app's name in shipcheck.toml.
        name: String,
        /// The Fly app.
        fly_app: String,
        /// The Fly config file it came from.
        source: PathBuf,
        /// Its health URL.
        health_url: Option<String>,
        /// Its primary region.
        region: Option<String>,
        /// What is missing (the app is written as a comment).
        todo: Option<String>,
    }
}

typed! {
    /// `shipcheck monitor`: the watch's result.
    pub struct Watch {
        /// The run.
        run: String,
        /// The run's verdict.
        verdict: Verdict,
        /// Every watch of the run.
        watches: Vec<Leg>,
        /// Every incident.
        incidents: Vec<Incident>,
        /// Ticks this call recorded.
        ticks_recorded: u32,
        /// Release live → first incident, seconds.
        time_to_detect_s: Option<u64>,
        /// First incident → rollback verified, seconds.
        time_to_recover_s: Option<u64>,
    }
}

typed! {
    /// `shipcheck incident`: the incident raised or resolved. `message`, `contacts` and
    /// `rollback` are present when one was raised.
    pub struct IncidentDoc {
        /// The run.
        run: String,
        /// The incident after the policy acted (`null` if the id is unknown).
        incident: Option<Incident>,
        /// The message posted (or to post by hand).
        message: Omit<String>,
        /// Emergency contacts.
        contacts: Omit<Vec<Contact>>,
        /// The rollback, when the policy ran one.
        rollback: Omit<Option<RollbackOutcome>>,
    }
}

typed! {
    /// An emergency contact.
    pub struct Contact {
        /// The role.
        role: String,
        /// How to reach them.
        contact: String,
    }
}

typed! {
    /// `shipcheck stop`: the emergency stop or its undo.
    pub struct StopDoc {
        /// The run.
        run: String,
        /// What was done (or would be, with `--dry-run`).
        outcome: StopOutcome,
    }
}

typed! {
    /// `shipcheck rollback`: the rollback.
    pub struct RollbackDoc {
        /// The run.
        run: String,
        /// What was done (or would be, with `--dry-run`).
        outcome: RollbackOutcome,
    }
}

typed! {
    /// `shipcheck loadtest`: the report, the thresholds and the comparison.
    pub struct Loadtest {
        /// Every threshold holds and something answered.
        passed: bool,
        /// The measurements.
        report: Report,
        /// The thresholds asked for.
        thresholds: Thresholds,
        /// The thresholds broken.
        violations: Vec<Violation>,
        /// Against the latest run's stored result for the same URL.
        comparison: Option<Comparison>,
        /// That run.
        compared_with_run: Option<String>,
    }
}

typed! {
    /// Load-test thresholds (`null`: not asked for).
    pub struct Thresholds {
        /// Highest p95 latency, ms.
        max_p95_ms: Option<u64>,
        /// Highest p99 latency, ms.
        max_p99_ms: Option<u64>,
        /// Highest error rate, 0–1.
        max_error_rate: Option<f64>,
        /// Lowest throughput, requests per second.
        min_rps: Option<f64>,
    }
}

typed! {
    /// `tick`, `waive`, `note`, `sign`, `abort`: the run after the change.
    pub struct RunChange {
        /// The run.
        run: String,
        /// Its status.
        status: RunStatus,
        /// Its phase (`null` when every phase is done).
        phase: Option<Phase>,
    }
}

typed! {
    /// `shipcheck plan`: the checklist.
    pub struct Plan {
        /// The config file.
        config: PathBuf,
        /// How many items.
        items: usize,
        /// The phases in order, with their items.
        phases: Vec<PlanPhase>,
    }
}

typed! {
    /// A phase of the checklist.
    pub struct PlanPhase {
        /// The phase.
        phase: Phase,
        /// Its heading in the seed.
        heading: &'static str,
        /// Its items.
        items: Vec<PlanItem>,
    }
}

typed! {
    /// An item of the checklist.
    pub struct PlanItem {
        /// Its id.
        id: String,
        /// Its title.
        title: String,
        /// Its section in the seed's layout.
        section: Option<String>,
        /// check, action or manual.
        kind: ItemKind,
        /// Whether the gate needs it.
        required: bool,
        /// Whether a condition decides if it applies.
        conditional: bool,
        /// The condition (as in shipcheck.toml).
        when: Option<Condition>,
        /// Whether shipcheck checks it.
        automatic: bool,
        /// Whether shipcheck performs it.
        performed: bool,
        /// The kind of check.
        check: Option<&'static str>,
        /// The kind of action.
        action: Option<&'static str>,
        /// Why a person does it.
        manual_because: Option<String>,
    }
}

typed! {
    /// `shipcheck start`: the run started.
    pub struct Start {
        /// The run.
        run: String,
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// Who started it.
        by: String,
        /// Its first phase.
        phase: Option<Phase>,
    }
}

typed! {
    /// `next`, `deploy`, `retry`: the steps taken and where the run is.
    pub struct Step {
        /// The run.
        run: String,
        /// Its status after the steps.
        status: RunStatus,
        /// Its phase (`null` when every phase is done).
        phase: Option<Phase>,
        /// Each step, in order.
        steps: Vec<StepReport>,
    }
}

typed! {
    /// `shipcheck history`: the runs, newest first.
    pub struct History {
        /// The runs.
        runs: Vec<HistoryRun>,
    }
}

typed! {
    /// A run in the history.
    pub struct HistoryRun {
        /// Its id.
        id: String,
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// Who started it.
        started_by: String,
        /// When.
        started_at: jiff::Timestamp,
        /// Its last event.
        updated_at: jiff::Timestamp,
        /// Its phase.
        phase: Option<String>,
        /// Its status.
        status: String,
        /// Events in its journal.
        events: i64,
    }
}

typed! {
    /// `shipcheck verify`: the hash chain. `events` and `head` when intact; `first_bad_event`
    /// when broken; `reason` when not intact.
    pub struct Verify {
        /// The run.
        run: String,
        /// The chain is intact and the journal reads as a run.
        intact: bool,
        /// Events in the chain.
        events: Omit<usize>,
        /// The head hash.
        head: Omit<String>,
        /// The first event whose hash does not hold.
        first_bad_event: Omit<i64>,
        /// What is wrong.
        reason: Omit<String>,
        /// The runs row (a cache) says what the events say: its status and phase were not
        /// edited. Absent when the journal does not read as a run.
        runs_row_matches: Omit<bool>,
        /// The anchors of the chain's head outside the store, and what each showed.
        anchors: Vec<VerifyAnchor>,
        /// The record's SSH signatures, each checked against the allowed signers (and a
        /// `missing` one when `[team] require_ssh_signature` is set and there is none).
        signatures: Vec<VerifySignature>,
        /// Everything holds: the chain, the runs row, every anchor that could be reached,
        /// every SSH signature.
        ok: bool,
    }
}

typed! {
    /// `shipcheck config accept`: the run now uses the config on disk.
    pub struct ConfigAccept {
        /// The run.
        run: String,
        /// SHA-256 of the accepted config.
        digest: String,
        /// Who accepted it.
        by: String,
        /// What changed from the config the run used before (a unified diff).
        diff: String,
        /// The programs and URLs that differ from the production branch's committed config.
        differs_from_production: Vec<String>,
    }
}

typed! {
    /// One SSH signature of the record, as `verify` checked it.
    pub struct VerifySignature {
        /// The event it covers (0 for a missing one).
        seq: i64,
        /// `good`, `bad`, `unknown_signer`, `mismatch`, `missing`, `not_checkable` or `error`.
        result: String,
        /// Who signed, as the allowed-signers file names the key (when good).
        signer: Omit<String>,
        /// What was compared.
        detail: String,
    }
}

typed! {
    /// An anchor of the journal's head outside the store.
    pub struct VerifyAnchor {
        /// `git-note`, `slack`, `team-view`.
        kind: String,
        /// Where it is.
        location: String,
        /// `match`, `mismatch`, `absent`, `unreachable` or `not_checkable`.
        result: String,
        /// What was compared.
        detail: String,
    }
}

typed! {
    /// `shipcheck events`: the run's journal.
    pub struct Events {
        /// The run.
        run: String,
        /// Every event, oldest first, with its hash chain.
        events: Vec<StoredEvent>,
    }
}

typed! {
    /// `shipcheck events --send`: the run's CDEvents the sink had not accepted, sent now.
    pub struct EventsSend {
        /// The run.
        run: String,
        /// Where they go (`[events] sink`).
        sink: String,
        /// `--dry-run`: nothing was sent; `to_send` is what would have been.
        dry_run: bool,
        /// The events owed before this command (ids), in order.
        to_send: Vec<String>,
        /// The ids the sink accepted now.
        delivered: Vec<String>,
        /// The ids still not accepted (the first failure stops the send), with the last error.
        still_owed: Vec<OwedEvent>,
    }
}

typed! {
    /// A CDEvent not delivered yet.
    pub struct OwedEvent {
        /// Its id (`RUN/KEY`): a receiver drops a second copy by it.
        id: String,
        /// The last failure, when one was recorded.
        error: Option<String>,
    }
}

typed! {
    /// `shipcheck check`: the checks run outside a run.
    pub struct Check {
        /// Checks that passed.
        passed: usize,
        /// Checks that did not pass (`errors` included).
        failed: usize,
        /// Checks that could not decide (an integration unreachable or answering nonsense).
        errors: usize,
        /// Wall time, ms.
        wall_ms: u64,
        /// Each check's result.
        checks: Vec<CheckResult>,
        /// Items a person does.
        manual: Vec<ManualItem>,
    }
}

typed! {
    /// A check's result.
    pub struct CheckResult {
        /// The item.
        id: String,
        /// Its title.
        title: Option<String>,
        /// pass, fail or error.
        status: Status,
        /// One line.
        summary: String,
        /// The evidence (free-form per kind of check).
        evidence: Value,
        /// How long it took.
        duration_ms: u64,
    }
}

typed! {
    /// An item a person does.
    pub struct ManualItem {
        /// The item.
        id: String,
        /// Its title.
        title: String,
        /// Why a person does it.
        manual_because: Option<String>,
    }
}

typed! {
    /// `shipcheck logs scan`: what the patterns matched.
    pub struct LogsScan {
        /// The file read (`-` for stdin).
        source: String,
        /// The counts and the first matches.
        report: ScanReport,
    }
}

typed! {
    /// `shipcheck unlock`: the lock broken, if there was one.
    pub struct Unlock {
        /// The environment.
        env: String,
        /// The lock broken (`null`: it was not locked).
        broken: Option<BrokenLock>,
    }
}

typed! {
    /// A deploy lock that was broken.
    pub struct BrokenLock {
        /// The run that held it.
        run: String,
        /// Who.
        holder: String,
        /// Since when.
        since: jiff::Timestamp,
    }
}

typed! {
    /// `shipcheck config check`: the config is valid.
    pub struct ConfigCheck {
        /// The config file.
        path: PathBuf,
        /// Always `true` (an invalid config is an `error` document).
        valid: bool,
        /// The project.
        project: String,
        /// The environments.
        environments: Vec<String>,
        /// Apps across the environments.
        apps: usize,
        /// Checklist items.
        items: usize,
    }
}

typed! {
    /// A command that failed under `--json` (stdout; the message is on stderr too).
    pub struct ErrorDoc {
        /// What failed.
        error: ErrorBody,
    }
}

typed! {
    /// What failed.
    pub struct ErrorBody {
        /// config, usage, integration, conflict, locked or failed.
        kind: KindName,
        /// The message, as on stderr.
        message: String,
        /// The exit code.
        exit_code: u8,
    }
}

typed! {
    /// `shipcheck schema --json`: the documents there are.
    pub struct Schemas {
        /// Each document.
        documents: Vec<SchemaEntry>,
    }
}

typed! {
    /// A document.
    pub struct SchemaEntry {
        /// Its name, as in its `kind` field.
        name: String,
        /// The commands that print it.
        printed_by: String,
    }
}

/// The name of an error's kind (`errors::kind_name`).
#[derive(Clone, Copy, Debug, serde::Serialize)]
#[serde(transparent)]
pub struct KindName(pub &'static str);

impl Describe for KindName {
    fn schema() -> Value {
        let names: Vec<String> = crate::errors::ERROR_KINDS
            .iter()
            .map(|k| crate::errors::kind_name(*k).to_string())
            .collect();
        one_of_strings(&names)
    }
}

typed! {
    /// `shipcheck team add`: the person added, and their token (shown this once).
    pub struct TeamAdd {
        /// Their name.
        name: String,
        /// Their email.
        email: String,
        /// `deployer`, `reviewer`, `on-call` or `lead`.
        role: String,
        /// The personal token; shipcheck keeps only its SHA-256.
        token: String,
    }
}

typed! {
    /// `shipcheck team list`: the team's people (never their tokens).
    pub struct TeamList {
        /// Everyone, by name.
        people: Vec<TeamPerson>,
    }
}

typed! {
    /// A person of the team.
    pub struct TeamPerson {
        /// Their name.
        name: String,
        /// Their email.
        email: String,
        /// `deployer`, `reviewer`, `on-call` or `lead`.
        role: String,
        /// When they were added.
        added_at: jiff::Timestamp,
        /// Who added them.
        added_by: String,
    }
}

// `shipcheck replay`: the core's replay report, described field by field.
use shipcheck_core::watch::replay::{LegReplay, Replay, ReplayIncident, Side};
crate::describe!(ReplayIncident {
    at: jiff::Timestamp,
    after_s: i64,
    severity: shipcheck_core::model::incident::Severity,
    summary: String,
    response: String,
});
crate::describe!(Side {
    incidents: Vec<ReplayIncident>,
    rollback_at: Option<jiff::Timestamp>,
    verified_at: Option<jiff::Timestamp>,
    verdict: String,
});
crate::describe!(LegReplay {
    leg: u32,
    purpose: shipcheck_core::model::watch::Purpose,
    samples: u64,
    probes: u64,
    recorded: Side,
    replayed: Side,
});
crate::describe!(Replay {
    run: String,
    legs: Vec<LegReplay>,
});

/// `shipcheck replay --json`: every watch of the run, what happened and what the replayed
/// policy would have done.
pub fn replay_schema() -> Value {
    Replay::schema()
}
