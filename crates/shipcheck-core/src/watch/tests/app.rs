//! A production app on loopback whose answers are a function of the (simulated) time, the
//! request count and anything the test closes over: healthy, then 500s, slow, flapping.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::model::clock::SharedClock;

/// What the app sees of a request.
pub struct Req {
    /// 0, 1, 2, … across all paths.
    pub n: usize,
    /// The simulated time.
    pub now: Timestamp,
    /// The path.
    pub path: String,
}

/// How it answers.
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    /// The commit it says it runs (`x-release`), if any.
    pub version: Option<String>,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::status(200)
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            version: None,
        }
    }
    pub fn slow(ms: u64) -> Reply {
        Reply {
            delay: Duration::from_millis(ms),
            ..Reply::ok()
        }
    }
    /// Says it runs `commit`.
    pub fn version(mut self, commit: &str) -> Reply {
        self.version = Some(commit.to_string());
        self
    }
}

pub type Behaviour = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

pub struct App {
    pub addr: std::net::SocketAddr,
    hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    pub async fn start(clock: SharedClock, behaviour: Behaviour) -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (clock, behaviour, h) = (clock.clone(), behaviour.clone(), h.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 2048];
                    loop {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let n = h.fetch_add(1, Ordering::SeqCst);
                    let reply = behaviour(&Req {
                        n,
                        now: clock.now(),
                        path,
                    });
                    tokio::time::sleep(reply.delay).await;
                    let body = if reply.status == 200 { "ok" } else { "down" };
                    let version = reply
                        .version
                        .map(|v| format!("x-release: {v}\r\n"))
                        .unwrap_or_default();
                    let text = format!(
                        "HTTP/1.1 {} X\r\nContent-Length: {}\r\n{version}Connection: close\r\n\r\n{body}",
                        reply.status,
                        body.len()
                    );
                    let _ = stream.write_all(text.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        App { addr, hits, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
