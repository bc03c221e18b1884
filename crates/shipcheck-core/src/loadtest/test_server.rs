//! The load test's test app: the workspace's loopback test server
//! ([`shipcheck_testkit::http`]) with keep-alive answers and a known misbehaviour: a chosen
//! status on every k-th request, a stall once the n-th request arrives, or connections closed
//! after every few answers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shipcheck_testkit::http::Reply;
pub(crate) use shipcheck_testkit::http::{Server, closed_port};

/// What the server does.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Behaviour {
    /// Every k-th request (1-based, counted over all connections) answers this status.
    pub status_every: Option<(u64, u16)>,
    /// When the n-th request arrives, no answer leaves for this long.
    pub stall: Option<(u64, Duration)>,
    /// Close the connection after this many answers on it.
    pub close_after: Option<u64>,
}

/// A server that behaves as `b` says.
pub(crate) fn serve(b: Behaviour) -> Server {
    let paused_until: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    Server::start(move |req| {
        let n = req.n as u64 + 1;
        let mut paused = paused_until.lock().unwrap();
        if let Some((at, d)) = b.stall
            && n == at
        {
            *paused = Some(Instant::now() + d);
        }
        let delay = paused
            .map(|until| until.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        let status = match b.status_every {
            Some((k, st)) if k > 0 && n.is_multiple_of(k) => st,
            _ => 200,
        };
        let answered = req.on_connection as u64 + 1;
        let close = b.close_after.is_some_and(|c| answered >= c);
        Reply::new(status, "ok").delay(delay).keep_alive(!close)
    })
}
