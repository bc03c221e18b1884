//! `shipcheck init`: write a commented shipcheck.toml.

use shipcheck_core::config::template;

use crate::cli::Global;
use crate::errors::CliError;

pub fn run(g: &Global, force: bool) -> Result<u8, CliError> {
    let path = g
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("shipcheck.toml"));
    if path.exists() && !force {
        return Err(CliError::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let tz = template::system_timezone();
    let text = template::init_template(&tz);
    std::fs::write(&path, text).map_err(|source| CliError::Io {
        what: format!("writing {}", path.display()),
        source,
    })?;
    if g.json {
        super::print_json(&serde_json::json!({
            "schema": shipcheck_core::JSON_SCHEMA,
            "kind": "init",
            "path": path,
            "timezone": tz,
        }));
    } else {
        say!("wrote {} (time zone {tz})", path.display());
        say!("next: edit it, then `shipcheck config check`, `shipcheck plan`, `shipcheck check`");
    }
    Ok(0)
}
