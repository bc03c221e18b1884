//! What [`crate::clients::api::Api`] accepts from a service and where it sends credentials:
//!
//! - **Origins**: a token goes only to the origin (scheme, host, port) its integration is
//!   configured for. A URL taken from an answer (a pagination `Link`, a redirect's `Location`)
//!   on another origin is not requested at all, with or without the token, and the request
//!   fails saying so ([`OriginRefusal`]).
//! - **Redirects**: the API client never follows redirects by itself
//!   ([`crate::clients::http::api_client`]); [`crate::clients::api::Api::send`] follows a
//!   read's redirect on the same origin (at most [`MAX_REDIRECTS`]), never a write's, and
//!   never a Slack webhook's (the URL is the credential).
//! - **Sizes**: every body is read in chunks and given up at its service's cap
//!   ([`body_cap`]), so a 2 GiB answer costs at most the cap in memory.

use crate::clients::api::Service;

/// Same-origin redirects followed for one request at most.
pub const MAX_REDIRECTS: u32 = 5;

/// The largest body read from each service, fitted to its real answers
/// (`fixtures/api/`): GitHub's largest page of 100 workflow runs is about 1 MiB and a
/// compare with many files a few MiB; Sentry's pages of 100 issues are a few hundred KiB;
/// a Prometheus instant query over many series can reach a few MiB; a Slack webhook answers
/// `ok` or a short code (its HTML error pages are a few KiB).
pub fn body_cap(service: Service) -> usize {
    match service {
        Service::GitHub => 8 << 20,
        Service::Sentry => 4 << 20,
        Service::Prometheus => 8 << 20,
        Service::Slack => 64 << 10,
    }
}

/// `8 MiB`, `64 KiB`, `512 bytes`.
pub fn format_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// `scheme://host:port` of a URL, as it is compared.
pub fn origin(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
}

/// Why a URL was not requested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginRefusal {
    /// A URL from an answer (a pagination link) on another origin.
    Link {
        /// Its origin.
        origin: String,
    },
    /// A redirect to another origin.
    Redirect {
        /// The status.
        status: u16,
        /// Where it pointed (its origin only).
        origin: String,
    },
    /// A redirect of a write, or of a Slack webhook, or one too many.
    NotFollowed {
        /// The status.
        status: u16,
        /// Why it is not followed.
        why: String,
    },
}

impl std::fmt::Display for OriginRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginRefusal::Link { origin } => write!(
                f,
                "the answer points to another origin ({origin}); shipcheck did not follow it"
            ),
            OriginRefusal::Redirect { status, origin } => write!(
                f,
                "the answer is a redirect ({status}) to another origin ({origin}); shipcheck did not follow it"
            ),
            OriginRefusal::NotFollowed { status, why } => {
                write!(f, "the answer is a redirect ({status}); {why}")
            }
        }
    }
}

/// Whether `status` is a redirect shipcheck could follow (`Location` given).
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect of `from` goes, when it may be followed: same origin as `base`, a read,
/// not Slack, under the hop limit. `Err` says why not.
pub fn follow(
    service: Service,
    base: &str,
    from: &reqwest::Url,
    status: u16,
    location: Option<&str>,
    is_read: bool,
    hops: u32,
) -> Result<reqwest::Url, OriginRefusal> {
    let not = |why: &str| OriginRefusal::NotFollowed {
        status,
        why: why.to_string(),
    };
    if service == Service::Slack {
        return Err(not(
            "a Slack webhook's redirects are never followed (the webhook URL is the credential); check the URL in the environment",
        ));
    }
    let Some(location) = location else {
        return Err(not("it has no Location to follow"));
    };
    let Ok(to) = from.join(location) else {
        return Err(not("its Location is not a URL"));
    };
    let home = reqwest::Url::parse(base)
        .map(|b| origin(&b))
        .unwrap_or_default();
    if origin(&to) != home {
        return Err(OriginRefusal::Redirect {
            status,
            origin: origin(&to),
        });
    }
    if !is_read {
        return Err(not(
            "shipcheck does not send a write again to where a redirect points",
        ));
    }
    if hops >= MAX_REDIRECTS {
        return Err(not(&format!(
            "shipcheck follows at most {MAX_REDIRECTS} redirects"
        )));
    }
    Ok(to)
}

/// Why a body could not be read in full.
#[derive(Debug)]
pub enum BodyError {
    /// Larger than the cap.
    TooLarge,
    /// The connection failed while reading.
    Http(reqwest::Error),
}

/// Reads the body in chunks, giving up as soon as it passes `cap` bytes (or says it will).
pub async fn read_body(mut resp: reqwest::Response, cap: usize) -> Result<String, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Http)? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(format_bytes(8 << 20), "8 MiB");
        assert_eq!(format_bytes(64 << 10), "64 KiB");
        assert_eq!(format_bytes(1000), "1000 bytes");
    }

    #[test]
    fn redirects_follow_only_reads_on_the_same_origin() {
        let from = reqwest::Url::parse("https://api.github.com/repos/a/b").unwrap();
        let base = "https://api.github.com";
        let ok = follow(
            Service::GitHub,
            base,
            &from,
            301,
            Some("/repos/a/c"),
            true,
            0,
        );
        assert_eq!(ok.unwrap().as_str(), "https://api.github.com/repos/a/c");
        let other = follow(
            Service::GitHub,
            base,
            &from,
            302,
            Some("http://api.github.com/repos/a/c"),
            true,
            0,
        );
        assert_eq!(
            other.unwrap_err(),
            OriginRefusal::Redirect {
                status: 302,
                origin: "http://api.github.com".into()
            },
            "another scheme is another origin"
        );
        let port = follow(
            Service::GitHub,
            base,
            &from,
            302,
            Some("https://api.github.com:8443/x"),
            true,
            0,
        );
        assert!(matches!(port, Err(OriginRefusal::Redirect { .. })));
        assert!(follow(Service::GitHub, base, &from, 307, Some("/x"), false, 0).is_err());
        assert!(follow(Service::GitHub, base, &from, 301, Some("/x"), true, 5).is_err());
        assert!(follow(Service::GitHub, base, &from, 301, None, true, 0).is_err());
        let slack = follow(
            Service::Slack,
            "https://hooks.slack.com/services/x",
            &reqwest::Url::parse("https://hooks.slack.com/services/x").unwrap(),
            301,
            Some("/services/y"),
            false,
            0,
        );
        assert!(slack.unwrap_err().to_string().contains("never followed"));
    }
}
