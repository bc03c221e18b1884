//! The people of a team: who may act on a run once a team is set up in the store, and the
//! personal tokens that prove it (kept only as SHA-256 hashes).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a person does for the team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs deployments.
    Deployer,
    /// Reviews (the security review of auth changes, approvals).
    Reviewer,
    /// On call during and after a deploy.
    OnCall,
    /// Leads the team: adds people.
    Lead,
}

impl Role {
    /// `deployer`, `reviewer`, `on-call`, `lead`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Deployer => "deployer",
            Role::Reviewer => "reviewer",
            Role::OnCall => "on-call",
            Role::Lead => "lead",
        }
    }

    /// Reads a role as written.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "deployer" => Some(Role::Deployer),
            "reviewer" => Some(Role::Reviewer),
            "on-call" => Some(Role::OnCall),
            "lead" => Some(Role::Lead),
            _ => None,
        }
    }
}

/// A person of the team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Their name (unique in the store).
    pub name: String,
    /// Their email (unique in the store).
    pub email: String,
    /// Their role.
    pub role: Role,
    /// When they were added.
    pub added_at: jiff::Timestamp,
    /// Who added them (the person, or the OS user for the first one).
    pub added_by: String,
}

impl Person {
    /// How the journal records them: `Ana Lima <ana@example.com>`, one string per person, so
    /// comparing two recorded identities compares people.
    pub fn identity(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// The prefix of every personal token (so a leaked one is recognisable, e.g. by scanners).
pub const TOKEN_PREFIX: &str = "shipcheck_";

/// The SHA-256 (hex) a token is stored as. A token carries 256 random bits, so a fast hash
/// is enough: there is nothing to guess.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.trim().as_bytes());
    crate::model::hex::encode(&digest)
}

/// Whether `token` has the shape of a personal token (prefix and 64 hex digits).
pub fn looks_like_token(token: &str) -> bool {
    let t = token.trim();
    t.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a name and an email for a new person: (field, problem) when wrong.
pub fn check_new(name: &str, email: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("a name needs 1 to 100 characters".into());
    }
    if name.contains(['<', '>', '\n', '\r']) || name.chars().any(char::is_control) {
        return Err(format!(
            "name {name:?} may not contain <, > or control characters"
        ));
    }
    let email = email.trim();
    let valid_email = email.len() <= 254
        && email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !email.contains(|c: char| c.is_whitespace() || c == '<' || c == '>' || c.is_control());
    if !valid_email {
        return Err(format!(
            "email {email:?} is not an address like ana@example.com"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_recognised_and_hashed_not_kept() {
        let t = format!("{TOKEN_PREFIX}{}", "ab".repeat(32));
        assert!(looks_like_token(&t));
        assert!(!looks_like_token("shipcheck_xyz"));
        assert!(!looks_like_token(&"ab".repeat(32)));
        let h = token_hash(&t);
        assert_eq!(h.len(), 64);
        assert!(!h.contains("abab"));
        assert_eq!(h, token_hash(&format!(" {t}\n")));
    }

    #[test]
    fn names_and_emails_are_checked() {
        assert!(check_new("Ana Lima", "ana@example.com").is_ok());
        assert!(check_new("", "ana@example.com").is_err());
        assert!(check_new("Ana <x>", "ana@example.com").is_err());
        assert!(check_new("Ana", "ana").is_err());
        assert!(check_new("Ana", "ana@example.com>").is_err());
        assert_eq!(Role::parse("on-call"), Some(Role::OnCall));
        assert_eq!(Role::OnCall.as_str(), "on-call");
        assert_eq!(Role::parse("admin"), None);
    }
}
