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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// `[fly.error_patterns]`: a log line matching any part is an error line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorPatterns {
    /// Log levels that are errors, compared without case (default `["error", "fatal"]`).
    #[serde(default = "default_levels")]
    pub levels: Vec<String>,
    /// Regular expressions searched in the message, case-insensitive (default `["panic"]`).
    #[serde(default = "default_messages")]
    pub messages: Vec<String>,
    /// HTTP statuses in `meta.HTTP.Response.status_code`: `"5xx"` (a class) or `"503"`
    /// (default `["5xx"]`).
    #[serde(default = "default_statuses")]
    pub status_codes: Vec<String>,
}

impl Default for ErrorPatterns {
    fn default() -> Self {
        ErrorPatterns {
            levels: default_levels(),
            messages: default_messages(),
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
    vec!["error".into(), "fatal".into()]
}
fn default_messages() -> Vec<String> {
    vec!["panic".into()]
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
        assert_eq!(c.error_patterns.messages, vec!["panic"]);
        assert!(toml::from_str::<FlyConfig>("comand = []").is_err());
    }
}
