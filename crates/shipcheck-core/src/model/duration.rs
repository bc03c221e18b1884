//! Durations as users write them in `shipcheck.toml` and on the command line:
//! `"30s"`, `"15m"`, `"2h"`, `"1h 30m"`, `"500ms"`.

use crate::model::error::Invalid;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration that (de)serializes as a friendly string such as `"15m"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub Duration);

impl Span {
    /// From whole seconds.
    pub const fn secs(s: u64) -> Self {
        Span(Duration::from_secs(s))
    }
    /// From milliseconds.
    pub const fn millis(ms: u64) -> Self {
        Span(Duration::from_millis(ms))
    }
    /// The std duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

/// The longest duration [`parse`] reads (about 31 years).
const MAX: Duration = Duration::from_secs(1_000_000_000);

/// Parses `"30s"`, `"15m"`, `"2h"`, `"1h30m"`, `"1h 30m"`, `"500ms"`, `"2d"`.
pub fn parse(text: &str) -> Result<Duration, Invalid> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write for example \"30s\", \"15m\" or \"2h\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "invalid duration {text:?}: expected a number followed by a unit (ms, s, m, h, d)"
            )
            .into());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| {
            format!(
                "invalid duration {text:?}: bad number {:?}",
                &rest[..digits]
            )
        })?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "ms" => number / 1000.0,
            "s" | "sec" | "secs" => number,
            "m" | "min" | "mins" => number * 60.0,
            "h" | "hr" | "hrs" => number * 3600.0,
            "d" | "day" | "days" => number * 86400.0,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit after {number}; write for example \"{number}s\""
                ).into());
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?} (use ms, s, m, h or d)"
                )
                .into());
            }
        };
        if !secs.is_finite() || !(0.0..=MAX.as_secs_f64()).contains(&secs) {
            return Err(format!("invalid duration {text:?}: out of range").into());
        }
        total += Duration::from_secs_f64(secs);
        // The sum too, or it would format as text that does not parse back.
        if total > MAX {
            return Err(format!("invalid duration {text:?}: out of range").into());
        }
    }
    Ok(total)
}

/// Formats a duration the way [`parse`] reads it: `"2h"`, `"15m"`, `"1m 30s"`, `"250ms"`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let mut secs = d.as_secs();
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            parts.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    parts.join(" ")
}

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s).map(Span).map_err(String::from)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format(self.0))
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(self.0))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map(Span).map_err(serde::de::Error::custom)
    }
}

/// In `shipcheck.toml` a span is a string: a number and a unit (`ms`, `s`, `m`, `h`, `d`),
/// several parts allowed (`30s`, `15m`, `1h 30m`, `1.5s`).
impl schemars::JsonSchema for Span {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Span".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration: a number and a unit (ms, s, m, h, d), several parts allowed: `30s`, `15m`, `1h 30m`, `1.5s`.",
            "pattern": SPAN_PATTERN,
        })
    }
}

/// The shape of a span as a regular expression (what [`parse`] accepts, but for its range).
pub const SPAN_PATTERN: &str = r"^\s*([0-9.]+\s*(ms|s|secs?|m|mins?|h|hrs?|d|days?)\s*)+$";

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's pattern accepts what `parse` accepts and refuses its shape errors.
    #[test]
    fn the_schema_pattern_agrees_with_parse() {
        let re = regex::Regex::new(SPAN_PATTERN).unwrap();
        for ok in [
            "30s", "15m", "2h", "1h 30m", "1h30m", "250ms", "1.5s", " 2d ", "3 mins",
        ] {
            assert!(parse(ok).is_ok() && re.is_match(ok), "{ok}");
        }
        for bad in ["", "15", "15 parsecs", "m", "fast", "-1s"] {
            assert!(parse(bad).is_err() && !re.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn parses_friendly_forms() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
    }

    #[test]
    fn rejects_bad_forms_with_reason() {
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("15").unwrap_err().contains("missing unit"));
        assert!(parse("15 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse("m").unwrap_err().contains("expected a number"));
    }

    #[test]
    fn formats_round_trip() {
        for s in ["2h", "15m", "1m 30s", "250ms", "1d 2h"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }

    /// Each part was bounded, the sum was not: `"1000000000s 1000000000s"` parsed to a span
    /// that formats as `"23148d 3h 33m 20s"`, which does not parse, so a journal holding it
    /// could not be read back. Found by the `duration` fuzz target.
    #[test]
    fn a_total_past_the_limit_is_out_of_range() {
        let err = parse("1000000000s 1000000000s").unwrap_err();
        assert!(err.contains("out of range"), "{err}");
        let max = parse("1000000000s").unwrap();
        assert_eq!(parse(&format(max)).unwrap(), max);
        let span: Span = "11574d 1h 46m 40s".parse().unwrap();
        let json = serde_json::to_string(&span).unwrap();
        assert_eq!(serde_json::from_str::<Span>(&json).unwrap(), span);
    }
}
