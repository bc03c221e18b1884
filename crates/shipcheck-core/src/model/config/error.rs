//! Config errors: a missing or unreadable file, or a file with problems, each problem with
//! the span of the offending key or value, its key path, and what to write instead.
//!
//! [`ConfigError::render`] prints them as plain text (no colours) in miette's layout:
//!
//! ```text
//!   × shipcheck.toml:7:1: project.nmae: unknown key `nmae`
//!    ╭─[shipcheck.toml:7:1]
//!  6 │ [project]
//!  7 │ nmae = "maishapoa"
//!    · ──┬─
//!    ·   ╰── unknown key
//!  8 │ timezone = "UTC"
//!    ╰────
//!   help: did you mean `name`? (keys here: `name`, `timezone`, `web_url`)
//! ```

use std::fmt;
use std::path::PathBuf;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use miette::{SourceCode, SourceSpan};

/// Why a config could not be used. Every variant exits with code 2.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigError {
    /// There is no config file.
    #[error(
        "no shipcheck.toml at {} — run `shipcheck init` to write one, or pass `--config PATH`",
        path.display()
    )]
    #[diagnostic(code(shipcheck::config::not_found))]
    NotFound {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(
        code(shipcheck::config::read),
        help("check that the file is readable, or pass another file with `--config PATH`")
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file has one or more problems.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidConfig>),
}

impl ConfigError {
    /// Every problem found in the file, in file order (empty for `NotFound` and `Read`).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid(inv) => &inv.problems,
            _ => &[],
        }
    }

    /// The error as plain text (no colours): for each problem, `file:line:column`, the key
    /// path, the message, the offending line with the key or value marked, and the help.
    ///
    /// A problem near a line longer than [`SNIPPET_LINE_MAX`] characters is shown with an
    /// excerpt of its line instead: miette's snippet would print the whole line, and panics
    /// on a column past 65,535.
    pub fn render(&self) -> String {
        if let ConfigError::Invalid(inv) = self
            && inv.near_a_long_line()
        {
            return inv.render_excerpts();
        }
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_links(false)
            .with_width(200);
        let mut out = String::new();
        if handler.render_report(&mut out, self).is_err() {
            // Rendering only fails on a span outside the text; say it plainly instead.
            out = self.to_string();
            for p in self.problems() {
                out.push_str(&format!("\n{p}"));
                if let Some(h) = &p.help {
                    out.push_str(&format!("\n  help: {h}"));
                }
            }
        }
        out
    }
}

/// A config file with problems. The first problem is the diagnostic itself; the others are
/// its related diagnostics, so a renderer shows all of them.
#[derive(Debug)]
pub struct InvalidConfig {
    /// The file.
    pub path: PathBuf,
    /// The file's name and text, for the snippets.
    pub src: NamedSource<String>,
    /// At least one problem, in file order.
    pub problems: Vec<Problem>,
}

/// Lines up to this many characters are shown whole in a snippet; around a longer one a
/// problem is shown with an excerpt of its line.
pub const SNIPPET_LINE_MAX: usize = 400;

/// Characters of the line shown before and after a problem's start in an excerpt.
const EXCERPT_BEFORE: usize = 40;
const EXCERPT_AFTER: usize = 80;

impl InvalidConfig {
    /// Whether a line a snippet would show (the problem's lines and one either side) is
    /// longer than [`SNIPPET_LINE_MAX`] characters.
    fn near_a_long_line(&self) -> bool {
        let text = self.src.inner().as_str();
        let lines: Vec<&str> = text.split('\n').collect();
        let line_of = |offset: usize| {
            let offset = floor_char_boundary(text, offset);
            text[..offset].matches('\n').count()
        };
        self.problems.iter().any(|p| {
            let first = line_of(p.span.offset()).saturating_sub(1);
            let last = line_of(p.span.offset() + p.span.len()) + 1;
            lines
                .iter()
                .take(last + 1)
                .skip(first)
                .any(|l| l.len() > SNIPPET_LINE_MAX && l.chars().count() > SNIPPET_LINE_MAX)
        })
    }

    /// Every problem with an excerpt of its line (control characters shown as spaces) and a
    /// mark under the problem, then its help.
    fn render_excerpts(&self) -> String {
        let text = self.src.inner().as_str();
        let mut out = String::new();
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("  × {p}\n"));
            let start = floor_char_boundary(text, p.span.offset());
            let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
            let line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            let line = &text[line_start..line_end];
            let at = text[line_start..start].chars().count();
            let end = floor_char_boundary(text, (p.span.offset() + p.span.len()).min(line_end));
            let marked = text[start..end.max(start)]
                .chars()
                .count()
                .clamp(1, EXCERPT_AFTER);
            let total = line.chars().count();
            let from = at.saturating_sub(EXCERPT_BEFORE);
            let to = total.min(at + marked + EXCERPT_AFTER);
            let shown: String = line
                .chars()
                .skip(from)
                .take(to - from)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let (pre, post) = (
                if from > 0 { "…" } else { "" },
                if to < total { "…" } else { "" },
            );
            out.push_str(&format!(
                "   │ line {}, {total} characters; from column {}:\n",
                p.line,
                from + 1
            ));
            out.push_str(&format!("   │ {pre}{shown}{post}\n"));
            out.push_str(&format!(
                "   │ {}{} {}\n",
                " ".repeat(at - from + pre.chars().count()),
                "^".repeat(marked),
                p.label
            ));
            if let Some(h) = &p.help {
                out.push_str(&format!("  help: {h}\n"));
            }
        }
        out
    }
}

/// The largest char boundary of `text` at or before `offset`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.first() {
            Some(first) if self.problems.len() > 1 => {
                write!(f, "{first} (1 of {} problems)", self.problems.len())
            }
            Some(first) => write!(f, "{first}"),
            None => write!(f, "{}: invalid config", self.path.display()),
        }
    }
}

impl std::error::Error for InvalidConfig {}

impl Diagnostic for InvalidConfig {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("shipcheck::config::invalid"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problems.first().and_then(|p| p.help())
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.problems.first().and_then(|p| p.labels())
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.problems.len() < 2 {
            return None;
        }
        Some(Box::new(
            self.problems[1..].iter().map(|p| p as &dyn Diagnostic),
        ))
    }
}

/// One problem in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file's name as shown (`shipcheck.toml`).
    pub file: String,
    /// The key path (`environments.production.apps[0].health_url`); empty for a syntax error
    /// outside any key.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    /// The short text next to the marked span.
    pub label: String,
    /// The offending key or value in the text.
    pub span: SourceSpan,
    /// 1-based line of the span's start.
    pub line: usize,
    /// 1-based column (in characters) of the span's start.
    pub column: usize,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span),
        )))
    }
}

impl crate::model::error::HasKind for ConfigError {
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Config
    }
}
