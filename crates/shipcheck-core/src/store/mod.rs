//! TEMPORARY interface stub; replaced by the store branch.
#![allow(missing_docs, unused_variables)]
use std::path::PathBuf;

use jiff::Timestamp;

use crate::run::{Event, StoredEvent};

pub enum StoreTarget {
    Sqlite(PathBuf),
    Postgres(String),
}
#[derive(Clone)]
pub struct Store;
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub id: String,
    pub project: String,
    pub env: String,
    pub started_by: String,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    pub phase: Option<String>,
    pub status: String,
    pub event_count: i64,
}
pub struct RunSummaryUpdate {
    pub phase: Option<String>,
    pub status: String,
}
#[derive(Clone, Debug)]
pub struct LockInfo {
    pub project: String,
    pub env: String,
    pub run_id: String,
    pub holder: String,
    pub since: Timestamp,
}
#[derive(Clone, Debug)]
pub struct LockBreak {
    pub project: String,
    pub env: String,
    pub run_id: String,
    pub holder: String,
    pub by: String,
    pub reason: String,
    pub at: Timestamp,
}
pub enum ChainReport {
    Intact { events: usize, head: String },
    Broken { seq: i64, reason: String },
}
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lock held by {}", .0.run_id)]
    LockHeld(LockInfo),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("stub")]
    Stub,
}
impl StoreError {
    pub fn exit_code(&self) -> i32 {
        match self {
            StoreError::LockHeld(_) => 4,
            _ => 2,
        }
    }
}
impl Store {
    pub async fn open(target: &StoreTarget) -> Result<Store, StoreError> {
        Err(StoreError::Stub)
    }
    pub fn backend(&self) -> &'static str {
        "sqlite"
    }
    pub async fn create_run(
        &self,
        run_id: &str,
        project: &str,
        env: &str,
        holder: &str,
        at: Timestamp,
        event: &Event,
    ) -> Result<StoredEvent, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn append(
        &self,
        run_id: &str,
        at: Timestamp,
        event: &Event,
        summary: &RunSummaryUpdate,
    ) -> Result<StoredEvent, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn events(&self, run_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn run_summary(&self, run_id: &str) -> Result<Option<RunSummary>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn find_run(&self, id_or_prefix: &str) -> Result<RunSummary, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn list_runs(
        &self,
        project: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn latest_run(
        &self,
        project: &str,
        env: Option<&str>,
    ) -> Result<Option<RunSummary>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn lock(&self, project: &str, env: &str) -> Result<Option<LockInfo>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn release_lock(
        &self,
        project: &str,
        env: &str,
        run_id: &str,
    ) -> Result<(), StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn break_lock(
        &self,
        project: &str,
        env: &str,
        by: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<Option<LockInfo>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn lock_breaks(&self, project: &str) -> Result<Vec<LockBreak>, StoreError> {
        Err(StoreError::Stub)
    }
    pub async fn verify_chain(&self, run_id: &str) -> Result<ChainReport, StoreError> {
        Err(StoreError::Stub)
    }
}
