//! Fills a store with runs through the real session API, for the `shipcheck status`
//! benchmark in `bench/` (not part of shipcheck).
//!
//! `bench-store CONFIG RUNS`: starts RUNS runs of CONFIG's project in `production` (each run's
//! journal holds the whole checklist), aborts all but the last, which stays open.

use std::sync::Arc;

use shipcheck_core::runs::{Session, StartOptions};
use shipcheck_core::store::{Store, StoreTarget};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(config), Some(Ok(runs))) = (args.get(1), args.get(2).map(|n| n.parse::<usize>()))
    else {
        eprintln!("usage: bench-store CONFIG RUNS");
        std::process::exit(2);
    };
    let loaded = match shipcheck_core::model::config::load_file(std::path::Path::new(config)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{}", e.render());
            std::process::exit(2);
        }
    };
    let db = loaded.base_dir().join(".shipcheck").join("shipcheck.db");
    let store = match Store::open(&StoreTarget::Sqlite(db)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench-store: {e}");
            std::process::exit(2);
        }
    };
    let session = Session::new(
        store,
        Arc::new(loaded),
        Arc::new(shipcheck_core::model::clock::SystemClock),
    );
    for i in 0..runs {
        let opts = StartOptions {
            env: "production".into(),
            by: format!("bench-{}", i % 7),
            at: None,
            override_window: None,
            trust_config: false,
        };
        let run = match session.start(&opts).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("bench-store: run {i}: {e}");
                std::process::exit(1);
            }
        };
        if i + 1 < runs
            && let Err(e) = session.abort(&run, "benchmark filler", "bench").await
        {
            eprintln!("bench-store: abort {i}: {e}");
            std::process::exit(1);
        }
        if (i + 1) % 1000 == 0 {
            eprintln!("{} runs", i + 1);
        }
    }
}
