//! A tiny HTTP/1.1 responder on loopback for tests: per path a sequence of replies (status,
//! delay, body; the last one repeats), a server that accepts and never answers, and a closed
//! port for "connection refused". Every connection is closed after one answer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One answer.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub body: String,
    pub content_type: &'static str,
}

impl Reply {
    /// `status` with a plain-text body.
    pub fn new(status: u16, body: &str) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            body: body.into(),
            content_type: "text/plain",
        }
    }
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            content_type: "application/json",
            ..Reply::new(status, body)
        }
    }
    /// Waits before answering.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// A request the server saw.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub method: String,
    pub path: String,
    /// The header block, lower-cased.
    pub headers: String,
}

/// A running server; stops when dropped.
pub(crate) struct TestServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// (answers being prepared now, the most there ever were at once)
    in_flight: Arc<Mutex<(usize, usize)>>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Serves `routes` (path → replies in order, the last repeating); other paths get 404.
    pub async fn start(routes: Vec<(&str, Vec<Reply>)>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: BTreeMap<String, Vec<Reply>> = routes
            .into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect();
        let routes = Arc::new(routes);
        let counts = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new((0, 0)));
        let (seen2, in_flight2) = (seen.clone(), in_flight.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (routes, counts, seen) = (routes.clone(), counts.clone(), seen2.clone());
                let in_flight = in_flight2.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &routes, &counts, &seen, &in_flight).await;
                });
            }
        });
        TestServer {
            addr,
            seen,
            in_flight,
            task,
        }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }

    /// How many requests reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }
}

async fn serve(
    mut stream: TcpStream,
    routes: &BTreeMap<String, Vec<Reply>>,
    counts: &Mutex<BTreeMap<String, usize>>,
    seen: &Mutex<Vec<Seen>>,
    in_flight: &Mutex<(usize, usize)>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers = head.to_ascii_lowercase();
    let content_length: usize = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < content_length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        have += n;
    }
    seen.lock().unwrap().push(Seen {
        method,
        path: path.clone(),
        headers,
    });
    let reply = match routes.get(&path) {
        Some(replies) if !replies.is_empty() => {
            let mut counts = counts.lock().unwrap();
            let n = counts.entry(path).or_insert(0);
            let r = replies[(*n).min(replies.len() - 1)].clone();
            *n += 1;
            r
        }
        _ => Reply::new(404, "not found"),
    };
    {
        let mut f = in_flight.lock().unwrap();
        f.0 += 1;
        f.1 = f.1.max(f.0);
    }
    tokio::time::sleep(reply.delay).await;
    in_flight.lock().unwrap().0 -= 1;
    let text = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.content_type,
        reply.body.len(),
        reply.body
    );
    stream.write_all(text.as_bytes()).await?;
    stream.shutdown().await
}

/// A server that accepts connections and never answers.
pub(crate) struct Silent {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Silent {
    pub async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Silent { addr, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A loopback URL nobody listens on (the port was bound and released).
pub(crate) async fn closed_url(path: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}{path}")
}
