//! `[events]`: where the run's life goes as CDEvents (`sink`), and how (the token's variable,
//! the request timeout). Optional; without it nothing is sent. See `docs/events.md`.

use serde::{Deserialize, Serialize};

use crate::model::config::validate::Issue;
use crate::model::duration::Span;

/// The longest `timeout` allowed: a sink never holds a deploy longer than this per request.
pub const MAX_TIMEOUT_S: u64 = 60;

fn five_seconds() -> Span {
    Span::secs(5)
}

/// `[events]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// The HTTP(S) endpoint every CDEvent is POSTed to (CloudEvents HTTP binding, binary
    /// content mode), like `https://events.example.com/cdevents`.
    pub sink: String,
    /// The environment variable holding a token for the sink, sent as
    /// `Authorization: Bearer TOKEN` to the sink's origin only. None: no `Authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// The CDEvents `source` of every event (a URI reference; default
    /// `/shipcheck/PROJECT/ENV`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Timeout of one request (default 5s, at most 60s).
    #[serde(default = "five_seconds")]
    pub timeout: Span,
}

/// The problems of `[events]`, as config issues.
pub(crate) fn validate(out: &mut Vec<Issue>, e: &EventsConfig) {
    crate::model::config::validate::http_url(
        out,
        "events.sink",
        &e.sink,
        "https://events.example.com/cdevents",
    );
    if let Some(var) = &e.token_env
        && (var.trim().is_empty() || var.contains(['=', ' ', '\0']))
    {
        out.push(Issue::value(
            "events.token_env",
            format!("{var:?} is not an environment variable name"),
            "write the variable's name, like token_env = \"CDEVENTS_TOKEN\" (never the token)",
        ));
    }
    if let Some(s) = &e.source
        && (s.trim().is_empty() || !s.chars().all(|c| c.is_ascii_graphic()))
    {
        out.push(Issue::value(
            "events.source",
            "the events' source is empty or not a URI reference (spaces, control or non-ASCII characters)",
            "write a URI reference, like source = \"/shipcheck/maishapoa/production\", or remove the key",
        ));
    }
    let t = e.timeout.get();
    if t < std::time::Duration::from_millis(100)
        || t > std::time::Duration::from_secs(MAX_TIMEOUT_S)
    {
        out.push(Issue::value(
            "events.timeout",
            format!(
                "timeout {} is out of range",
                crate::model::duration::format(t)
            ),
            format!("a span from 100ms to {MAX_TIMEOUT_S}s, like timeout = \"5s\""),
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::config::load_str;

    #[test]
    fn a_sink_alone_is_enough_and_its_token_is_a_secret() {
        let l = load_str(
            Path::new("shipcheck.toml"),
            "[events]\nsink = \"https://events.example.com/in\"\ntoken_env = \"CDEVENTS_TOKEN\"\n",
        )
        .unwrap();
        let e = l.config.events.as_ref().unwrap();
        assert_eq!(e.timeout.get(), std::time::Duration::from_secs(5));
        assert_eq!(e.source, None);
        assert!(
            l.config
                .secret_env_names()
                .contains(&"CDEVENTS_TOKEN".to_string())
        );
        let none = load_str(Path::new("shipcheck.toml"), "[project]\nname = \"x\"\n").unwrap();
        assert!(none.config.events.is_none());
    }

    #[test]
    fn a_token_written_in_place_of_its_variable_is_refused() {
        let e = load_str(
            Path::new("shipcheck.toml"),
            "[events]\nsink = \"https://e.example.com/\"\ntoken_env = \"Bearer abc\"\nsource = \"\"\n",
        )
        .unwrap_err();
        let text = e.render();
        assert!(text.contains("events.token_env"), "{text}");
        assert!(text.contains("never the token"), "{text}");
        assert!(text.contains("events.source"), "{text}");
    }
}
