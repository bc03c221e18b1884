//! `shipcheck check`: run automatic checks now, without a run and without side effects.

use std::sync::Arc;

use shipcheck_core::clients::Clients;
use shipcheck_core::engine::runner;
use shipcheck_core::model::checklist::{CheckSpec, Item, Phase};
use shipcheck_core::model::outcome::Status;

use crate::cli::Global;
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};
use crate::output::Progress;

pub async fn run(g: &Global, targets: &[String], env: Option<&str>) -> Result<u8, CliError> {
    let loaded = context::load_config_or_default(g)?;
    if let Some(env) = env
        && !loaded.config.environments.contains_key(env)
    {
        return Err(CliError::Usage(format!(
            "environment {env:?} is not in {} (have: {})",
            loaded.path.display(),
            loaded
                .config
                .environments
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let list = &loaded.checklist;
    let mut selected: Vec<&Item> = Vec::new();
    if targets.is_empty() {
        selected.extend(list.items.iter());
    }
    for t in targets {
        if let Some(p) = Phase::parse(t) {
            selected.extend(list.phase(p));
        } else if let Some(i) = list.get(t) {
            selected.push(i);
        } else {
            let hint = shipcheck_core::model::checklist::suggest(
                t,
                Phase::ALL.iter().map(|p| p.as_str()).chain(list.ids()),
            )
            .map(|s| format!("; did you mean {s:?}?"))
            .unwrap_or_else(|| "; `shipcheck plan` lists phases and item ids".into());
            return Err(CliError::Usage(format!(
                "{t:?} is neither a phase nor an item id{hint}"
            )));
        }
    }
    let mut items: Vec<Item> = Vec::new();
    let mut manual: Vec<&Item> = Vec::new();
    for i in selected {
        if items.iter().any(|x| x.id == i.id) {
            continue;
        }
        if i.is_automatic() {
            let mut item = i.clone();
            if let (Some(env), Some(CheckSpec::Health(h))) = (env, item.check.as_mut()) {
                h.env = env.to_string();
            }
            items.push(item);
        } else if !targets.is_empty() {
            manual.push(i);
        }
    }
    let clock = shipcheck_core::model::clock::for_config(&loaded.config.clock)
        .map_err(|e| CliError::Usage(e.0))?;
    let clients = Clients::new(Arc::new(loaded.config.clone()), loaded.base_dir(), clock);
    let mut ctx = runner::Deps::new(clients, Arc::new(loaded.checklist.clone()));
    // Checks that compare with earlier runs (the load test) read an existing store; `check`
    // never creates one.
    let target = context::store_target(g, &loaded.path);
    let exists = match &target {
        shipcheck_core::store::StoreTarget::Sqlite(p) => p.is_file(),
        shipcheck_core::store::StoreTarget::Postgres(_) => true,
    };
    if exists
        && items
            .iter()
            .any(|i| matches!(i.check, Some(CheckSpec::Loadtest(_))))
    {
        ctx.store = shipcheck_core::store::Store::open(&target).await.ok();
    }
    if !g.json {
        say_err!("running {} automatic check(s)…", items.len());
    }
    let progress = Progress::new(g.json);
    let start = std::time::Instant::now();
    let results = runner::run_checks(&items, &ctx, &progress).await;
    let wall = start.elapsed();
    // `failed` counts every result that did not pass (as it always has); of those, `errors`
    // could not decide (an integration unreachable or answering nonsense).
    let failed = results
        .iter()
        .filter(|(_, o)| o.status != Status::Pass)
        .count();
    let errors = results
        .iter()
        .filter(|(_, o)| o.status == Status::Error)
        .count();
    if g.json {
        let checks: Vec<_> = results
            .iter()
            .map(|(id, o)| {
                let item = items.iter().find(|i| &i.id == id);
                docs::CheckResult {
                    id: id.clone(),
                    title: item.map(|i| i.title.clone()),
                    status: o.status,
                    summary: o.summary.clone(),
                    evidence: o.evidence.clone(),
                    duration_ms: o.duration_ms,
                }
            })
            .collect();
        let manual: Vec<_> = manual
            .iter()
            .map(|i| docs::ManualItem {
                id: i.id.clone(),
                title: i.title.clone(),
                manual_because: i.manual_because.clone(),
            })
            .collect();
        json::print(
            "check",
            &docs::Check {
                passed: results.len() - failed,
                failed,
                errors,
                wall_ms: wall.as_millis() as u64,
                checks,
                manual,
            },
        );
    } else {
        for i in &manual {
            say!(
                "  - {}  manual: {}",
                i.id,
                i.manual_because
                    .as_deref()
                    .unwrap_or("a person ticks it in a run")
            );
        }
        say!(
            "{} passed, {} failed, {} could not be decided (error), in {:.1}s",
            results.len() - failed,
            failed - errors,
            errors,
            wall.as_secs_f64()
        );
    }
    if let Some(gh) = crate::ci::github(g) {
        let title = |id: &str| {
            items
                .iter()
                .find(|i| i.id == id)
                .map(|i| i.title.clone())
                .unwrap_or_default()
        };
        gh.checks(&results, &title);
    }
    // README's exit codes: 1 when something failed; 3 when nothing failed but an integration
    // could not be asked (an `error` result); 0 when everything passed.
    Ok(if failed > errors {
        1
    } else if errors > 0 {
        crate::errors::EXIT_INTEGRATION
    } else {
        0
    })
}
