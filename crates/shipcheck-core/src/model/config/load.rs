//! Loading `shipcheck.toml`: parse, deserialize, validate, and resolve the checklist, with
//! every problem in the file reported at once, each at its key or value.
//!
//! Deserializing stops at the first error, so to report more than one the loader removes the
//! offending entry (the array element or top-level table it sits in) from its parsed copy and
//! deserializes again, up to [`MAX_PROBLEMS`] times. The problems always point into the text
//! as written.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::NamedSource;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::model::checklist::Checklist;
use crate::model::config::describe::{self, Located};
use crate::model::config::error::{InvalidConfig, Problem};
use crate::model::config::span::{self, Seg, Tree};
use crate::model::config::validate::{Issue, validate};
use crate::model::config::{ConfigError, model::Config};

/// The file name shipcheck looks for.
pub const CONFIG_FILE: &str = "shipcheck.toml";

/// At most this many problems are reported for one file.
pub const MAX_PROBLEMS: usize = 25;

/// A config with where it came from.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The config.
    pub config: Config,
    /// The checklist it resolves to.
    pub checklist: Checklist,
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub source: String,
}

impl LoadedConfig {
    /// The config file's directory (relative paths in the config are relative to it).
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// `shipcheck.toml` in `start` or the nearest of its parents that has one.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(CONFIG_FILE))
        .find(|p| p.is_file())
}

/// Reads and validates a file. A missing file is [`ConfigError::NotFound`].
pub fn load_file(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let source = match read_capped(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    load_str(path, &source)
}

/// The largest config file read: a real `shipcheck.toml` is a few KiB (the seed's is about
/// 10 KiB); anything past this is not a config (`/dev/zero`, a log written over it).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads at most [`MAX_CONFIG_BYTES`] (+1 to tell a longer file), as UTF-8.
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} MiB, the most shipcheck reads of a config file",
                MAX_CONFIG_BYTES >> 20
            ),
        ));
    }
    String::from_utf8(buf).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it is not UTF-8 text (TOML files are UTF-8)",
        )
    })
}

/// Parses and validates text as if it were the file at `path` (which names it in errors).
pub fn load_str(path: &Path, source: &str) -> Result<LoadedConfig, ConfigError> {
    let (tree, syntax) = DeTable::parse_recoverable(source);
    let tree: Tree<'_> = Spanned::new(tree.span(), DeValue::Table(tree.into_inner()));
    if !syntax.is_empty() {
        let found = syntax
            .iter()
            .take(MAX_PROBLEMS)
            .map(|e| describe::syntax(&tree, e, source.len()))
            .collect();
        return Err(invalid(path, source, found));
    }

    let (mut config, mut found, removed) = deserialize(&tree);
    if let Some(c) = config.as_mut()
        && c.monitor.db_connections_max.is_none()
    {
        // One ceiling for the database's connections: the watch uses `verify`'s unless told.
        c.monitor.db_connections_max = c
            .database
            .as_ref()
            .map(|d| d.max_connections_ratio)
            .filter(|r| r.is_finite() && *r > 0.0 && *r <= 1.0)
            .map(|r| r * 100.0);
    }
    let mut issues = match &config {
        Some(c) => validate(c),
        None => Vec::new(),
    };
    let mut checklist = None;
    // The checklist is resolved only when nothing it reads was dropped above; otherwise its
    // problems could be echoes of ones already reported.
    if let Some(c) = &config
        && !removed.contains("checklist")
        && !removed.contains("environments")
    {
        match Checklist::from_config(c) {
            Ok(list) => checklist = Some(list),
            Err(problems) => issues.extend(problems.into_iter().map(|p| {
                let (message, help) = match p.message.split_once("; ") {
                    Some((m, h)) => (m.to_string(), Some(h.to_string())),
                    None => (p.message.clone(), checklist_help(&p.message)),
                };
                Issue {
                    path: p.path,
                    message,
                    help,
                    at_key: false,
                    label: "here",
                }
            })),
        }
    }
    found.extend(issues.into_iter().map(|i| locate(&tree, i)));

    match (config, checklist) {
        (Some(config), Some(checklist)) if found.is_empty() => Ok(LoadedConfig {
            config,
            checklist,
            path: path.to_path_buf(),
            source: source.to_string(),
        }),
        _ => Err(invalid(path, source, found)),
    }
}

/// What to write instead, for the checklist's problems whose message does not say it.
fn checklist_help(message: &str) -> Option<String> {
    if message.starts_with("rerun names") {
        Some("a rerun repeats items with automatic checks: keep the named item enabled, or change this item's `items` (a built-in item: override its check or disable it too)".into())
    } else if message.starts_with("health check names environment") {
        Some("add that environment's apps as [[environments.NAME.apps]], or name an environment that has them".into())
    } else {
        None
    }
}

/// Deserializes the document; on an error, records it, drops the entry it is in and tries
/// again. Returns the config (if a version of the document deserialized), the problems, and
/// the top-level keys that were dropped.
fn deserialize(tree: &Tree<'_>) -> (Option<Config>, Vec<Located>, BTreeSet<String>) {
    let mut work = tree.clone();
    let mut found: Vec<Located> = Vec::new();
    let mut removed = BTreeSet::new();
    loop {
        let err = match Config::deserialize(ValueDeserializer::from(work.clone())) {
            Ok(config) => return (Some(config), found, removed),
            Err(e) => e,
        };
        let located = describe::deserialize(tree, &err);
        if !found.contains(&located) {
            found.push(located);
        }
        // The working copy has lost entries, so its indices differ from the text's: find the
        // entry to drop by the error's span, which both copies share. Drop a whole table (an
        // app, an item) or a whole top-level section, never a value inside one, so that
        // validation does not then report the hole (`days = []`, a command without argv).
        let at = span::path_at(&work, &err.span().unwrap_or(0..0));
        let element = (0..at.len()).rev().find(|&i| {
            matches!(at[i], Seg::Index(_))
                && span::node_at(&work, &at[..=i])
                    .is_some_and(|n| matches!(n.get_ref(), DeValue::Table(_)))
        });
        let target = match element {
            Some(i) => &at[..=i],
            None => &at[..at.len().min(1)],
        };
        if found.len() >= MAX_PROBLEMS || target.is_empty() || !span::remove(&mut work, target) {
            return (None, found, removed);
        }
        if let Some(Seg::Key(k)) = target.first() {
            removed.insert(k.clone());
        }
    }
}

fn locate(tree: &Tree<'_>, issue: Issue) -> Located {
    let path = span::parse_path(&issue.path);
    let span = span::span_of(tree, &path, issue.at_key);
    // Keep the key path as written when it could not be read whole
    // (`checklist (built-in item x)`).
    let written = (span::format_path(&path) != issue.path).then_some(issue.path);
    Located {
        path,
        written,
        span,
        message: issue.message,
        help: issue.help,
        label: issue.label.into(),
    }
}

fn invalid(path: &Path, source: &str, mut found: Vec<Located>) -> ConfigError {
    let file = path.display().to_string();
    found.sort_by_key(|l| (l.span.start, l.span.end));
    found.dedup();
    let problems = found
        .into_iter()
        .map(|l| problem(&file, source, l))
        .collect();
    ConfigError::Invalid(Box::new(InvalidConfig {
        path: path.to_path_buf(),
        src: NamedSource::new(file, source.to_string()),
        problems,
    }))
}

fn problem(file: &str, source: &str, l: Located) -> Problem {
    let Range { start, end } = l.span;
    let start = start.min(source.len());
    let end = end.clamp(start, source.len());
    let (line, column) = span::line_col(source, start);
    let key = l.written.unwrap_or_else(|| span::format_path(&l.path));
    Problem {
        file: file.to_string(),
        key,
        message: l.message,
        help: l.help,
        label: l.label,
        span: (start, end - start).into(),
        line,
        column,
    }
}
