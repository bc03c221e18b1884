//! Simulated watches for the false-alarm and power benchmarks (`bench/false-alarms`) and
//! the sequential tests' statistical unit tests: one app probed once a second, with the
//! noise a small production app shows. Deterministic from a seed.
//!
//! # The noise model (a clean release)
//!
//! - **Latency jitter**: each answer takes a log-normal time, median 20 ms, σ = 0.35 (p95
//!   ≈ 36 ms); 1 % of answers are a heavy tail, 3–10× the median (a cold cache).
//! - **Rare baseline 5xx**: each watch draws its true failure rate from 0, 0.1 %, 0.5 % and
//!   1 % (the floor the test assumes: the worst case it is tuned for).
//! - **A burst**: once a watch, 3 probes in a row fail (a Machine restarting).
//! - **A slow probe**: once an hour, one answer takes 5 s (under the 10 s probe timeout).
//! - **A GC pause**: once a watch, 3 s in which every answer is 1.5 s slower.
//! - **A scrape gap**: once a watch, 30 s with no observation at all (the watcher stalled or
//!   the metrics missed a scrape): no data, neither pass nor fail.
//!
//! The baseline is what `preflight` records: ten probes of the previous release, from the
//! same distribution (their failure count and the slowest of the ten as the p95).
//!
//! A degraded release adds a failure rate from a given second on (and may multiply the
//! latencies).

use crate::watch::sequential::{CountTest, Crossing, slow_threshold};

/// splitmix64: a small, fast, well-mixed generator (no dependency for a benchmark).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    /// Uniform whole number in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// One second of a watch: a probe that failed, or answered in `ms`; `None`: no data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Obs {
    /// The probe failed (5xx, refused, timed out).
    Failed,
    /// It answered in this many milliseconds.
    Answered(f64),
}

/// How a simulated release behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Release {
    /// Extra failure rate from `onset_s` on (0: clean).
    pub failure_rate: f64,
    /// Latency multiplier from `onset_s` on (1: unchanged).
    pub slowdown: f64,
    /// Second the degradation starts at.
    pub onset_s: u64,
    /// The true baseline failure rate; `None`: drawn from the noise model.
    pub base_rate: Option<f64>,
}

impl Release {
    /// A clean release.
    pub fn clean() -> Release {
        Release {
            failure_rate: 0.0,
            slowdown: 1.0,
            onset_s: 0,
            base_rate: None,
        }
    }
}

/// A simulated watch: the baseline the previous release showed and the watch's seconds.
#[derive(Clone, Debug)]
pub struct Watch {
    /// Failed baseline probes, of [`BASELINE_PROBES`].
    pub baseline_failed: u64,
    /// The baseline latency p95 (the slowest of the answers), ms; `None` if none answered.
    pub baseline_p95: Option<f64>,
    /// One entry a second; `None` is a gap.
    pub seconds: Vec<Option<Obs>>,
}

/// Baseline probes `preflight` takes (the `[monitor] baseline_probes` default).
pub const BASELINE_PROBES: u64 = 10;

fn latency(rng: &mut Rng) -> f64 {
    let ms = 20.0 * (0.35 * rng.normal()).exp();
    if rng.chance(0.01) {
        ms * (3.0 + 7.0 * rng.uniform())
    } else {
        ms
    }
}

/// Generates one watch of `seconds` seconds of `release`.
pub fn watch(rng: &mut Rng, seconds: u64, release: Release) -> Watch {
    let base = release
        .base_rate
        .unwrap_or_else(|| [0.0, 0.001, 0.005, 0.01][rng.below(4) as usize]);
    let mut baseline_failed = 0;
    let mut slowest: Option<f64> = None;
    for _ in 0..BASELINE_PROBES {
        if rng.chance(base) {
            baseline_failed += 1;
        } else {
            let ms = latency(rng);
            slowest = Some(slowest.map_or(ms, |s: f64| s.max(ms)));
        }
    }
    let burst = rng.below(seconds.max(1));
    let gc = rng.below(seconds.max(1));
    let gap = rng.below(seconds.max(1));
    let slow: Vec<u64> = (0..seconds.div_ceil(3600))
        .map(|h| h * 3600 + rng.below(3600))
        .collect();
    let mut out = Vec::with_capacity(seconds as usize);
    for t in 0..seconds {
        if (gap..gap + 30).contains(&t) {
            out.push(None);
            continue;
        }
        let degraded = t >= release.onset_s;
        let rate = if degraded {
            base + release.failure_rate
        } else {
            base
        };
        if rng.chance(rate) || (burst..burst + 3).contains(&t) {
            out.push(Some(Obs::Failed));
            continue;
        }
        let mut ms = latency(rng);
        if degraded {
            ms *= release.slowdown;
        }
        if (gc..gc + 3).contains(&t) {
            ms += 1500.0;
        }
        if slow.contains(&t) {
            ms = 5000.0;
        }
        out.push(Some(Obs::Answered(ms)));
    }
    Watch {
        baseline_failed,
        baseline_p95: slowest,
        seconds: out,
    }
}

/// The detector's settings for a replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// False-alarm probability per watch (split between the two tests).
    pub alpha: f64,
    /// The baseline error floor, a fraction.
    pub floor: f64,
    /// Observations a watch holds (the bound's `N`).
    pub n_watch: f64,
    /// Critical at this many times the baseline.
    pub critical_factor: f64,
    /// Latency margin: percent over the baseline p95.
    pub latency_increase: f64,
    /// ... and at least this many milliseconds.
    pub latency_min_ms: f64,
    /// Observations a batch (a watch sample) holds.
    pub batch: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            alpha: 0.005,
            floor: 0.01,
            n_watch: 7200.0,
            critical_factor: 5.0,
            latency_increase: 25.0,
            latency_min_ms: 50.0,
            batch: 1,
        }
    }
}

/// What the detector made of a watch: its first crossing of each test.
#[derive(Clone, Debug, Default)]
pub struct Judgement {
    /// The failure test's first crossing and the second it came at.
    pub errors: Option<(u64, Crossing)>,
    /// The latency test's.
    pub latency: Option<(u64, Crossing)>,
    /// The first critical crossing's second.
    pub critical_at: Option<u64>,
}

impl Judgement {
    /// The first second any test raised.
    pub fn first(&self) -> Option<u64> {
        [
            self.errors.as_ref().map(|e| e.0),
            self.latency.as_ref().map(|e| e.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Replays the detector over a watch.
pub fn judge(w: &Watch, s: &Settings) -> Judgement {
    let p0 = w.baseline_failed as f64 / BASELINE_PROBES as f64;
    let mut errors = CountTest::errors(p0, s.floor, s.n_watch, s.alpha / 2.0, s.critical_factor);
    let mut lat = w.baseline_p95.map(|p95| {
        (
            slow_threshold(p95, s.latency_increase, s.latency_min_ms),
            CountTest::latency(s.n_watch, s.alpha / 2.0),
        )
    });
    let mut j = Judgement::default();
    let batch = s.batch.max(1);
    for (i, chunk) in w.seconds.chunks(batch).enumerate() {
        let at = ((i + 1) * batch) as u64;
        let (mut n, mut failed, mut answered, mut slow) = (0u64, 0u64, 0u64, 0u64);
        let limit = lat.as_ref().map(|(l, _)| *l);
        for o in chunk.iter().flatten() {
            n += 1;
            match o {
                Obs::Failed => failed += 1,
                Obs::Answered(ms) => {
                    answered += 1;
                    slow += u64::from(limit.is_some_and(|l| *ms > l));
                }
            }
        }
        if let Some(c) = errors.push(failed, n) {
            if j.critical_at.is_none() && c.severity == crate::model::incident::Severity::Critical {
                j.critical_at = Some(at);
            }
            if j.errors.is_none() {
                j.errors = Some((at, c));
            }
        }
        if let Some((_, test)) = lat.as_mut()
            && let Some(c) = test.push(slow, answered)
            && j.latency.is_none()
        {
            j.latency = Some((at, c));
        }
        if j.errors.is_some() && j.latency.is_some() && j.critical_at.is_some() {
            break;
        }
    }
    j
}
