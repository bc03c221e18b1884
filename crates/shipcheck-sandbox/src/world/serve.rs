//! Serving an axum router on a random loopback port until the world stops.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::WorldError;

/// An environment variable for benchmarks: every answer of every server of the world (the
/// apps and the stand-ins) and every flyctl stand-in call waits this many milliseconds
/// first. Unset or 0: no delay.
pub const DELAY_ENV: &str = "SHIPCHECK_WORLD_DELAY_MS";

/// The added delay [`DELAY_ENV`] asks for (capped at 10 s).
pub fn added_delay() -> Option<std::time::Duration> {
    let ms: u64 = std::env::var(DELAY_ENV).ok()?.trim().parse().ok()?;
    (ms > 0).then(|| std::time::Duration::from_millis(ms.min(10_000)))
}

/// Binds `127.0.0.1:0` (or `port`) and serves `router` until `stop` turns true. Returns the
/// base URL and the task.
pub(crate) async fn spawn(
    router: axum::Router,
    stop: watch::Receiver<bool>,
) -> Result<(String, JoinHandle<()>), WorldError> {
    spawn_on(router, stop, 0).await
}

/// Like [`spawn`], on a given port (0: any).
pub(crate) async fn spawn_on(
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
    port: u16,
) -> Result<(String, JoinHandle<()>), WorldError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(super::io("bind a loopback port"))?;
    let router = match added_delay() {
        Some(delay) => router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                tokio::time::sleep(delay).await;
                next.run(req).await
            },
        )),
        None => router,
    };
    let addr = listener
        .local_addr()
        .map_err(super::io("read a bound address"))?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    Ok((format!("http://{addr}"), task))
}
