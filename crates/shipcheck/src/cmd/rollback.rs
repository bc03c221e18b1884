//! `shipcheck rollback`: roll the run's release back, with confirmation.

use shipcheck_core::model::config::RollbackStrategy as Strategy;
use shipcheck_core::model::incident::RollbackOptions;

use crate::cli::{Global, StrategyArg, Who};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};
use crate::output;

pub async fn run(
    g: &Global,
    strategy: StrategyArg,
    apps: Vec<String>,
    reason: Option<String>,
    yes: bool,
    dry_run: bool,
    who: &Who,
) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.resolve(who.run.as_deref(), &who.env).await?;
    if run.status.is_open() {
        shipcheck_core::runs::pin::check(&session, &run)?;
    }
    let by = context::actor(&session, &who.by).await?;
    let opts = RollbackOptions {
        strategy: match strategy {
            StrategyArg::GitRevert => Strategy::GitRevert,
            StrategyArg::Platform => Strategy::Platform,
        },
        reason: reason.unwrap_or_else(|| format!("rollback requested by {by}")),
        by,
        apps: (!apps.is_empty()).then_some(apps),
        dry_run,
    };
    if !dry_run && !yes {
        let plan =
            shipcheck_core::incidents::rollback::rollback_plan(&session, &run, &opts).await?;
        let interactive = !g.json && output::stdin_is_tty() && output::stdout_is_tty();
        if !interactive {
            let mut msg = format!(
                "rollback of run {} ({}) needs confirmation; run again with --yes to perform:",
                run.id,
                opts.strategy.as_str()
            );
            for line in &plan {
                msg.push_str(&format!("\n    {line}"));
            }
            return Err(CliError::Usage(msg));
        }
        say!(
            "rollback of run {} ({}) will run:",
            run.id,
            opts.strategy.as_str()
        );
        for line in &plan {
            say!("    {line}");
        }
        if output::ask("type yes to roll back: ")? != "yes" {
            say!("not rolled back");
            return Ok(1);
        }
    }
    let outcome = shipcheck_core::incidents::rollback::rollback(&session, &run, &opts).await?;
    if g.json {
        json::print(
            "rollback",
            &docs::RollbackDoc {
                run: run.id.clone(),
                outcome: outcome.clone(),
            },
        );
    } else {
        if dry_run {
            say!(
                "dry run: rollback of run {} ({}) would run:",
                run.id,
                opts.strategy.as_str()
            );
        }
        for line in &outcome.plan {
            if dry_run {
                say!("    {line}");
            }
        }
        if !dry_run {
            say!("{}", outcome.summary);
        }
    }
    Ok(0)
}
