//! Redaction: secrets never reach evidence, the store, the terminal, a report or a message.
//!
//! Whole values are not enough: an error page quoting a request path carries a Slack webhook's
//! secret path without the `https://hooks.slack.com` in front of it, and an excerpt cut at 300
//! characters carries a token's first 31 characters. So [`redact`] removes, besides every
//! whole value, every run of [`MIN_FRAGMENT`] or more characters that also occurs in one of a
//! secret's *random-looking pieces*: its runs of letters, digits, `_` and `-` of 8 or more
//! that mix letters with digits, or capitals with small letters (a token's body, a webhook's ids and
//! key, a URL's password). Words (`services`, `production`, a password `postgres`), numbers
//! (ports, dates) and what separates pieces (`https://`, a host's dots) are not secret on their
//! own and stay readable wherever else they appear; and a fragment of small letters alone is
//! never removed (it may be a word).
//!
//! Values shorter than [`MIN_FRAGMENT`] are replaced only where they occur whole (4 or more
//! characters).

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
            // A person's token identifies itself by its random part: the prefix every token
            // shares would make pieces of another person's token (`pcheck_3…`, printed once
            // by `team add` while the lead's token is held) look like this one's.
            let random = s
                .strip_prefix(crate::model::person::TOKEN_PREFIX)
                .unwrap_or(s);
            for part in identifying_parts(random) {
                for w in part.as_bytes().windows(MIN_FRAGMENT) {
                    if window_identifies(w) {
                        r.windows.insert(w);
                    }
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

/// The pieces of a secret that identify it: its runs of letters, digits, `_` and `-` of at
/// least [`MIN_FRAGMENT`] characters that look random — letters with digits (`T0ABCDEFG`,
/// `ghp_…`'s body, a password `Xy7pQ2rT9wLm`), or both cases several times
/// (`abcdEFGHijkl`) — never words (`services`, `production`, `postgres`) or numbers (a port,
/// a date).
fn identifying_parts(secret: &str) -> Vec<&str> {
    secret
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|p| p.len() >= MIN_FRAGMENT && looks_random(p.as_bytes()))
        .collect()
}

/// Letters with digits, or at least two capitals and two small letters.
fn looks_random(piece: &[u8]) -> bool {
    let digits = piece.iter().filter(|b| b.is_ascii_digit()).count();
    let upper = piece.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = piece.iter().filter(|b| b.is_ascii_lowercase()).count();
    (digits > 0 && upper + lower > 0) || (upper >= 2 && lower >= 2)
}

/// Whether a window of a random piece identifies it: a digit, or both cases (a window of
/// small letters alone may be a word: `producti`).
fn window_identifies(w: &[u8]) -> bool {
    w.iter().any(u8::is_ascii_digit)
        || (w.iter().any(u8::is_ascii_uppercase) && w.iter().any(u8::is_ascii_lowercase))
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
