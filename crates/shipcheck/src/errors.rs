//! The one place errors become exit codes and messages on stderr.
//!
//! Exit codes (a public contract, documented in README.md):
//! 0 success (`Ok(0)`) · 1 a check or gate failed · 2 usage or config error ·
//! 3 an integration could not be reached or answered nonsense · 4 the deploy lock is held.

use shipcheck_core::loadtest::LoadtestError;
use shipcheck_core::logscan::LogscanError;
use shipcheck_core::model::config::ConfigError;
use shipcheck_core::model::error::{ErrorKind, HasKind};
use shipcheck_core::runs::RunError;
use shipcheck_core::store::StoreError;

/// Usage or config error.
pub const EXIT_USAGE: u8 = 2;
/// An integration could not be reached or answered nonsense.
pub const EXIT_INTEGRATION: u8 = 3;
/// The deploy lock is held by someone else.
pub const EXIT_LOCKED: u8 = 4;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `shipcheck.toml` is missing or wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run's rules refused the operation.
    #[error(transparent)]
    Run(RunError),
    /// The load test refused its target or options, or could not reach it.
    #[error(transparent)]
    Loadtest(#[from] LoadtestError),
    /// The log scanner refused a pattern or could not read its input.
    #[error(transparent)]
    Logscan(#[from] LogscanError),
    /// Bad usage the parser could not catch.
    #[error("{0}")]
    Usage(String),
    /// An integration could not be reached or answered nonsense.
    #[allow(dead_code)] // constructed by the rollback and stop commands
    #[error("{0}")]
    Integration(String),
    /// Reading or writing a file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl From<RunError> for CliError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Store(s) => CliError::Store(s),
            other => CliError::Run(other),
        }
    }
}

/// The documented exit code of each kind of failure: the one place kinds become numbers.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Failed => 1,
        ErrorKind::Config | ErrorKind::Usage => EXIT_USAGE,
        ErrorKind::Integration => EXIT_INTEGRATION,
        ErrorKind::Locked | ErrorKind::Conflict => EXIT_LOCKED,
    }
}

/// Prints the `error` document of a command line the parser refused (exit 2).
pub fn print_usage_json(message: &str) {
    let first = message.lines().next().unwrap_or_default();
    crate::json::print(
        "error",
        &crate::json::docs::ErrorDoc {
            error: crate::json::docs::ErrorBody {
                kind: crate::json::docs::KindName(kind_name(ErrorKind::Usage)),
                message: first.strip_prefix("error: ").unwrap_or(first).to_string(),
                exit_code: EXIT_USAGE,
            },
        },
    );
}

/// Every kind, in the order docs/json.md lists them.
pub const ERROR_KINDS: [ErrorKind; 6] = [
    ErrorKind::Config,
    ErrorKind::Usage,
    ErrorKind::Integration,
    ErrorKind::Conflict,
    ErrorKind::Locked,
    ErrorKind::Failed,
];

/// The name of a kind in the `error` document.
pub fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Config => "config",
        ErrorKind::Usage => "usage",
        ErrorKind::Integration => "integration",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Locked => "locked",
        ErrorKind::Failed => "failed",
    }
}

impl CliError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CliError::Config(e) => e.kind(),
            CliError::Store(e) => e.kind(),
            CliError::Run(e) => e.kind(),
            CliError::Loadtest(e) => e.kind(),
            CliError::Logscan(e) => e.kind(),
            CliError::Usage(_) | CliError::Io { .. } => ErrorKind::Usage,
            CliError::Integration(_) => ErrorKind::Integration,
        }
    }

    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        exit_code(self.kind())
    }

    /// Prints the `error` document on stdout (under `--json`).
    pub fn print_json(&self) {
        let message = match self {
            CliError::Config(e) => e.to_string(),
            other => other.to_string(),
        };
        crate::json::print(
            "error",
            &crate::json::docs::ErrorDoc {
                error: crate::json::docs::ErrorBody {
                    kind: crate::json::docs::KindName(kind_name(self.kind())),
                    message,
                    exit_code: self.exit_code(),
                },
            },
        );
    }

    /// Prints the error to stderr (config errors with their source excerpt).
    pub fn print(&self) {
        match self {
            CliError::Config(e) => say_err!("{}", e.render()),
            other => say_err!("error: {other}"),
        }
    }
}
