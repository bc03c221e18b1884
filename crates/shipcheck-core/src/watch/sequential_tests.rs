use super::*;
use crate::watch::simulate::{self, Release, Rng, Settings};

#[test]
fn kl_is_zero_at_equality_and_positive_elsewhere() {
    assert!(kl(0.1, 0.1).abs() < 1e-12);
    assert!(kl(0.01, 0.02) > 0.0);
    assert!(kl(0.02, 0.01) > 0.0);
    // D(0.01‖0.3) by hand: 0.01·ln(0.01/0.3) + 0.99·ln(0.99/0.7).
    let by_hand = 0.01 * (0.01f64 / 0.3).ln() + 0.99 * (0.99f64 / 0.7).ln();
    assert!((kl(0.01, 0.3) - by_hand).abs() < 1e-12);
}

#[test]
fn the_bound_solves_siegmunds_equation_and_grows_with_the_watch() {
    let (p0, p1, n, alpha) = (0.01, 0.1, 7200.0, 0.001);
    let h = cusum_bound(p0, p1, n, alpha);
    let lhs = h.exp() - h - 1.0;
    let rhs = n * kl(p0, p1) / alpha;
    assert!((lhs / rhs - 1.0).abs() < 1e-6, "{lhs} vs {rhs}");
    assert!(
        cusum_bound(p0, p1, 2.0 * n, alpha) > h,
        "a longer watch needs more evidence"
    );
    assert!(
        cusum_bound(p0, p1, n, alpha / 10.0) > h,
        "a rarer false alarm too"
    );
    // Never below one observation's Ville bound.
    assert!(cusum_bound(0.01, 0.011, 1.0, 0.01) >= (100.0f64).ln() - 1e-9);
}

#[test]
fn break_even_lies_between_the_hypotheses() {
    for (p0, p1) in [(0.01, 0.02), (0.01, 0.3), (0.1, 0.6)] {
        let p = break_even(p0, p1);
        assert!(p > p0 && p < p1, "{p0} {p1} → {p}");
    }
}

#[test]
fn no_data_is_no_evidence() {
    let mut t = CountTest::errors(0.0, 0.01, 7200.0, 0.005, 5.0);
    assert_eq!(t.push(0, 0), None);
    assert_eq!(t.seen(), 0);
    assert!(
        !t.clear(),
        "a test that saw nothing does not say the series is clean"
    );
    let mut v = VerifyTest::new(0.0, 0.01, 0.3, 0.005);
    assert_eq!(v.push(0, 0), Verify::Continue);
    assert_eq!(v.samples(), 0);
}

#[test]
fn a_thirty_percent_release_is_critical_within_a_few_dozen_probes() {
    // Deterministic: every third probe fails (33 %).
    let mut t = CountTest::errors(0.0, 0.01, 7200.0, 0.005, 5.0);
    let mut raised = None;
    for i in 1..=200u64 {
        if let Some(c) = t.push(u64::from(i % 3 == 0), 1) {
            raised = Some((i, c));
            break;
        }
    }
    let (at, c) = raised.expect("raised");
    assert!(at <= 40, "took {at} probes");
    assert_eq!(c.severity, Severity::Critical);
    assert_eq!(c.baseline, 0.01, "the floor, not the 0 % ten probes showed");
    assert!(c.observed() > 0.2);
    let line = c.describe("probes");
    assert!(line.contains("against a baseline of 1.0 %"), "{line}");
    assert!(line.contains("binomial CUSUM"), "{line}");
    assert!(line.contains("crossed its bound"), "{line}");
}

#[test]
fn a_dead_app_is_critical_in_a_handful_of_probes() {
    let mut t = CountTest::errors(0.0, 0.01, 7200.0, 0.005, 5.0);
    let mut n = 0;
    let c = loop {
        n += 1;
        if let Some(c) = t.push(1, 1) {
            break c;
        }
        assert!(n < 20);
    };
    assert!(n <= 6, "took {n}");
    assert_eq!(c.severity, Severity::Critical);
    assert_eq!(c.failed, n);
}

#[test]
fn a_moderate_rise_is_high_not_critical() {
    // 4 % against a 1 % baseline: evidence that it is above the baseline, not of 5×.
    let mut t = CountTest::errors(0.01, 0.01, 7200.0, 0.005, 5.0);
    let mut first = None;
    for i in 0..20_000u64 {
        if let Some(c) = t.push(u64::from(i % 25 == 0), 1) {
            first = Some(c);
            break;
        }
    }
    let c = first.expect("a 4× rate is found");
    assert_eq!(c.severity, Severity::High);
    assert!(c.above < 0.05);
}

#[test]
fn a_batch_is_the_sum_of_its_observations() {
    let mut one = CountTest::errors(0.01, 0.01, 7200.0, 0.005, 5.0);
    let mut batch = one.clone();
    for _ in 0..5 {
        one.push(1, 1);
    }
    for _ in 0..15 {
        one.push(0, 1);
    }
    batch.push(5, 20);
    assert_eq!(one.crossing().is_some(), batch.crossing().is_some());
    assert_eq!(batch.seen(), 20);
    // Failures are capped at the batch.
    let mut t = CountTest::errors(0.01, 0.01, 7200.0, 0.005, 5.0);
    assert_eq!(
        t.push(50, 5),
        None,
        "one batch is one moment: never enough alone"
    );
    let c = t.push(50, 5).expect("ten of ten failed, in two samples");
    assert_eq!(c.failed, 10);
}

#[test]
fn one_sample_of_a_hundred_failures_is_a_flap_until_the_next_agrees() {
    let mut t = CountTest::errors(0.0, 0.01, 7200.0, 0.005, 5.0);
    assert_eq!(t.push(100, 100), None);
    // The next sample is clean: the flap washes out.
    assert_eq!(t.push(0, 20), None);
    assert_eq!(t.push(0, 20), None);
    // Two failing samples in a row are critical.
    let mut t = CountTest::errors(0.0, 0.01, 7200.0, 0.005, 5.0);
    assert_eq!(t.push(20, 20), None);
    let c = t.push(20, 20).expect("raised at the second sample");
    assert_eq!(c.severity, Severity::Critical);
}

#[test]
fn successes_wash_the_evidence_out() {
    let mut t = CountTest::errors(0.01, 0.01, 7200.0, 0.005, 5.0);
    t.push(2, 2);
    assert!(!t.clear());
    t.push(0, 2000);
    assert!(t.clear());
}

#[test]
fn latency_crossings_are_medium() {
    let mut t = CountTest::latency(7200.0, 0.005);
    let c = (0..100)
        .find_map(|_| t.push(1, 1))
        .expect("every answer slow");
    assert_eq!(c.severity, Severity::Medium);
    assert_eq!(c.baseline, LATENCY_P0);
    assert_eq!(slow_threshold(40.0, 25.0, 50.0), 90.0);
    assert_eq!(slow_threshold(400.0, 25.0, 50.0), 500.0);
}

#[test]
fn verification_accepts_a_clean_rate_and_restarts_on_failures() {
    let mut v = VerifyTest::new(0.0, 0.01, 0.3, 0.005);
    let mut n = 0;
    loop {
        n += 1;
        match v.push(0, 1) {
            Verify::Accepted => break,
            Verify::Continue => assert!(n < 100),
            Verify::Rejected => unreachable!(),
        }
    }
    assert!(n <= 25, "took {n} clean probes");
    assert!(v.describe("probes").contains("Wald's SPRT"));
    // Still failing at 30 %: rejected (again and again), never accepted.
    let mut v = VerifyTest::new(0.0, 0.01, 0.3, 0.005);
    let mut rejected = 0;
    for i in 0..300u64 {
        match v.push(u64::from(i % 3 == 0), 1) {
            Verify::Accepted => panic!("accepted a 33 % rate after {i}"),
            Verify::Rejected => rejected += 1,
            Verify::Continue => {}
        }
    }
    assert!(rejected > 0);
}

#[test]
fn simulated_clean_watches_raise_at_most_about_alpha() {
    // 100 one-hour clean watches with the whole noise model; at α = 0.5 % a watch, the
    // expected false alarms are ≤ 0.5 (and the bench runs 200+ watch-hours). Allowing 3 makes
    // the seeded test fail only when the bound is badly wrong.
    let mut rng = Rng::new(7);
    let s = Settings {
        n_watch: 3600.0,
        ..Settings::default()
    };
    let mut alarms = 0;
    for _ in 0..100 {
        let w = simulate::watch(&mut rng, 3600, Release::clean());
        if simulate::judge(&w, &s).first().is_some() {
            alarms += 1;
        }
    }
    assert!(alarms <= 3, "{alarms} false alarms in 100 watch-hours");
}

#[test]
fn simulated_bad_releases_are_caught() {
    let mut rng = Rng::new(11);
    let s = Settings::default();
    for _ in 0..20 {
        let w = simulate::watch(
            &mut rng,
            600,
            Release {
                failure_rate: 0.3,
                onset_s: 60,
                ..Release::clean()
            },
        );
        let j = simulate::judge(&w, &s);
        let at = j.critical_at.expect("a 30 % release is critical");
        assert!((60..=150).contains(&at), "critical at {at}s");
    }
}
