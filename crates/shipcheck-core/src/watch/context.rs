//! [`WatchContext`]: what the watch's signals and items read: the clients of the config and
//! the run's facts.

use std::sync::Arc;

use crate::clients::Clients;
use crate::journal::state::RunState;

/// The clients (config, time, the HTTP client, secrets, and the integrations' clients built
/// on demand, through `Deref`) and the run the watch belongs to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WatchContext {
    /// The clients of the config.
    pub clients: Clients,
    /// The run (`None` outside one): its baseline, its watch, its deploy's start.
    pub run: Option<Arc<RunState>>,
}

impl WatchContext {
    /// The context of `run` over `clients`.
    pub fn new(clients: Clients, run: Option<&RunState>) -> WatchContext {
        WatchContext {
            clients,
            run: run.map(|r| Arc::new(r.clone())),
        }
    }

    /// The context of `run` in `session`.
    pub fn of(session: &crate::runs::Session, run: Option<&RunState>) -> WatchContext {
        WatchContext::new(session.clients(), run)
    }
}

impl std::ops::Deref for WatchContext {
    type Target = Clients;
    fn deref(&self) -> &Clients {
        &self.clients
    }
}
