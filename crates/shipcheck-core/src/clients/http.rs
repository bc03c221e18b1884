//! The one HTTP client factory. Every request shipcheck makes goes through a client built
//! here: rustls with the ring provider, a connect timeout, a user agent, no proxies.

use std::time::Duration;

/// Builds the shared client. `timeout` bounds every request unless the request sets its own.
pub fn client(timeout: Duration) -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("shipcheck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The client for APIs that carry credentials (GitHub, Sentry, Prometheus, Slack): like
/// [`client`], but it follows no redirect by itself. [`crate::clients::api::Api`] follows a
/// read's redirect only on the origin the credentials belong to
/// ([`crate::clients::bounds`]).
pub fn api_client(timeout: Duration) -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("shipcheck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .or_else(|_| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
        })
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The most redirects a check follows.
pub const MAX_REDIRECTS: usize = 10;

/// The client for a check's request that carries headers a team configured (an `http` check's
/// `headers`, which may hold a key): like [`client`], but a redirect is followed only within
/// the origin (scheme, host and port) of the URL the headers were written for. A redirect
/// elsewhere is not followed, with or without the headers: the request fails, naming where it
/// pointed. reqwest's own policy drops only `Authorization` and `Cookie` on the way to
/// another host, not an `X-Api-Key`.
pub fn same_origin_client(timeout: Duration) -> reqwest::Client {
    install_crypto_provider();
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().first().map(|u| u.origin());
        if attempt.previous().len() > MAX_REDIRECTS {
            let n = attempt.previous().len();
            return attempt.error(format!("more than {n} redirects"));
        }
        match from {
            Some(origin) if origin != attempt.url().origin() => {
                let msg = format!(
                    "redirected to another origin ({}) and not followed: this check's headers are sent only to {}",
                    attempt.url().origin().ascii_serialization(),
                    origin.ascii_serialization()
                );
                attempt.error(msg)
            }
            _ => attempt.follow(),
        }
    });
    reqwest::Client::builder()
        .user_agent(concat!("shipcheck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .no_proxy()
        .redirect(policy)
        .build()
        .or_else(|_| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
        })
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// rustls needs a process-wide crypto provider when reqwest is built without one.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
