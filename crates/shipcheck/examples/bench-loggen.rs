//! Writes Fly-format JSON log lines (fly-log-shipper's one-line shape) to stdout, for the
//! log-scan benchmark in `bench/` (not part of shipcheck).
//!
//! `bench-loggen [--bytes N]` (default 1 GiB). Deterministic: the same bytes every time.
//! About 0.5 % of lines are level error, 0.05 % fatal, 0.1 % mention a panic and 0.3 %
//! answer 5xx; the rest are ordinary requests.

use std::io::{BufWriter, Write};

const APPS: [&str; 3] = ["internal-api", "agent-registration", "public-api"];
const PATHS: [&str; 6] = [
    "/api/health",
    "/api/items",
    "/api/agents/register",
    "/v1/public/search",
    "/api/orders",
    "/static/app.js",
];
const METHODS: [&str; 4] = ["GET", "GET", "POST", "PUT"];

fn main() {
    let mut bytes: u64 = 1 << 30;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--bytes", Some(n)) => bytes = n,
            _ => {
                eprintln!("usage: bench-loggen [--bytes N]");
                std::process::exit(2);
            }
        }
    }
    let out = std::io::stdout().lock();
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut written = 0u64;
    let mut line = String::with_capacity(512);
    let mut i = 0u64;
    while written < bytes {
        i += 1;
        let r = next();
        let app = APPS[(r % 3) as usize];
        let roll = (r >> 8) % 10_000;
        let (level, message) = match roll {
            0..50 => (
                "error",
                format!("query failed: connection reset by peer (attempt {})", r % 5),
            ),
            50..55 => ("fatal", "out of memory: killing process".to_string()),
            55..65 => (
                "info",
                format!(
                    "thread 'tokio-runtime-worker' panicked at src/handlers.rs:{}:9",
                    r % 900
                ),
            ),
            _ => {
                let status = if roll < 95 {
                    500 + (r >> 20) % 4
                } else {
                    [200, 200, 201, 204, 301, 404][((r >> 20) % 6) as usize]
                };
                let m = METHODS[((r >> 24) % 4) as usize];
                let p = PATHS[((r >> 28) % 6) as usize];
                (
                    "info",
                    format!(
                        "{m} {p}/{} {status} {}ms",
                        (r >> 32) % 10_000,
                        (r >> 44) % 900
                    ),
                )
            }
        };
        let ns = (r >> 12) % 1_000_000_000;
        line.clear();
        line.push_str(&format!(
            r#"{{"event":{{"provider":"app"}},"fly":{{"app":{{"instance":"{:014x}","name":"{app}"}},"region":"fra"}},"host":"{:04x}","log":{{"level":"{level}"}},"message":"{message}","timestamp":"2026-11-25T{:02}:{:02}:{:02}.{ns:09}Z"}}"#,
            (r >> 3) & 0xff_ffff_ffff_ffff,
            (r >> 40) & 0xffff,
            (i / 3_600_000) % 24,
            (i / 60_000) % 60,
            (i / 1000) % 60,
        ));
        line.push('\n');
        if w.write_all(line.as_bytes()).is_err() {
            return;
        }
        written += line.len() as u64;
    }
    let _ = w.flush();
}
