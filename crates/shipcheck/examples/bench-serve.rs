//! Measures `shipcheck serve` under a team's worth of viewers, for `bench/serve.sh` (not part
//! of shipcheck).
//!
//! `bench-serve CONFIG URL [VIEWERS] [EVENTS] [RATE] [FETCH]`: starts a run in CONFIG's store
//! (SQLite, the file the server at URL reads), opens VIEWERS event streams on its page
//! (`/runs/ID/events`, as the page's script does), then appends EVENTS events through the
//! store at RATE per second (0: as fast as the store takes them) while a prober loads the
//! run's page ten times a second. With FETCH=1 each viewer also fetches the run's live part
//! after each notification, one at a time, as `app.js` does.
//!
//! Prints: how long each page load took (p50, p95, max), and how long each event took from
//! its append (commit returned) to each viewer's stream saying the journal reached it —
//! over every (viewer, event) pair, and per event until the last viewer had it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipcheck_core::model::event::{Event, NoteKind};
use shipcheck_core::runs::{Session, StartOptions};
use shipcheck_core::store::{RunSummaryUpdate, Store, StoreTarget};
use tokio::sync::Mutex;

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn line(name: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name}: n={} p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        v.len(),
        pct(&v, 50.0),
        pct(&v, 95.0),
        pct(&v, 99.0),
        v.last().copied().unwrap_or(f64::NAN)
    );
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench-serve: {msg}");
    std::process::exit(1);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(config), Some(url)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: bench-serve CONFIG URL [VIEWERS] [EVENTS] [RATE] [FETCH]");
        std::process::exit(2);
    };
    let url = url.trim_end_matches('/').to_string();
    let viewers: usize = arg(&args, 3, 100);
    let events: usize = arg(&args, 4, 10_000);
    let rate: f64 = arg(&args, 5, 0.0);
    let fetch = arg::<u8>(&args, 6, 0) == 1;

    let loaded = shipcheck_core::model::config::load_file(std::path::Path::new(config))
        .unwrap_or_else(|e| fail(e.render()));
    let db = loaded.base_dir().join(".shipcheck").join("shipcheck.db");
    let store = Store::open(&StoreTarget::Sqlite(db))
        .await
        .unwrap_or_else(|e| fail(e));
    let session = Session::new(
        store.clone(),
        Arc::new(loaded),
        Arc::new(shipcheck_core::model::clock::SystemClock),
    );
    let run = session
        .start(&StartOptions {
            env: "production".into(),
            by: "bench".into(),
            at: None,
            override_window: Some("benchmark".into()),
            trust_config: false,
        })
        .await
        .unwrap_or_else(|e| fail(e));
    let first = run.event_count as usize;
    let http = shipcheck_core::clients::http::client(Duration::from_secs(900));

    // The viewers: each records (journal position, when its stream said so).
    let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total = first + events;
    let fetch_ms = Arc::new(Mutex::new(Vec::<f64>::new()));
    let mut tasks = Vec::new();
    for _ in 0..viewers {
        let http = http.clone();
        let stream_url = format!("{url}/runs/{}/events", run.id);
        let frag_url = format!("{url}/runs/{}/fragment", run.id);
        let ready = ready.clone();
        let fetch_ms = fetch_ms.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen: Vec<(usize, Instant)> = Vec::new();
            let Ok(mut res) = http.get(&stream_url).send().await else {
                return seen;
            };
            let mut buf = String::new();
            let mut counted = false;
            let deadline = Instant::now() + Duration::from_secs(600);
            while Instant::now() < deadline {
                let chunk = match tokio::time::timeout(Duration::from_secs(60), res.chunk()).await {
                    Ok(Ok(Some(c))) => c,
                    _ => break,
                };
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                let mut latest = None;
                while let Some(end) = buf.find('\n') {
                    let l: String = buf.drain(..=end).collect();
                    if let Some(n) = l.trim().strip_prefix("data:")
                        && let Ok(n) = n.trim().parse::<usize>()
                    {
                        seen.push((n, now));
                        latest = Some(n);
                    }
                }
                if !counted && latest.is_some() {
                    counted = true;
                    ready.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                if fetch && latest.is_some_and(|n| n > first) {
                    let t = Instant::now();
                    if let Ok(r) = http.get(&frag_url).send().await {
                        let _ = r.bytes().await;
                        fetch_ms
                            .lock()
                            .await
                            .push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                if latest.is_some_and(|n| n >= total) {
                    break;
                }
            }
            seen
        }));
    }
    for _ in 0..600 {
        if ready.load(std::sync::atomic::Ordering::SeqCst) >= viewers {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connected = ready.load(std::sync::atomic::Ordering::SeqCst);
    if connected < viewers {
        fail(format!("only {connected} of {viewers} viewers connected"));
    }
    eprintln!(
        "{viewers} viewers on run {}; appending {events} events",
        run.id
    );

    // The prober: the run's page, ten times a second, while the events go in.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let http = http.clone();
        let page = format!("{url}/runs/{}", run.id);
        let done = done.clone();
        tokio::spawn(async move {
            let mut ms = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) && ms.len() < 100_000 {
                let t = Instant::now();
                match http.get(&page).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(r) => fail(format!("the page answered {}", r.status())),
                    Err(e) => fail(format!("the page: {e}")),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            ms
        })
    };

    // The appender.
    let summary = RunSummaryUpdate {
        phase: run.current_phase().map(|p| p.as_str().to_string()),
        status: run.status.as_str().to_string(),
    };
    let mut appended: Vec<Option<Instant>> = vec![None; total + 1];
    let started = Instant::now();
    for i in 0..events {
        if rate > 0.0 {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let e = Event::NoteAdded {
            kind: NoteKind::General,
            text: format!("bench note {i}"),
            by: "bench".into(),
        };
        store
            .append(&run.id, jiff::Timestamp::now(), &e, &summary)
            .await
            .unwrap_or_else(|e| fail(e));
        appended[first + i + 1] = Some(Instant::now());
    }
    let took = started.elapsed();
    eprintln!(
        "appended {events} events in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );
    let mut seen_all = Vec::new();
    for t in tasks {
        seen_all.push(t.await.unwrap_or_default());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let page_ms = prober.await.unwrap_or_default();

    // Each (viewer, event): from its append to the first notice at or past it.
    let mut pair_ms = Vec::with_capacity(viewers * events);
    let mut last_ms = vec![0.0f64; total + 1];
    let mut missing = 0usize;
    for seen in &seen_all {
        let mut j = 0;
        for (k, at) in appended.iter().enumerate().skip(first + 1) {
            let Some(at) = at else { continue };
            while j < seen.len() && seen[j].0 < k {
                j += 1;
            }
            match seen.get(j) {
                Some((_, got)) => {
                    let ms = got.saturating_duration_since(*at).as_secs_f64() * 1000.0;
                    pair_ms.push(ms);
                    last_ms[k] = last_ms[k].max(ms);
                }
                None => missing += 1,
            }
        }
    }
    println!(
        "viewers {viewers}, events {events} appended in {:.1} s ({:.0}/s{}), fragment fetches {}",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64(),
        if rate > 0.0 {
            format!(", paced at {rate}/s")
        } else {
            ", unpaced".into()
        },
        if fetch { "on" } else { "off" }
    );
    line("page /runs/ID served", page_ms);
    line("event → a viewer (every viewer-event pair)", pair_ms);
    line(
        "event → every viewer (per event, the last viewer)",
        last_ms[first + 1..].to_vec(),
    );
    if fetch {
        line(
            "live part fetched by a viewer",
            fetch_ms.lock().await.clone(),
        );
    }
    if missing > 0 {
        println!("MISSED: {missing} (viewer, event) pairs never reached a viewer");
        std::process::exit(1);
    }
}
