//! Incidents (their vocabulary is [`crate::model::incident`]): the severity
//! policy ([`policy`]), and acting on them ([`respond`]): the message, the contacts, the
//! decision and the rollback; and finishing what a crash interrupted ([`resume`]).

pub mod policy;
pub mod respond;
pub mod resume;
pub mod rollback;

pub use crate::model::incident::{Decision, Incident, IncidentRecord, Severity, Source};

/// The contacts printed in every incident: `[contacts]`, then Fly.io support.
pub fn contacts(config: &crate::model::config::Config) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = config
        .contacts
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !out.iter().any(|(k, _)| k.contains("fly")) {
        out.push((
            "Fly.io Support".into(),
            "https://fly.io/docs/about/support/".into(),
        ));
    }
    out
}
