//! The false-alarm and power benchmark of the watch's sequential tests (`bench/false-alarms`;
//! not part of shipcheck). Generates noisy simulated watches (the noise model is
//! `shipcheck_core::watch::simulate`'s) and replays the detector over them:
//!
//! - clean releases: false incidents per 200 watch-hours;
//! - degraded releases (20 %, 5 %, a 1 % baseline doubled): power, requests and seconds to
//!   the first incident and to the first critical one;
//! - replay speed: judging 1,000 recorded two-hour watches.
//!
//! `bench-false-alarms [CLEAN_WATCHES] [DEGRADED_WATCHES] [SEED]` (defaults 150, 1000, 1).

use std::time::Instant;

use shipcheck_core::watch::sequential::kl;
use shipcheck_core::watch::simulate::{self, Release, Rng, Settings};

const HOURS: u64 = 2;

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn quantile(v: &mut [u64], q: f64) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort_unstable();
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].to_string()
}

/// ln C(n, k).
fn ln_choose(n: u64, k: u64) -> f64 {
    let lg = |x: u64| (1..=x).map(|i| (i as f64).ln()).sum::<f64>();
    lg(n) - lg(k) - lg(n - k)
}

/// P(Binomial(n, p) ≥ c).
fn tail(n: u64, p: f64, c: u64) -> f64 {
    (c..=n)
        .map(|k| (ln_choose(n, k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp())
        .sum()
}

/// The most power any test can have deciding from `n` requests whether `p0` became `p1`,
/// at false-alarm probability `alpha` (Neyman–Pearson: reject when failures ≥ c).
fn best_power(n: u64, p0: f64, p1: f64, alpha: f64) -> (u64, f64) {
    let c = (0..=n).find(|c| tail(n, p0, *c) <= alpha).unwrap_or(n);
    (c, tail(n, p1, c))
}

fn main() {
    let clean = arg(1, 150);
    let degraded = arg(2, 1000);
    let seed = arg(3, 1);
    let secs = HOURS * 3600;
    let settings = Settings::default();
    println!("# false alarms and power of the sequential tests (simulated, seed {seed})");
    println!(
        "settings: false-alarm probability {} per watch (half to failures, half to latency), baseline floor {} %, bound tuned to {} observations (a {HOURS} h watch at 1 probe/s), critical at {}× the baseline",
        settings.alpha,
        settings.floor * 100.0,
        settings.n_watch,
        settings.critical_factor
    );

    // Clean watches.
    let mut rng = Rng::new(seed);
    let watches: Vec<_> = (0..clean)
        .map(|_| simulate::watch(&mut rng, secs, Release::clean()))
        .collect();
    let (mut err_alarms, mut lat_alarms, mut any) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let mut examples = Vec::new();
    for w in &watches {
        let j = simulate::judge(w, &settings);
        err_alarms += u64::from(j.errors.is_some());
        lat_alarms += u64::from(j.latency.is_some());
        any += u64::from(j.first().is_some());
        if let Some((at, c)) = j.errors.as_ref().or(j.latency.as_ref())
            && examples.len() < 3
        {
            examples.push(format!("  at {at}s: {}", c.describe("observations")));
        }
    }
    let replay = started.elapsed();
    let hours = (clean * HOURS) as f64;
    println!(
        "\n## clean releases: {clean} watches × {HOURS} h = {hours} watch-hours ({} observations)",
        clean * secs
    );
    println!(
        "false incidents: {any} ({err_alarms} failure-count, {lat_alarms} latency) = {:.2} per 200 watch-hours (goal ≤ 1)",
        any as f64 * 200.0 / hours
    );
    for e in examples {
        println!("{e}");
    }

    // Degraded releases.
    println!("\n## degraded releases: {degraded} watches each, degraded from the first second");
    println!(
        "| release | flagged in the watch | within 300 requests | requests to the first incident p50 / p90 / p95 / max | to critical p50 / p95 | critical |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, base, extra) in [
        ("20 % failing", None, 0.20),
        ("5 % failing", None, 0.05),
        ("1 % baseline doubled (2 %)", Some(0.01), 0.01),
    ] {
        let mut times = Vec::new();
        let mut crit = Vec::new();
        let mut within = 0u64;
        for _ in 0..degraded {
            let w = simulate::watch(
                &mut rng,
                secs,
                Release {
                    failure_rate: extra,
                    base_rate: base,
                    ..Release::clean()
                },
            );
            let j = simulate::judge(&w, &settings);
            if let Some((at, _)) = &j.errors {
                times.push(*at);
                within += u64::from(*at <= 300);
            }
            if let Some(at) = j.critical_at {
                crit.push(at);
            }
        }
        let n = degraded as f64;
        let flagged = times.len() as f64 / n * 100.0;
        let critical = crit.len() as f64 / n * 100.0;
        println!(
            "| {name} | {flagged:.1} % | {:.1} % | {} / {} / {} / {} | {} / {} | {critical:.1} % |",
            within as f64 / n * 100.0,
            quantile(&mut times, 0.5),
            quantile(&mut times, 0.9),
            quantile(&mut times, 0.95),
            quantile(&mut times, 1.0),
            quantile(&mut crit, 0.5),
            quantile(&mut crit, 0.95),
        );
    }
    let alpha_errors = settings.alpha / 2.0;
    let (c, power) = best_power(300, 0.01, 0.02, alpha_errors);
    let (c2, power2) = best_power(300, 0.01, 0.02, 0.05);
    println!(
        "\nthe limit for a doubling from 1 % in 300 requests (Neyman–Pearson, one look at request 300): at false-alarm probability {alpha_errors} the best test flags ≥ {c} failures and has power {:.1} %; even at 5 % (≥ {c2} failures) {:.1} %. Expected requests for a CUSUM to gather ln(1/α) of evidence: {:.0}",
        power * 100.0,
        power2 * 100.0,
        (1.0 / alpha_errors).ln() / kl(0.02, 0.01)
    );

    // Replay speed: 1,000 two-hour watches (the clean ones, repeated).
    let mut judged = 0u64;
    let started_all = Instant::now();
    let mut flagged = 0u64;
    while judged < 1000 && !watches.is_empty() {
        for w in &watches {
            if judged >= 1000 {
                break;
            }
            flagged += u64::from(simulate::judge(w, &settings).first().is_some());
            judged += 1;
        }
    }
    let took = started_all.elapsed();
    println!(
        "\n## replay speed: {judged} two-hour watches ({} observations each) judged in {:.3} s ({flagged} flagged); the first {clean} took {:.3} s (goal: 1,000 in < 1 s)",
        secs,
        took.as_secs_f64(),
        replay.as_secs_f64()
    );
}
