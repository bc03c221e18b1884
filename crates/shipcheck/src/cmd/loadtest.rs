//! `shipcheck loadtest URL`: the built-in load test, by hand.
//!
//! Targets are loopback, or the staging apps' hosts when a shipcheck.toml is found. When the
//! store of that config exists, the result is compared with the latest run's stored
//! `prepare.load-test` result for the same URL (the check itself compares through the store
//! in a run; here there is no run, so the command does it).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use shipcheck_core::checks::loadtest::previous_reports;
use shipcheck_core::loadtest::{self, Allowed, Comparison, Report, Snapshot, Thresholds};
use shipcheck_core::store::{Store, StoreTarget};

use crate::cli::{Global, LoadtestArgs};
use crate::context;
use crate::errors::{CliError, EXIT_INTEGRATION};
use crate::json::{self, docs};

pub async fn run(g: &Global, a: &LoadtestArgs) -> Result<u8, CliError> {
    let loaded = match context::config_path(g) {
        Some(p) => Some(shipcheck_core::model::config::load_file(&p)?),
        None => None,
    };
    let allowed = loaded
        .as_ref()
        .map(|l| Allowed::staging(&l.config.environments))
        .unwrap_or_else(Allowed::loopback_only);
    let opts = loadtest::Options {
        url: a.url.clone(),
        concurrency: a.concurrency,
        rate: a.rate,
        duration: a.duration,
        requests: a.requests,
        timeout: a.timeout,
    };
    let plan = opts
        .plan()
        .map_err(shipcheck_core::loadtest::LoadtestError::from)?;
    if let Some(v) = a.min_rps
        && !(v.is_finite() && v >= 0.0)
    {
        return Err(CliError::Usage(format!(
            "--min-rps {v} is not a number of requests per second"
        )));
    }
    let thresholds = Thresholds {
        max_p95: a.max_p95,
        max_p99: a.max_p99,
        max_error_rate: a.max_error_rate,
        min_rps: a.min_rps,
    };
    // Refuse a target before saying anything about it.
    loadtest::resolve(&opts.url, &allowed).await?;
    let bar = progress_bar(g.json, &opts, plan.stop_after);
    if !g.json {
        let model = match a.rate {
            Some(r) => format!("open model, {r}/s over {} connections", a.concurrency),
            None => format!("closed model, {} connections", a.concurrency),
        };
        let stop = match (opts.requests, opts.duration) {
            (Some(n), None) if a.rate.is_none() => format!("{n} requests"),
            _ => format!(
                "{}{}",
                shipcheck_core::model::duration::format(plan.stop_after),
                a.requests
                    .map(|n| format!(" or {n} requests"))
                    .unwrap_or_default()
            ),
        };
        say_err!(
            "load-testing GET {} — {model}, {stop}",
            shipcheck_core::model::redact::mask_url_password(a.url.trim())
        );
    }
    let update = |s: &Snapshot| {
        if let Some(b) = &bar {
            match s.planned {
                Some(_) => b.set_position(s.completed),
                None => b.set_position(s.elapsed.as_millis() as u64),
            }
            let rps = s.completed as f64 / s.elapsed.as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{} done, {:.0}/s, {} errors",
                s.completed, rps, s.errors
            ));
        }
    };
    let report = loadtest::run(&opts, &allowed, &update).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report?;
    let violations = loadtest::evaluate(&report, &thresholds);
    let (comparison, compared_with) = match compare_with_store(g, loaded.as_ref(), &report).await {
        Some((id, c)) => (Some(c), Some(id)),
        None => (None, None),
    };
    let code = if report.responses == 0 {
        EXIT_INTEGRATION
    } else if violations.is_empty() {
        0
    } else {
        1
    };
    if g.json {
        json::print(
            "loadtest",
            &docs::Loadtest {
                passed: code == 0,
                report: report.clone(),
                thresholds: docs::Thresholds {
                    max_p95_ms: thresholds.max_p95.map(|d| d.as_millis() as u64),
                    max_p99_ms: thresholds.max_p99.map(|d| d.as_millis() as u64),
                    max_error_rate: thresholds.max_error_rate,
                    min_rps: thresholds.min_rps,
                },
                violations: violations.clone(),
                comparison: comparison.clone(),
                compared_with_run: compared_with.clone(),
            },
        );
    } else {
        print_text(&report);
        if let (Some(c), Some(id)) = (&comparison, &compared_with) {
            say!("  vs run {id}: {}", c.text);
        }
        if !thresholds.is_empty() {
            if violations.is_empty() {
                say!("✓ every threshold holds");
            } else {
                for v in &violations {
                    say!("✗ {}", v.text);
                }
            }
        }
        if report.responses == 0 {
            say!("! nothing answered{}", report.errors_note());
        }
    }
    Ok(code)
}

fn progress_bar(json: bool, opts: &loadtest::Options, span: Duration) -> Option<ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let counted = opts.rate.is_some() || opts.requests.is_some() && opts.duration.is_none();
    let len = if counted {
        opts.plan().map(|p| p.total).unwrap_or(0)
    } else {
        span.as_millis() as u64
    };
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("  [{bar:30}] {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn print_text(r: &Report) {
    use shipcheck_core::loadtest::Latency;
    let fmt = |v: f64| {
        if v >= 1000.0 {
            format!("{:.2}s", v / 1000.0)
        } else {
            format!("{v:.2}ms")
        }
    };
    let Latency {
        min,
        mean,
        p50,
        p90,
        p95,
        p99,
        max,
    } = r.latency_ms;
    say!(
        "  requests   {} in {:.2}s, {:.1} answers/s, {} connection(s)",
        r.requests,
        r.elapsed_s,
        r.rps,
        r.connections
    );
    let s = &r.status;
    say!(
        "  status     2xx {}  3xx {}  4xx {}  5xx {}",
        s.s2xx,
        s.s3xx,
        s.s4xx,
        s.s5xx
    );
    let e = &r.errors;
    say!(
        "  errors     {} ({:.2}%): connect {}, timeout {}, 4xx {}, 5xx {}, io {}{}",
        e.total(),
        r.error_rate * 100.0,
        e.connect,
        e.timeout,
        e.status_4xx,
        e.status_5xx,
        e.io,
        if r.unsent > 0 {
            format!(" ({} due but never sent)", r.unsent)
        } else {
            String::new()
        }
    );
    say!(
        "  latency    p50 {}  p90 {}  p95 {}  p99 {}  max {}  (min {}, mean {})",
        fmt(p50),
        fmt(p90),
        fmt(p95),
        fmt(p99),
        fmt(max),
        fmt(min),
        fmt(mean)
    );
}

/// The comparison with the latest stored load test of the same URL, when the config's store
/// exists (it is never created here).
async fn compare_with_store(
    g: &Global,
    loaded: Option<&shipcheck_core::model::config::LoadedConfig>,
    report: &Report,
) -> Option<(String, Comparison)> {
    let loaded = loaded?;
    let target = context::store_target(g, &loaded.path);
    if let StoreTarget::Sqlite(path) = &target
        && !path.is_file()
    {
        return None;
    }
    let store = Store::open(&target).await.ok()?;
    let (id, before) = previous_reports(&store, &loaded.config.project.name, None)
        .await
        .ok()??;
    let b = before.iter().find(|b| b.url == report.url)?;
    Some((id, loadtest::compare(b, report)))
}
