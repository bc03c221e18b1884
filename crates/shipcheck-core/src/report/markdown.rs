//! The record in the seed checklist's layout: its headings, a box per item with the evidence
//! and who/when, then the Notes Section, the Success Criteria and the Signature.

use std::fmt::Write;

use crate::journal::state::{ItemRecord, ItemState, RunState, RunStatus};
use crate::model::checklist::Phase;
use crate::model::event::NoteKind;
use crate::report::criteria::{self, Met};
use crate::report::local_time;

/// The seed's (h2, h3) headings for a phase.
fn headings(phase: Phase) -> (&'static str, Option<&'static str>) {
    match phase {
        Phase::Prepare => ("Pre-Deployment (1-2 days before)", None),
        Phase::Preflight => ("Day of Deployment", Some("Pre-Deploy (1 hour before)")),
        Phase::Release => ("Day of Deployment", Some("Merge to Production")),
        Phase::Approve => ("Day of Deployment", Some("Approve Deployment")),
        Phase::Rollout => ("Day of Deployment", Some("Monitor Deployment")),
        Phase::Verify => ("Post-Deployment (Immediately After)", None),
        Phase::Watch => ("Ongoing Monitoring (Next 1-2 Hours)", None),
        Phase::Close => ("End of Day", None),
    }
}

/// Renders the record.
pub fn render(run: &RunState, tz: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Production Deployment Record — {} ({})",
        run.project, run.env
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Run `{}` · started by {} at {} · status: **{}**{}",
        run.id,
        run.started_by,
        local_time(run.started_at, tz),
        run.status.as_str(),
        match run.current_phase() {
            Some(p) if run.status == RunStatus::Active => format!(" (in phase `{p}`)"),
            _ => String::new(),
        }
    );
    if let Some(at) = run.scheduled_at {
        let _ = writeln!(out, "Scheduled for {}.", local_time(at, tz));
    }
    if let Some((by, reason)) = &run.window_override {
        let _ = writeln!(out, "Deploy window overridden by {by}: {reason}.");
    }
    if let Some(trust) = &run.config_trust {
        let _ = writeln!(out, "Config: {trust}.");
    }
    if let Some((by, reason)) = &run.aborted {
        let _ = writeln!(out, "**Aborted** by {by}: {reason}.");
    }
    let _ = writeln!(out, "\n{}", crate::report::watch::verdict_line(run));
    let mut last_h2 = "";
    for phase in Phase::ALL {
        let recs: Vec<&ItemRecord> = run.phase_items(phase).collect();
        if recs.is_empty() {
            continue;
        }
        let (h2, h3) = headings(phase);
        if h2 != last_h2 {
            let _ = writeln!(out, "\n---\n\n## {h2}");
            last_h2 = h2;
        }
        if let Some(h3) = h3 {
            let _ = writeln!(out, "\n### {h3}");
        }
        let mut section: Option<&str> = None;
        let mut first = true;
        for r in recs {
            if r.item.section.as_deref() != section {
                section = r.item.section.as_deref();
                if let Some(s) = section {
                    let _ = writeln!(out, "\n### {s}\n");
                    first = false;
                }
            }
            if first {
                let _ = writeln!(out);
                first = false;
            }
            let _ = writeln!(out, "{}", item_line(r, tz));
        }
    }

    out.push_str(&crate::report::watch::markdown(run, tz));
    if !run.rollbacks.is_empty() || !run.stops.is_empty() {
        let _ = writeln!(out, "\n---\n\n## If Something Goes Wrong\n");
        for s in &run.stops {
            let state = match s.succeeded {
                Some(true) => "done",
                Some(false) => "FAILED",
                None => "interrupted",
            };
            let _ = writeln!(
                out,
                "- {} of {} by {}, {} — {state}{}",
                if s.undo {
                    "Undo of the emergency stop"
                } else {
                    "Emergency stop"
                },
                s.app,
                s.by,
                local_time(s.started_at, tz),
                s.outcome
                    .as_deref()
                    .map(|o| format!(": {}", one_line(o)))
                    .unwrap_or_default()
            );
        }
        for r in &run.rollbacks {
            let state = match r.succeeded {
                Some(true) => "done",
                Some(false) => "FAILED",
                None => "interrupted",
            };
            let _ = writeln!(
                out,
                "- Rollback ({}) by {}, {}: {} — {state}{}",
                r.strategy,
                r.by,
                local_time(r.started_at, tz),
                one_line(&r.reason),
                r.outcome
                    .as_deref()
                    .map(|o| format!(": {}", one_line(o)))
                    .unwrap_or_default()
            );
        }
    }
    let markers = crate::report::markers::markers(run);
    if !markers.is_empty() {
        let _ = writeln!(out, "\n---\n\n## Markers\n");
        for m in &markers {
            let service = match m.service {
                "github" => "GitHub",
                "cdevents" => "CDEvent",
                _ => "Sentry",
            };
            let _ = writeln!(out, "- {service} {}: {} — {}", m.target, m.what, m.outcome);
        }
    }
    let _ = writeln!(out, "\n---\n\n## Notes Section\n");
    let _ = writeln!(
        out,
        "**Deployment Date**: {}\n",
        local_time(run.scheduled_at.unwrap_or(run.started_at), tz)
    );
    let _ = writeln!(out, "**Deployed By**: {}\n", run.started_by);
    let _ = writeln!(out, "**Key Changes**:");
    let changes = key_changes(run);
    if changes.is_empty() {
        let _ = writeln!(out, "- (no change list recorded)");
    }
    for c in changes {
        let _ = writeln!(out, "- {c}");
    }
    for (title, kind) in [
        ("Issues Observed", NoteKind::Issue),
        ("Lessons Learned", NoteKind::Lesson),
    ] {
        let _ = writeln!(out, "\n**{title}**:");
        let notes: Vec<_> = run.notes_of(kind).collect();
        if notes.is_empty() {
            let _ = writeln!(out, "- none recorded");
        }
        for n in notes {
            let _ = writeln!(out, "- {} — {}, {}", n.text, n.by, local_time(n.at, tz));
        }
    }
    let general: Vec<_> = run.notes_of(NoteKind::General).collect();
    if !general.is_empty() {
        let _ = writeln!(out, "\n**Other Notes**:");
        for n in general {
            let _ = writeln!(out, "- {} — {}, {}", n.text, n.by, local_time(n.at, tz));
        }
    }

    let _ = writeln!(out, "\n---\n\n## Success Criteria\n");
    let _ = writeln!(out, "Deployment is considered successful when:\n");
    for c in criteria::evaluate(run) {
        let mark = match c.met {
            Met::Met => "✅",
            Met::NotMet => "❌",
            Met::Unknown => "⬜",
        };
        let _ = writeln!(out, "- {mark} {} — {}", c.title, c.because);
    }
    let _ = writeln!(out);
    match &run.signed {
        Some((by, at)) => {
            let _ = writeln!(
                out,
                "**Signature**: {by} **Date/Time**: {}",
                local_time(*at, tz)
            );
            for s in &run.ssh_signatures {
                let _ = writeln!(
                    out,
                    "\n**SSH signature** ({}, added by {}) over event {}, journal head `{}` (`shipcheck verify` checks it against the allowed signers):\n\n```\n{}```",
                    s.key, s.by, s.seq, s.head, s.signature
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "**Signature**: _______________ **Date/Time**: _______________"
            );
        }
    }
    out
}

fn item_line(r: &ItemRecord, tz: &str) -> String {
    let who_when = match (&r.by, r.at) {
        (Some(by), Some(at)) => format!(" · {by}, {}", local_time(at, tz)),
        (None, Some(at)) => format!(" · {}", local_time(at, tz)),
        _ => String::new(),
    };
    let summary = r.summary.as_deref().map(one_line).unwrap_or_default();
    let title = &r.item.title;
    match r.state {
        ItemState::Pass => format!("- [x] {title} — {summary}{who_when}"),
        ItemState::Done => {
            let mut s = format!("- [x] {title}");
            if let Some(note) = &r.note {
                s.push_str(&format!(" — {}", one_line(note)));
            } else if !summary.is_empty() {
                s.push_str(&format!(" — {summary}"));
            }
            s.push_str(&who_when);
            s
        }
        ItemState::Waived => format!(
            "- [x] {title} — **waived**: {}{who_when}",
            one_line(r.reason.as_deref().unwrap_or(""))
        ),
        ItemState::NotRequired => format!("- [ ] {title} — _not required_: {summary}"),
        ItemState::Fail => format!("- [ ] {title} — **FAIL**: {summary}{who_when}"),
        ItemState::Error => format!("- [ ] {title} — **ERROR**: {summary}{who_when}"),
        ItemState::Pending => {
            if r.item.required {
                format!("- [ ] {title}")
            } else {
                format!("- [ ] {title} _(optional)_")
            }
        }
    }
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    }
}

/// "Key Changes": the commit list an item recorded (`evidence.commits[]`), as `sha subject`.
pub fn key_changes(run: &RunState) -> Vec<String> {
    for r in &run.items {
        if let Some(commits) = r.evidence.get("commits").and_then(|c| c.as_array()) {
            return commits
                .iter()
                .filter_map(|c| {
                    let sha = c.get("sha").and_then(|s| s.as_str()).unwrap_or("");
                    let subject = c.get("subject").and_then(|s| s.as_str())?;
                    Some(format!("{} {subject}", &sha[..sha.len().min(8)]))
                })
                .collect();
        }
    }
    Vec::new()
}
