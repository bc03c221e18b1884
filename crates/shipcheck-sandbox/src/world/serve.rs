//! Serving an axum router on a random loopback port until the world stops.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::WorldError;

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
