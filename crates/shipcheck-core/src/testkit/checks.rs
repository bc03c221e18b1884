//! Test support for the API integrations: the parts a check or an action gets (the clients on
//! a manual clock, the run), and runs whose items carry evidence.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::actions::ActionContext;
use crate::clients::Clients;
use crate::engine::runner::Deps;
use crate::journal::state::{ItemRecord, ItemState, RunState, RunStatus};
use crate::model::checklist::Checklist;
use crate::model::clock::ManualClock;
use crate::model::config::Config;

/// The run's start in these tests.
pub const STARTED: &str = "2026-08-21T09:00:00Z";
/// The merge commit in these tests.
pub const MERGE: &str = "acb5820ced9479c074f688cc328bf03f341a511d";

/// A config from TOML.
pub fn config(toml_text: &str) -> Config {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("test config: {e}"))
}

/// What a check or an action is given in these tests: the clients of a config (their
/// fields through `Deref`: `config`, `clock`, `secrets`, `http`) and the run.
#[derive(Clone, Debug)]
pub struct Parts {
    /// The clients.
    pub clients: Clients,
    /// The run, when there is one.
    pub run: Option<Arc<RunState>>,
    /// The checklist of the config.
    pub checklist: Arc<Checklist>,
}

impl Parts {
    /// The run's facts.
    pub fn run(&self) -> Option<&RunState> {
        self.run.as_deref()
    }

    /// What the engine's dispatcher hands out (no store).
    pub fn deps(&self) -> Deps {
        Deps {
            run: self.run.clone(),
            scheduled_at: self.run().and_then(|r| r.scheduled_at),
            ..Deps::new(self.clients.clone(), self.checklist.clone())
        }
    }

    /// An action's context (by `ana`).
    pub fn action(&self) -> ActionContext {
        ActionContext {
            run: self.run.clone(),
            ..ActionContext::new(self.clients.clone(), None, "ana")
        }
    }

    /// The Fly apps of the config.
    pub fn fly_apps(&self) -> crate::checks::fly::FlyApps<'_> {
        crate::checks::fly::FlyApps::of(&self.clients)
    }
}

impl std::ops::Deref for Parts {
    type Target = Clients;
    fn deref(&self) -> &Clients {
        &self.clients
    }
}

impl std::ops::DerefMut for Parts {
    fn deref_mut(&mut self) -> &mut Clients {
        &mut self.clients
    }
}

/// The parts for `config`, on a manual clock at `now`, with `run`.
pub fn ctx(config: Config, run: Option<RunState>, now: &str) -> (Parts, ManualClock) {
    let clock = ManualClock::new(now.parse().unwrap());
    let checklist = Checklist::from_config(&config).unwrap_or_default();
    let mut c = Clients::new(
        Arc::new(config),
        std::env::temp_dir(),
        Arc::new(clock.clone()),
    );
    c.http = crate::clients::http::client(Duration::from_secs(5));
    c.api_http = crate::clients::http::api_client(Duration::from_secs(5));
    let parts = Parts {
        clients: c,
        run: run.map(Arc::new),
        checklist: Arc::new(checklist),
    };
    (parts, clock)
}

/// A run of the built-in checklist, started at [`STARTED`], with these items settled:
/// `(id, state, evidence, at)`.
pub fn run(settled: &[(&str, ItemState, Value, &str)]) -> RunState {
    let started: Timestamp = STARTED.parse().unwrap();
    let items = Checklist::builtin()
        .items
        .into_iter()
        .map(|item| {
            let s = settled.iter().find(|(id, ..)| *id == item.id);
            ItemRecord {
                item,
                state: s.map(|s| s.1).unwrap_or(ItemState::Pending),
                summary: None,
                evidence: s.map(|s| s.2.clone()).unwrap_or(Value::Null),
                by: None,
                at: s.map(|s| s.3.parse().unwrap()),
                note: None,
                reason: None,
                duration_ms: None,
                attempts: 0,
                action_in_flight: false,
                unsure: false,
            }
        })
        .collect();
    let mut state = RunState {
        id: "run-1".into(),
        project: "app".into(),
        env: "production".into(),
        started_by: "ana".into(),
        started_at: started,
        scheduled_at: None,
        config_digest: String::new(),
        items,
        completed: Vec::new(),
        notes: Vec::new(),
        window_override: None,
        config_trust: None,
        status: RunStatus::Active,
        aborted: None,
        signed: None,
        rollbacks: Vec::new(),
        stops: Vec::new(),
        updated_at: started,
        event_count: 1,
        monitor: Default::default(),
        facts: Default::default(),
        anomalies: Vec::new(),
        head_hash: String::new(),
        anchors: Vec::new(),
        ssh_signatures: Vec::new(),
        deployment_statuses: Vec::new(),
        cdevents: Default::default(),
        config_text: None,
    };
    // What the settled items recorded, as the fold reads it from their evidence.
    for r in &state.items {
        if r.state.is_settled() {
            let found = crate::journal::facts::recorded_facts(&r.item, &[], &r.evidence, true);
            state
                .facts
                .record(&r.item.id, r.at.unwrap_or(started), found);
        }
    }
    state
}

/// A run whose `release.merge` is done with [`MERGE`] as `merge_commit`.
pub fn merged_run() -> RunState {
    run(&[(
        "release.merge",
        ItemState::Done,
        serde_json::json!({ "merge_commit": MERGE }),
        "2026-08-21T09:30:00Z",
    )])
}
