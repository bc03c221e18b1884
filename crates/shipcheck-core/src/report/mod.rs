//! Reports of a run, all from one model: Markdown in the seed's layout ([`markdown`]),
//! versioned JSON ([`json`]) and JUnit XML with one testcase per item ([`junit`]). The
//! success criteria of the seed are computed in [`criteria`].

pub mod cdevents;
pub mod criteria;
pub mod dora;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod markers;
pub mod watch;

/// A report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The seed's layout.
    Markdown,
    /// `shipcheck/v1` JSON.
    Json,
    /// JUnit XML.
    Junit,
}

/// Renders a run in a format. `tz` is the IANA zone times are shown in.
pub fn render(run: &crate::journal::state::RunState, format: Format, tz: &str) -> String {
    match format {
        Format::Markdown => markdown::render(run, tz),
        Format::Json => json::render(run),
        Format::Junit => junit::render(run),
    }
}

/// Formats an instant in a zone as `2026-11-24 10:15 CET` (falls back to UTC).
pub fn local_time(t: jiff::Timestamp, tz: &str) -> String {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string()
}
