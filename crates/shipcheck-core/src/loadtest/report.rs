//! A load test's result, its thresholds, and the comparison with an earlier result.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::loadtest::client::Tally;
use crate::loadtest::{Plan, Target};

/// What a load test measured. Serialized as the check's evidence (and `--json`), and read
/// back from the store to compare with the next run, so the field names are stable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The URL (password masked).
    pub url: String,
    /// `closed` (fixed concurrency) or `open` (constant arrival rate).
    pub model: String,
    /// Connections.
    pub concurrency: usize,
    /// Requests per second asked for (the open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Requests made: answered, failed, or due and never sent.
    pub requests: u64,
    /// Requests answered with any status.
    pub responses: u64,
    /// Answered 1xx–3xx.
    pub ok: u64,
    /// Failures by kind.
    pub errors: ErrorCounts,
    /// Answers by status class.
    pub status: StatusCounts,
    /// Errors (every kind, 4xx and 5xx included) per request, 0–1.
    pub error_rate: f64,
    /// From the first request to the last answer, in seconds.
    pub elapsed_s: f64,
    /// Answers per second over `elapsed_s`.
    pub rps: f64,
    /// Latency of answered requests, in milliseconds (from the due time in the open model).
    pub latency_ms: Latency,
    /// Connections opened (more than `concurrency` means reconnects).
    pub connections: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Open model: requests due but never sent before the time limit (counted as timeouts).
    #[serde(default)]
    pub unsent: u64,
}

/// Failures by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    /// No connection (refused, unreachable, TLS failed).
    pub connect: u64,
    /// No complete answer within the request timeout (and requests never sent in time).
    pub timeout: u64,
    /// Answered 4xx.
    pub status_4xx: u64,
    /// Answered 5xx.
    pub status_5xx: u64,
    /// The connection broke mid-request, or the answer was not HTTP.
    pub io: u64,
}

impl ErrorCounts {
    /// Every kind together.
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.status_4xx + self.status_5xx + self.io
    }
}

/// Answers by status class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// 1xx
    #[serde(rename = "1xx")]
    pub s1xx: u64,
    /// 2xx
    #[serde(rename = "2xx")]
    pub s2xx: u64,
    /// 3xx
    #[serde(rename = "3xx")]
    pub s3xx: u64,
    /// 4xx
    #[serde(rename = "4xx")]
    pub s4xx: u64,
    /// 5xx
    #[serde(rename = "5xx")]
    pub s5xx: u64,
}

/// Latency percentiles in milliseconds (0 when nothing was answered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Fastest.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Latency {
    /// From a histogram of microseconds.
    pub fn from_histogram(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            min: ms(h.min()),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

impl Report {
    pub(super) fn build(
        target: &Target,
        plan: &Plan,
        t: &Tally,
        unsent: u64,
        hist: &Histogram<u64>,
        elapsed: Option<Duration>,
    ) -> Report {
        let status = StatusCounts {
            s1xx: t.statuses[1],
            s2xx: t.statuses[2],
            s3xx: t.statuses[3],
            s4xx: t.statuses[4],
            s5xx: t.statuses[5],
        };
        let responses: u64 = t.statuses.iter().sum();
        let errors = ErrorCounts {
            connect: t.connect,
            timeout: t.timeout + unsent,
            status_4xx: status.s4xx,
            status_5xx: status.s5xx,
            // Answers with a status outside 1xx–5xx are not HTTP as we know it.
            io: t.io + t.statuses[0],
        };
        let requests = responses + t.connect + t.timeout + t.io + unsent;
        let elapsed_s = elapsed.map(|d| d.as_secs_f64()).unwrap_or(0.0);
        Report {
            url: target.display.clone(),
            model: if plan.rate.is_some() {
                "open"
            } else {
                "closed"
            }
            .into(),
            concurrency: plan.concurrency,
            rate: plan.rate,
            requests,
            responses,
            ok: status.s1xx + status.s2xx + status.s3xx,
            errors,
            status,
            error_rate: if requests == 0 {
                0.0
            } else {
                errors.total() as f64 / requests as f64
            },
            elapsed_s,
            rps: if elapsed_s > 0.0 {
                responses as f64 / elapsed_s
            } else {
                0.0
            },
            latency_ms: Latency::from_histogram(hist),
            connections: t.connections,
            bytes: t.bytes,
            unsent,
        }
    }

    /// `1234 requests in 10.0s (123.4/s), p50 1.2ms p95 3.4ms p99 5.6ms max 9.9ms, 0.00% errors`
    pub fn summary(&self) -> String {
        let l = &self.latency_ms;
        format!(
            "{} requests in {:.1}s ({:.1}/s), p50 {} p95 {} p99 {} max {}, {:.2}% errors{}",
            self.requests,
            self.elapsed_s,
            self.rps,
            fmt_ms(l.p50),
            fmt_ms(l.p95),
            fmt_ms(l.p99),
            fmt_ms(l.max),
            self.error_rate * 100.0,
            self.errors_note()
        )
    }

    /// ` (12 connect, 3 5xx)` or nothing.
    pub fn errors_note(&self) -> String {
        let e = &self.errors;
        let parts: Vec<String> = [
            (e.connect, "connect"),
            (e.timeout, "timeout"),
            (e.status_4xx, "4xx"),
            (e.status_5xx, "5xx"),
            (e.io, "io"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, k)| format!("{n} {k}"))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
}

/// `0.42ms`, `12.3ms`, `1.20s`.
pub fn fmt_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2}s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.2}ms")
    }
}

/// Limits a load test must stay within.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The 95th percentile at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p95: Option<Duration>,
    /// The 99th percentile at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p99: Option<Duration>,
    /// Errors per request at most this (0–1: `0.01` is 1 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
    /// Answers per second at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rps: Option<f64>,
}

impl Thresholds {
    /// Whether any limit is set.
    pub fn is_empty(&self) -> bool {
        *self == Thresholds::default()
    }
}

/// One threshold a result broke.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// `max_p95`, `max_p99`, `max_error_rate` or `min_rps`.
    pub threshold: String,
    /// The limit, in the unit of `actual`.
    pub limit: f64,
    /// What was measured (ms, a 0–1 rate, or requests per second).
    pub actual: f64,
    /// `p95 812ms > 500ms`.
    pub text: String,
}

/// The thresholds `report` breaks (empty: it passes).
pub fn evaluate(report: &Report, t: &Thresholds) -> Vec<Violation> {
    let mut out = Vec::new();
    let l = &report.latency_ms;
    for (name, limit, actual, label) in [
        ("max_p95", t.max_p95, l.p95, "p95"),
        ("max_p99", t.max_p99, l.p99, "p99"),
    ] {
        if let Some(limit) = limit {
            let limit_ms = limit.as_secs_f64() * 1000.0;
            if actual > limit_ms {
                out.push(Violation {
                    threshold: name.into(),
                    limit: limit_ms,
                    actual,
                    text: format!("{label} {} > {}", fmt_ms(actual), fmt_ms(limit_ms)),
                });
            }
        }
    }
    if let Some(max) = t.max_error_rate
        && report.error_rate > max
    {
        out.push(Violation {
            threshold: "max_error_rate".into(),
            limit: max,
            actual: report.error_rate,
            text: format!(
                "errors {:.2}% > {:.2}%{}",
                report.error_rate * 100.0,
                max * 100.0,
                report.errors_note()
            ),
        });
    }
    if let Some(min) = t.min_rps
        && report.rps < min
    {
        out.push(Violation {
            threshold: "min_rps".into(),
            limit: min,
            actual: report.rps,
            text: format!("{:.1} requests/s < {min:.1}", report.rps),
        });
    }
    out
}

/// How a result compares with an earlier one of the same URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The earlier p95 (ms).
    pub previous_p95_ms: f64,
    /// The earlier p99 (ms).
    pub previous_p99_ms: f64,
    /// The earlier throughput.
    pub previous_rps: f64,
    /// The earlier error rate.
    pub previous_error_rate: f64,
    /// p95 change, `0.25` = 25 % slower (`None` when the earlier p95 was 0).
    pub p95_change: Option<f64>,
    /// p99 change.
    pub p99_change: Option<f64>,
    /// Throughput change, `-0.1` = 10 % fewer requests per second.
    pub rps_change: Option<f64>,
    /// `p95 +25% (4.0ms → 5.0ms), p99 +3%, rps -10%`.
    pub text: String,
}

fn change(before: f64, now: f64) -> Option<f64> {
    (before > 0.0 && before.is_finite() && now.is_finite()).then(|| (now - before) / before)
}

fn pct(c: Option<f64>) -> String {
    match c {
        Some(c) => format!("{:+.0}%", c * 100.0),
        None => "n/a".into(),
    }
}

/// Compares `now` with `before`. The two should be the same URL and load; a different model
/// or concurrency is said in the text.
pub fn compare(before: &Report, now: &Report) -> Comparison {
    let p95_change = change(before.latency_ms.p95, now.latency_ms.p95);
    let p99_change = change(before.latency_ms.p99, now.latency_ms.p99);
    let rps_change = change(before.rps, now.rps);
    let mut text = format!(
        "p95 {} ({} → {}), p99 {} ({} → {}), rps {} ({:.1} → {:.1}), errors {:.2}% → {:.2}%",
        pct(p95_change),
        fmt_ms(before.latency_ms.p95),
        fmt_ms(now.latency_ms.p95),
        pct(p99_change),
        fmt_ms(before.latency_ms.p99),
        fmt_ms(now.latency_ms.p99),
        pct(rps_change),
        before.rps,
        now.rps,
        before.error_rate * 100.0,
        now.error_rate * 100.0,
    );
    if before.model != now.model || before.concurrency != now.concurrency || before.rate != now.rate
    {
        text.push_str(" (the earlier run used a different load)");
    }
    Comparison {
        previous_p95_ms: before.latency_ms.p95,
        previous_p99_ms: before.latency_ms.p99,
        previous_rps: before.rps,
        previous_error_rate: before.error_rate,
        p95_change,
        p99_change,
        rps_change,
        text,
    }
}
