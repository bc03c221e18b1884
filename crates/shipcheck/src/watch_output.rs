//! The watch on the terminal: one line per tick, incident, decision and change of what is
//! failing; the first minutes' wait at most once a minute.

use std::sync::Mutex;
use std::time::Duration;

use shipcheck_core::journal::watch::tick_line;
use shipcheck_core::model::incident::IncidentReport;
use shipcheck_core::model::watch::Purpose;
use shipcheck_core::runs::stream::WatchEvent;

/// Remembers what was shown, so a 2-hour watch prints what changed, not every sample.
#[derive(Default)]
pub struct WatchDisplay {
    last_wait: Mutex<Option<Duration>>,
    last_failing: Mutex<Vec<String>>,
}

impl WatchDisplay {
    /// Prints one event.
    pub fn show(&self, e: &WatchEvent) {
        match e {
            WatchEvent::Waiting { what, remaining } => {
                let mut last = self.last_wait.lock().unwrap_or_else(|e| e.into_inner());
                if last.is_none_or(|l| l.saturating_sub(*remaining) >= Duration::from_secs(60)) {
                    *last = Some(*remaining);
                    say!(
                        "  … waiting out {what}: {} to go",
                        shipcheck_core::model::duration::format(round(*remaining))
                    );
                }
            }
            WatchEvent::Baseline { summary } => say!("baseline: {summary}"),
            WatchEvent::Started {
                purpose,
                schedule,
                next_tick,
                of,
                signals,
                resumed,
                ..
            } => {
                let what = match purpose {
                    Purpose::Release => "watching the release",
                    Purpose::AfterRollback => "watching after the rollback",
                };
                say!(
                    "{what}{}: {} signal(s) every {}, a tick every {} for {} (tick {next_tick} of {of} next)",
                    if *resumed { " (resumed)" } else { "" },
                    signals.len(),
                    schedule.sample_every,
                    schedule.interval,
                    schedule.duration
                );
                if signals.is_empty() {
                    say!(
                        "  nothing to sample: no app has a health_url and no integration is configured"
                    );
                }
            }
            WatchEvent::Sampled { failing, .. } => {
                let mut last = self.last_failing.lock().unwrap_or_else(|e| e.into_inner());
                if *failing != *last {
                    if failing.is_empty() {
                        say!("  ✓ nothing failing");
                    } else {
                        say!("  ✗ failing: {}", failing.join(", "));
                    }
                    *last = failing.clone();
                }
            }
            WatchEvent::Tick(t) => say!("{}", tick_line(t)),
            WatchEvent::Incident(report) => print_incident(report),
            WatchEvent::Decision {
                incident,
                decision,
                reason,
            } => say!("  incident #{incident} → {}: {reason}", decision.as_str()),
            WatchEvent::Verified { ok, summary } => {
                if *ok {
                    say!("rollback verified: {summary}");
                } else {
                    say!("rollback NOT verified: {summary}");
                }
            }
            WatchEvent::Ended {
                outcome, reason, ..
            } => say!("watch ended: {} — {reason}", outcome.as_str()),
            WatchEvent::Note(text) => say!("  {text}"),
        }
    }
}

fn round(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

/// An incident: what, the message to post, the contacts, what the policy did.
pub fn print_incident(report: &IncidentReport) {
    let i = &report.incident;
    say!(
        "INCIDENT #{} {} (raised by {}): {}",
        i.record.id,
        i.record.severity.as_str(),
        i.record.by,
        i.record.summary
    );
    match &i.notified {
        Some(n) if n.posted => say!("  message posted: {}", report.message),
        Some(n) => say!("  {}:\n    {}", n.detail, report.message),
        None => {}
    }
    say!("  emergency contacts:");
    for (role, contact) in &report.contacts {
        say!("    {role}: {contact}");
    }
    for d in &i.decisions {
        say!("  → {} ({}): {}", d.decision.as_str(), d.by, d.reason);
    }
    if let Some(r) = &report.rollback {
        say!("  rolled back: {}", r.summary);
    }
}
