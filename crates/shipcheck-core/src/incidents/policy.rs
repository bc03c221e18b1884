//! The severity policy (default: the seed's). What each severity calls for, before anyone
//! acts on it: critical → roll back immediately (without a prompt when `auto_rollback`);
//! high → a quick fix or a rollback, decided within `high_decision_timer`, after which
//! shipcheck asks to roll back; medium → fix forward; low → note it for the next deploy.

use jiff::Timestamp;

use crate::model::config::IncidentConfig;
use crate::model::incident::{Decision, Severity};

/// What the policy calls for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Roll back now; `prompt` when a person must confirm it.
    RollBack {
        /// A person confirms first.
        prompt: bool,
    },
    /// Record this decision; nothing else happens now.
    Record {
        /// The decision.
        decision: Decision,
        /// Why, in the policy's words.
        reason: String,
        /// The decision timer's end (high).
        until: Option<Timestamp>,
    },
}

/// The policy's response to a new incident of `severity` at `now`.
pub fn respond(severity: Severity, cfg: &IncidentConfig, now: Timestamp) -> Response {
    match severity {
        Severity::Critical => Response::RollBack {
            prompt: !cfg.auto_rollback,
        },
        Severity::High => Response::Record {
            decision: Decision::DecisionTimer,
            reason: format!(
                "high: a quick fix or a rollback; if the incident is still open in {}, shipcheck asks to roll back",
                cfg.high_decision_timer
            ),
            until: Some(crate::model::clock::add(now, cfg.high_decision_timer.get())),
        },
        Severity::Medium => Response::Record {
            decision: Decision::FixForward,
            reason: "medium: fix forward".into(),
            until: None,
        },
        Severity::Low => Response::Record {
            decision: Decision::NoteForNextDeploy,
            reason: "low: note for the next deploy".into(),
            until: None,
        },
    }
}

/// The seed's incident message.
pub fn message(severity: Severity, id: u32, summary: &str) -> String {
    format!(
        "⚠️ Issue detected in production. Investigating... (incident #{id}, {}: {summary})",
        severity.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_ladder() {
        let mut cfg = IncidentConfig::default();
        let now: Timestamp = "2026-11-25T11:00:00Z".parse().unwrap();
        assert_eq!(
            respond(Severity::Critical, &cfg, now),
            Response::RollBack { prompt: true }
        );
        cfg.auto_rollback = true;
        assert_eq!(
            respond(Severity::Critical, &cfg, now),
            Response::RollBack { prompt: false }
        );
        match respond(Severity::High, &cfg, now) {
            Response::Record {
                decision: Decision::DecisionTimer,
                until: Some(until),
                ..
            } => assert_eq!(until, "2026-11-25T11:30:00Z".parse::<Timestamp>().unwrap()),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            respond(Severity::Medium, &cfg, now),
            Response::Record {
                decision: Decision::FixForward,
                ..
            }
        ));
        assert!(matches!(
            respond(Severity::Low, &cfg, now),
            Response::Record {
                decision: Decision::NoteForNextDeploy,
                ..
            }
        ));
    }
}
