//! Redaction: secrets never reach evidence, the store, the terminal, a report or a message.
//!
//! Whole values are not enough: an error page quoting a request path carries a Slack webhook's
//! secret path without the `https://hooks.slack.com` in front of it, and an excerpt cut at 300
//! characters carries a token's first 31 characters. So [`redact`] removes every run of
//! [`MIN_FRAGMENT`] or more characters that also occurs in a secret's *identifying part*:
//!
//! - a URL (`https://…`, `postgres://…`): its password, and each path segment, query and
//!   fragment that looks like an identifier (not a plain lowercase word such as `services` or
//!   a password such as `postgres`); the scheme and host are not secret and stay readable;
//! - a file path (`/…`, `~/…`) or a value with whitespace: only the whole value (its pieces
//!   are a home directory and words, not a credential);
//! - anything else (a token, a password, a DSN key): the whole value.
//!
//! Only runs holding a digit or a capital count as fragments: a run of lowercase letters is a
//! word (a database named `shipcheck_demo_7f3a_production` must not take the word
//! `production` out of every record).
//!
//! Values shorter than [`MIN_FRAGMENT`] are replaced only where they occur whole (4 or more
//! characters), and so is a URL's shorter password; a URL's path pieces shorter than
//! [`MIN_FRAGMENT`] are not identifying on their own.

use std::collections::HashSet;

/// The shortest run of a secret's characters that is removed wherever it appears.
pub const MIN_FRAGMENT: usize = 8;

/// What replaces a secret.
pub const MARK: &str = "[REDACTED]";

/// Removes every secret (and every run of [`MIN_FRAGMENT`]+ characters of a secret's
/// identifying part) from `text`, each maximal run replaced by `[REDACTED]`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    if secrets.is_empty() || text.is_empty() {
        return text.to_string();
    }
    Redactor::new(secrets).redact(text)
}

/// [`redact`] prepared once for many texts.
#[derive(Debug, Default)]
pub struct Redactor<'a> {
    whole: Vec<&'a str>,
    windows: HashSet<&'a [u8]>,
}

impl<'a> Redactor<'a> {
    /// Prepared for `secrets`.
    pub fn new(secrets: &'a [String]) -> Redactor<'a> {
        let mut r = Redactor::default();
        for s in secrets {
            if s.len() >= 4 {
                r.whole.push(s.as_str());
            }
            for part in identifying_parts(s) {
                if part.len() >= MIN_FRAGMENT {
                    // A run of lowercase letters and punctuation is a word (`production` in
                    // a database's name), not a piece of a credential: only runs with a digit
                    // or a capital identify (eight random token characters lack both about
                    // once in a thousand).
                    for w in part.as_bytes().windows(MIN_FRAGMENT) {
                        if w.iter()
                            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                        {
                            r.windows.insert(w);
                        }
                    }
                } else if part.len() >= 4 {
                    r.whole.push(part);
                }
            }
        }
        // Longest first, so a value is not left half-replaced by a shorter one inside it.
        r.whole.sort_by_key(|w| std::cmp::Reverse(w.len()));
        r
    }

    /// `text` without the secrets.
    pub fn redact(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut hit = vec![false; bytes.len()];
        let mut any = false;
        if !self.windows.is_empty() && bytes.len() >= MIN_FRAGMENT {
            for (i, w) in bytes.windows(MIN_FRAGMENT).enumerate() {
                if self.windows.contains(w) {
                    hit[i..i + MIN_FRAGMENT].iter_mut().for_each(|h| *h = true);
                    any = true;
                }
            }
        }
        for w in &self.whole {
            for (i, _) in text.match_indices(w) {
                hit[i..i + w.len()].iter_mut().for_each(|h| *h = true);
                any = true;
            }
        }
        if !any {
            return text.to_string();
        }
        // Widen each run to whole characters, then replace each maximal run once.
        for i in 0..bytes.len() {
            if hit[i] {
                let mut j = i;
                while j > 0 && !text.is_char_boundary(j) {
                    j -= 1;
                    hit[j] = true;
                }
            }
        }
        for i in (0..bytes.len()).rev() {
            if hit[i] {
                let mut j = i + 1;
                while j < bytes.len() && !text.is_char_boundary(j) {
                    hit[j] = true;
                    j += 1;
                }
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            if hit[i] {
                while i < bytes.len() && hit[i] {
                    i += 1;
                }
                out.push_str(MARK);
            } else {
                let start = i;
                while i < bytes.len() && !hit[i] {
                    i += 1;
                }
                out.push_str(&text[start..i]);
            }
        }
        out
    }

    /// Redacts every string inside a JSON value.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                let r = self.redact(s);
                if r != *s {
                    *s = r;
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

/// The parts of a secret that identify it (see the module's documentation).
fn identifying_parts(secret: &str) -> Vec<&str> {
    let s = secret.trim();
    if s.is_empty() || s.starts_with('/') || s.starts_with('~') || s.contains(char::is_whitespace) {
        return Vec::new();
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return vec![s];
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return vec![s];
    }
    let mut parts = Vec::new();
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if let Some((userinfo, _host)) = authority.rsplit_once('@') {
        // A password that is a plain word (`postgres`) identifies nothing on its own, and
        // removing the word everywhere would make every mention of it unreadable; the whole
        // URL is still removed wherever it appears.
        let secret = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
        if looks_identifying(secret) {
            parts.push(secret);
        }
    }
    for piece in tail.split(['/', '?', '#', '&', '=']) {
        if piece.len() >= MIN_FRAGMENT && looks_identifying(piece) {
            parts.push(piece);
        }
    }
    parts
}

/// Whether a URL piece identifies something (a token, an id), not a plain word.
fn looks_identifying(piece: &str) -> bool {
    !piece.is_empty()
        && !piece
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_' || c == '.')
}

/// Redacts every string inside a JSON value.
pub fn redact_json(value: &mut serde_json::Value, secrets: &[String]) {
    if !secrets.is_empty() {
        Redactor::new(secrets).redact_json(value);
    }
}

/// A URL with its password replaced by `***` (`http://user:***@host/`), for printing; text
/// that is not a URL with a password comes back unchanged.
pub fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => user,
        None => return url.to_string(),
    };
    format!("{scheme}://{user}:***@{host}{}", &rest[end..])
}

/// Every URL in `text` with its password replaced by `***` ([`mask_url_password`]), for
/// printing text that may quote URLs (an error naming a load-test target).
pub fn mask_url_passwords(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after
            .find(|c: char| "/?#\"'<>`".contains(c) || c.is_whitespace() || c.is_control())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rsplit_once('@') {
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                out.push_str(user);
                out.push_str(":***@");
                out.push_str(host);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The values of environment variables whose names look like secrets (`*TOKEN*`, `*SECRET*`,
/// `*PASSWORD*`, `*_KEY`, `*DSN*`, `*WEBHOOK*`, `DATABASE_URL`) plus the named ones.
pub fn secrets_from_env(named: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in std::env::vars() {
        if looks_secret(&k, named) && v.len() >= 4 {
            out.push(v);
        }
    }
    out
}

/// Whether an environment variable's name says it holds a secret.
pub fn looks_secret(name: &str, named: &[String]) -> bool {
    let up = name.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "DSN", "WEBHOOK"]
        .iter()
        .any(|w| up.contains(w))
        || up.ends_with("_KEY")
        || up == "DATABASE_URL"
        || up.ends_with("DATABASE_URL")
        || crate::model::config::FLY_TOKEN_VARS.contains(&name)
        || named.iter().any(|n| n == name)
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
