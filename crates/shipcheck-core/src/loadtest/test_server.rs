//! A keep-alive HTTP/1.1 server on loopback with known behaviour, for the load test's tests:
//! it counts requests, answers a chosen status to every k-th request, pauses every answer
//! for a while once the n-th request arrives (a stall), or closes connections after every
//! few answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;

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

#[allow(dead_code)]
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
    pub connections: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(b: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let paused_until: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let (r, c) = (requests.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, b, r.clone(), paused_until.clone()));
            }
        });
        Server {
            addr,
            requests,
            connections,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A port nobody listens on.
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn serve(
    mut s: TcpStream,
    b: Behaviour,
    count: Arc<AtomicU64>,
    paused: Arc<Mutex<Option<Instant>>>,
) {
    let _ = s.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut answered = 0u64;
    loop {
        // One request head (GET, no body).
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..end);
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((at, d)) = b.stall
            && n == at
        {
            *paused.lock().await = Some(Instant::now() + d);
        }
        let until = *paused.lock().await;
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
        let status = match b.status_every {
            Some((k, st)) if k > 0 && n.is_multiple_of(k) => st,
            _ => 200,
        };
        answered += 1;
        let close = b.close_after.is_some_and(|c| answered >= c);
        let body = "ok";
        let resp = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "connection: close\r\n" } else { "" }
        );
        if s.write_all(resp.as_bytes()).await.is_err() || close {
            return;
        }
    }
}
