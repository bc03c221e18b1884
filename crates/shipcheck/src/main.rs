//! shipcheck: runs a production deployment checklist — checks, steps, watch, rollback and
//! a signed record.

#[macro_use]
mod macros;
mod ci;
mod cli;
mod cmd;
mod context;
mod errors;
mod journal_view;
mod json;
mod output;
mod watch_output;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // A command line clap refuses, with --json: the error document too.
            if e.use_stderr() && std::env::args_os().any(|a| a == "--json") {
                errors::print_usage_json(&e.to_string());
            }
            e.exit()
        }
    };
    let json = cli.global.json;
    if let Some(expr) = &cli.global.jq {
        // As gh: `--jq` filters a --json document, so it needs --json. Checked before anything
        // runs, and so is the expression.
        let refused = if json {
            json::jq::set(expr).map_err(|e| e.to_string())
        } else {
            Err("cannot use `--jq` without specifying `--json`".to_string())
        };
        if let Err(message) = refused {
            let e = errors::CliError::Usage(message);
            e.print();
            if json {
                e.print_json();
            }
            return std::process::ExitCode::from(e.exit_code());
        }
    }
    if ci::in_ci(&cli.global) {
        output::no_prompts();
    }
    // Whatever the environment holds under a secret's name is never printed; the config's
    // named variables are added when it is loaded (`context::load_config`).
    output::add_secrets(shipcheck_core::model::redact::secrets_from_env(&[]));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say_err!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(errors::EXIT_INTEGRATION);
        }
    };
    let result = runtime.block_on(cmd::dispatch(cli));
    match result {
        // A document --jq could not filter (said on stderr) is a usage error, unless the
        // command's own exit code already says something failed.
        Ok(0) if json::jq::failed() => std::process::ExitCode::from(errors::EXIT_USAGE),
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            let code = e.exit_code();
            e.print();
            if json {
                e.print_json();
            }
            std::process::ExitCode::from(code)
        }
    }
}
