//! The watch in the record: the verdict, the baseline, every tick, incident, decision and the
//! rollback's verification, time to detect and to recover. Markdown and JSON.

use std::fmt::Write;

use jiff::Timestamp;
use serde::Serialize;

use crate::journal::watch::{Leg, Verdict, Verification};
use crate::model::incident::Incident;
use crate::model::watch::Baseline;

use crate::journal::state::RunState;
use crate::journal::watch::tick_line;
use crate::journal::watch::verdict;
use crate::report::local_time;

/// The verdict line under the record's title.
pub fn verdict_line(run: &RunState) -> String {
    let v = verdict(run);
    format!(
        "**Verdict**: {} — {}",
        v.verdict.as_str(),
        one_line(&v.reason)
    )
}

/// The "Watch" section (empty when nothing of the watch was recorded).
pub fn markdown(run: &RunState, tz: &str) -> String {
    let m = &run.monitor;
    if m.baseline.is_none() && m.legs.is_empty() && m.incidents.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n---\n\n## Watch\n\n");
    if let (Some(b), Some(at)) = (&m.baseline, m.baseline_at) {
        let _ = writeln!(
            out,
            "- Baseline ({}, {} probe(s) per app): {}",
            local_time(at, tz),
            b.probes,
            one_line(&b.summary())
        );
    }
    if let Some(live) = m.release_live_at {
        let _ = writeln!(out, "- Release live: {}", local_time(live, tz));
    }
    for leg in &m.legs {
        let what = match leg.purpose {
            crate::model::watch::Purpose::Release => "Watch of the release",
            crate::model::watch::Purpose::AfterRollback => "Watch after the rollback",
        };
        let _ = writeln!(
            out,
            "- {what}: from {}, every {} for {} (samples every {}, {} consecutive failures count)",
            local_time(leg.started_at, tz),
            leg.schedule.interval,
            leg.schedule.duration,
            leg.schedule.sample_every,
            leg.schedule.consecutive_failures
        );
        for t in &leg.ticks {
            let _ = writeln!(
                out,
                "  - {} — {}",
                local_time(t.due_at, tz),
                one_line(&tick_line(t))
            );
        }
        match (leg.outcome, &leg.reason) {
            (Some(o), Some(r)) => {
                let _ = writeln!(out, "  - **{}**: {}", o.as_str(), one_line(r));
            }
            _ => {
                let _ = writeln!(out, "  - running");
            }
        }
    }
    for i in &m.incidents {
        let r = &i.record;
        let _ = writeln!(
            out,
            "- Incident #{} **{}** raised by {}, {}: {}{}",
            r.id,
            r.severity.as_str(),
            r.by,
            local_time(i.raised_at, tz),
            one_line(&r.summary),
            if i.open { " — open" } else { "" }
        );
        if let Some(n) = &i.notified {
            let _ = writeln!(
                out,
                "  - message {}: {}",
                if n.posted { "posted" } else { "not posted" },
                one_line(&n.detail)
            );
        }
        for d in &i.decisions {
            let _ = writeln!(
                out,
                "  - {} by {}, {}: {}",
                d.decision.as_str(),
                d.by,
                local_time(d.at, tz),
                one_line(&d.reason)
            );
        }
    }
    if let Some(v) = &m.verification {
        let _ = writeln!(
            out,
            "- Rollback verified: {} ({}): {}",
            if v.ok { "yes" } else { "no" },
            local_time(v.at, tz),
            one_line(&v.summary)
        );
    }
    if let Some(d) = m.time_to_detect() {
        let _ = writeln!(
            out,
            "- Time to detect: {}",
            crate::model::duration::format(d)
        );
    }
    if let Some(d) = m.time_to_recover() {
        let _ = writeln!(
            out,
            "- Time to recover: {}",
            crate::model::duration::format(d)
        );
    }
    out
}

/// The watch's part of the run document.
#[derive(Clone, Debug, Serialize)]
pub struct WatchSummary {
    /// The run's verdict.
    pub verdict: Verdict,
    /// The baseline recorded in `preflight`.
    pub baseline: Option<Baseline>,
    /// When.
    pub baseline_at: Option<Timestamp>,
    /// When the release went live.
    pub release_live_at: Option<Timestamp>,
    /// Every watch (the release's, and one after each rollback).
    pub watches: Vec<Leg>,
    /// Every incident.
    pub incidents: Vec<Incident>,
    /// The verification after a rollback.
    pub rollback_verified: Option<Verification>,
    /// Release live → first incident, seconds.
    pub time_to_detect_s: Option<u64>,
    /// First incident → rollback verified, seconds.
    pub time_to_recover_s: Option<u64>,
}

/// The watch's part of the run document.
pub fn summary(run: &RunState) -> WatchSummary {
    let m = &run.monitor;
    WatchSummary {
        verdict: verdict(run),
        baseline: m.baseline.clone(),
        baseline_at: m.baseline_at,
        release_live_at: m.release_live_at,
        watches: m.legs.clone(),
        incidents: m.incidents.clone(),
        rollback_verified: m.verification.clone(),
        time_to_detect_s: m.time_to_detect().map(|d| d.as_secs()),
        time_to_recover_s: m.time_to_recover().map(|d| d.as_secs()),
    }
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.chars().count() > 300 {
        format!("{}…", line.chars().take(300).collect::<String>())
    } else {
        line.to_string()
    }
}
