//! Verifying a run's hash chain from the raw stored text, one row at a time: over the whole
//! journal ([`Store::verify_chain`], [`Store::events_verified`]) or over the rows after what a
//! reader already verified ([`Store::events_after_verified`]: the web page keeps each open
//! run folded and checks only the events it reads next).

use crate::model::event::StoredEvent;
use crate::model::event::{GENESIS_HASH, chain_hash};
use crate::store::backend::Store;
use crate::store::journal::{EventRow, read_rows};
use crate::store::{ChainReport, StoreError};

/// The chain of one run as verified so far: how many events, the last one's hash, or the
/// first event at which the stored text stops being what was written. Once broken, it stays
/// broken and checks nothing more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainCheck {
    run_id: String,
    events: i64,
    head: String,
    broken: Option<(i64, String)>,
}

impl ChainCheck {
    /// Nothing verified yet: the next row must be event 1, chained to the genesis hash.
    pub fn new(run_id: &str) -> ChainCheck {
        ChainCheck {
            run_id: run_id.to_string(),
            events: 0,
            head: GENESIS_HASH.to_string(),
            broken: None,
        }
    }

    /// How many events were verified in order.
    pub fn events(&self) -> i64 {
        self.events
    }

    /// The hash of the last event verified (the genesis hash before any).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// The first break found: the event and what is wrong with it.
    pub fn broken(&self) -> Option<(i64, &str)> {
        self.broken.as_ref().map(|(seq, r)| (*seq, r.as_str()))
    }

    /// Verifies the next stored row, as stored: its seq follows, its `prev_hash` is the last
    /// event's hash, and its hash is `chain_hash` of its stored time and payload text.
    pub fn row(&mut self, seq: i64, at: &str, payload: &str, prev_hash: &str, hash: &str) {
        if self.broken.is_some() {
            return;
        }
        let expected = self.events + 1;
        let problem = if seq != expected {
            Some((
                expected,
                format!("event {expected} is missing (the next stored event is {seq})"),
            ))
        } else if prev_hash != self.head {
            Some((
                seq,
                if seq == 1 {
                    "its previous hash is not the genesis hash".into()
                } else {
                    format!("its previous hash does not match event {}'s hash", seq - 1)
                },
            ))
        } else if chain_hash(&self.head, &self.run_id, seq, at, payload) != hash {
            Some((
                seq,
                "its stored content does not match its hash: it was changed after it was written"
                    .into(),
            ))
        } else {
            None
        };
        match problem {
            Some(p) => self.broken = Some(p),
            None => {
                self.events = seq;
                hash.clone_into(&mut self.head);
            }
        }
    }

    /// The verdict once every stored row was given: the first break, else the count and head
    /// the `runs` row recorded against those verified (a deleted last event, or one appended
    /// without the store, shows there).
    pub fn report(&self, recorded_count: i64, recorded_head: &str) -> ChainReport {
        let broken = |seq: i64, reason: String| ChainReport::Broken { seq, reason };
        if let Some((seq, reason)) = &self.broken {
            return broken(*seq, reason.clone());
        }
        let stored = self.events;
        if stored < recorded_count {
            return broken(
                stored + 1,
                format!(
                    "event {} is missing: the run recorded {recorded_count} events, {stored} are \
                     stored",
                    stored + 1
                ),
            );
        }
        if stored > recorded_count {
            return broken(
                recorded_count + 1,
                format!(
                    "event {} was never recorded: the run recorded {recorded_count} events, \
                     {stored} are stored",
                    recorded_count + 1
                ),
            );
        }
        if self.head != recorded_head {
            return broken(
                stored,
                "it is not the last event the run recorded (its hash differs from the recorded \
                 head)"
                    .into(),
            );
        }
        ChainReport::Intact {
            events: usize::try_from(stored).unwrap_or(usize::MAX),
            head: self.head.clone(),
        }
    }

    fn rows(&mut self, rows: &[EventRow]) {
        for (seq, at, payload, prev_hash, hash) in rows {
            self.row(*seq, at, payload, prev_hash, hash);
        }
    }
}

impl Store {
    /// Recomputes the run's hash chain from the raw stored text: seqs contiguous from 1, each
    /// `prev_hash` the previous event's hash, each hash `chain_hash` of what is stored, and
    /// the count and head the `runs` row recorded (which catches a deleted last event).
    pub async fn verify_chain(&self, run_id: &str) -> Result<ChainReport, StoreError> {
        let (recorded_count, recorded_head, rows) = self.journal(run_id, 0).await?;
        let mut check = ChainCheck::new(run_id);
        check.rows(&rows);
        Ok(check.report(recorded_count, &recorded_head))
    }

    /// The run's events, and its chain verified from the same rows as stored (one read, one
    /// snapshot): what [`Store::events`] and [`Store::verify_chain`] give, together.
    pub async fn events_verified(
        &self,
        run_id: &str,
    ) -> Result<(Vec<StoredEvent>, ChainCheck, ChainReport), StoreError> {
        let (recorded_count, recorded_head, rows) = self.journal(run_id, 0).await?;
        let mut check = ChainCheck::new(run_id);
        check.rows(&rows);
        let report = check.report(recorded_count, &recorded_head);
        Ok((read_rows(run_id, rows)?, check, report))
    }

    /// The run's events after event `after`, as [`Store::events_after`], with `check` (the
    /// chain verified up to `after`) carried over them from their raw stored text, and the
    /// verdict against the `runs` row read in the same snapshot. An edit of an event at or
    /// before `after` is not seen here: only [`Store::verify_chain`] reads the whole journal.
    pub async fn events_after_verified(
        &self,
        run_id: &str,
        after: i64,
        check: &mut ChainCheck,
    ) -> Result<(Vec<StoredEvent>, ChainReport), StoreError> {
        let (recorded_count, recorded_head, rows) = self.journal(run_id, after).await?;
        if check.broken().is_none() && check.events() != after {
            return Err(StoreError::Invalid(format!(
                "run {run_id}: the chain was verified to event {}, not {after}",
                check.events()
            )));
        }
        check.rows(&rows);
        let report = check.report(recorded_count, &recorded_head);
        Ok((read_rows(run_id, rows)?, report))
    }
}
