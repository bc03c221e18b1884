//! Where each watched run's journal is, for the event streams: one watcher per run however
//! many viewers it has (not one store query per viewer), fed by
//! - PostgreSQL's announcements (`LISTEN`, [`shipcheck_core::store::Store::listen`]): an append
//!   by any process reaches the page as soon as it is committed; and
//! - polling the run's event count, every [`crate::POLL`] when nothing announces (SQLite, or
//!   the listening connection could not be made) and every [`POLL_LISTENING`] while a listener
//!   is up (for what a lost listening connection missed).
//!
//! A run's watcher ends at its first poll after its last viewer left.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shipcheck_core::store::Store;
use tokio::sync::watch;

/// How often a run's count is polled while a PostgreSQL listener is up.
pub const POLL_LISTENING: Duration = Duration::from_secs(1);

/// The watched runs.
pub(crate) struct Positions {
    by_run: Mutex<HashMap<String, watch::Sender<i64>>>,
    /// Whether the listener was started (once per server).
    started: AtomicBool,
    /// Whether a listener is up now.
    listening: AtomicBool,
    /// The polling intervals: without, and with, a listener up.
    poll: (Duration, Duration),
}

impl Positions {
    pub(crate) fn new(poll: Duration, poll_listening: Duration) -> Positions {
        Positions {
            by_run: Mutex::default(),
            started: AtomicBool::new(false),
            listening: AtomicBool::new(false),
            poll: (poll, poll_listening),
        }
    }

    /// Whether a PostgreSQL listener is up.
    pub(crate) fn listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }
}

/// Moves a position forward (never back: a poll that read before an announced append must
/// not undo it).
fn advance(tx: &watch::Sender<i64>, to: i64) {
    tx.send_if_modified(|v| {
        if to > *v {
            *v = to;
            true
        } else {
            false
        }
    });
}

/// A receiver of `run_id`'s journal position, which is at least `count` now.
pub(crate) fn subscribe(
    positions: &Arc<Positions>,
    store: &Store,
    run_id: &str,
    count: i64,
) -> watch::Receiver<i64> {
    if !positions.started.swap(true, Ordering::SeqCst) {
        tokio::spawn(listen(positions.clone(), store.clone()));
    }
    let Ok(mut map) = positions.by_run.lock() else {
        // A poisoned map: a receiver that never changes (the stream only keeps alive).
        return watch::channel(count).1;
    };
    if let Some(tx) = map.get(run_id) {
        advance(tx, count);
        return tx.subscribe();
    }
    let (tx, rx) = watch::channel(count);
    map.insert(run_id.to_string(), tx.clone());
    tokio::spawn(poll(
        positions.clone(),
        store.clone(),
        run_id.to_string(),
        tx,
    ));
    rx
}

async fn poll(positions: Arc<Positions>, store: Store, run_id: String, tx: watch::Sender<i64>) {
    loop {
        let every = if positions.listening() {
            positions.poll.1
        } else {
            positions.poll.0
        };
        tokio::time::sleep(every).await;
        {
            let Ok(mut map) = positions.by_run.lock() else {
                return;
            };
            if tx.receiver_count() == 0 {
                if map.get(&run_id).is_some_and(|t| t.same_channel(&tx)) {
                    map.remove(&run_id);
                }
                return;
            }
        }
        if let Ok(Some(row)) = store.run_summary(&run_id).await {
            advance(&tx, row.event_count);
        }
    }
}

/// Hands PostgreSQL's announcements to the watched runs, for as long as the server runs; on
/// SQLite it ends at once. A listening connection that fails is made again after a pause
/// (polling covers the gap).
async fn listen(positions: Arc<Positions>, store: Store) {
    loop {
        let mut listener = match store.listen().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                eprintln!("shipcheck serve: cannot listen for appends ({e}); polling");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        positions.listening.store(true, Ordering::SeqCst);
        loop {
            match listener.next().await {
                Ok(a) => {
                    if let Ok(map) = positions.by_run.lock()
                        && let Some(tx) = map.get(&a.run_id)
                    {
                        advance(tx, a.seq);
                    }
                }
                Err(e) => {
                    eprintln!("shipcheck serve: listening for appends failed ({e}); polling");
                    break;
                }
            }
        }
        positions.listening.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
impl Positions {
    /// How many runs are watched.
    pub(crate) fn watched(&self) -> usize {
        self.by_run.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
