//! The log scanner: many patterns over a log stream at once, in constant memory.
//!
//! - **The message, not the entry**: Fly labels every line an app prints `info`; the app's own
//!   level, panic or 5xx is in the *message*. Each line's shape is recognized (`shape.rs`):
//!   fly-log-shipper's NDJSON and flyctl's entries on one line (the `"message"` string,
//!   decoded), `flyctl logs --json`'s indented objects (the `"message"` member line; every
//!   other line of the object is envelope and never matches), `flyctl logs` text (what follows
//!   `[level]`); any other line is matched whole. Patterns see the message as the app printed
//!   it, and `^` is its start. [`ScanOptions::whole_line`] matches whole lines instead,
//!   envelope included (the way to match an envelope field such as `"level":"error"`).
//! - **Streaming**: [`Scanner::scan_reader`] reads into one fixed buffer
//!   ([`ScanOptions::buffer_size`], 1 MiB by default); lines split across reads are carried
//!   over; nothing grows with the input. A line longer than the buffer is matched whole, in
//!   windows of the buffer's size that overlap by [`LONG_LINE_OVERLAP`] bytes (its envelope
//!   is not told apart; a match longer than the overlap across a window's edge can be missed,
//!   and `^` may match at a window's start); it is counted once, and only its first
//!   [`ScanOptions::max_kept_line`] bytes are kept.
//! - **Bytes**: invalid UTF-8 is matched as bytes and shown lossily; it never stops a scan.
//! - **Many patterns**: candidate lines are found in the raw bytes with each pattern's
//!   *relaxed* form (`relax.rs`: no anchors, JSON escapes allowed, optional ends trimmed, so
//!   it matches wherever the pattern matches the decoded message): a literal prefilter
//!   (Aho-Corasick over each relaxed pattern's rarest required literals, see `prefilter.rs`)
//!   over the buffer, or, when literals would hit too many lines, one lazy DFA over their
//!   alternation run line by line from where each line's message may start (an entry's
//!   envelope is skipped with a memmem, never read by the automaton). Only candidate lines are
//!   taken apart and their message matched with the exact regex set (regex-automata's meta
//!   engine, the one under [`regex::bytes::RegexSet`], without its own prefilter since ours
//!   already ran).
//! - **Counts** per pattern and per app (the Fly app name is read from the line's JSON:
//!   `"app":"name"` or `"app":{…"name":"…"}` as fly-log-shipper writes it; otherwise
//!   [`ScanOptions::app`] or `(unknown)`), and the first [`ScanOptions::keep_first`]
//!   matching lines with their messages.
//!
//! For checks that already hold entries in memory (`fly.logs` reads `flyctl logs --json`),
//! [`Scanner::scan_messages`] takes their messages one by one.

mod patterns;
mod prefilter;
mod relax;
mod scan;
mod shape;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fixtures;

pub use patterns::{
    DEFAULT_LEVELS, DEFAULT_STATUSES, crash_patterns, default_patterns, fly_error_patterns,
    level_pattern, status_pattern,
};

use std::collections::BTreeMap;

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::{MatchKind, meta, util::syntax};
use serde::{Deserialize, Serialize};

/// Lines longer than the buffer are matched in windows that overlap by this many bytes.
pub const LONG_LINE_OVERLAP: usize = 4096;
/// At most this many patterns.
pub const MAX_PATTERNS: usize = 256;
/// The app key for lines that name none.
pub const UNKNOWN_APP: &str = "(unknown)";

/// A named regular expression (Rust `regex` syntax, matched against one line at a time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pattern {
    /// The name in counts.
    pub name: String,
    /// The expression.
    pub regex: String,
}

impl Pattern {
    /// A named pattern.
    pub fn new(name: impl Into<String>, regex: impl Into<String>) -> Pattern {
        Pattern {
            name: name.into(),
            regex: regex.into(),
        }
    }
}

impl From<&str> for Pattern {
    /// A pattern named by its own text.
    fn from(re: &str) -> Pattern {
        Pattern::new(re, re)
    }
}

impl From<String> for Pattern {
    fn from(re: String) -> Pattern {
        Pattern::new(re.clone(), re)
    }
}

/// Why a scanner could not be built or a scan could not finish.
#[derive(Debug, thiserror::Error)]
pub enum LogscanError {
    /// A pattern does not compile.
    #[error("pattern {name:?} is not a valid regular expression: {why}")]
    Pattern {
        /// The pattern's name.
        name: String,
        /// The regex crate's explanation.
        why: String,
    },
    /// No pattern, or more than [`MAX_PATTERNS`].
    #[error("{0}")]
    Patterns(String),
    /// Reading the input failed.
    #[error("reading the log failed: {0}")]
    Read(#[from] std::io::Error),
}

/// How a scan runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Matching lines kept in the report (default 20).
    pub keep_first: usize,
    /// Bytes of a kept line (default 1024; longer lines are cut).
    pub max_kept_line: usize,
    /// The read buffer (default 1 MiB, at least 64 KiB); also the longest line matched whole.
    pub buffer_size: usize,
    /// The app counted for lines that name none (`fly.logs` scans one app at a time).
    pub app: Option<String>,
    /// Match every pattern against the whole line as written, envelope included, instead of
    /// the message (default false).
    pub whole_line: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            keep_first: 20,
            max_kept_line: 1024,
            buffer_size: 1 << 20,
            app: None,
            whole_line: false,
        }
    }
}

/// A compiled set of patterns. Build once, scan many inputs (it is `Sync`).
#[derive(Clone, Debug)]
pub struct Scanner {
    patterns: Vec<Pattern>,
    /// The patterns, exactly, for messages (or whole lines).
    set: meta::Regex,
    /// Each pattern's relaxed form alone, `^`/`$` at line ends, for anchored checks at a
    /// literal hit.
    single: Vec<meta::Regex>,
    /// The relaxed forms as one alternation, over the raw buffer (whole-line scans).
    any: Regex,
    /// The same, line by line from where each line's message may start.
    any_line: meta::Regex,
    shapes: shape::Shapes,
    literals: Vec<Vec<prefilter::Cand>>,
    opts: ScanOptions,
}

impl Scanner {
    /// Compiles `patterns` with the default [`ScanOptions`].
    pub fn new<I, P>(patterns: I) -> Result<Scanner, LogscanError>
    where
        I: IntoIterator<Item = P>,
        P: Into<Pattern>,
    {
        Scanner::with_options(patterns, ScanOptions::default())
    }

    /// Compiles `patterns`; the error names the first one that does not compile.
    pub fn with_options<I, P>(patterns: I, opts: ScanOptions) -> Result<Scanner, LogscanError>
    where
        I: IntoIterator<Item = P>,
        P: Into<Pattern>,
    {
        let patterns: Vec<Pattern> = patterns.into_iter().map(Into::into).collect();
        if patterns.is_empty() || patterns.len() > MAX_PATTERNS {
            return Err(LogscanError::Patterns(format!(
                "between 1 and {MAX_PATTERNS} patterns are needed (got {})",
                patterns.len()
            )));
        }
        const SIZE: usize = 64 << 20;
        /// The lazy DFA's cache (per automaton): bounded, whatever the input.
        const DFA_CACHE: usize = 8 << 20;
        for p in &patterns {
            RegexBuilder::new(&p.regex)
                .size_limit(SIZE)
                .build()
                .map_err(|e| LogscanError::Pattern {
                    name: p.name.clone(),
                    why: e.to_string(),
                })?;
        }
        let too_big =
            |e: regex::Error| LogscanError::Patterns(format!("the patterns together: {e}"));
        let regexes: Vec<&str> = patterns.iter().map(|p| p.regex.as_str()).collect();
        let set = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .auto_prefilter(false)
                    .utf8_empty(false)
                    .nfa_size_limit(Some(SIZE)),
            )
            .syntax(syntax::Config::new().utf8(false))
            .build_many(&regexes)
            .map_err(|e| LogscanError::Patterns(format!("the patterns together: {e}")))?;
        // Candidate lines are found in the raw bytes with the relaxed forms (whole-line scans
        // need none: the line is what is matched).
        let relaxed: Vec<String> = patterns
            .iter()
            .map(|p| {
                if opts.whole_line {
                    Ok(p.regex.clone())
                } else {
                    relax::relaxed(&p.regex).ok_or_else(|| LogscanError::Pattern {
                        name: p.name.clone(),
                        why: "its syntax tree could not be read".into(),
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        let single = relaxed
            .iter()
            .map(|r| {
                meta::Regex::builder()
                    .configure(
                        meta::Config::new()
                            .auto_prefilter(false)
                            .utf8_empty(false)
                            .nfa_size_limit(Some(SIZE)),
                    )
                    .syntax(
                        syntax::Config::new()
                            .utf8(false)
                            .multi_line(true)
                            .crlf(true),
                    )
                    .build(r)
                    .map_err(|e| LogscanError::Patterns(format!("a pattern: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let alternation: Vec<String> = relaxed.iter().map(|r| format!("(?:{r})")).collect();
        let any = RegexBuilder::new(&alternation.join("|"))
            .multi_line(true)
            .crlf(true)
            .size_limit(SIZE)
            .dfa_size_limit(DFA_CACHE)
            .build()
            .map_err(too_big)?;
        let any_line = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .auto_prefilter(false)
                    .utf8_empty(false)
                    .nfa_size_limit(Some(SIZE))
                    .hybrid_cache_capacity(DFA_CACHE),
            )
            .syntax(syntax::Config::new().utf8(false))
            .build_many(&relaxed)
            .map_err(|e| LogscanError::Patterns(format!("the patterns together: {e}")))?;
        let budget = prefilter::budget(patterns.len());
        let literals = relaxed
            .iter()
            .map(|r| prefilter::candidates(r, budget))
            .collect();
        let mut opts = opts;
        opts.buffer_size = opts.buffer_size.max(64 << 10);
        Ok(Scanner {
            patterns,
            set,
            single,
            any,
            any_line,
            shapes: shape::Shapes::new(),
            literals,
            opts,
        })
    }

    /// The patterns, in order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// The options.
    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }
}

/// How many lines matched one pattern.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternCount {
    /// The pattern's name.
    pub name: String,
    /// Its expression.
    pub regex: String,
    /// Lines it matched.
    pub lines: u64,
}

/// One app's matching lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCount {
    /// Lines of the app that matched any pattern.
    pub lines: u64,
    /// Per pattern name (patterns it did not match are left out).
    pub patterns: BTreeMap<String, u64>,
}

/// A matching line kept in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMatch {
    /// Line number, from 1.
    pub line: u64,
    /// The app the line names (or the scan's app).
    pub app: Option<String>,
    /// The names of the patterns it matched.
    pub patterns: Vec<String>,
    /// The line (lossy UTF-8, cut at [`ScanOptions::max_kept_line`] bytes).
    pub text: String,
    /// Whether `text` was cut.
    pub truncated: bool,
    /// The message the patterns matched, decoded, when the line is a Fly entry (lossy
    /// UTF-8, cut at [`ScanOptions::max_kept_line`] bytes and then ending in `…`); none for a
    /// line matched whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a scan found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines that matched any pattern.
    pub matched_lines: u64,
    /// Per pattern, in the scanner's order.
    pub patterns: Vec<PatternCount>,
    /// Per app.
    pub apps: BTreeMap<String, AppCount>,
    /// The first matching lines.
    pub first: Vec<LineMatch>,
    /// Lines longer than the buffer (matched in windows).
    pub long_lines: u64,
    /// How candidate lines were found: `literals (N, …)`, `automaton, line by line from each
    /// message`, or `regex` (whole-line scans).
    pub prefilter: String,
}

impl ScanReport {
    /// Adds `other` (another app's scan with the same patterns) to this one; kept lines stay
    /// within `keep` in order.
    pub fn merge(&mut self, other: ScanReport, keep: usize) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.matched_lines += other.matched_lines;
        self.long_lines += other.long_lines;
        if self.patterns.is_empty() {
            self.patterns = other.patterns;
        } else {
            for (a, b) in self.patterns.iter_mut().zip(other.patterns) {
                a.lines += b.lines;
            }
        }
        for (app, c) in other.apps {
            let mine = self.apps.entry(app).or_default();
            mine.lines += c.lines;
            for (p, n) in c.patterns {
                *mine.patterns.entry(p).or_default() += n;
            }
        }
        let room = keep.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
        if self.prefilter.is_empty() {
            self.prefilter = other.prefilter;
        }
    }

    /// The count of the pattern named `name`.
    pub fn count(&self, name: &str) -> Option<u64> {
        self.patterns
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.lines)
    }
}

impl crate::model::error::HasKind for LogscanError {
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Usage
    }
}
