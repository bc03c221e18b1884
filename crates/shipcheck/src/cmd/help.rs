//! `shipcheck completions` and `shipcheck man`: the shell and the manual learn every command
//! and flag from the same clap definition the parser uses, so they never drift.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, Shell};
use crate::errors::CliError;

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> Result<u8, CliError> {
    use clap_complete::Shell as S;
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "shipcheck", &mut out);
    write_stdout(&out)?;
    Ok(0)
}

/// Prints the main manual page, or writes every command's page into `out`.
pub fn man(out: Option<&Path>) -> Result<u8, CliError> {
    let cmd = Cli::command();
    let Some(dir) = out else {
        let mut page = Vec::new();
        render(&cmd, &mut page)?;
        write_stdout(&page)?;
        return Ok(0);
    };
    std::fs::create_dir_all(dir).map_err(|source| CliError::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;
    let mut written = 0;
    write_pages(&cmd, "shipcheck", dir, &mut written)?;
    say!("wrote {written} manual pages to {}", dir.display());
    Ok(0)
}

/// Writes `cmd`'s page as `name.1` and those of its visible subcommands as `name-SUB.1`.
fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut usize,
) -> Result<(), CliError> {
    let cmd = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut page = Vec::new();
    render(&cmd, &mut page)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).map_err(|source| CliError::Io {
        what: format!("writing {}", path.display()),
        source,
    })?;
    *written += 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

fn render(cmd: &clap::Command, out: &mut Vec<u8>) -> Result<(), CliError> {
    clap_mangen::Man::new(cmd.clone())
        .render(out)
        .map_err(|source| CliError::Io {
            what: "rendering the manual page".into(),
            source,
        })
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io {
            what: "writing to stdout".into(),
            source,
        })
}
