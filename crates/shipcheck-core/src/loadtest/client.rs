//! The workers: one HTTP/1.1 keep-alive connection each, driven in the worker's own task
//! (the connection future and the request are polled together, so no second task and no
//! cross-task wake-up per request).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{HOST, HeaderValue, USER_AGENT};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::loadtest::{LoadtestError, Plan, Target, bump};

/// Histograms record microseconds from 1 µs to an hour, 3 significant digits.
const HIST_MAX_US: u64 = 3_600_000_000;
/// Latencies a worker buffers before taking a histogram's lock.
const FLUSH_EVERY: usize = 256;
/// Histogram shards (workers share them round-robin).
const SHARDS: usize = 8;

/// A TLS connector with the platform verifier and the process's rustls provider.
pub(super) fn tls_connector() -> Result<TlsConnector, LoadtestError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    crate::clients::http::install_crypto_provider();
    let mut config = tokio_rustls::rustls::ClientConfig::builder()
        .with_platform_verifier()
        .map_err(|e| LoadtestError::Tls(e.to_string()))?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

pub(super) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX_US, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

/// What the workers share.
pub(super) struct Shared {
    pub target: Target,
    tls: Option<TlsConnector>,
    plan: Plan,
    start: Instant,
    /// No request starts after this; nothing waits past `hard`.
    stop: Instant,
    hard: Instant,
    uri: Uri,
    host: HeaderValue,
    pub next_ticket: AtomicU64,
    pub completed: AtomicU64,
    pub errors: AtomicU64,
    hists: Vec<Mutex<Histogram<u64>>>,
}

impl Shared {
    pub fn new(target: Target, tls: Option<TlsConnector>, plan: Plan, start: Instant) -> Shared {
        let uri = target
            .path
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        let host = HeaderValue::from_str(&target.authority)
            .unwrap_or_else(|_| HeaderValue::from_static("localhost"));
        Shared {
            tls,
            stop: start + plan.stop_after,
            hard: start + plan.time_limit(),
            plan,
            start,
            uri,
            host,
            target,
            next_ticket: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            hists: (0..SHARDS).map(|_| Mutex::new(new_histogram())).collect(),
        }
    }

    /// The next request to make, and when it is due (the open model); `None` when the run is
    /// over.
    fn claim(&self) -> Option<(u64, Option<Instant>)> {
        if self.plan.rate.is_none() && Instant::now() >= self.stop {
            return None;
        }
        let t = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        if t >= self.plan.total {
            return None;
        }
        let due = self
            .plan
            .rate
            .map(|r| self.start + Duration::from_secs_f64(t as f64 / r));
        Some((t, due))
    }

    fn flush(&self, id: usize, buf: &mut Vec<u64>) {
        if buf.is_empty() {
            return;
        }
        let shard = &self.hists[id % SHARDS];
        let mut h = shard.lock().unwrap_or_else(|p| p.into_inner());
        for v in buf.drain(..) {
            h.saturating_record(v.max(1));
        }
    }

    pub fn merged_histogram(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for shard in &self.hists {
            let h = shard.lock().unwrap_or_else(|p| p.into_inner());
            let _ = all.add(&*h);
        }
        all
    }
}

/// One worker's counts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// By status class: 1xx … 5xx (index 1–5), anything else at 0.
    pub statuses: [u64; 6],
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    pub bytes: u64,
    pub connections: u64,
    pub last_done: Option<Instant>,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        for (a, b) in self.statuses.iter_mut().zip(o.statuses) {
            *a += b;
        }
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.io += o.io;
        self.bytes += o.bytes;
        self.connections += o.connections;
        self.last_done = self.last_done.max(o.last_done);
    }
}

/// A plain or TLS connection.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type Body = Empty<Bytes>;
/// hyper's connection future for one worker's connection.
type Driver = Pin<Box<http1::Connection<TokioIo<Io>, Body>>>;

struct Conn {
    sender: http1::SendRequest<Body>,
    /// Dropped as soon as it finishes: it owns the request channel, and `ready()` only fails
    /// (telling us to reconnect) once that is gone.
    driver: Option<Driver>,
}

/// Why a request got no (complete) answer.
enum Failure {
    /// The connection was closed before the request went out: retry on a new one.
    NotSent,
    Timeout,
    Io,
}

async fn connect(shared: &Shared, until: Instant) -> Result<Conn, ()> {
    let attempt = async {
        let tcp = TcpStream::connect(shared.target.addr)
            .await
            .map_err(|_| ())?;
        let _ = tcp.set_nodelay(true);
        let io = match &shared.tls {
            None => Io::Plain(tcp),
            Some(tls) => {
                let name = tokio_rustls::rustls::pki_types::ServerName::try_from(
                    shared.target.host.clone(),
                )
                .map_err(|_| ())?;
                Io::Tls(Box::new(tls.connect(name, tcp).await.map_err(|_| ())?))
            }
        };
        let (sender, conn) = http1::Builder::new()
            .handshake::<_, Body>(TokioIo::new(io))
            .await
            .map_err(|_| ())?;
        Ok(Conn {
            sender,
            driver: Some(Box::pin(conn)),
        })
    };
    tokio::time::timeout_at(until, attempt)
        .await
        .unwrap_or(Err(()))
}

/// Sends one GET on `conn` and reads the whole answer: (status, body bytes).
async fn send(shared: &Shared, conn: &mut Conn, until: Instant) -> Result<(u16, u64), Failure> {
    let Conn { sender, driver } = conn;
    let mut req = Request::new(Body::new());
    *req.uri_mut() = shared.uri.clone();
    let headers = req.headers_mut();
    headers.insert(HOST, shared.host.clone());
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("shipcheck-loadtest/", env!("CARGO_PKG_VERSION"))),
    );
    let work = async {
        sender.ready().await.map_err(|_| Failure::NotSent)?;
        let resp = sender.send_request(req).await.map_err(|e| {
            if e.is_canceled() {
                Failure::NotSent
            } else {
                Failure::Io
            }
        })?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| Failure::Io)?;
            if let Some(d) = frame.data_ref() {
                bytes += d.len() as u64;
            }
        }
        Ok((status, bytes))
    };
    let mut work = std::pin::pin!(work);
    let both = poll_fn(|cx| {
        if let Some(d) = driver.as_mut()
            && d.as_mut().poll(cx).is_ready()
        {
            *driver = None;
        }
        work.as_mut().poll(cx)
    });
    tokio::time::timeout_at(until, both)
        .await
        .unwrap_or(Err(Failure::Timeout))
}

/// One connection's loop: take the next request, wait for its due time (the open model),
/// (re)connect when needed, send, record.
pub(super) async fn worker(shared: Arc<Shared>, id: usize) -> Tally {
    let mut tally = Tally::default();
    let mut conn: Option<Conn> = None;
    let mut pending: Option<(u64, Option<Instant>)> = None;
    let mut retried = false;
    let mut latencies: Vec<u64> = Vec::with_capacity(FLUSH_EVERY);
    let timeout = shared.plan.timeout;
    while let Some((ticket, due)) = pending.take().or_else(|| shared.claim()) {
        if let Some(due) = due
            && due > Instant::now()
        {
            tokio::time::sleep_until(due.min(shared.hard)).await;
        }
        let now = Instant::now();
        if now >= shared.hard {
            // Due but never sent before the time limit: a timeout (the open model).
            tally.timeout += 1;
            bump(&shared.completed);
            bump(&shared.errors);
            break;
        }
        let until = (now + timeout).min(shared.hard);
        if conn.is_none() {
            match connect(&shared, until).await {
                Ok(c) => {
                    tally.connections += 1;
                    conn = Some(c);
                }
                Err(()) => {
                    tally.connect += 1;
                    tally.last_done = Some(Instant::now());
                    bump(&shared.completed);
                    bump(&shared.errors);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let began = due.unwrap_or_else(Instant::now);
        let result = send(&shared, c, until).await;
        let done = Instant::now();
        match result {
            Ok((status, bytes)) => {
                retried = false;
                let class = (status / 100) as usize;
                tally.statuses[if class <= 5 { class } else { 0 }] += 1;
                tally.bytes += bytes;
                latencies.push(done.duration_since(began).as_micros() as u64);
                if latencies.len() >= FLUSH_EVERY {
                    shared.flush(id, &mut latencies);
                }
                if status >= 400 {
                    bump(&shared.errors);
                }
            }
            Err(Failure::NotSent) if !retried => {
                // The server closed the kept-alive connection: the same request again on a
                // new one.
                retried = true;
                conn = None;
                pending = Some((ticket, due));
                continue;
            }
            Err(f) => {
                retried = false;
                conn = None;
                match f {
                    Failure::Timeout => tally.timeout += 1,
                    Failure::NotSent | Failure::Io => tally.io += 1,
                }
                bump(&shared.errors);
            }
        }
        tally.last_done = Some(done);
        bump(&shared.completed);
    }
    shared.flush(id, &mut latencies);
    tally
}
