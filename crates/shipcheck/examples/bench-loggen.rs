//! Writes Fly log lines as fly-log-shipper sends them (one JSON object per line, every app
//! line labelled `info` in the envelope) to stdout, for the log-scan benchmark in `bench/`
//! (not part of shipcheck).
//!
//! `bench-loggen [--bytes N]` (default 1 GiB). Deterministic: the same bytes every time.
//! The messages are what apps print, full of numbers as real logs are (latencies like
//! `503ms`, ids like `500123`, sizes like `5001`, routes like `/api/v1/errors`,
//! `error_count=0`, `"errors":[]`): access lines (plain and combined), zerolog/zap and pino
//! JSON, logfmt, Rust `tracing`, Phoenix, Rails, Python, runner lines. About 1.4 % are real
//! errors, with the app's level inside the message (`ERROR`, `level=error`,
//! `"level":"error"`, `"level":50`, `"severity":"ERROR"`, `FATAL`), panics, tracebacks, Fly
//! proxy errors (`[PU02]`, the envelope's only non-`info` level) and 5xx access lines.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

const APPS: [&str; 3] = ["internal-api", "agent-registration", "public-api"];
const PATHS: [&str; 8] = [
    "/api/health",
    "/api/items",
    "/api/agents/register",
    "/v1/public/search",
    "/api/orders",
    "/api/v1/errors",
    "/static/app.js",
    "/status",
];
const METHODS: [&str; 4] = ["GET", "GET", "POST", "PUT"];
const CLEAN_STATUS: [u32; 12] = [200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 429];

/// A deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Numbers as real logs have them: latencies, six-digit ids, four-digit sizes.
struct Nums {
    ms: u64,
    id: u64,
    size: u64,
    n: u64,
}

fn nums(r: &mut Rng) -> Nums {
    Nums {
        ms: 1 + r.below(999),
        id: 100_000 + r.below(900_000),
        size: 1000 + r.below(9000),
        n: r.below(600),
    }
}

/// One message (as the app printed it) and the envelope's provider and level.
fn message(r: &mut Rng, ts: &str, epoch_ms: u64) -> (String, &'static str, &'static str) {
    let roll = r.below(10_000);
    let v = nums(r);
    let m = *r.pick(&METHODS);
    let p = *r.pick(&PATHS);
    let five = 500 + r.below(5);
    let status = *r.pick(&CLEAN_STATUS);
    let app = ("app", "info");
    let (Nums { ms, id, size, n }, s) = (v, status);
    match roll {
        // Real errors, about 1.4 %.
        0..20 => (
            format!("{ts} ERROR db: query failed after {ms}ms: connection reset by peer (attempt {})", n % 5),
            app.0,
            app.1,
        ),
        20..35 => (
            format!(r#"time={ts} level=error msg="upstream timeout" took={ms}ms upstream_id={id}"#),
            app.0,
            app.1,
        ),
        35..50 => (
            format!(r#"{{"level":"error","time":"{ts}","caller":"billing/charge.go:{n}","msg":"payment failed","amount_cents":{size},"user_id":{id}}}"#),
            app.0,
            app.1,
        ),
        50..60 => (
            format!(r#"{{"level":50,"time":{epoch_ms},"pid":{n},"msg":"request errored","err":{{"type":"Error","message":"ECONNRESET"}},"responseTime":{ms}}}"#),
            app.0,
            app.1,
        ),
        60..65 => (
            format!(r#"{{"severity":"ERROR","message":"quota exceeded for {id}","latency_ms":{ms}}}"#),
            app.0,
            app.1,
        ),
        65..70 => (
            format!("{ts} FATAL could not bind to 0.0.0.0:{}", 8000 + n),
            app.0,
            app.1,
        ),
        70..75 => (
            format!("thread 'tokio-runtime-worker' panicked at src/handlers.rs:{n}:9:"),
            app.0,
            app.1,
        ),
        75..80 => (
            format!("panic: runtime error: index out of range [{}] with length {}", n % 9 + 1, n % 9),
            app.0,
            app.1,
        ),
        80..85 => (
            "Traceback (most recent call last):".to_string(),
            app.0,
            app.1,
        ),
        85..90 => (
            "[PU02] could not complete HTTP request to instance: connection closed before message completed".to_string(),
            "proxy",
            "error",
        ),
        90..120 => (format!("{m} {p}/{id} {five} {ms}ms bytes={size}"), app.0, app.1),
        120..130 => (
            format!(r#"10.0.{}.{} - - [25/Nov/2026:10:00:00 +0000] "{m} {p} HTTP/1.1" {five} {size} "-" "Mozilla/5.0" 0.{ms:03}"#, n % 256, id % 256),
            app.0,
            app.1,
        ),
        130..140 => (
            format!(r#"{{"level":"info","time":"{ts}","msg":"request completed","method":"{m}","path":"{p}","status":{five},"took_ms":{ms}}}"#),
            app.0,
            app.1,
        ),
        // Clean lines, full of numbers and of words that are not errors.
        140..3000 => (
            format!("{m} {p}?page={n} {s} {ms}ms bytes={size} req_id={id}"),
            app.0,
            app.1,
        ),
        3000..4500 => (
            format!(r#"10.0.{}.{} - - [25/Nov/2026:10:00:00 +0000] "{m} {p}/{id} HTTP/1.1" {s} {size} "-" "Mozilla/5.0" 0.{ms:03}"#, n % 256, id % 256),
            app.0,
            app.1,
        ),
        4500..6500 => (
            format!(r#"{{"level":"info","time":"{ts}","caller":"server/handler.go:{n}","msg":"request completed","method":"{m}","path":"{p}","status":{s},"took_ms":{ms},"bytes":{size},"user_id":{id},"error_count":0,"errors":[]}}"#),
            app.0,
            app.1,
        ),
        6500..7500 => (
            format!(r#"{{"level":30,"time":{epoch_ms},"pid":{n},"hostname":"148ed193b95389","reqId":"req-{id}","req":{{"method":"{m}","url":"{p}"}},"res":{{"statusCode":{s}}},"responseTime":{ms},"msg":"request completed"}}"#),
            app.0,
            app.1,
        ),
        7500..8700 => (
            format!(r#"time={ts} level=info msg="cache refreshed" keys={size} took={ms}ms error_count=0 hits={id}"#),
            app.0,
            app.1,
        ),
        8700..9300 => (
            format!("{ts}  INFO worker: processed batch id={id} size={size} in {ms}ms, no error"),
            app.0,
            app.1,
        ),
        9300..9500 => (
            format!("{ts}  WARN worker: retrying in {ms}ms (attempt {} of 5, last status {s})", n % 5),
            app.0,
            app.1,
        ),
        9500..9650 => (
            format!("10:00:00.{:03} request_id=F-{id} [info] Sent {s} in {ms}ms", n % 1000),
            app.0,
            app.1,
        ),
        9650..9800 => (
            format!("Completed {s} OK in {ms}ms (Views: {}.{}ms | ActiveRecord: {}.{}ms)", n % 50, n % 10, ms % 90, n % 10),
            app.0,
            app.1,
        ),
        9800..9950 => (
            format!("INFO:app.worker:finished job {id} in {ms}ms (errors=0)"),
            app.0,
            app.1,
        ),
        _ => (format!("Machine started in {ms}ms"), "runner", "info"),
    }
}

/// `s` as the inside of a JSON string (the messages hold quotes, no control characters).
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
}

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
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut written = 0u64;
    let mut line = String::with_capacity(1024);
    let mut i = 0u64;
    while written < bytes {
        i += 1;
        let app = *r.pick(&APPS);
        let instance = r.next() & 0xff_ffff_ffff_ffff;
        let host = r.below(0x10000);
        let ns = r.below(1_000_000_000);
        let (hh, mm, ss) = ((i / 3_600_000) % 24, (i / 60_000) % 60, (i / 1000) % 60);
        let ts = format!("2026-11-25T{hh:02}:{mm:02}:{ss:02}.{:06}Z", ns / 1000);
        let epoch_ms = 1_764_064_800_000 + i;
        let (msg, provider, level) = message(&mut r, &ts, epoch_ms);
        line.clear();
        let _ = write!(
            line,
            r#"{{"event":{{"provider":"{provider}"}},"fly":{{"app":{{"instance":"{instance:014x}","name":"{app}"}},"region":"fra"}},"host":"{host:04x}","log":{{"level":"{level}"}},"message":""#
        );
        escape_into(&mut line, &msg);
        let _ = writeln!(
            line,
            r#"","timestamp":"2026-11-25T{hh:02}:{mm:02}:{ss:02}.{ns:09}Z"}}"#
        );
        if w.write_all(line.as_bytes()).is_err() {
            return;
        }
        written += line.len() as u64;
    }
    let _ = w.flush();
}
