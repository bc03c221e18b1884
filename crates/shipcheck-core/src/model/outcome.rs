//! What a check found: pass, fail or error, with a one-line summary and evidence.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::facts::Fact;

/// The verdict of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The condition holds.
    Pass,
    /// The condition does not hold.
    Fail,
    /// The check could not decide (unreachable, timeout, nonsense answer, no data).
    Error,
}

impl Status {
    /// `pass`, `fail` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
    /// The worse of two statuses (error > fail > pass).
    pub fn worst(self, other: Status) -> Status {
        use Status::*;
        match (self, other) {
            (Error, _) | (_, Error) => Error,
            (Fail, _) | (_, Fail) => Fail,
            _ => Pass,
        }
    }
}

/// What a check found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// pass, fail or error.
    pub status: Status,
    /// One line for the terminal and the report.
    pub summary: String,
    /// Structured evidence (already redacted).
    #[serde(default)]
    pub evidence: serde_json::Value,
    /// Wall time of the check in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// The run facts the check recorded (the workflow run it found, the rollback targets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Fact>,
}

impl Outcome {
    /// A pass.
    pub fn pass(summary: impl Into<String>, evidence: serde_json::Value) -> Self {
        Self::new(Status::Pass, summary, evidence)
    }
    /// A fail.
    pub fn fail(summary: impl Into<String>, evidence: serde_json::Value) -> Self {
        Self::new(Status::Fail, summary, evidence)
    }
    /// An error.
    pub fn error(summary: impl Into<String>, evidence: serde_json::Value) -> Self {
        Self::new(Status::Error, summary, evidence)
    }
    /// Any status.
    pub fn new(status: Status, summary: impl Into<String>, evidence: serde_json::Value) -> Self {
        Outcome {
            status,
            summary: summary.into(),
            evidence,
            duration_ms: 0,
            facts: Vec::new(),
        }
    }
    /// With a run fact it recorded.
    pub fn with_fact(mut self, fact: Fact) -> Self {
        self.facts.push(fact);
        self
    }
    /// With the duration measured from `start`.
    pub fn timed(mut self, start: Instant) -> Self {
        self.duration_ms = start.elapsed().as_millis() as u64;
        self
    }
}

/// Why an action did not complete. The world is left as it was found, or as close as the
/// action can restore it; the message says which.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    /// What went wrong and what to do.
    pub message: String,
    /// An integration could not be reached or answered nonsense (exit code 3).
    pub integration: bool,
}

impl ActionError {
    /// A failure of the action itself.
    pub fn new(message: impl Into<String>) -> Self {
        ActionError {
            message: message.into(),
            integration: false,
        }
    }
    /// An integration that could not be reached or answered nonsense.
    pub fn integration(message: impl Into<String>) -> Self {
        ActionError {
            message: message.into(),
            integration: true,
        }
    }
}

impl crate::model::error::HasKind for ActionError {
    /// An integration that could not be reached or answered nonsense, else the action failed.
    fn kind(&self) -> crate::model::error::ErrorKind {
        if self.integration {
            crate::model::error::ErrorKind::Integration
        } else {
            crate::model::error::ErrorKind::Failed
        }
    }
}
