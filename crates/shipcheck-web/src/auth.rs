//! Browser sessions: a person logs in with their personal token and gets a random session id
//! in a cookie (HttpOnly, SameSite=Strict, Secure when served over TLS) and a CSRF token that
//! every form carries. Wrong tokens are rate-limited per client ([`crate::limit`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shipcheck_core::model::person::Person;

/// How long a browser session lasts without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept (the oldest are dropped).
const MAX_SESSIONS: usize = 10_000;

/// The session cookie's name.
pub const COOKIE: &str = "shipcheck_session";

/// One logged-in browser.
#[derive(Clone, Debug)]
pub struct WebSession {
    /// Who.
    pub person: Person,
    /// The token every form must carry.
    pub csrf: String,
    /// Last use.
    pub seen: Instant,
}

/// Random hex of `n` bytes from the OS CSPRNG.
pub fn random_hex(n: usize) -> Option<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).ok()?;
    Some(shipcheck_core::model::hex::encode(&bytes))
}

/// The logged-in browsers.
#[derive(Default)]
pub struct Sessions {
    by_id: HashMap<String, WebSession>,
}

impl Sessions {
    /// A new session for `person`: (session id, csrf token).
    pub fn open(&mut self, person: Person) -> Option<(String, String)> {
        let id = random_hex(32)?;
        let csrf = random_hex(32)?;
        if self.by_id.len() >= MAX_SESSIONS {
            let oldest = self
                .by_id
                .iter()
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.by_id.remove(&k);
            }
        }
        self.by_id.insert(
            id.clone(),
            WebSession {
                person,
                csrf: csrf.clone(),
                seen: Instant::now(),
            },
        );
        Some((id, csrf))
    }

    /// The live session with this id (touched), if any.
    pub fn get(&mut self, id: &str) -> Option<WebSession> {
        let now = Instant::now();
        let s = self.by_id.get_mut(id)?;
        if now.duration_since(s.seen) > SESSION_IDLE {
            self.by_id.remove(id);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    /// Ends a session.
    pub fn close(&mut self, id: &str) {
        self.by_id.remove(id);
    }
}

/// The session id from a `Cookie` header.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .map(str::trim)
        .find_map(|kv| kv.strip_prefix(COOKIE)?.strip_prefix('='))
        .filter(|v| !v.is_empty())
}

/// Compares two secrets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
