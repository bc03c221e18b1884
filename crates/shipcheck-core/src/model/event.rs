//! The event journal's vocabulary. Every change to a run is one appended event; the run's
//! state is the fold of its events ([`crate::journal::state::RunState::fold`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::checklist::{Item, Phase};
use crate::model::outcome::Status;

/// The kind of a free-form note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// "Issues Observed".
    Issue,
    /// "Lessons Learned".
    Lesson,
    /// Anything else.
    General,
}

/// One change to a run. Serialized with `type` as the tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The run began; it keeps the checklist it was started with.
    RunStarted {
        /// Project name.
        project: String,
        /// Environment deployed to.
        env: String,
        /// Who started it.
        by: String,
        /// When the deploy is scheduled (the window check uses it), if not now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_at: Option<Timestamp>,
        /// SHA-256 of the config text the run started with.
        config_digest: String,
        /// The config text itself: the run keeps it, and a command on the run whose config
        /// on disk differs is refused with a diff (absent in runs of older versions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<String>,
        /// The resolved checklist.
        items: Vec<Item>,
    },
    /// A person started the run with programs and URLs that differ from the production
    /// branch's committed config, having read them (`start --trust-config`).
    ConfigTrusted {
        /// Each difference, as shown.
        differences: Vec<String>,
        /// Who.
        by: String,
    },
    /// The config's programs and URLs could not be compared with the production branch's
    /// committed config when the run started (no committed config there, the config lies
    /// outside the repository, git failed): the run records why and what it will use.
    ConfigNotCompared {
        /// Why they were not compared.
        reason: String,
        /// The programs and URLs the run uses, one `name: value` line each.
        settings: Vec<String>,
    },
    /// A person accepted a different config for the run (`shipcheck config accept`); the run
    /// uses it from here on.
    ConfigAccepted {
        /// SHA-256 of the accepted text.
        digest: String,
        /// The accepted text.
        config: String,
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
    /// The deploy window was overridden for this run.
    WindowOverridden {
        /// Why.
        reason: String,
        /// Who.
        by: String,
    },
    /// A condition made an item not required.
    ItemNotRequired {
        /// The item.
        item: String,
        /// Why ("no file under migrations/ changed").
        reason: String,
    },
    /// An automatic check finished.
    CheckFinished {
        /// The item.
        item: String,
        /// pass, fail or error.
        status: Status,
        /// One line.
        summary: String,
        /// Evidence (redacted).
        #[serde(default)]
        evidence: serde_json::Value,
        /// How long it took.
        duration_ms: u64,
        /// The run facts it recorded.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        facts: Vec<crate::model::facts::Fact>,
    },
    /// A person confirmed a manual item.
    ItemTicked {
        /// The item.
        item: String,
        /// Who.
        by: String,
        /// Their note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A person waived a required item.
    ItemWaived {
        /// The item.
        item: String,
        /// Who.
        by: String,
        /// Why (required).
        reason: String,
    },
    /// shipcheck is about to perform an action (written before the side effect).
    ActionStarted {
        /// The item.
        item: String,
        /// Who confirmed it.
        by: String,
        /// What is about to happen (the exact commands or requests).
        intent: String,
    },
    /// The action completed.
    ActionDone {
        /// The item.
        item: String,
        /// One line.
        summary: String,
        /// Evidence.
        #[serde(default)]
        evidence: serde_json::Value,
        /// The run facts it recorded.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        facts: Vec<crate::model::facts::Fact>,
    },
    /// The action failed; the item can be retried.
    ActionFailed {
        /// The item.
        item: String,
        /// What went wrong.
        error: String,
        /// shipcheck cannot tell whether the effect happened (interrupted, not observable):
        /// it is never performed again without a person (`tick` or `retry`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unsure: bool,
    },
    /// Every required item of a phase is settled; the next phase begins.
    PhaseCompleted {
        /// The phase.
        phase: Phase,
    },
    /// A note for the record.
    NoteAdded {
        /// issue, lesson or general.
        kind: NoteKind,
        /// The text.
        text: String,
        /// Who.
        by: String,
    },
    /// The run was abandoned.
    RunAborted {
        /// Why.
        reason: String,
        /// Who.
        by: String,
    },
    /// A rollback is about to run (written before any side effect).
    RollbackStarted {
        /// `git-revert` or `platform`.
        strategy: String,
        /// Who asked for it.
        by: String,
        /// Why.
        reason: String,
        /// The exact commands or requests.
        intent: String,
        /// Only these apps (a person's `--apps`); absent: every app. Kept so an
        /// interrupted rollback is finished on the same apps.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        apps: Option<Vec<String>>,
    },
    /// The rollback completed.
    RollbackDone {
        /// `git-revert` or `platform`.
        strategy: String,
        /// One line.
        summary: String,
        /// Evidence (revert commit, redeployed images, ...).
        #[serde(default)]
        evidence: serde_json::Value,
    },
    /// The rollback failed; it can be run again.
    RollbackFailed {
        /// `git-revert` or `platform`.
        strategy: String,
        /// What went wrong.
        error: String,
    },
    /// An emergency stop (`scale count 0`) or its undo is about to run.
    StopStarted {
        /// The app (config name or Fly app).
        app: String,
        /// Scaling back up to the recorded count.
        undo: bool,
        /// Who.
        by: String,
        /// The exact command, and the machine count recorded before.
        intent: String,
    },
    /// The stop or undo completed.
    StopDone {
        /// The app.
        app: String,
        /// Scaling back up.
        undo: bool,
        /// One line.
        summary: String,
        /// Evidence (`before`: the machine counts).
        #[serde(default)]
        evidence: serde_json::Value,
    },
    /// The stop or undo failed.
    StopFailed {
        /// The app.
        app: String,
        /// Scaling back up.
        undo: bool,
        /// What went wrong.
        error: String,
    },
    /// The journal's head was anchored outside the store, before signing (a git note on the
    /// release's merge commit, pushed to the remote): see [`JournalAnchor`].
    JournalAnchored {
        /// What was anchored, and where.
        anchor: JournalAnchor,
    },
    /// The record was signed; the run is over.
    RunSigned {
        /// Who.
        by: String,
    },
    /// An SSH signature over the journal's head, added after `run_signed`
    /// (`shipcheck sign --key`): see [`SshSignature`].
    RecordSshSigned {
        /// The signature and what it covers.
        signature: SshSignature,
    },
    /// The baseline, measured in `preflight` before the merge.
    BaselineRecorded {
        /// Every series' baseline.
        baseline: crate::model::watch::Baseline,
    },
    /// A watch began: the release's, or the one after a rollback.
    WatchStarted {
        /// 0, 1, …
        leg: u32,
        /// What it is for.
        purpose: crate::model::watch::Purpose,
        /// Its schedule (a resumed watch keeps it).
        schedule: crate::model::watch::Schedule,
    },
    /// A tick: the summary of one interval's samples (samples themselves are not journaled).
    WatchTick {
        /// The tick.
        tick: crate::model::watch::Tick,
    },
    /// The raw health samples of a watch since its last `watch_samples` (written with each
    /// tick and when the watch ends), for replay.
    WatchSamples {
        /// Which watch.
        leg: u32,
        /// The samples, oldest first.
        samples: Vec<crate::model::watch::ProbeSample>,
    },
    /// A watch ended.
    WatchEnded {
        /// Which.
        leg: u32,
        /// pass, fail, rolled back, stopped.
        outcome: crate::model::watch::Outcome,
        /// Why.
        reason: String,
    },
    /// An incident was raised, by a person or by the watch.
    IncidentRaised {
        /// The incident.
        incident: crate::model::incident::IncidentRecord,
    },
    /// A decision about an incident (the severity policy's, or a person's).
    IncidentDecision {
        /// The incident's id.
        incident: u32,
        /// What.
        decision: crate::model::incident::Decision,
        /// Who.
        by: String,
        /// Why.
        reason: String,
        /// The end of a decision timer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
    /// The incident message went out (or could not).
    IncidentNotified {
        /// The incident's id.
        incident: u32,
        /// Posted to the team's channel.
        posted: bool,
        /// Where, or why not.
        detail: String,
    },
    /// A status of the release's GitHub deployment is about to be posted (written before the
    /// request; a resumed run looks at the deployment's statuses before posting again).
    DeploymentStatusStarted {
        /// The deployment.
        deployment: i64,
        /// `in_progress`, `failure`, `inactive` or `success`.
        state: String,
        /// The exact request.
        intent: String,
    },
    /// The status was posted (or found posted after an interruption).
    DeploymentStatusPosted {
        /// The deployment.
        deployment: i64,
        /// The state.
        state: String,
        /// The status's id at GitHub.
        status_id: i64,
        /// Its description.
        description: String,
    },
    /// Posting the status failed.
    DeploymentStatusFailed {
        /// The deployment.
        deployment: i64,
        /// The state.
        state: String,
        /// What went wrong.
        error: String,
    },
    /// A CDEvent derived from the journal was accepted by `[events] sink` (a 2xx answer).
    /// Written after the POST: a crash before it sends the same event again (same id, same
    /// content), which is how delivery is at least once.
    CdeventDelivered {
        /// The CDEvent's id (`RUN/KEY`, see `report::cdevents`).
        id: String,
        /// The sink's HTTP status.
        status: u16,
    },
    /// Sending a CDEvent failed after its bounded retries (tried again at a later step, at
    /// most `actions::cdevents::MAX_FAILURES` times in all).
    CdeventFailed {
        /// The CDEvent's id.
        id: String,
        /// What went wrong (each attempt).
        error: String,
    },
    /// The rollback was verified like a deploy (or could not be).
    RollbackVerified {
        /// Healthy again.
        ok: bool,
        /// One line.
        summary: String,
        /// What was measured.
        #[serde(default)]
        evidence: serde_json::Value,
    },
}

impl Event {
    /// The `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::WindowOverridden { .. } => "window_overridden",
            Event::ItemNotRequired { .. } => "item_not_required",
            Event::CheckFinished { .. } => "check_finished",
            Event::ItemTicked { .. } => "item_ticked",
            Event::ItemWaived { .. } => "item_waived",
            Event::ActionStarted { .. } => "action_started",
            Event::ActionDone { .. } => "action_done",
            Event::ActionFailed { .. } => "action_failed",
            Event::PhaseCompleted { .. } => "phase_completed",
            Event::NoteAdded { .. } => "note_added",
            Event::RunAborted { .. } => "run_aborted",
            Event::RollbackStarted { .. } => "rollback_started",
            Event::RollbackDone { .. } => "rollback_done",
            Event::RollbackFailed { .. } => "rollback_failed",
            Event::StopStarted { .. } => "stop_started",
            Event::StopDone { .. } => "stop_done",
            Event::StopFailed { .. } => "stop_failed",
            Event::RunSigned { .. } => "run_signed",
            Event::RecordSshSigned { .. } => "record_ssh_signed",
            Event::ConfigAccepted { .. } => "config_accepted",
            Event::ConfigTrusted { .. } => "config_trusted",
            Event::ConfigNotCompared { .. } => "config_not_compared",
            Event::JournalAnchored { .. } => "journal_anchored",
            Event::BaselineRecorded { .. } => "baseline_recorded",
            Event::WatchStarted { .. } => "watch_started",
            Event::WatchTick { .. } => "watch_tick",
            Event::WatchSamples { .. } => "watch_samples",
            Event::WatchEnded { .. } => "watch_ended",
            Event::IncidentRaised { .. } => "incident_raised",
            Event::IncidentDecision { .. } => "incident_decision",
            Event::IncidentNotified { .. } => "incident_notified",
            Event::RollbackVerified { .. } => "rollback_verified",
            Event::DeploymentStatusStarted { .. } => "deployment_status_started",
            Event::DeploymentStatusPosted { .. } => "deployment_status_posted",
            Event::DeploymentStatusFailed { .. } => "deployment_status_failed",
            Event::CdeventDelivered { .. } => "cdevent_delivered",
            Event::CdeventFailed { .. } => "cdevent_failed",
        }
    }
}

/// An event as stored: numbered, timed and chained to the one before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The run.
    pub run_id: String,
    /// 1, 2, 3, … within the run.
    pub seq: i64,
    /// When it was appended.
    pub at: Timestamp,
    /// The event.
    pub event: Event,
    /// Hash of the previous event (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over (prev_hash, run_id, seq, at, event JSON).
    pub hash: String,
}

/// The head of a run's hash chain, written where the store's owner cannot quietly rewrite it.
/// A rewrite of any event up to `seq` — even with the chain recomputed after it — changes
/// event `seq`'s hash, and no longer matches the anchor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalAnchor {
    /// The event anchored (the journal's last event when anchoring).
    pub seq: i64,
    /// Its hash.
    pub head: String,
    /// Each place it was written to.
    pub places: Vec<AnchorPlace>,
}

/// One place a journal head was written to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnchorPlace {
    /// `git-note`.
    pub kind: String,
    /// Where exactly (`origin refs/notes/shipcheck on 1a2b3c4`).
    pub location: String,
    /// Whether it was written.
    pub ok: bool,
    /// What happened.
    pub detail: String,
}

/// An SSH signature (`ssh-keygen -Y sign -n shipcheck`) over [`signed_message`] of event
/// `seq`: since every event's hash chains to the one before, it covers the whole journal up
/// to that event. `shipcheck verify` checks it against the repository's allowed signers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SshSignature {
    /// The event signed (the journal's last event when signing).
    pub seq: i64,
    /// Its hash.
    pub head: String,
    /// Who added the signature (the person shipcheck acted for).
    pub by: String,
    /// The key, as ssh-keygen names it (`ED25519 key SHA256:…`).
    pub key: String,
    /// The armored signature (`-----BEGIN SSH SIGNATURE-----`).
    pub signature: String,
}

/// The exact text an SSH signature of a run's journal is made over.
pub fn signed_message(run_id: &str, seq: i64, head: &str) -> String {
    format!("shipcheck-record {run_id} event {seq} head {head}\n")
}

/// The line a git note holds for one anchored run.
pub fn anchor_line(run_id: &str, seq: i64, head: &str) -> String {
    format!("shipcheck-run {run_id} event {seq} head {head}")
}

/// The (event, head) pairs a note's text anchors for `run_id`, in order.
pub fn anchors_in_note(text: &str, run_id: &str) -> Vec<(i64, String)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            match (w.next(), w.next(), w.next(), w.next(), w.next(), w.next()) {
                (
                    Some("shipcheck-run"),
                    Some(id),
                    Some("event"),
                    Some(seq),
                    Some("head"),
                    Some(h),
                ) if id == run_id => Some((seq.parse().ok()?, h.to_string())),
                _ => None,
            }
        })
        .collect()
}

/// The hash of the first event's predecessor.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash of one event: SHA-256 of `prev_hash \n run_id \n seq \n at \n payload`,
/// hex-encoded. `payload` is the event's JSON exactly as stored.
pub fn chain_hash(prev_hash: &str, run_id: &str, seq: i64, at: &str, payload: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [prev_hash, run_id, &seq.to_string(), at, payload] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    crate::model::hex::encode(&h.finalize())
}
