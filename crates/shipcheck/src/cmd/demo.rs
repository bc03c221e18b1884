//! `shipcheck demo`: builds a rehearsal world ([`shipcheck_sandbox::world`]) and runs the
//! whole checklist against it with the normal code paths: a `shipcheck sandbox operate`
//! process (the demo operator, walking with `deploy`'s walk) whose only differences from a
//! real deployment are in the world's `shipcheck.toml` and the secrets in its environment.
//! Then it prints the record and what happened in the world.

use std::path::Path;
use std::time::{Duration, Instant};

use shipcheck_core::clients::exec::Cmd;
use shipcheck_core::journal::state::RunState;
use shipcheck_core::report::{self, Format};
use shipcheck_sandbox::world::postgres::PgStatus;
use shipcheck_sandbox::world::{PostgresChoice, Scenario, World, WorldOptions, record, repo};

use crate::cli::{DemoArgs, Global};
use crate::errors::CliError;

/// Variables a user's shell may hold that must not reach the world's shipcheck.
const SCRUB: [&str; 4] = [
    "SHIPCHECK_CONFIG",
    "SHIPCHECK_DATABASE_URL",
    "SHIPCHECK_NOW",
    "SHIPCHECK_SANDBOX_FLY_STATE",
];

pub async fn run(g: &Global, args: &DemoArgs) -> Result<u8, CliError> {
    let scenario: Scenario = args.scenario.parse().map_err(CliError::Usage)?;
    let exe = std::env::current_exe().map_err(|source| CliError::Io {
        what: "find the shipcheck program".into(),
        source,
    })?;
    let (dir, tmp) = match &args.dir {
        Some(d) => {
            if d.exists() && std::fs::read_dir(d).is_ok_and(|mut r| r.next().is_some()) {
                return Err(CliError::Usage(format!(
                    "{} is not empty; give a new or empty directory",
                    d.display()
                )));
            }
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("shipcheck-demo-")
                .tempdir()
                .map_err(|source| CliError::Io {
                    what: "create a temporary directory".into(),
                    source,
                })?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let keep = args.keep || args.no_run || args.serve;
    let started = Instant::now();
    say!(
        "shipcheck demo — scenario {}, time ×{} (the seed's 2-hour watch takes about {:.0} s)",
        scenario.as_str(),
        args.speed,
        7200.0 / args.speed
    );
    say!("building the world in {} …", dir.display());
    let world = World::build_with(
        &dir,
        WorldOptions {
            scenario,
            speed: args.speed,
            flyctl: vec![exe.display().to_string(), "sandbox".into(), "flyctl".into()],
            postgres: if args.no_postgres {
                PostgresChoice::Off
            } else {
                PostgresChoice::Auto
            },
            echo_slack: !g.json,
            ..WorldOptions::default()
        },
    )
    .await
    .map_err(|e| CliError::Integration(format!("cannot build the rehearsal world: {e}")))?;
    describe_world(&world);
    if args.serve {
        serve_page(&world, args.listen).await?;
    }
    let mut code = 0;
    if !args.no_run {
        say!(
            "\nrunning the checklist: `shipcheck sandbox operate` walks it the way `shipcheck deploy` does;\nmanual items are ticked by the \"demo operator\"\n"
        );
        // Ctrl-C reaches the operator too (same process group); the world then stops
        // cleanly (its databases are dropped) instead of dying with the demo.
        code = tokio::select! {
            c = operate(&exe, &world) => c?,
            _ = tokio::signal::ctrl_c() => {
                say!("\ninterrupted; stopping the world");
                world.shutdown().await;
                return Ok(1);
            }
        };
        let elapsed = started.elapsed();
        print_record(g, &world).await?;
        print_world_facts(&world).await;
        say!(
            "\nthe demo took {:.0} s of wall time ({:.1} h of world time)",
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * args.speed / 3600.0
        );
    }
    if keep {
        let dir = match tmp {
            Some(t) => t.keep(),
            None => dir.clone(),
        };
        print_keep(&dir, &world);
        let stop = world.stop_handle();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.stop();
        });
        world.serve_until(Duration::from_secs(24 * 3600)).await;
        say!("world stopped; its files stay in {}", dir.display());
    } else {
        world.shutdown().await;
        drop(tmp);
    }
    Ok(code)
}

/// Serves the team's page over the world's store, in this process, for as long as it runs.
async fn serve_page(world: &World, listen: std::net::SocketAddr) -> Result<(), CliError> {
    let loaded = shipcheck_core::model::config::load_file(world.config_path())?;
    let target = shipcheck_core::store::StoreTarget::Sqlite(
        world.dir.join(".shipcheck").join("shipcheck.db"),
    );
    let store = shipcheck_core::store::Store::open(&target).await?;
    let clock = shipcheck_core::model::clock::for_config(&loaded.config.clock)
        .map_err(|e| CliError::Usage(e.0))?;
    let session = shipcheck_core::runs::Session::new(store, std::sync::Arc::new(loaded), clock);
    let (listener, bound) = shipcheck_web::bind(listen, false)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    say!("  the page   http://{bound}/ (the team's view, live as the checklist runs)");
    tokio::spawn(shipcheck_web::serve(
        listener,
        shipcheck_web::App::new(
            session,
            shipcheck_web::Options {
                tls: false,
                client_ip_header: None,
            },
        ),
    ));
    Ok(())
}

/// How long the demo operator may take: 30 minutes, or at a slow clock the checklist's three
/// hours of world time (the walk, the 2-hour watch and the watch after a rollback) and ten
/// minutes more, so that `--speed 1` can watch the whole release in real time.
fn operator_limit(speed: f64) -> Duration {
    let world = if speed.is_finite() && speed > 0.0 {
        3.0 * 3600.0 / speed
    } else {
        0.0
    };
    Duration::from_secs_f64((world + 600.0).clamp(30.0 * 60.0, 4.0 * 3600.0))
}

async fn operate(exe: &Path, world: &World) -> Result<u8, CliError> {
    let mut cmd = Cmd::new(
        exe.display().to_string(),
        [
            "--config".to_string(),
            world.config_path().display().to_string(),
            "sandbox".into(),
            "operate".into(),
        ],
    )
    .dir(&world.dir)
    .timeout(operator_limit(world.manifest.clock.speed))
    .reason("run the demo operator");
    for k in SCRUB {
        cmd = cmd.env_remove(k);
    }
    for (k, v) in world.env() {
        cmd = cmd.env(k, v);
    }
    let code = cmd
        .run_inherit()
        .await
        .map_err(|e| CliError::Integration(e.to_string()))?;
    Ok(code.and_then(|c| u8::try_from(c).ok()).unwrap_or(1))
}

fn describe_world(world: &World) {
    let m = &world.manifest;
    say!(
        "  git        {} (origin: {})",
        m.repo.display(),
        m.origin.display()
    );
    for (app, url) in &m.apps {
        if app.contains("-production-") {
            say!("  app        {app:<40} {url}");
        }
    }
    for (name, url) in &m.services {
        say!("  {name:<10} {url}");
    }
    match &m.postgres {
        PgStatus::Ready { .. } => say!("  postgres   two fresh databases (staging, production)"),
        PgStatus::Unavailable { reason } => say!(
            "  postgres   none: {reason}\n             the database items will be waived with that reason"
        ),
    }
    say!(
        "  clock      starts {} (inside the deploy window), ×{}",
        report::local_time(m.clock.start, shipcheck_sandbox::world::config::TIMEZONE),
        m.clock.speed
    );
}

async fn latest_run(world: &World) -> Result<Option<RunState>, CliError> {
    let loaded = shipcheck_core::model::config::load_file(world.config_path())?;
    let target = shipcheck_core::store::StoreTarget::Sqlite(
        world.dir.join(".shipcheck").join("shipcheck.db"),
    );
    let store = shipcheck_core::store::Store::open(&target).await?;
    let Some(summary) = store
        .latest_run(&loaded.config.project.name, Some("production"))
        .await?
    else {
        return Ok(None);
    };
    let events = store.events(&summary.id).await?;
    Ok(RunState::fold(&events).ok())
}

async fn print_record(g: &Global, world: &World) -> Result<(), CliError> {
    let Some(run) = latest_run(world).await? else {
        say!("\nno run was recorded");
        return Ok(());
    };
    let tz = shipcheck_sandbox::world::config::TIMEZONE;
    // `--ci github`: what a GitHub Actions step would show (written there when it runs in one).
    if let Some(gh) = crate::ci::github(g) {
        if std::env::var_os("GITHUB_STEP_SUMMARY").is_some() {
            gh.run(&run, tz);
        } else {
            crate::ci::preview(&run, tz);
        }
    }
    say!("\n{}", "─".repeat(78));
    say!("{}", report::render(&run, Format::Markdown, tz));
    say!("{}", "─".repeat(78));
    let v = report::json::value(&run);
    say!(
        "\nthe run: {} · verdict {}",
        v["status"].as_str().unwrap_or("?"),
        v["verdict"]["verdict"].as_str().unwrap_or("(none)")
    );
    // A run that stopped: what stopped it.
    for r in run.items.iter().filter(|r| {
        matches!(
            r.state,
            shipcheck_core::journal::state::ItemState::Fail
                | shipcheck_core::journal::state::ItemState::Error
        )
    }) {
        say!(
            "  ✗ {} {}: {}",
            r.item.id,
            r.state.as_str(),
            r.summary.as_deref().unwrap_or("")
        );
    }
    let watch = &v["watch"];
    for (key, what) in [
        (
            "time_to_detect_s",
            "time to detect (release live → incident)",
        ),
        (
            "time_to_recover_s",
            "time to recover (incident → rollback verified)",
        ),
    ] {
        if let Some(s) = watch[key].as_u64() {
            say!("  {what}: {}m {:02}s of world time", s / 60, s % 60);
        }
    }
    Ok(())
}

/// What the world itself says happened (not shipcheck's words).
async fn print_world_facts(world: &World) {
    let m = &world.manifest;
    say!("\nwhat happened in the world:");
    for (sha, parents, subject) in repo::production_log(&m.origin, 3).await {
        if parents.len() == 2 {
            say!(
                "  origin/production  {} {subject}",
                &sha[..12.min(sha.len())]
            );
            break;
        }
    }
    let approvals = world
        .requests()
        .iter()
        .filter(|r| {
            r.service == "github" && r.method == "POST" && r.path.ends_with("/pending_deployments")
        })
        .count();
    say!("  GitHub             {approvals} approval(s) sent");
    let statuses: Vec<String> = world
        .deployment_statuses()
        .into_iter()
        .map(|s| s.state)
        .collect();
    if !statuses.is_empty() {
        say!("  GitHub deployment  statuses {}", statuses.join(" → "));
    }
    if let Ok(state) = shipcheck_sandbox::fly::FlyState::load(&m.fly_state) {
        for (app, before) in &m.previous_images {
            let Some(a) = state.apps.get(app) else {
                continue;
            };
            // What the Machines run, and the newest release when it is not that one.
            let running = a.machines.iter().map(|x| x.release).max().unwrap_or(0);
            let previous = &a.image_of(running) == before;
            let mut line = match (previous, running) {
                (false, _) => format!("v{running}: the new release"),
                (true, 1) => "v1: still its previous image".to_string(),
                (true, _) => format!("v{running}: back on its previous image"),
            };
            if let Some(r) = a.newest().filter(|r| r.version != running) {
                line.push_str(&format!("; v{} {}", r.version, r.status));
            }
            say!("  Fly {app:<40} {line}");
        }
    }
    // The CDEvents the sink accepted (a receiver drops a second copy of an id).
    let mut accepted: Vec<String> = Vec::new();
    for e in world.cdevents().into_iter().filter(|e| e.status == 202) {
        if !accepted.contains(&e.id) {
            accepted.push(e.id);
        }
    }
    if !accepted.is_empty() {
        // By type, in the order they first came: `service.deployed ×3`.
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for id in &accepted {
            let key = id.split_once('/').map_or(id.as_str(), |(_, k)| k);
            let kind = key.split('/').next().unwrap_or(key);
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((kind, 1)),
            }
        }
        let kinds: Vec<String> = kinds
            .into_iter()
            .map(|(k, n)| {
                if n > 1 {
                    format!("{k} ×{n}")
                } else {
                    k.to_string()
                }
            })
            .collect();
        say!(
            "  CDEvents sink      {} accepted: {}",
            accepted.len(),
            kinds.join(", ")
        );
    }
    let slack = record::read_slack(&world.dir);
    say!("  Slack #deploys     {} message(s):", slack.len());
    for s in slack {
        say!("    · {}", s.text.lines().next().unwrap_or_default());
    }
}

fn print_keep(dir: &Path, world: &World) {
    let flyctl = format!(
        "shipcheck sandbox flyctl --state {}",
        world.manifest.fly_state.display()
    );
    say!(
        "\nthe world keeps running (Ctrl-C stops it). Drive it with the normal commands:\n\n  cd {}\n  . ./env.sh                 # the secrets shipcheck.toml names\n  shipcheck status           # the run, its phase and what it waits for\n  shipcheck report           # the record\n  shipcheck history; shipcheck verify\n  shipcheck deploy           # (a fresh world: `shipcheck demo --no-run`) walk it yourself\n  {flyctl} releases -a maishapoa-production-internal-api\n  git -C repo log --oneline --graph origin/production\n",
        dir.display()
    );
}
