//! Sequential tests: decide on evidence, not on a count of samples. Pure functions and small
//! state machines, fed one batch of observations at a time (a sample's probes, a scrape's
//! request counts); nothing here does I/O or reads a clock.
//!
//! # Failure counts: a bank of binomial CUSUMs
//!
//! Each observation is a request (or probe) that failed (`x = 1`) or not (`x = 0`). Under
//! the baseline hypothesis H0 a request fails with probability `p0` (the previous release's
//! failed-request rate, never below a configured floor: ten baseline probes cannot tell 0 %
//! from 0.5 %). Against one alternative `p1 > p0` the log-likelihood ratio of one
//! observation is
//!
//! ```text
//! a = ln(p1 / p0)                  (a failure: evidence for p1)
//! b = ln((1 − p1) / (1 − p0))      (a success: evidence for p0, b < 0)
//! ```
//!
//! and Page's CUSUM `S_n = max(0, S_{n−1} + x·a + (1 − x)·b)` is the strongest evidence,
//! over every possible start, that the rate moved from `p0` to `p1`. It raises when
//! `S_n ≥ h`. A batch of `n` observations with `f` failures adds `f·a + (n − f)·b` and is
//! clamped at zero once (a little less evidence than one at a time: never more false alarms).
//! A batch is one moment — a watch sample's probes go out together, and a one-second blip
//! fails all of them — so its evidence is capped at `h/2`: a crossing takes at least two
//! batches, and a one-sample flap never raises on its own. The cap only lowers `S`, so it
//! only lowers the false-alarm rate. Once crossed, `S` is held at `h`: the test stays above
//! its bound while the failures go on, and drops below it at the first batch that does not
//! add evidence (the recovery is then judged by the verification test below).
//!
//! **The bound `h` from a false-alarm probability.** Siegmund's approximation of the
//! average run length of a CUSUM under H0 is `ARL0 ≈ (e^h − h − 1) / D(p0‖p1)` observations,
//! where `D(p0‖p1) = p0·ln(p0/p1) + (1 − p0)·ln((1 − p0)/(1 − p1))` is the Kullback–Leibler
//! divergence (the mean downward drift of `S` under H0). False alarms are rare events, about
//! Poisson, so a watch of `N` observations raises falsely with probability `≈ N / ARL0`.
//! Setting that to `α` gives `e^h − h − 1 = N·D(p0‖p1) / α`, solved for `h` by bisection
//! ([`cusum_bound`]). The approximation ignores the overshoot over `h` (large for the big
//! jumps of a rare-failure test), which makes the real false-alarm rate lower; the
//! `false_alarms` bench measures it on simulated noisy watches.
//!
//! **Several alternatives.** One CUSUM is tuned to one size of failure: small `p1` is slow
//! to notice a disaster (each failure adds little), large `p1` cannot see a doubling. The
//! test runs one CUSUM per alternative (by default 2×, 4×, 10× and 30× the baseline rate,
//! capped below 1) and splits `α` evenly between them (Bonferroni: the probability that any
//! one raises falsely is at most the sum).
//!
//! **Severity from the size of the effect.** A CUSUM for `p1` has positive drift exactly
//! when the true rate is above its break-even rate `p* = −b / (a − b)` (between `p0` and
//! `p1`), so its crossing is evidence, at false-alarm probability `α/k`, that the rate is
//! above `p*`. The crossing is critical when `p*` is at least the critical factor times the
//! baseline (or at least 50 %: the app answers fewer than half of its requests); high
//! otherwise.
//!
//! # Latency: a test on the share of slow answers
//!
//! Latency samples are compared with the previous release's recorded answers: an answer is
//! *slow* when it is above the baseline p95 by the configured margin (times 1 + increase,
//! and by at least the minimum increase). By construction at most about 5 % of the baseline's answers are
//! above its p95; with ten baseline answers the p95 is the slowest, and a new answer is above
//! the slowest of ten with probability 1/11, so H0 is "at most [`LATENCY_P0`] = 10 % slow".
//! The same CUSUM bank judges the slow-answer counts (alternatives 30 % and 60 %); a latency
//! crossing is medium.
//!
//! # Verifying a rollback: Wald's SPRT
//!
//! After a rollback the question is the opposite: is the rate back at the baseline? Wald's
//! sequential probability ratio test of H0 `p0` against H1 `p1` (half the rate the incident
//! saw, at least 4× the baseline) accepts H0 when the log-likelihood ratio falls to
//! `B = ln(β / (1 − α))` and rejects it at `A = ln((1 − β) / α)` (`β` the probability of
//! verifying a rollback that did not fix it). A rejection starts the test again: the rollback
//! is not verified yet. At the defaults and a 0 % rate after the rollback it takes
//! `B / b` successes: 20 probes when the incident saw 30 %.
//!
//! "No data" is never evidence: an empty batch changes nothing, and a test with no
//! observations has neither raised nor verified anything.

use serde::{Deserialize, Serialize};

use crate::model::incident::Severity;

/// The share of a release's answers above its baseline's p95 (with the margin) allowed
/// under H0 (see the module's doc).
pub const LATENCY_P0: f64 = 0.10;

/// The alternatives of the failure-count test, as multiples of the baseline rate.
pub const ERROR_FACTORS: [f64; 4] = [2.0, 4.0, 10.0, 30.0];

/// The alternatives of the slow-answer test, as shares of answers.
pub const LATENCY_ALTERNATIVES: [f64; 2] = [0.30, 0.60];

/// The probability of verifying a rollback that did not fix the failure.
pub const VERIFY_BETA: f64 = 0.05;

/// The highest alternative rate (a CUSUM against "always fails" would be undefined).
const MAX_P: f64 = 0.95;

/// Bernoulli Kullback–Leibler divergence `D(p‖q)`, nats (`p`, `q` in (0, 1)).
pub fn kl(p: f64, q: f64) -> f64 {
    let term = |x: f64, y: f64| if x <= 0.0 { 0.0 } else { x * (x / y).ln() };
    term(p, q) + term(1.0 - p, 1.0 - q)
}

/// The CUSUM bound `h` for which a watch of `n` observations under H0 (`p0`) raises falsely
/// against `p1` with probability about `alpha` (Siegmund: `e^h − h − 1 = n·D(p0‖p1)/α`).
/// At least `ln(1/α)` (one observation's Ville bound) and at most 60.
pub fn cusum_bound(p0: f64, p1: f64, n: f64, alpha: f64) -> f64 {
    let alpha = alpha.clamp(1e-12, 0.5);
    let target = (n.max(1.0) * kl(p0, p1) / alpha).max(0.0);
    let g = |h: f64| h.exp() - h - 1.0 - target;
    let (mut lo, mut hi) = (0.0f64, 60.0f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if g(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi.max((1.0 / alpha).ln()).min(60.0)
}

/// The rate above which a CUSUM of `p0` against `p1` drifts upward: `−b / (a − b)`.
pub fn break_even(p0: f64, p1: f64) -> f64 {
    let (a, b) = llr_steps(p0, p1);
    -b / (a - b)
}

fn llr_steps(p0: f64, p1: f64) -> (f64, f64) {
    ((p1 / p0).ln(), ((1.0 - p1) / (1.0 - p0)).ln())
}

/// One CUSUM of a bank.
#[derive(Clone, Debug, PartialEq)]
struct Arm {
    p1: f64,
    a: f64,
    b: f64,
    h: f64,
    s: f64,
    /// Observations and failures since `s` last was zero (the evidence's start).
    run_n: u64,
    run_f: u64,
}

/// A bound crossed: the numbers an incident prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    /// `binomial CUSUM` (failures) or `slow-answer CUSUM` (latency).
    pub test: String,
    /// The baseline rate (H0), a fraction.
    pub baseline: f64,
    /// The alternative the crossing CUSUM was tuned to, a fraction.
    pub alternative: f64,
    /// The rate above which the crossing is evidence (the break-even rate), a fraction.
    pub above: f64,
    /// The bound crossed (log-likelihood).
    pub bound: f64,
    /// The statistic when it crossed.
    pub statistic: f64,
    /// Observations since the evidence began.
    pub samples: u64,
    /// Failures (or slow answers) among them.
    pub failed: u64,
    /// Observations the test had seen in all.
    pub seen: u64,
    /// The false-alarm probability of the whole test per watch.
    pub alpha: f64,
    /// How severe the effect is.
    pub severity: Severity,
}

impl Crossing {
    /// The observed rate since the evidence began, a fraction.
    pub fn observed(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.failed as f64 / self.samples as f64
        }
    }

    /// One line for people: baseline, observed, the bound crossed, the test, how many
    /// samples it took.
    pub fn describe(&self, what: &str) -> String {
        format!(
            "{failed} of {n} {what} ({obs:.1} %) against a baseline of {base:.1} %: the {test} for {alt:.1} % crossed its bound {h:.1} (statistic {s:.1}; evidence that the rate is above {above:.1} %, false-alarm probability {alpha} per watch) after {n} {what}",
            failed = self.failed,
            n = self.samples,
            obs = self.observed() * 100.0,
            base = self.baseline * 100.0,
            test = self.test,
            alt = self.alternative * 100.0,
            h = self.bound,
            s = self.statistic,
            above = self.above * 100.0,
            alpha = show_alpha(self.alpha),
        )
    }
}

/// A probability in percent without trailing zeros: `0.5 %`, `1 %`.
pub fn show_alpha(a: f64) -> String {
    let s = format!("{:.3}", a * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} %")
}

/// A bank of one-sided binomial CUSUMs for a rate moving up from `p0`.
#[derive(Clone, Debug, PartialEq)]
pub struct CountTest {
    test: &'static str,
    p0: f64,
    alpha: f64,
    critical: f64,
    arms: Vec<Arm>,
    seen: u64,
}

impl CountTest {
    /// A test of failure counts against the baseline rate `p0` (a fraction; raised to
    /// `floor`), over a watch of about `n_watch` observations, false-alarm probability
    /// `alpha` per watch, critical at `critical_factor` × the baseline.
    pub fn errors(p0: f64, floor: f64, n_watch: f64, alpha: f64, critical_factor: f64) -> Self {
        let p0 = clamp_p(p0.max(floor));
        let alts = ERROR_FACTORS.iter().map(|f| (p0 * f).min(MAX_P));
        Self::new("binomial CUSUM", p0, alts, n_watch, alpha, critical_factor)
    }

    /// A test of slow-answer counts ([`LATENCY_P0`] under H0).
    pub fn latency(n_watch: f64, alpha: f64) -> Self {
        Self::new(
            "slow-answer CUSUM",
            LATENCY_P0,
            LATENCY_ALTERNATIVES.into_iter(),
            n_watch,
            alpha,
            f64::INFINITY,
        )
    }

    fn new(
        test: &'static str,
        p0: f64,
        alts: impl Iterator<Item = f64>,
        n_watch: f64,
        alpha: f64,
        critical_factor: f64,
    ) -> Self {
        let mut ps: Vec<f64> = alts.filter(|p| *p > p0 * 1.01).collect();
        ps.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        if ps.is_empty() {
            ps.push(((p0 + MAX_P) / 2.0).max(p0 * 1.5).min(0.99));
        }
        let k = ps.len() as f64;
        let arms = ps
            .into_iter()
            .map(|p1| {
                let (a, b) = llr_steps(p0, p1);
                Arm {
                    p1,
                    a,
                    b,
                    h: cusum_bound(p0, p1, n_watch, alpha / k),
                    s: 0.0,
                    run_n: 0,
                    run_f: 0,
                }
            })
            .collect();
        CountTest {
            test,
            p0,
            alpha,
            critical: critical_factor,
            arms,
            seen: 0,
        }
    }

    /// The baseline rate tested against (after the floor), a fraction.
    pub fn baseline(&self) -> f64 {
        self.p0
    }

    /// Observations seen so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The alternatives and their bounds, for people (`2.0 %: h 9.1`).
    pub fn bounds(&self) -> Vec<(f64, f64)> {
        self.arms.iter().map(|a| (a.p1, a.h)).collect()
    }

    /// Adds `n` observations of which `failed` failed; returns the most severe crossing
    /// now above its bound (the largest alternative), if any. An empty batch is no
    /// evidence.
    pub fn push(&mut self, failed: u64, n: u64) -> Option<Crossing> {
        if n == 0 {
            return None;
        }
        let failed = failed.min(n);
        self.seen += n;
        for arm in &mut self.arms {
            // One batch is one moment (a sample's probes go out together): its evidence is
            // capped at half the bound, so a crossing takes at least two batches.
            let step = (failed as f64 * arm.a + (n - failed) as f64 * arm.b).min(arm.h / 2.0);
            let s = arm.s + step;
            if s <= 0.0 {
                arm.s = 0.0;
                arm.run_n = 0;
                arm.run_f = 0;
            } else {
                // Held at the bound once crossed: evidence beyond it would only delay
                // seeing the recovery.
                arm.s = s.min(arm.h);
                arm.run_n += n;
                arm.run_f += failed;
            }
        }
        self.crossing()
    }

    /// The most severe arm above its bound now.
    pub fn crossing(&self) -> Option<Crossing> {
        let arm = self.arms.iter().rev().find(|a| a.s >= a.h)?;
        let above = break_even(self.p0, arm.p1);
        let severity = if above >= self.critical * self.p0 || above >= 0.5 {
            Severity::Critical
        } else if self.critical.is_finite() {
            Severity::High
        } else {
            Severity::Medium
        };
        Some(Crossing {
            test: self.test.to_string(),
            baseline: self.p0,
            alternative: arm.p1,
            above,
            bound: arm.h,
            statistic: arm.s,
            samples: arm.run_n,
            failed: arm.run_f,
            seen: self.seen,
            alpha: self.alpha,
            severity,
        })
    }

    /// Whether no arm holds any evidence (every statistic is zero): the series looks like
    /// its baseline.
    pub fn clear(&self) -> bool {
        self.seen > 0 && self.arms.iter().all(|a| a.s == 0.0)
    }
}

fn clamp_p(p: f64) -> f64 {
    if p.is_finite() {
        p.clamp(1e-4, 0.9)
    } else {
        0.01
    }
}

/// What a verification test says after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verify {
    /// Not enough evidence either way yet.
    Continue,
    /// The rate is back at the baseline.
    Accepted,
    /// The rate is still high: the test starts again.
    Rejected,
}

/// Wald's SPRT of `p0` against `p1`, restarted after each rejection.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyTest {
    p0: f64,
    p1: f64,
    a: f64,
    b: f64,
    upper: f64,
    lower: f64,
    llr: f64,
    n: u64,
    failed: u64,
}

impl VerifyTest {
    /// A test that the rate is back at `p0` (a fraction, raised to `floor`) rather than at
    /// half of `bad` (the rate the incident saw; at least 4 × the baseline; 50 % when no
    /// rate was measured, `bad` = 0).
    pub fn new(p0: f64, floor: f64, bad: f64, alpha: f64) -> VerifyTest {
        let p0 = clamp_p(p0.max(floor));
        // Without a measured rate (a person's or Sentry's incident), against the app being
        // down: half its requests failing.
        let p1 = if bad > 0.0 {
            (bad / 2.0).max(p0 * 4.0).min(MAX_P)
        } else {
            0.5
        };
        let (a, b) = llr_steps(p0, p1);
        let alpha = alpha.clamp(1e-9, 0.5);
        VerifyTest {
            p0,
            p1,
            a,
            b,
            upper: ((1.0 - VERIFY_BETA) / alpha).ln(),
            lower: (VERIFY_BETA / (1.0 - alpha)).ln(),
            llr: 0.0,
            n: 0,
            failed: 0,
        }
    }

    /// Adds a batch.
    pub fn push(&mut self, failed: u64, n: u64) -> Verify {
        if n == 0 {
            return Verify::Continue;
        }
        let failed = failed.min(n);
        self.llr += failed as f64 * self.a + (n - failed) as f64 * self.b;
        self.n += n;
        self.failed += failed;
        if self.llr <= self.lower {
            Verify::Accepted
        } else if self.llr >= self.upper {
            self.llr = 0.0;
            self.n = 0;
            self.failed = 0;
            Verify::Rejected
        } else {
            Verify::Continue
        }
    }

    /// The numbers for people.
    pub fn describe(&self, what: &str) -> String {
        format!(
            "{f} of {n} {what} failed since the test began: Wald's SPRT of {p0:.1} % (the baseline) against {p1:.1} % reached its lower bound {lo:.1} (statistic {s:.1}; a rollback that did not fix it passes with probability {beta} %)",
            f = self.failed,
            n = self.n,
            p0 = self.p0 * 100.0,
            p1 = self.p1 * 100.0,
            lo = self.lower,
            s = self.llr,
            beta = VERIFY_BETA * 100.0,
        )
    }

    /// Observations since the test last began.
    pub fn samples(&self) -> u64 {
        self.n
    }
}

/// The latency above which an answer is slow: the baseline p95 raised by
/// `increase_pct` percent and by at least `min_increase_ms`.
pub fn slow_threshold(baseline_p95_ms: f64, increase_pct: f64, min_increase_ms: f64) -> f64 {
    (baseline_p95_ms * (1.0 + increase_pct / 100.0)).max(baseline_p95_ms + min_increase_ms)
}

/// Observations a watch of `duration` at `per_second` observations a second holds (at
/// least 100: the bound must not be tuned to a watch too short to matter).
pub fn watch_observations(duration: std::time::Duration, per_second: f64) -> f64 {
    (duration.as_secs_f64() * per_second.max(0.0)).max(100.0)
}

#[cfg(test)]
#[path = "sequential_tests.rs"]
mod tests;
