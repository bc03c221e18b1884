//! The post-deployment review invitation: an iCalendar (RFC 5545) event on the next working
//! day at `[incident] review_time` in the project's time zone, attendees from `[contacts]`.
//! Lines end in CRLF and are folded at 75 octets; times are UTC (`…Z`), so no VTIMEZONE is
//! needed and every client shows the right local time.

use crate::model::error::Invalid;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};

use crate::journal::state::RunState;
use crate::model::config::Config;

/// A person from `[contacts]`: `Ana <ana@example.com>`, `ana@example.com` or `Ana`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Their role (`team_lead`).
    pub role: String,
    /// Their name.
    pub name: String,
    /// Their address, when the contact has one.
    pub email: Option<String>,
}

/// The invitation.
#[derive(Clone, Debug, PartialEq)]
pub struct Invite {
    /// Stable per run: writing it again updates the same event.
    pub uid: String,
    /// When it was made.
    pub stamp: Timestamp,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Start in the project's zone (`Thu 2026-11-26 10:00 CET`).
    pub local: String,
    /// Title.
    pub summary: String,
    /// Body.
    pub description: String,
    /// Everyone from `[contacts]` (those with an address are invited).
    pub people: Vec<Person>,
}

impl Invite {
    /// Names of the people, with their role.
    pub fn attendee_names(&self) -> Vec<String> {
        self.people
            .iter()
            .map(|p| format!("{} ({})", p.name, p.role))
            .collect()
    }
}

/// Parses a contact.
pub fn person(role: &str, text: &str) -> Person {
    let t = text.trim();
    if let (Some(open), Some(close)) = (t.find('<'), t.rfind('>'))
        && open < close
    {
        let email = t[open + 1..close].trim();
        let name = t[..open].trim();
        return Person {
            role: role.into(),
            name: if name.is_empty() {
                email.into()
            } else {
                name.into()
            },
            email: email.contains('@').then(|| email.to_string()),
        };
    }
    let is_email = t.contains('@') && !t.contains(' ');
    Person {
        role: role.into(),
        name: t.into(),
        email: is_email.then(|| t.to_string()),
    }
}

/// The next Monday–Friday after `d`.
pub fn next_working_day(d: Date) -> Date {
    let mut n = d.tomorrow().unwrap_or(d);
    while matches!(n.weekday(), Weekday::Saturday | Weekday::Sunday) {
        n = n.tomorrow().unwrap_or(n);
    }
    n
}

/// The review of `run`, made at `now`.
pub fn review_invite(run: &RunState, cfg: &Config, now: Timestamp) -> Result<Invite, Invalid> {
    let tz = jiff::tz::TimeZone::get(&cfg.project.timezone)
        .map_err(|e| format!("time zone {:?}: {e}", cfg.project.timezone))?;
    let time = crate::model::config::parse_hhmm(&cfg.incident.review_time)?;
    let day = next_working_day(now.to_zoned(tz.clone()).date());
    let start = day
        .to_datetime(time)
        .to_zoned(tz.clone())
        .map_err(|e| format!("{day} {time} in {}: {e}", cfg.project.timezone))?;
    let end = crate::model::clock::add(start.timestamp(), cfg.incident.review_duration.get());
    let people: Vec<Person> = cfg.contacts.iter().map(|(r, t)| person(r, t)).collect();
    let verdict = crate::journal::watch::verdict(run);
    let incidents = run.monitor.incidents.len();
    let names: Vec<String> = people
        .iter()
        .map(|p| format!("{} ({})", p.name, p.role))
        .collect();
    let description = format!(
        "Post-deployment review of run {} ({} {}), deployed by {}.\nVerdict: {} — {}.\nIncidents: {incidents}; rollbacks: {}.\nAttendees: {}.\nThe record: shipcheck report {}",
        run.id,
        run.project,
        run.env,
        run.started_by,
        verdict.verdict.as_str(),
        verdict.reason,
        run.rollbacks.len(),
        if names.is_empty() {
            "none in [contacts]".to_string()
        } else {
            names.join(", ")
        },
        run.id
    );
    Ok(Invite {
        uid: format!("{}-review@shipcheck", run.id),
        stamp: now,
        start: start.timestamp(),
        end,
        local: start.strftime("%a %Y-%m-%d %H:%M %Z").to_string(),
        summary: format!(
            "Post-deployment review: {} ({}, {})",
            run.project,
            run.env,
            run.started_at.to_zoned(tz).strftime("%Y-%m-%d")
        ),
        description,
        people,
    })
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, quoted when it must be (no DQUOTE inside).
fn param(value: &str) -> String {
    let v: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if v.contains([';', ':', ',']) {
        format!("\"{v}\"")
    } else {
        v
    }
}

/// One content line, folded at 75 octets (never inside a UTF-8 character), ending in CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// The iCalendar text.
pub fn render(i: &Invite) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        format!(
            "PRODID:-//shipcheck//shipcheck {}//EN",
            env!("CARGO_PKG_VERSION")
        ),
        "CALSCALE:GREGORIAN".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", i.uid),
        format!("DTSTAMP:{}", utc(i.stamp)),
        format!("DTSTART:{}", utc(i.start)),
        format!("DTEND:{}", utc(i.end)),
        format!("SUMMARY:{}", escape(&i.summary)),
        format!("DESCRIPTION:{}", escape(&i.description)),
    ];
    let invited: Vec<&Person> = i.people.iter().filter(|p| p.email.is_some()).collect();
    // The organizer: the team lead when there is one with an address, else the first.
    let organizer = invited
        .iter()
        .find(|p| p.role.contains("lead"))
        .or(invited.first());
    if let Some(org) = organizer {
        lines.push(format!(
            "ORGANIZER;CN={}:mailto:{}",
            param(&org.name),
            org.email.as_deref().unwrap_or_default()
        ));
        for p in &invited {
            lines.push(format!(
                "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{}",
                param(&p.name),
                p.email.as_deref().unwrap_or_default()
            ));
        }
    }
    lines.extend([
        "STATUS:CONFIRMED".to_string(),
        "TRANSP:OPAQUE".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ]);
    lines.iter().map(|l| fold(l)).collect()
}

/// A content line read back: name, parameters, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    /// `DTSTART`.
    pub name: String,
    /// `CN=Ana`, …
    pub params: Vec<String>,
    /// The value (unescaped for TEXT-looking values is left to the caller).
    pub value: String,
}

/// Reads iCalendar text: checks every line ends in CRLF and is at most 75 octets, unfolds,
/// and splits each line. `Err` names the first problem.
pub fn parse(text: &str) -> Result<Vec<Property>, Invalid> {
    if !text.ends_with("\r\n") {
        return Err("the text does not end in CRLF".into());
    }
    let mut logical: Vec<String> = Vec::new();
    for (n, raw) in text.split("\r\n").enumerate() {
        if raw.contains('\n') || raw.contains('\r') {
            return Err(format!("line {} has a bare LF or CR", n + 1).into());
        }
        if raw.len() > 75 {
            return Err(format!("line {} is {} octets (over 75)", n + 1, raw.len()).into());
        }
        if let Some(rest) = raw.strip_prefix(' ') {
            match logical.last_mut() {
                Some(l) => l.push_str(rest),
                None => return Err("the text starts with a continuation line".into()),
            }
        } else if !raw.is_empty() {
            logical.push(raw.to_string());
        }
    }
    logical
        .into_iter()
        .map(|l| {
            let colon = value_colon(&l).ok_or_else(|| format!("{l:?} has no value"))?;
            let (head, value) = (&l[..colon], &l[colon + 1..]);
            let mut parts = head.split(';');
            let name = parts.next().unwrap_or_default().to_string();
            Ok(Property {
                name,
                params: parts.map(str::to_string).collect(),
                value: value.to_string(),
            })
        })
        .collect()
}

/// The colon that starts the value (not one inside a quoted parameter).
fn value_colon(line: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_parse_with_and_without_addresses() {
        assert_eq!(
            person("team_lead", "Ana Lima <ana@example.com>"),
            Person {
                role: "team_lead".into(),
                name: "Ana Lima".into(),
                email: Some("ana@example.com".into())
            }
        );
        assert_eq!(
            person("x", "ben@example.com").email.as_deref(),
            Some("ben@example.com")
        );
        assert_eq!(person("x", "Ben").email, None);
    }

    #[test]
    fn next_working_day_skips_the_weekend() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(next_working_day(d("2026-11-25")), d("2026-11-26")); // Wed → Thu
        assert_eq!(next_working_day(d("2026-11-27")), d("2026-11-30")); // Fri → Mon
        assert_eq!(next_working_day(d("2026-11-28")), d("2026-11-30")); // Sat → Mon
    }

    #[test]
    fn folding_keeps_octets_and_characters() {
        let long = format!("DESCRIPTION:{}", "é".repeat(80));
        let folded = fold(&long);
        for line in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= 75, "{}", line.len());
        }
        let back = parse(&folded).unwrap();
        assert_eq!(back[0].value, "é".repeat(80));
        assert_eq!(escape("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
