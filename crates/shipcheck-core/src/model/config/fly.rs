//! `[fly]`: how shipcheck runs flyctl and reads what it says.
//!
//! The token is not configured here: flyctl reads `FLY_ACCESS_TOKEN` (preferred) or
//! `FLY_API_TOKEN` from the environment, which shipcheck passes through untouched and never
//! prints ([`FLY_TOKEN_VARS`]).

use serde::{Deserialize, Serialize};

use crate::model::duration::Span;

/// The environment variables flyctl reads its token from, in flyctl's order of precedence.
pub const FLY_TOKEN_VARS: [&str; 2] = ["FLY_ACCESS_TOKEN", "FLY_API_TOKEN"];

/// `[fly]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlyConfig {
    /// The flyctl program and any leading arguments (default `["flyctl"]`). A list, so a
    /// stand-in can be named: `["/path/shipcheck", "sandbox", "flyctl"]`.
    #[serde(default = "default_command")]
    pub command: Vec<String>,
    /// Timeout of one flyctl call that reads (default 60s). `logs` is cut at this timeout,
    /// since `flyctl logs --no-tail` may not return when there are no new lines.
    #[serde(default = "sixty_seconds")]
    pub timeout: Span,
    /// How much log after a deploy `fly.logs` scans (default 5m, the seed's "first 5 minutes").
    #[serde(default = "five_minutes")]
    pub logs_window: Span,
    /// What counts as an error line in the logs.
    #[serde(default)]
    pub error_patterns: ErrorPatterns,
    /// Timeout of one `flyctl deploy` or `flyctl scale count` (default 10m).
    #[serde(default = "ten_minutes")]
    pub deploy_timeout: Span,
}

impl Default for FlyConfig {
    fn default() -> Self {
        FlyConfig {
            command: default_command(),
            timeout: sixty_seconds(),
            logs_window: five_minutes(),
            error_patterns: ErrorPatterns::default(),
            deploy_timeout: ten_minutes(),
        }
    }
}

/// `[fly.error_patterns]`: what makes a log entry an error line. Every part is matched
/// against the entry's **message** (what the app printed), never its envelope: Fly labels
/// every app line `info`, so the app's own level, panic or 5xx is only in the message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorPatterns {
    /// The app's own log levels that are errors, compared without case (default `["error",
    /// "fatal", "critical"]`): the level word at the start of the message (after timestamps
    /// and `[tags]`), logfmt `level=…`, a JSON message's `"level"`/`"severity"` (pino's
    /// numbers for `error` and `fatal`).
    #[serde(default = "default_levels")]
    pub levels: Vec<String>,
    /// Panics (Rust, Go), uncaught exceptions and tracebacks (Node, Python, Java), and Fly
    /// proxy error codes (`[PU02]`, `[PR03]`) at the start of a message (default true).
    #[serde(default = "yes")]
    pub crashes: bool,
    /// Regular expressions of one's own, searched in the message, case-insensitive
    /// (default none).
    #[serde(default)]
    pub messages: Vec<String>,
    /// HTTP statuses in access-log messages (`GET /x 503 12ms`, `status=503`,
    /// `"status":503`): `"5xx"` (a class) or `"503"` (default `["5xx"]`).
    #[serde(default = "default_statuses")]
    pub status_codes: Vec<String>,
}

impl Default for ErrorPatterns {
    fn default() -> Self {
        ErrorPatterns {
            levels: default_levels(),
            crashes: true,
            messages: Vec::new(),
            status_codes: default_statuses(),
        }
    }
}

fn default_command() -> Vec<String> {
    vec!["flyctl".into()]
}
fn sixty_seconds() -> Span {
    Span::secs(60)
}
fn five_minutes() -> Span {
    Span::secs(300)
}
fn ten_minutes() -> Span {
    Span::secs(600)
}
fn default_levels() -> Vec<String> {
    vec!["error".into(), "fatal".into(), "critical".into()]
}
fn yes() -> bool {
    true
}
fn default_statuses() -> Vec<String> {
    vec!["5xx".into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let d: FlyConfig = toml::from_str("").unwrap();
        assert_eq!(d, FlyConfig::default());
        assert_eq!(d.command, vec!["flyctl"]);
        assert_eq!(d.timeout, Span::secs(60));
        let c: FlyConfig = toml::from_str(
            "command = [\"/bin/standin\", \"--state\", \"/tmp/x\"]\ntimeout = \"5s\"\n[error_patterns]\nlevels = [\"error\"]\n",
        )
        .unwrap();
        assert_eq!(c.command.len(), 3);
        assert!(c.error_patterns.messages.is_empty());
        assert!(c.error_patterns.crashes);
        assert_eq!(c.error_patterns.levels, vec!["error"]);
        assert!(toml::from_str::<FlyConfig>("comand = []").is_err());
    }
}
