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

/// rustls needs a process-wide crypto provider when reqwest is built without one.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
