//! A small HTTP/1.1 keep-alive server for the benchmarks in `bench/` (not part of shipcheck).
//!
//! `bench-server [--port P] [--threads N] [--delay-ms D] [--stall-every-ms X --stall-ms Y]`
//!
//! Answers every GET with `200` and a short JSON body, pipelined requests included. With
//! `--delay-ms` every answer waits D ms (the health fan-out); with `--stall-every-ms` the
//! whole server stops answering for Y ms every X ms (the stall that coordinated omission
//! hides). It prints `listening on 127.0.0.1:PORT` once it accepts connections and stops on
//! SIGTERM or after `--max-secs` (default 600).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

#[derive(Clone, Copy)]
struct Opts {
    port: u16,
    threads: usize,
    delay: Duration,
    stall_every: Option<Duration>,
    stall: Duration,
    max: Duration,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        port: 0,
        threads: 1,
        delay: Duration::ZERO,
        stall_every: None,
        stall: Duration::ZERO,
        max: Duration::from_secs(600),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{what} needs a number"))
        };
        match a.as_str() {
            "--port" => o.port = num("--port")? as u16,
            "--threads" => o.threads = num("--threads")?.max(1) as usize,
            "--delay-ms" => o.delay = Duration::from_millis(num("--delay-ms")?),
            "--stall-every-ms" => {
                o.stall_every = Some(Duration::from_millis(num("--stall-every-ms")?.max(1)))
            }
            "--stall-ms" => o.stall = Duration::from_millis(num("--stall-ms")?),
            "--max-secs" => o.max = Duration::from_secs(num("--max-secs")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

const BODY: &str = r#"{"status":"ok"}"#;

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench-server: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("bench-server: {e}");
            std::process::exit(2)
        });
    rt.block_on(async move {
        // A deep accept queue: the fan-out opens 1,000 connections at once.
        let listen = || -> std::io::Result<TcpListener> {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], o.port)))?;
            socket.listen(4096)
        };
        let listener = match listen() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("bench-server: cannot listen: {e}");
                std::process::exit(2);
            }
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        println!("listening on 127.0.0.1:{port}");
        let start = Instant::now();
        let response: Arc<[u8]> = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_bytes()
        .into();
        let accept = async {
            loop {
                if let Ok((s, _)) = listener.accept().await {
                    tokio::spawn(serve(s, o, start, response.clone()));
                }
            }
        };
        tokio::select! {
            _ = accept => {}
            _ = tokio::time::sleep(o.max) => {}
        }
    });
}

/// When the current stall (if any) ends.
fn stalled_until(o: &Opts, start: Instant, now: Instant) -> Option<Instant> {
    let every = o.stall_every?;
    let since = now.duration_since(start).as_nanos() % every.as_nanos();
    let since = Duration::from_nanos(since as u64);
    (since < o.stall).then(|| now + (o.stall - since))
}

async fn serve(mut s: TcpStream, o: Opts, start: Instant, response: Arc<[u8]>) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 16 << 10];
    let mut filled = 0usize;
    let mut out = Vec::with_capacity(16 << 10);
    loop {
        match s.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => filled += n,
        }
        // Every complete request head in the buffer gets an answer (pipelining).
        let mut used = 0;
        let mut answers = 0;
        while let Some(i) = find_head_end(&buf[used..filled]) {
            used += i;
            answers += 1;
        }
        if answers == 0 {
            if filled == buf.len() {
                return; // a request head larger than 16 KiB: not ours
            }
            continue;
        }
        buf.copy_within(used..filled, 0);
        filled -= used;
        if !o.delay.is_zero() {
            tokio::time::sleep(o.delay).await;
        }
        if let Some(until) = stalled_until(&o, start, Instant::now()) {
            tokio::time::sleep_until(until).await;
        }
        out.clear();
        for _ in 0..answers {
            out.extend_from_slice(&response);
        }
        if s.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn find_head_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}
