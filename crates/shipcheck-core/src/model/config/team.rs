//! `[team]`: how a team's people sign a run's record.

use serde::{Deserialize, Serialize};

/// `[team]`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// The allowed-signers file (git's format: `principal [namespaces="shipcheck"] key`),
    /// relative to the repository, that `shipcheck verify` checks a record's SSH signature
    /// against, like `.github/allowed_signers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_signers: Option<String>,
    /// A run is not done until its record carries an SSH signature (`shipcheck sign --key`):
    /// `verify` fails without one, and a sign without a key (or from the web page) says it is
    /// still to be added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_ssh_signature: bool,
    /// The `ssh-keygen` program (default `ssh-keygen` on the `PATH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_keygen: Option<String>,
}

impl TeamConfig {
    /// Whether the table changes nothing.
    pub fn is_default(&self) -> bool {
        *self == TeamConfig::default()
    }

    /// The `ssh-keygen` to run.
    pub fn ssh_keygen(&self) -> &str {
        self.ssh_keygen.as_deref().unwrap_or("ssh-keygen")
    }

    /// The problems of this table: (key, message, help).
    pub fn problems(&self) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        if self.require_ssh_signature && self.allowed_signers.is_none() {
            out.push((
                "team.require_ssh_signature",
                "an SSH signature is required, but no allowed-signers file says whose keys count"
                    .to_string(),
                "add allowed_signers = \".github/allowed_signers\" (git's format: one `email namespaces=\"shipcheck\" ssh-ed25519 AAAA…` line per person)".to_string(),
            ));
        }
        if let Some(path) = &self.allowed_signers
            && (path.trim().is_empty() || std::path::Path::new(path).is_absolute())
        {
            out.push((
                "team.allowed_signers",
                format!("allowed_signers {path:?} is not a path inside the repository"),
                "write the file's path relative to the repository, like allowed_signers = \".github/allowed_signers\", so it is reviewed like code".to_string(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::config::load_str;

    #[test]
    fn a_required_signature_without_allowed_signers_names_the_key_and_what_to_write() {
        let err = load_str(
            Path::new("shipcheck.toml"),
            "[team]\nrequire_ssh_signature = true\n",
        )
        .unwrap_err()
        .to_string();
        let all = format!("{err:?}");
        assert!(all.contains("team.require_ssh_signature"), "{all}");
        let ok = load_str(
            Path::new("shipcheck.toml"),
            "[team]\nrequire_ssh_signature = true\nallowed_signers = \".github/allowed_signers\"\n",
        )
        .unwrap();
        assert!(ok.config.team.require_ssh_signature);
        assert_eq!(ok.config.team.ssh_keygen(), "ssh-keygen");
        let abs = load_str(
            Path::new("shipcheck.toml"),
            "[team]\nallowed_signers = \"/etc/x\"\n",
        )
        .unwrap_err();
        assert!(
            format!("{abs:?}").contains("team.allowed_signers"),
            "{abs:?}"
        );
    }
}
