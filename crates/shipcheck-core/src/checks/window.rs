//! The deploy window (`prepare.window`): is the run's scheduled time (or now) inside
//! `[window]`, in the window's zone, on local wall-clock times?
//!
//! Each allowed day's window is turned into a pair of instants (opening at `start`, closing at
//! `end` local time on that date, the next day when `end` is not after `start`) with jiff's
//! zoned arithmetic, so DST changes move the instants with the wall clock. `start` is
//! inclusive, `end` exclusive. A local time that does not exist (a DST gap) resolves to the
//! jump itself, the first instant the clock reads a later time.

use crate::model::error::Invalid;
use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde_json::json;

use crate::model::config::{Day, WindowConfig};
use crate::model::outcome::Outcome;

/// How far ahead [`next_opening`] looks for a window (two weeks covers any weekly window).
const LOOKAHEAD_DAYS: i32 = 15;

/// Evaluates `window` (in its own zone, else the project's `default_zone`) for the run's
/// scheduled time, or `now`.
pub fn run(
    window: &WindowConfig,
    default_zone: &str,
    scheduled_at: Option<Timestamp>,
    now: Timestamp,
) -> Outcome {
    let (instant, source) = match scheduled_at {
        Some(t) => (t, "scheduled"),
        None => (now, "now"),
    };
    let zone_name = window
        .timezone
        .clone()
        .unwrap_or_else(|| default_zone.to_string());
    match evaluate(window, &zone_name, instant) {
        Ok(v) => v.outcome(source),
        Err(reason) => Outcome::error(
            format!("cannot evaluate the deploy window: {reason}"),
            json!({
                "instant": instant.to_string(),
                "source": source,
                "window": window_json(window, &zone_name),
            }),
        ),
    }
}

/// The window, parsed: days, local start and end, and the zone.
#[derive(Clone, Debug)]
pub struct Window {
    days: Vec<Day>,
    start: Time,
    end: Time,
    zone: TimeZone,
    zone_name: String,
    config: WindowConfig,
}

impl Window {
    /// Parses `[window]` with `zone_name` (the window's or the project's zone).
    pub fn parse(config: &WindowConfig, zone_name: &str) -> Result<Window, Invalid> {
        let zone = TimeZone::get(zone_name)
            .map_err(|e| format!("unknown time zone {zone_name:?}: {e}"))?;
        let start = parse_hhmm(&config.start).map_err(|e| format!("window start: {e}"))?;
        let end = parse_hhmm(&config.end).map_err(|e| format!("window end: {e}"))?;
        if start == end {
            return Err(format!(
                "window start and end are both {}; the window would be empty",
                config.start
            )
            .into());
        }
        let mut days = config.days.clone();
        days.sort();
        days.dedup();
        if days.is_empty() {
            return Err("window days is empty; no deploy could ever happen".into());
        }
        Ok(Window {
            days,
            start,
            end,
            zone,
            zone_name: zone_name.to_string(),
            config: config.clone(),
        })
    }

    /// The window that opens on local `date`, if `date` is an allowed day: `[open, close)`.
    fn on(&self, date: Date) -> Result<Option<(Timestamp, Timestamp)>, String> {
        if !self.days.iter().any(|d| d.weekday() == date.weekday()) {
            return Ok(None);
        }
        let open = self.instant(date, self.start)?;
        let close_date = if self.end > self.start {
            date
        } else {
            date.tomorrow().map_err(|e| e.to_string())?
        };
        let close = self.instant(close_date, self.end)?;
        Ok(Some((open, close)))
    }

    /// The instant the wall clock in the zone reads `time` on `date`. In a fold (the clock goes
    /// back) that is the first time it reads so; in a gap (the clock jumps over `time`) it is
    /// the jump itself, the first instant the clock reads later than `time`.
    fn instant(&self, date: Date, time: Time) -> Result<Timestamp, String> {
        let dt = date.to_datetime(time);
        let err = |e: jiff::Error| format!("{date} {time} in {}: {e}", self.zone_name);
        let ambiguous = self.zone.to_ambiguous_timestamp(dt);
        if let AmbiguousOffset::Gap { after, .. } = ambiguous.offset() {
            // Read with the offset after the jump, `dt` lies just before the jump.
            let before_jump = after.to_timestamp(dt).map_err(err)?;
            if let Some(jump) = self.zone.following(before_jump).next() {
                return Ok(jump.timestamp());
            }
        }
        ambiguous.compatible().map_err(err)
    }

    /// The window containing `t`, if any.
    pub fn containing(&self, t: Timestamp) -> Result<Option<(Timestamp, Timestamp)>, Invalid> {
        let today = t.to_zoned(self.zone.clone()).date();
        let yesterday = today.yesterday().map_err(|e| e.to_string())?;
        for date in [yesterday, today] {
            if let Some((open, close)) = self.on(date)?
                && open <= t
                && t < close
            {
                return Ok(Some((open, close)));
            }
        }
        Ok(None)
    }

    /// The first window opening strictly after `t`.
    pub fn next_opening(&self, t: Timestamp) -> Result<Option<Timestamp>, Invalid> {
        let mut date = t.to_zoned(self.zone.clone()).date();
        for _ in 0..LOOKAHEAD_DAYS {
            if let Some((open, _)) = self.on(date)?
                && open > t
            {
                return Ok(Some(open));
            }
            date = date.tomorrow().map_err(|e| e.to_string())?;
        }
        Ok(None)
    }

    /// `Tue–Thu 10:00–14:00 Europe/Berlin`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}–{} {}",
            describe_days(&self.days),
            self.config.start.trim(),
            self.config.end.trim(),
            self.zone_name
        )
    }

    /// `Fri 2026-11-27 15:02 CET`.
    pub fn local(&self, t: Timestamp) -> Result<String, Invalid> {
        self.format(t, "%a %Y-%m-%d %H:%M %Z").map_err(Invalid)
    }

    fn format(&self, t: Timestamp, fmt: &str) -> Result<String, String> {
        let zdt = t.to_zoned(self.zone.clone());
        jiff::fmt::strtime::format(fmt, &zdt).map_err(|e| e.to_string())
    }
}

/// The verdict for one instant.
struct Verdict {
    window: Window,
    instant: Timestamp,
    inside: Option<(Timestamp, Timestamp)>,
    next_open: Option<Timestamp>,
}

fn evaluate(config: &WindowConfig, zone_name: &str, instant: Timestamp) -> Result<Verdict, String> {
    let window = Window::parse(config, zone_name)?;
    let inside = window.containing(instant)?;
    let next_open = window.next_opening(instant)?;
    Ok(Verdict {
        window,
        instant,
        inside,
        next_open,
    })
}

impl Verdict {
    fn outcome(&self, source: &str) -> Outcome {
        match self.render(source) {
            Ok(o) => o,
            Err(reason) => Outcome::error(
                format!("cannot evaluate the deploy window: {reason}"),
                json!({ "instant": self.instant.to_string(), "source": source }),
            ),
        }
    }

    fn render(&self, source: &str) -> Result<Outcome, String> {
        let w = &self.window;
        let local = w.local(self.instant)?;
        let next = match self.next_open {
            Some(t) => Some((t, w.local(t)?)),
            None => None,
        };
        let mut evidence = json!({
            "instant": self.instant.to_string(),
            "source": source,
            "local": local,
            "local_rfc3339": w.format(self.instant, "%Y-%m-%dT%H:%M:%S%:z")?,
            "zone": w.zone_name,
            "abbreviation": w.format(self.instant, "%Z")?,
            "offset": w.format(self.instant, "%:z")?,
            "weekday": w.format(self.instant, "%a")?,
            "window": window_json(&w.config, &w.zone_name),
            "inside": self.inside.is_some(),
            "next_window_opens": next.as_ref().map(|(_, s)| s.clone()),
            "next_window_opens_at": next.as_ref().map(|(t, _)| t.to_string()),
        });
        let next_text = match &next {
            Some((_, s)) => format!("next window opens {s}"),
            None => "no window opens in the next two weeks".into(),
        };
        Ok(match self.inside {
            Some((_, close)) => {
                let closes = w.format(close, "%H:%M %Z")?;
                evidence["closes_at"] = json!(close.to_string());
                evidence["closes"] = json!(w.local(close)?);
                Outcome::pass(
                    format!(
                        "{local} is inside the deploy window ({}); it closes at {closes}",
                        w.describe()
                    ),
                    evidence,
                )
            }
            None => Outcome::fail(
                format!(
                    "{local} is outside the deploy window ({}); {next_text}",
                    w.describe()
                ),
                evidence,
            ),
        })
    }
}

fn window_json(config: &WindowConfig, zone_name: &str) -> serde_json::Value {
    json!({
        "days": config.days,
        "start": config.start,
        "end": config.end,
        "timezone": zone_name,
    })
}

/// Parses `HH:MM` (or `HH:MM:SS`) as a local wall-clock time.
fn parse_hhmm(text: &str) -> Result<Time, String> {
    let bad = || format!("{text:?} is not a time of day; write HH:MM, like \"10:00\"");
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut nums = [0i8; 3];
    for (n, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        nums[n] = p.parse().map_err(|_| bad())?;
    }
    Time::new(nums[0], nums[1], nums[2], 0).map_err(|_| bad())
}

/// `Tue–Thu`, `Mon, Wed, Fri`, `Mon–Wed, Fri` (days sorted and unique).
fn describe_days(days: &[Day]) -> String {
    let mut runs: Vec<(Day, Day)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some((_, last)) if next_day(*last) == Some(d) => *last = d,
            _ => runs.push((d, d)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                day_abbrev(*a).to_string()
            } else {
                format!("{}–{}", day_abbrev(*a), day_abbrev(*b))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn next_day(d: Day) -> Option<Day> {
    use Day::*;
    match d {
        Mon => Some(Tue),
        Tue => Some(Wed),
        Wed => Some(Thu),
        Thu => Some(Fri),
        Fri => Some(Sat),
        Sat => Some(Sun),
        Sun => None,
    }
}

fn day_abbrev(d: Day) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

#[cfg(test)]
mod tests;
