//! Terminal output: live progress of checks (spinners on a terminal, plain lines
//! otherwise), and the text forms of step reports and runs.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use shipcheck_core::engine::StepReport;
use shipcheck_core::journal::state::{ItemState, RunState};
use shipcheck_core::model::outcome::{Outcome, Status};
use shipcheck_core::runs::stream::{EngineEvent, Observer};

/// Whether stdout is a terminal.
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

static NO_PROMPTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Never prompt, whatever stdin is (in CI: a manual item stops the job with the command a
/// person runs).
pub fn no_prompts() {
    NO_PROMPTS.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether stdin is a terminal and prompts are allowed.
pub fn stdin_is_tty() -> bool {
    !NO_PROMPTS.load(std::sync::atomic::Ordering::SeqCst) && std::io::stdin().is_terminal()
}

/// Shows checks as they run: spinners on a terminal, one line per finished check otherwise,
/// nothing with `--json` (stdout stays machine-readable).
pub struct Progress {
    quiet: bool,
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    watch: crate::watch_output::WatchDisplay,
}

impl Progress {
    /// A progress display for this terminal.
    pub fn new(json: bool) -> Progress {
        let tty = !json && std::io::stderr().is_terminal();
        Progress {
            quiet: json,
            multi: tty.then(MultiProgress::new),
            bars: Mutex::new(HashMap::new()),
            watch: Default::default(),
        }
    }
}

impl Observer for Progress {
    fn on_watch(&self, event: &shipcheck_core::runs::stream::WatchEvent) {
        if !self.quiet {
            self.watch.show(event);
        }
    }

    fn on_event(&self, event: EngineEvent<'_>) {
        if self.quiet {
            return;
        }
        match event {
            EngineEvent::Started { item } => {
                if let Some(m) = &self.multi {
                    let bar = m.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_message(clean(&format!("{} — {}", item.id, item.title)));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    if let Ok(mut bars) = self.bars.lock() {
                        bars.insert(item.id.clone(), bar);
                    }
                }
            }
            EngineEvent::Progress { item, elapsed } => {
                if self.multi.is_none() {
                    say_err!("  … {} still running ({}s)", item.id, elapsed.as_secs());
                }
            }
            EngineEvent::Finished { item, outcome } => {
                let line = outcome_line(&item.id, outcome);
                let bar = self.bars.lock().ok().and_then(|mut b| b.remove(&item.id));
                match bar {
                    Some(bar) => {
                        bar.finish_and_clear();
                        if let Some(m) = &self.multi {
                            let _ = m.println(clean(&line));
                        }
                    }
                    None => say!("{line}"),
                }
            }
        }
    }
}

/// `  ✓ prepare.window  pass  12ms  summary`
pub fn outcome_line(id: &str, o: &Outcome) -> String {
    format!(
        "  {} {id}  {}  {}ms  {}",
        status_mark(o.status),
        o.status.as_str(),
        o.duration_ms,
        o.summary
    )
}

fn status_mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Error => "!",
    }
}

/// The mark for an item state.
pub fn state_mark(s: ItemState) -> &'static str {
    match s {
        ItemState::Pass | ItemState::Done => "[x]",
        ItemState::Waived => "[w]",
        ItemState::NotRequired => "[-]",
        ItemState::Fail => "[✗]",
        ItemState::Error => "[!]",
        ItemState::Pending => "[ ]",
    }
}

/// Text for one step.
pub fn print_step(run: &RunState, report: &StepReport) {
    for (id, plan) in &report.planned {
        say!("{id} would run:");
        for line in plan {
            say!("    {line}");
        }
    }
    match (report.phase, report.advanced) {
        (Some(p), true) => match report.now_in {
            Some(n) => say!("phase {p} complete → now in {n}"),
            None => say!(
                "phase {p} complete → every phase is done; review with `shipcheck report` and sign with `shipcheck sign`"
            ),
        },
        (Some(p), false) => {
            say!("phase {p} waits for {} item(s):", report.needs.len());
            for n in &report.needs {
                say!("  {:<8} {}  {}", n.need, n.item, n.title);
                say!("           {}", n.detail);
            }
        }
        (None, _) => say!("run {} is {}", run.id, run.status.as_str()),
    }
}

/// The secret values of this process's environment (the ones the config names and the ones
/// whose names say so), kept out of everything printed.
static SECRETS: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Keeps `values` out of everything printed from now on.
pub fn add_secrets(values: impl IntoIterator<Item = String>) {
    let mut s = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for v in values {
        if !s.contains(&v) {
            s.push(v);
        }
    }
}

/// Text from outside (command output, notes, waiver reasons, names, API messages, URLs) made
/// safe to print: secrets and their identifying fragments removed, URL passwords masked, and
/// control characters (escape sequences, carriage returns, bidirectional overrides) shown as
/// `\u{1b}` instead of acting on the terminal. Newlines and tabs stay. Every line shipcheck
/// prints goes through here ([`write_out`], [`write_err`], the progress display).
pub fn clean(text: &str) -> String {
    let redacted = {
        let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        shipcheck_core::model::redact::redact(text, &secrets)
    };
    let masked = shipcheck_core::model::redact::mask_url_passwords(&redacted);
    escape_controls(&masked)
}

/// Control characters (but newline and tab; `\r\n` becomes a newline) and bidirectional
/// formatting characters as `\u{…}` escapes.
pub fn escape_controls(text: &str) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    // A Windows line ending is a line ending, not a carriage return to show.
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes to stdout; a closed pipe (`shipcheck plan | head`) ends the process quietly with
/// success, as ripgrep and jj do. The text goes through [`clean`].
pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let text = clean(&args.to_string());
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(2);
    }
}

/// Writes to stderr, through [`clean`].
pub fn write_err(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let text = clean(&args.to_string());
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Asks a question on the terminal and returns the trimmed answer.
pub fn ask(prompt: &str) -> Result<String, crate::errors::CliError> {
    say_raw!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| crate::errors::CliError::Io {
            what: "reading your answer".into(),
            source,
        })?;
    Ok(line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn controls_are_escaped_and_lines_kept() {
        assert_eq!(escape_controls("a\tb\nc"), "a\tb\nc");
        assert_eq!(escape_controls("x\u{1b}[2Jy"), "x\\u{1b}[2Jy");
        assert_eq!(escape_controls("ok\r\nnext\rover"), "ok\nnext\\u{d}over");
        assert_eq!(escape_controls("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
        assert_eq!(escape_controls("\u{9b}31m"), "\\u{9b}31m");
    }
}
