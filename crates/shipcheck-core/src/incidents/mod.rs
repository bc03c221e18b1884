//! Incidents: their severity (the seed's ladder) and records ([`incident`]), the severity
//! policy ([`policy`]), and acting on them ([`respond`]): the message, the contacts, the
//! decision and the rollback.

pub mod incident;
pub mod policy;
pub mod respond;

pub use incident::{Decision, Incident, IncidentRecord, Severity, Source};
pub use respond::{IncidentInput, IncidentReport};
