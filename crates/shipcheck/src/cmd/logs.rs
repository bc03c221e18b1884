//! `shipcheck logs scan [FILE|-]`: the log scanner on a file or standard input.

use std::path::Path;

use shipcheck_core::logscan::{self, Pattern, ScanOptions, ScanReport, Scanner};

use crate::cli::Global;
use crate::errors::CliError;
use crate::json::{self, docs};

pub fn scan(
    g: &Global,
    file: Option<&Path>,
    patterns: &[String],
    first: usize,
    whole_line: bool,
) -> Result<u8, CliError> {
    let patterns: Vec<Pattern> = if patterns.is_empty() {
        logscan::default_patterns()
    } else {
        patterns.iter().map(|p| Pattern::from(p.as_str())).collect()
    };
    let opts = ScanOptions {
        keep_first: first,
        whole_line,
        ..ScanOptions::default()
    };
    let scanner = Scanner::with_options(patterns, opts)?;
    let (source, report) = match file {
        Some(p) if p != Path::new("-") => {
            let f = std::fs::File::open(p).map_err(|source| CliError::Io {
                what: format!("opening {}", p.display()),
                source,
            })?;
            (p.display().to_string(), scanner.scan_reader(f)?)
        }
        _ => (
            "-".to_string(),
            scanner.scan_reader(std::io::stdin().lock())?,
        ),
    };
    if g.json {
        json::print(
            "logs_scan",
            &docs::LogsScan {
                source: source.clone(),
                report: report.clone(),
            },
        );
    } else {
        print_text(&source, &report);
    }
    Ok(if report.matched_lines > 0 { 1 } else { 0 })
}

fn print_text(source: &str, r: &ScanReport) {
    say!(
        "{source}: {} line(s), {} byte(s), {} matched",
        r.lines,
        r.bytes,
        r.matched_lines
    );
    let width = r.patterns.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in &r.patterns {
        say!("  {:<width$}  {}", p.name, p.lines);
    }
    if !r.apps.is_empty() {
        say!("per app:");
        for (app, c) in &r.apps {
            let parts: Vec<String> = c.patterns.iter().map(|(p, n)| format!("{p} {n}")).collect();
            say!("  {app}: {} line(s) ({})", c.lines, parts.join(", "));
        }
    }
    if !r.first.is_empty() {
        say!("first matches:");
        for m in &r.first {
            // A Fly entry shows its message (what matched); other lines show themselves.
            let (shown, cut) = match &m.message {
                Some(msg) => (msg.as_str(), false),
                None => (m.text.as_str(), m.truncated),
            };
            say!(
                "  {}: [{}] {}{}",
                m.line,
                m.patterns.join(", "),
                shown,
                if cut { " …" } else { "" }
            );
        }
    }
    if r.long_lines > 0 {
        say!(
            "note: {} line(s) longer than the 1 MiB buffer were matched in overlapping windows",
            r.long_lines
        );
    }
}
