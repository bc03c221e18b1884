//! One module per group of subcommands; `dispatch` routes the parsed command line.

mod admin;
mod changes;
mod check;
mod demo;
mod help;
mod init;
mod items;
mod loadtest;
mod logs;
mod monitor;
mod operator;
mod plan;
mod rollback;
mod show;
mod stop;
mod walk;
mod workflow;

use crate::cli::{Cli, Command, ConfigCommand, LogsCommand, SandboxCommand};
use crate::errors::CliError;

/// Runs the command; returns the exit code on success paths (0 or 1).
pub async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    let g = &cli.global;
    match cli.command {
        Command::Init {
            workflow: true,
            force,
            ..
        } => workflow::run(g, force),
        Command::Init {
            force,
            yes,
            ask_fly,
            workflow: false,
        } => init::run(g, force, yes, ask_fly).await,
        Command::Plan => plan::run(g),
        Command::Check { targets, env } => check::run(g, &targets, env.as_deref()).await,
        Command::Start(args) => walk::start(g, &args).await,
        Command::Next { step, env, by } => walk::next(g, &step, &env, &by).await,
        Command::Deploy { start, step } => walk::deploy(g, &start, &step).await,
        Command::Tick { item, note, who } => items::tick(g, &item, note, &who).await,
        Command::Retry {
            item,
            yes,
            dry_run,
            who,
        } => walk::retry(g, &item, yes, dry_run, &who).await,
        Command::Waive { item, reason, who } => items::waive(g, &item, &reason, &who).await,
        Command::Note { kind, text, who } => items::note(g, kind, &text, &who).await,
        Command::Sign { who } => items::sign(g, &who).await,
        Command::Abort { reason, who } => items::abort(g, &reason, &who).await,
        Command::Status { run, env } => show::status(g, run.as_deref(), &env).await,
        Command::History { limit } => show::history(g, limit).await,
        Command::Events { run, env } => show::events(g, run.as_deref(), &env).await,
        Command::Report {
            run,
            format,
            output,
            env,
        } => show::report(g, run.as_deref(), format, output.as_deref(), &env).await,
        Command::Verify { run, env } => show::verify(g, run.as_deref(), &env).await,
        Command::Unlock { reason, who } => admin::unlock(g, &reason, &who).await,
        Command::Config(ConfigCommand::Check) => admin::config_check(g),
        Command::Changes => changes::run(g).await,
        Command::Stop {
            app,
            undo,
            yes,
            dry_run,
            who,
        } => stop::run(g, &app, undo, yes, dry_run, &who).await,
        Command::Demo(args) => demo::run(g, &args).await,
        Command::Sandbox(SandboxCommand::Operate) => operator::run(g).await,
        Command::Sandbox(SandboxCommand::Flyctl { args }) => {
            let code = shipcheck_sandbox::flyctl_main(args);
            Ok(u8::try_from(code).unwrap_or(1))
        }
        Command::Rollback {
            strategy,
            apps,
            reason,
            yes,
            dry_run,
            who,
        } => rollback::run(g, strategy, apps, reason, yes, dry_run, &who).await,
        Command::Monitor(args) => monitor::monitor(g, &args).await,
        Command::Incident(args) => monitor::incident(g, &args).await,
        Command::Loadtest(args) => loadtest::run(g, &args).await,
        Command::Logs(LogsCommand::Scan {
            file,
            patterns,
            first,
            whole_line,
        }) => logs::scan(g, file.as_deref(), &patterns, first, whole_line),
        Command::Completions { shell } => help::completions(shell),
        Command::Man { out } => help::man(out.as_deref()),
    }
}

/// Prints a JSON value on stdout.
pub fn print_json(value: &serde_json::Value) {
    say!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())
    );
}
