//! Each open run's folded state, kept between renders and caught up with only the events
//! appended since (by any process): a page of a 10,000-event run reads and folds the few new
//! events, not the whole journal, after every append.
//!
//! Correct under concurrent appends: the store returns a contiguous run of seqs after the
//! position asked for, and [`RunState::extend`] refuses any event that is not the next one
//! chained to the head folded so far; on a refusal, or when the store's count is behind what
//! was folded (a restored database), the run is read and folded in full again.

use std::collections::HashMap;

use shipcheck_core::journal::state::RunState;
use shipcheck_core::model::watch::ProbeSample;
use shipcheck_core::runs::Session;
use shipcheck_core::store::StoreError;

/// The most runs kept folded (all are dropped past it; a busy server has a few open runs).
const FOLDED_RUNS: usize = 64;

/// A run as folded so far, with the watch's raw samples (which the state does not keep).
pub(crate) struct Folded {
    /// The run's state at its `event_count`.
    pub(crate) run: RunState,
    /// Every `watch_samples` event's samples so far: (leg, sample).
    pub(crate) samples: Vec<(u32, ProbeSample)>,
}

impl Folded {
    fn full(events: &[shipcheck_core::model::event::StoredEvent]) -> Result<Folded, String> {
        let run = RunState::fold(events).map_err(|e| e.to_string())?;
        Ok(Folded {
            run,
            samples: crate::charts::samples(events),
        })
    }
}

/// The folded runs, by id.
#[derive(Default)]
pub(crate) struct FoldedRuns {
    by_id: HashMap<String, Folded>,
    /// How many times a run was folded from its whole journal (for tests and the curious).
    pub(crate) full_reads: u64,
}

impl FoldedRuns {
    /// Run `id` caught up with its journal as it is now (at least at `known`, the count the
    /// caller read from the store), folding it in full only the first time or when the
    /// journal does not follow on from what was folded.
    pub(crate) async fn catch_up(
        &mut self,
        session: &Session,
        id: &str,
        known: i64,
    ) -> Result<&Folded, String> {
        let kept = self.by_id.remove(id);
        let folded = match kept {
            Some(mut f) if to_i64(f.run.event_count) <= known => {
                let after = to_i64(f.run.event_count);
                let more = session
                    .store
                    .events_after(id, after)
                    .await
                    .map_err(|e| e.to_string())?;
                match f.run.extend(&more) {
                    Ok(()) => {
                        f.samples.extend(crate::charts::samples(&more));
                        f
                    }
                    Err(_) => self.full(session, id).await?,
                }
            }
            _ => self.full(session, id).await?,
        };
        if self.by_id.len() >= FOLDED_RUNS {
            self.by_id.clear();
        }
        Ok(self.by_id.entry(id.to_string()).or_insert(folded))
    }

    async fn full(&mut self, session: &Session, id: &str) -> Result<Folded, String> {
        self.full_reads += 1;
        let events = session
            .store
            .events(id)
            .await
            .map_err(|e: StoreError| e.to_string())?;
        Folded::full(&events)
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
impl FoldedRuns {
    /// The run as folded now, if kept.
    pub(crate) fn kept(&self, id: &str) -> Option<&RunState> {
        self.by_id.get(id).map(|f| &f.run)
    }

    /// Replaces what is kept of a run (to test what a journal that does not follow does).
    pub(crate) fn keep(&mut self, run: RunState) {
        self.by_id.insert(
            run.id.clone(),
            Folded {
                run,
                samples: Vec::new(),
            },
        );
    }
}

#[cfg(test)]
#[path = "folded_tests.rs"]
mod tests;
