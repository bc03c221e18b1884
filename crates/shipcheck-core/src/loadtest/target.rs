//! Which URLs may be load-tested, and where they are.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::loadtest::LoadtestError;
use crate::model::config::Environments;

/// The hosts a load test may target besides loopback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    hosts: Vec<String>,
}

impl Allowed {
    /// Loopback only.
    pub fn loopback_only() -> Allowed {
        Allowed::default()
    }

    /// Loopback and these hosts (compared without case).
    pub fn hosts<I: IntoIterator<Item = S>, S: AsRef<str>>(hosts: I) -> Allowed {
        let mut list: Vec<String> = hosts
            .into_iter()
            .map(|h| h.as_ref().trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        list.sort();
        list.dedup();
        Allowed { hosts: list }
    }

    /// Loopback and the hosts of the `staging` environment's health URLs.
    pub fn staging(environments: &Environments) -> Allowed {
        let hosts = environments
            .get("staging")
            .map(|e| e.apps.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| a.health_url.as_deref())
            .filter_map(|u| reqwest::Url::parse(u.trim()).ok())
            .filter_map(|u| u.host_str().map(str::to_string));
        Allowed::hosts(hosts)
    }

    /// The allowed hosts besides loopback.
    pub fn list(&self) -> &[String] {
        &self.hosts
    }

    fn contains(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }
}

/// A URL ready to be load-tested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL as shown in reports (password masked).
    pub display: String,
    /// `https://`.
    pub https: bool,
    /// The host name (for TLS) without brackets.
    pub host: String,
    /// The `Host` header value.
    pub authority: String,
    /// Path and query sent in the request line.
    pub path: String,
    /// The address connected to.
    pub addr: SocketAddr,
}

fn is_loopback_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// Parses `url`, refuses it unless its host is loopback or allowed, and resolves it. A
/// `localhost` name is accepted only when every address it resolves to is loopback. Of
/// several addresses the first that accepts a connection is used.
pub async fn resolve(url: &str, allowed: &Allowed) -> Result<Target, LoadtestError> {
    let invalid = |why: String| LoadtestError::InvalidUrl {
        url: url.to_string(),
        why,
    };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| invalid(e.to_string()))?;
    let https = match parsed.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err(invalid(format!(
                "the scheme {other:?} is not http or https"
            )));
        }
    };
    let host = match parsed.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_string(),
        _ => return Err(invalid("it has no host".into())),
    };
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| invalid("it has no port".into()))?;
    let refused = || LoadtestError::Refused {
        host: host.clone(),
        allowed: allowed.list().to_vec(),
    };
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() || allowed.contains(&host) => vec![SocketAddr::new(ip, port)],
        Ok(_) => return Err(refused()),
        Err(_) => {
            let loopback_name = is_loopback_name(&host);
            if !loopback_name && !allowed.contains(&host) {
                return Err(refused());
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| LoadtestError::Resolve {
                    host: host.clone(),
                    why: e.to_string(),
                })?
                .collect();
            if found.is_empty() {
                return Err(LoadtestError::Resolve {
                    host: host.clone(),
                    why: "no addresses".into(),
                });
            }
            if loopback_name && !found.iter().all(|a| a.ip().is_loopback()) {
                return Err(refused());
            }
            found
        }
    };
    let mut addr = addrs[0];
    if addrs.len() > 1 {
        for a in &addrs {
            let probe =
                tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(a));
            if matches!(probe.await, Ok(Ok(_))) {
                addr = *a;
                break;
            }
        }
    }
    let authority = match (parsed.port(), parsed.host_str()) {
        (Some(p), Some(h)) => format!("{h}:{p}"),
        (None, Some(h)) => h.to_string(),
        _ => host.clone(),
    };
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut display = parsed.clone();
    if display.password().is_some() {
        let _ = display.set_password(Some("***"));
    }
    Ok(Target {
        display: display.to_string(),
        https,
        host,
        authority,
        path,
        addr,
    })
}
