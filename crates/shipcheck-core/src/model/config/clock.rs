//! `[clock]`: how fast time runs. A real deployment leaves it out and runs on the wall clock.
//! A rehearsal (`shipcheck demo`) runs the seed's 2-hour watch in well under a minute by
//! saying so here — the engine only ever asks its clock, so nothing else differs.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The fastest `speed` accepted.
pub const MAX_SPEED: f64 = 10_000.0;

/// `[clock]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// Time runs this many times faster than the wall clock (default 1: real time).
    #[serde(default = "one")]
    pub speed: f64,
    /// The wall-clock instant the scaled time is counted from (RFC 3339). Every shipcheck
    /// process reading the file computes the same "now" from it, so a run resumed by another
    /// process (or after a crash) sees time go on, never back. Required with `speed` or
    /// `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "timestamp")]
    pub since: Option<Timestamp>,
    /// The instant `since` stands for (default: `since` itself). A rehearsal sets it inside
    /// the deploy window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "timestamp")]
    pub start: Option<Timestamp>,
}

/// An RFC 3339 instant, written as a string (`"2026-12-01T09:00:00Z"`).
fn timestamp(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "format": "date-time"})
}

fn one() -> f64 {
    1.0
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            speed: 1.0,
            since: None,
            start: None,
        }
    }
}

impl ClockConfig {
    /// Whether this is the wall clock (no `[clock]` table, or one that changes nothing).
    pub fn is_wall_clock(&self) -> bool {
        self.speed == 1.0 && self.start.is_none()
    }

    /// The problems of this table: (key, message, help).
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        if !self.speed.is_finite() || !(1.0..=MAX_SPEED).contains(&self.speed) {
            out.push((
                "clock.speed",
                format!("speed {} is out of range", self.speed),
                format!("write a number from 1 (real time) to {MAX_SPEED}, like speed = 180"),
            ));
        }
        if !self.is_wall_clock() && self.since.is_none() {
            out.push((
                "clock.speed",
                "a scaled or shifted clock needs `since`".to_string(),
                "add since = \"2026-12-01T09:00:00Z\" (the wall-clock instant the scaled time counts from), so every shipcheck process agrees on the time".to_string(),
            ));
        }
        out
    }
}
