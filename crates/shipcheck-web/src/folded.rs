//! Each open run's folded state, kept between renders and caught up with only the events
//! appended since (by any process): a page of a 10,000-event run reads and folds the few new
//! events, not the whole journal, after every append.
//!
//! Correct under concurrent appends: the store returns a contiguous run of seqs after the
//! position asked for, and [`RunState::extend`] refuses any event that is not the next one
//! chained to the head folded so far; on a refusal, or when the store's count is behind what
//! was folded (a restored database), the run is read and folded in full again.
//!
//! Each kept run carries its journal's verdict: the whole chain is verified from the raw stored
//! text when the run is folded in full (on first load, and again when [`REVERIFY`] has passed
//! since, on the next render); in between, only the events read next are verified, against the
//! `runs` row's count and head read in the same snapshot. An edit of an event already verified
//! is seen only at the next whole verification. A break, once seen, is kept for the run (also
//! across a whole verification that finds the journal intact again, and past [`FOLDED_RUNS`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use shipcheck_core::journal::state::RunState;
use shipcheck_core::model::event::StoredEvent;
use shipcheck_core::model::watch::ProbeSample;
use shipcheck_core::runs::Session;
use shipcheck_core::store::{ChainCheck, ChainReport};

/// How long a kept run's whole chain may go unverified: past it, the next render reads and
/// verifies the whole journal again (50–75 ms for 10,000 events on SQLite; docs/serve.md).
pub(crate) const REVERIFY: Duration = Duration::from_secs(60);

/// The most runs kept folded (all are dropped past it; a busy server has a few open runs).
const FOLDED_RUNS: usize = 64;

/// A run as folded so far, with the watch's raw samples (which the state does not keep).
pub(crate) struct Folded {
    /// The run's state at its `event_count`.
    pub(crate) run: RunState,
    /// Every `watch_samples` event's samples so far: (leg, sample).
    pub(crate) samples: Vec<(u32, ProbeSample)>,
    /// The chain as verified to `run.event_count` (from the raw stored text).
    check: ChainCheck,
    /// The journal's verdict at the last read (the chain against the `runs` row).
    pub(crate) report: ChainReport,
    /// When the whole chain was last verified: for the page, and for [`REVERIFY`].
    pub(crate) whole_at: Timestamp,
    whole_since: Instant,
    /// The first break seen in this run's journal by this server (kept even if the journal
    /// verifies again later).
    pub(crate) broken: Option<Broken>,
}

/// A break in a run's journal, as first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Broken {
    /// The event at which the record stops being what was written.
    pub(crate) seq: i64,
    /// What is wrong with it (the store's words).
    pub(crate) reason: String,
    /// When this server saw it.
    pub(crate) seen: Timestamp,
}

impl Folded {
    fn full(
        events: &[StoredEvent],
        check: ChainCheck,
        report: ChainReport,
    ) -> Result<Folded, String> {
        let run = RunState::fold(events).map_err(|e| e.to_string())?;
        Ok(Folded {
            run,
            samples: crate::charts::samples(events),
            check,
            report,
            whole_at: Timestamp::now(),
            whole_since: Instant::now(),
            broken: None,
        })
    }
}

/// The folded runs, by id.
pub(crate) struct FoldedRuns {
    by_id: HashMap<String, Folded>,
    /// How many times a run was folded from its whole journal (for tests and the curious).
    pub(crate) full_reads: u64,
    /// Every run seen broken, by id: sticky, and what the runs list marks.
    broken: HashMap<String, Broken>,
    /// How long a kept run's whole chain may go unverified ([`REVERIFY`]; tests shorten it).
    pub(crate) reverify: Duration,
}

impl Default for FoldedRuns {
    fn default() -> FoldedRuns {
        FoldedRuns {
            by_id: HashMap::new(),
            full_reads: 0,
            broken: HashMap::new(),
            reverify: REVERIFY,
        }
    }
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
        let mut folded = match kept {
            Some(mut f)
                if to_i64(f.run.event_count) <= known
                    && f.whole_since.elapsed() < self.reverify
                    && (f.check.events() == to_i64(f.run.event_count)
                        || f.check.broken().is_some()) =>
            {
                let after = to_i64(f.run.event_count);
                let (more, report) = session
                    .store
                    .events_after_verified(id, after, &mut f.check)
                    .await
                    .map_err(|e| e.to_string())?;
                match f.run.extend(&more) {
                    Ok(()) => {
                        f.samples.extend(crate::charts::samples(&more));
                        f.report = report;
                        f
                    }
                    Err(_) => self.full(session, id).await?,
                }
            }
            _ => self.full(session, id).await?,
        };
        if let ChainReport::Broken { seq, reason } = &folded.report {
            self.broken.entry(id.to_string()).or_insert_with(|| Broken {
                seq: *seq,
                reason: reason.clone(),
                seen: Timestamp::now(),
            });
        }
        folded.broken = self.broken.get(id).cloned();
        if self.by_id.len() >= FOLDED_RUNS {
            self.by_id.clear();
        }
        Ok(self.by_id.entry(id.to_string()).or_insert(folded))
    }

    /// Whether run `id` was seen broken (only runs this server folded: the runs list does
    /// not verify).
    pub(crate) fn seen_broken(&self, id: &str) -> bool {
        self.broken.contains_key(id)
    }

    async fn full(&mut self, session: &Session, id: &str) -> Result<Folded, String> {
        self.full_reads += 1;
        let (events, check, report) = session
            .store
            .events_verified(id)
            .await
            .map_err(|e| e.to_string())?;
        Folded::full(&events, check, report)
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
        let report = ChainReport::Intact {
            events: run.event_count,
            head: run.head_hash.clone(),
        };
        let check = self
            .by_id
            .get(&run.id)
            .map(|f| f.check.clone())
            .unwrap_or_else(|| ChainCheck::new(&run.id));
        self.by_id.insert(
            run.id.clone(),
            Folded {
                check,
                run,
                samples: Vec::new(),
                report,
                whole_at: Timestamp::now(),
                whole_since: Instant::now(),
                broken: None,
            },
        );
    }
}

#[cfg(test)]
#[path = "folded_tests.rs"]
mod tests;
