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
mod replay;
mod rollback;
mod schema;
mod show;
mod stop;
mod team;
mod walk;
mod workflow;

use crate::cli::{Cli, Command, ConfigCommand, LogsCommand, SandboxCommand, TeamCommand};
use crate::errors::CliError;

/// Runs the command; returns the exit code on success paths (0 or 1). Under GitHub Actions,
/// a command that walks or shows a run also writes the run's record to the step summary,
/// annotations and outputs ([`crate::ci`]).
pub async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    let on_run = match &cli.command {
        Command::Status { run, env } => Some((run.clone(), env.clone())),
        Command::Next { env, .. } => Some((None, env.clone())),
        Command::Deploy { start, .. } => Some((None, start.env.clone())),
        Command::Monitor(args) => Some((args.run.clone(), args.env.clone())),
        _ => None,
    };
    let g = cli.global.clone();
    let result = run_command(cli).await;
    if let (Some((run, env)), Some(gh)) = (on_run, crate::ci::github(&g))
        && let Ok(session) = crate::context::session(&g).await
        && let Ok(state) = session.resolve(run.as_deref(), &env).await
    {
        gh.run(&state, &session.loaded.config.project.timezone);
    }
    result
}

async fn run_command(cli: Cli) -> Result<u8, CliError> {
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
        Command::Sign { key, who } => items::sign(g, key.as_deref(), &who).await,
        Command::Abort { reason, who } => items::abort(g, &reason, &who).await,
        Command::Status { run, env } => show::status(g, run.as_deref(), &env).await,
        Command::History { limit } => show::history(g, limit).await,
        Command::Replay { run, policy, env } => {
            replay::run(g, run.as_deref(), policy.as_deref(), &env).await
        }
        Command::Events {
            run,
            env,
            send: true,
            dry_run,
        } => show::send_events(g, run.as_deref(), &env, dry_run).await,
        Command::Events { run, env, .. } => show::events(g, run.as_deref(), &env).await,
        Command::Report {
            run,
            format,
            output,
            env,
        } => show::report(g, run.as_deref(), format, output.as_deref(), &env).await,
        Command::Verify { run, env } => show::verify(g, run.as_deref(), &env).await,
        Command::Unlock { reason, who } => admin::unlock(g, &reason, &who).await,
        Command::Config(ConfigCommand::Check) => admin::config_check(g),
        Command::Config(ConfigCommand::Schema { output }) => {
            schema::config_schema(g, output.as_deref())
        }
        Command::Config(ConfigCommand::Accept { reason, who }) => {
            admin::config_accept(g, &reason, &who).await
        }
        Command::Changes => changes::run(g).await,
        Command::Team(TeamCommand::Add { name, email, role }) => {
            team::add(g, &name, &email, role).await
        }
        Command::Team(TeamCommand::List) => team::list(g).await,
        Command::Login => team::login(g).await,
        Command::Logout => team::logout(),
        Command::Whoami => team::whoami(g).await,
        Command::Serve {
            listen,
            behind_tls_proxy,
            client_ip_header,
        } => team::serve(g, listen, behind_tls_proxy, client_ip_header).await,
        Command::Schema { name, all } => schema::run(g, name.as_deref(), all.as_deref()),
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
