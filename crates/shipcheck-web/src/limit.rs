//! The login rate limit, per client: each client address may send [`LOGIN_FAILURES`] wrong
//! tokens per [`LOGIN_WINDOW`], so one attacker is slowed without locking anyone else out.
//! IPv6 clients count per /64 (one subscriber's usual prefix: a host picks any address in
//! it). Memory is bounded: at most [`LOGIN_FAILURES`] times per client and [`MAX_CLIENTS`]
//! clients; past that, the client whose last failure is oldest is forgotten.
//!
//! The client is the TCP peer, unless the server is behind a proxy and told which header the
//! proxy sets to the client's address (`--client-ip-header`, e.g. Fly's `Fly-Client-IP`):
//! a header a client may set itself is never trusted otherwise.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

/// Wrong tokens allowed per client per window.
pub const LOGIN_FAILURES: usize = 10;
/// The window.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// The most clients whose failures are remembered.
pub const MAX_CLIENTS: usize = 4096;

/// Failed logins by client.
#[derive(Default)]
pub struct LoginLimit {
    by_client: HashMap<IpAddr, VecDeque<Instant>>,
}

impl LoginLimit {
    /// Whether `client` may have another token checked at `now`.
    pub fn may_try(&mut self, client: IpAddr, now: Instant) -> bool {
        let key = key(client);
        let Some(times) = self.by_client.get_mut(&key) else {
            return true;
        };
        expire(times, now);
        if times.is_empty() {
            self.by_client.remove(&key);
            return true;
        }
        times.len() < LOGIN_FAILURES
    }

    /// Records a wrong token from `client` at `now`.
    pub fn failed(&mut self, client: IpAddr, now: Instant) {
        let key = key(client);
        if !self.by_client.contains_key(&key) && self.by_client.len() >= MAX_CLIENTS {
            self.by_client.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
            if self.by_client.len() >= MAX_CLIENTS {
                let stalest = self
                    .by_client
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(k, _)| *k);
                if let Some(k) = stalest {
                    self.by_client.remove(&k);
                }
            }
        }
        let times = self.by_client.entry(key).or_default();
        expire(times, now);
        times.push_back(now);
        while times.len() > LOGIN_FAILURES {
            times.pop_front();
        }
    }

    /// How many clients are remembered.
    #[cfg(test)]
    pub fn clients(&self) -> usize {
        self.by_client.len()
    }
}

fn expire(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= LOGIN_WINDOW)
    {
        times.pop_front();
    }
}

/// What a client is counted as: an IPv4 address (also when written as IPv4-mapped IPv6), or
/// an IPv6 /64.
fn key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address: from `header` when one is named and the request has it (the
/// proxy's: of a list, the last entry, the one the proxy added), else the TCP peer (a request
/// that did not come through the proxy); `None` when neither gives one.
pub fn client(headers: &HeaderMap, header: Option<&str>, peer: Option<IpAddr>) -> Option<IpAddr> {
    header
        .and_then(|name| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .next_back()
                .and_then(|last| last.trim().parse().ok())
        })
        .or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_client_is_limited_and_the_others_are_not() {
        let mut l = LoginLimit::default();
        let t0 = Instant::now();
        let attacker = ip("203.0.113.7");
        for n in 0..LOGIN_FAILURES {
            assert!(l.may_try(attacker, t0), "attempt {n}");
            l.failed(attacker, t0);
        }
        assert!(!l.may_try(attacker, t0));
        assert!(l.may_try(ip("198.51.100.1"), t0), "someone else may log in");
        assert!(l.may_try(ip("203.0.113.8"), t0), "the next address too");
        // A window later the attacker may try again.
        assert!(!l.may_try(attacker, t0 + LOGIN_WINDOW - Duration::from_secs(1)));
        assert!(l.may_try(attacker, t0 + LOGIN_WINDOW));
        assert_eq!(l.clients(), 0, "an expired client is forgotten");
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let mut l = LoginLimit::default();
        let t0 = Instant::now();
        for n in 0..LOGIN_FAILURES {
            // A new address in the same /64 each time.
            l.failed(ip(&format!("2001:db8:1:2::{:x}", n + 1)), t0);
        }
        assert!(!l.may_try(ip("2001:db8:1:2:ffff::1"), t0));
        assert!(l.may_try(ip("2001:db8:1:3::1"), t0), "another /64");
        for _ in 0..LOGIN_FAILURES {
            l.failed(ip("::ffff:192.0.2.1"), t0);
        }
        assert!(!l.may_try(ip("192.0.2.1"), t0));
    }

    #[test]
    fn memory_is_bounded() {
        let mut l = LoginLimit::default();
        let t0 = Instant::now();
        let first = ip("10.0.0.0");
        for _ in 0..LOGIN_FAILURES {
            l.failed(first, t0);
        }
        for n in 1..(MAX_CLIENTS as u32 + 500) {
            let t = t0 + Duration::from_millis(u64::from(n));
            l.failed(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)), t);
            l.failed(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)), t);
        }
        assert_eq!(l.clients(), MAX_CLIENTS);
        // The stalest client was forgotten; the newest are remembered.
        assert!(l.may_try(first, t0 + Duration::from_secs(1)));
        let newest = IpAddr::V4(std::net::Ipv4Addr::from(
            0x0a00_0000 + MAX_CLIENTS as u32 + 499,
        ));
        assert!(l.by_client.get(&newest).is_some_and(|t| t.len() == 2));
        // Never more than LOGIN_FAILURES times per client.
        for _ in 0..3 * LOGIN_FAILURES {
            l.failed(newest, t0 + Duration::from_secs(2));
        }
        assert_eq!(l.by_client[&newest].len(), LOGIN_FAILURES);
    }

    #[test]
    fn the_client_comes_from_the_named_header_only() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 192.0.2.9".parse().unwrap());
        h.insert("fly-client-ip", "198.51.100.4".parse().unwrap());
        let peer = Some(ip("127.0.0.1"));
        assert_eq!(
            client(&h, None, peer),
            peer,
            "headers are not trusted unasked"
        );
        assert_eq!(
            client(&h, Some("x-forwarded-for"), peer),
            Some(ip("192.0.2.9")),
            "the entry the proxy added"
        );
        assert_eq!(
            client(&h, Some("Fly-Client-IP"), peer),
            Some(ip("198.51.100.4"))
        );
        h.insert("fly-client-ip", "not an address".parse().unwrap());
        assert_eq!(client(&h, Some("Fly-Client-IP"), peer), peer);
        assert_eq!(client(&HeaderMap::new(), Some("Fly-Client-IP"), peer), peer);
        assert_eq!(client(&HeaderMap::new(), Some("Fly-Client-IP"), None), None);
    }
}
