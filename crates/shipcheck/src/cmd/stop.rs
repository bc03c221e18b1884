//! `shipcheck stop`: the emergency stop and its undo.

use crate::cli::{Global, Who};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};
use crate::output;

pub async fn run(
    g: &Global,
    app: &str,
    undo: bool,
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
    let what = if undo { "undo the stop of" } else { "STOP" };
    if !dry_run && !yes {
        let plan = shipcheck_core::engine::stop::stop_plan(&session, &run, app, undo, &by).await?;
        let interactive = !g.json && output::stdin_is_tty() && output::stdout_is_tty();
        if !interactive {
            let mut msg =
                format!("{what} {app} needs confirmation; run again with --yes to perform:");
            for line in &plan {
                msg.push_str(&format!("\n    {line}"));
            }
            return Err(CliError::Usage(msg));
        }
        say!("shipcheck will {what} {app} (recorded on run {}):", run.id);
        for line in &plan {
            say!("    {line}");
        }
        if output::ask(&format!("type the app name ({app}) to confirm: "))? != app {
            say!("not confirmed; nothing changed");
            return Ok(1);
        }
    }
    let outcome =
        shipcheck_core::engine::stop::stop(&session, &run, app, undo, &by, dry_run).await?;
    if g.json {
        json::print(
            "stop",
            &docs::StopDoc {
                run: run.id.clone(),
                outcome: outcome.clone(),
            },
        );
    } else if dry_run {
        say!("dry run: would run:");
        for line in &outcome.plan {
            say!("    {line}");
        }
    } else {
        say!("{}", outcome.summary);
        if !undo {
            say!("undo with: shipcheck stop --undo --app {app}");
        }
    }
    Ok(0)
}
