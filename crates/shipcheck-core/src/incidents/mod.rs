//! Incidents (their vocabulary is [`crate::model::incident`]): the severity
//! policy ([`policy`]), and acting on them ([`respond`]): the message, the contacts, the
//! decision and the rollback.

pub mod policy;
pub mod respond;

pub use crate::model::incident::{Decision, Incident, IncidentRecord, Severity, Source};
pub use respond::{IncidentInput, IncidentReport};
