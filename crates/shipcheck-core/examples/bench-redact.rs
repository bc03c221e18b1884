//! What redaction costs (`docs/benchmarks.md`, "Redaction"; not part of shipcheck): the
//! throughput of `redact` over a command's 4 MiB output, and the cost of one line and one run's
//! `run_started` event, with the secrets a real environment holds.
//!
//! `cargo run --release -p shipcheck-core --example bench-redact`

use std::time::Instant;

use shipcheck_core::model::redact::{Redactor, redact};

fn main() {
    let secrets: Vec<String> = [
        "ghp_R8sT1uY6zA3bC5dE7Q2mXw9LkP4vAbCdEfGhIj",
        "sntrys_eyJpYXQiOjE3MzM0ODAwMDAsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIn0_Xq2Zr5W0rd8",
        "FlyV1 fm2_lJPECAAAAAAAAM8gxBBQ7Kx9ZqPn3Wm2Yh5Tg9Uj7Ik1Ol6Pz2Xc8Vb4Nm",
        "https://hooks.slack.com/services/T0ABCDEFG/B0HIJKLMN/abcd1234EFGH5678ijkl9012",
        "postgres://deploy:Xy7pQ2rT9wLm@db.internal:5432/maishapoa_production",
        "fm2_prom8Hn3Vb6Mc1Xz5Lk9Jg2Df4Sa7Qw",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A command's output: 4 MiB of log-like lines, one of which quotes a cut token.
    let mut output = String::new();
    let mut n = 0u64;
    while output.len() < 4 << 20 {
        n += 1;
        output.push_str(&format!(
            "2026-12-08T10:30:{:02}Z info GET /api/agents/{n} 200 12ms region=jnb build=4f2a9c1\n",
            n % 60
        ));
    }
    output.push_str("auth: Bearer ghp_R8sT1uY6zA3bC5dE7Q2\n");
    let rounds = 5;
    let start = Instant::now();
    let mut kept = 0;
    for _ in 0..rounds {
        kept += redact(&output, &secrets).len();
    }
    let secs = start.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "4 MiB of output: {:.1} ms ({:.0} MiB/s), {} bytes kept",
        secs * 1000.0,
        4.0 / secs,
        kept / rounds
    );

    let line = "  ✓ verify.health-200  pass  41ms  every app answered 200 (3 apps, p95 38ms)\n";
    let lines = 100_000;
    let start = Instant::now();
    for _ in 0..lines {
        std::hint::black_box(redact(line, &secrets));
    }
    println!(
        "one printed line (the Redactor prepared each time): {:.1} µs",
        start.elapsed().as_secs_f64() * 1e6 / lines as f64
    );
    let r = Redactor::new(&secrets);
    let start = Instant::now();
    for _ in 0..lines {
        std::hint::black_box(r.redact(line));
    }
    println!(
        "one line with a prepared Redactor: {:.2} µs",
        start.elapsed().as_secs_f64() * 1e6 / lines as f64
    );

    // A run's first event: the whole seed checklist as JSON.
    let items = shipcheck_core::model::checklist::Checklist::builtin().items;
    let value = serde_json::to_value(&items).unwrap_or_default();
    let events = 1000;
    let start = Instant::now();
    for _ in 0..events {
        let mut v = value.clone();
        Redactor::new(&secrets).redact_json(&mut v);
        std::hint::black_box(v);
    }
    println!(
        "the seed checklist ({} items) as one event: {:.2} ms",
        items.len(),
        start.elapsed().as_secs_f64() * 1000.0 / events as f64
    );
}
