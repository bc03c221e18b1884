//! One loopback HTTP/1.1 test server for the workspace. A handler decides each answer from
//! the request (its global number, its number on its connection, method, path, headers,
//! body); the answer may wait, keep the connection open or close it. On top of it: routes
//! with a sequence of answers per path ([`Server::routes`]), a server that accepts and never
//! answers ([`Silent`]) and a port nobody listens on ([`closed_port`]).
//!
//! It runs on the caller's tokio runtime, or on a background runtime of its own when called
//! from plain (non-async) test code.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// 0, 1, 2, … over all connections, in arrival order.
    pub n: usize,
    /// 0, 1, 2, … on its connection.
    pub on_connection: usize,
    pub method: String,
    pub path: String,
    /// The header block (request line included), lower-cased.
    pub headers: String,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}:");
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::trim)
    }
}

/// One answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// Waits this long before answering.
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Keeps the connection open for the next request (HTTP/1.1 keep-alive); by default the
    /// connection closes after each answer.
    pub keep_alive: bool,
}

impl Reply {
    /// `status` with a plain-text body.
    pub fn new(status: u16, body: &str) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
            keep_alive: false,
        }
    }
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::new(status, body).header("content-type", "application/json")
    }
    /// Waits `d` before answering.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
    /// Sets header `name` (replacing an earlier value).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Keeps the connection open after this answer.
    pub fn keep_alive(mut self, keep: bool) -> Reply {
        self.keep_alive = keep;
        self
    }
}

type Answer = Pin<Box<dyn Future<Output = Reply> + Send>>;
type Handler = Arc<dyn Fn(Request) -> Answer + Send + Sync>;

#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    connections: AtomicUsize,
    seen: Mutex<Vec<Request>>,
    /// (answers being prepared now, the most there ever were at once)
    in_flight: Mutex<(usize, usize)>,
}

/// A running server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The runtime servers started outside one run on.
fn background() -> tokio::runtime::Handle {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("testkit-http")
            .enable_all()
            .build()
            .expect("a runtime for the test server")
    })
    .handle()
    .clone()
}

fn runtime() -> tokio::runtime::Handle {
    tokio::runtime::Handle::try_current().unwrap_or_else(|_| background())
}

/// Binds a loopback port (std, so it works outside a runtime).
fn bind() -> std::net::TcpListener {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.set_nonblocking(true).expect("non-blocking");
    l
}

impl Server {
    /// Answers every request with `handler`'s reply.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_async(move |r| std::future::ready(handler(&r)))
    }

    /// Answers every request with the reply `handler`'s future resolves to (it may wait for
    /// anything the test controls).
    pub fn start_async<F>(handler: impl Fn(Request) -> F + Send + Sync + 'static) -> Server
    where
        F: Future<Output = Reply> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |r| Box::pin(handler(r)) as Answer);
        let std_listener = bind();
        let addr = std_listener.local_addr().expect("local addr");
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let task = runtime().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                c.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, handler.clone(), c.clone()));
            }
        });
        Server {
            addr,
            counters,
            task,
        }
    }

    /// Serves `routes` (path → replies in order, the last repeating); other paths get 404.
    pub fn routes(routes: Vec<(&str, Vec<Reply>)>) -> Server {
        let routes: BTreeMap<String, Vec<Reply>> = routes
            .into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect();
        let counts = Mutex::new(BTreeMap::<String, usize>::new());
        Server::start(move |req| match routes.get(&req.path) {
            Some(replies) if !replies.is_empty() => {
                let mut counts = counts.lock().unwrap();
                let n = counts.entry(req.path.clone()).or_insert(0);
                let r = replies[(*n).min(replies.len() - 1)].clone();
                *n += 1;
                r
            }
            _ => Reply::new(404, "not found"),
        })
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Request> {
        self.counters.seen.lock().unwrap().clone()
    }

    /// How many requests reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.counters.in_flight.lock().unwrap().1
    }
}

async fn serve(mut stream: TcpStream, handler: Handler, c: Arc<Counters>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    for on_connection in 0.. {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end);
        let mut first = head.lines().next().unwrap_or("").split_whitespace();
        let method = first.next().unwrap_or("").to_string();
        let path = first.next().unwrap_or("").to_string();
        let headers = head.to_ascii_lowercase();
        let mut req = Request {
            n: 0,
            on_connection,
            method,
            path,
            headers,
            body: Vec::new(),
        };
        let length: usize = req
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        req.body = buf.drain(..length).collect();
        req.n = c.requests.fetch_add(1, Ordering::SeqCst);
        c.seen.lock().unwrap().push(req.clone());
        {
            let mut f = c.in_flight.lock().unwrap();
            f.0 += 1;
            f.1 = f.1.max(f.0);
        }
        let reply = handler(req).await;
        tokio::time::sleep(reply.delay).await;
        c.in_flight.lock().unwrap().0 -= 1;
        let mut text = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (k, v) in &reply.headers {
            text += &format!("{k}: {v}\r\n");
        }
        text += &format!("content-length: {}\r\n", reply.body.len());
        if !reply.keep_alive {
            text += "connection: close\r\n";
        }
        text += "\r\n";
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&reply.body);
        if stream.write_all(&bytes).await.is_err() {
            return;
        }
        if !reply.keep_alive {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// A server that accepts connections and never answers; stops when dropped.
pub struct Silent {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Silent {
    pub fn start() -> Silent {
        let std_listener = bind();
        let addr = std_listener.local_addr().expect("local addr");
        let task = runtime().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
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

/// A loopback port nobody listens on (it was bound and released).
pub fn closed_port() -> u16 {
    bind().local_addr().expect("local addr").port()
}

/// `http://127.0.0.1:PORT/path` on a port nobody listens on.
pub fn closed_url(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", closed_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn routes_answer_in_sequence_and_keep_alive_serves_several_requests() {
        let s = Server::routes(vec![(
            "/h",
            vec![Reply::new(500, "down"), Reply::json(200, "{}")],
        )]);
        let get = |p: &str| {
            let url = s.url(p);
            async move {
                let mut c = TcpStream::connect(
                    url.trim_start_matches("http://").split('/').next().unwrap(),
                )
                .await
                .unwrap();
                let path = url.splitn(4, '/').nth(3).unwrap_or("");
                c.write_all(format!("GET /{path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
                let mut out = String::new();
                c.read_to_string(&mut out).await.unwrap();
                out
            }
        };
        assert!(get("/h").await.starts_with("HTTP/1.1 500"));
        assert!(get("/h").await.starts_with("HTTP/1.1 200"));
        assert!(get("/h").await.contains("application/json"));
        assert!(get("/nope").await.starts_with("HTTP/1.1 404"));
        assert_eq!(s.hits("/h"), 3);

        let k = Server::start(|r| Reply::new(200, &r.on_connection.to_string()).keep_alive(true));
        let mut c = TcpStream::connect(k.addr).await.unwrap();
        c.write_all(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        while !String::from_utf8_lossy(&got).ends_with("\r\n\r\n1") {
            let mut b = [0u8; 256];
            let n = c.read(&mut b).await.unwrap();
            assert!(n > 0, "{}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&b[..n]);
        }
        assert_eq!((k.requests(), k.connections()), (2, 1));
    }

    #[test]
    fn starts_outside_a_runtime() {
        let s = Server::start(|_| Reply::new(204, ""));
        let mut c = std::net::TcpStream::connect(s.addr).unwrap();
        std::io::Write::write_all(&mut c, b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut c, &mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 204"), "{out}");
        assert!(closed_url("/x").starts_with("http://127.0.0.1:"));
    }
}
