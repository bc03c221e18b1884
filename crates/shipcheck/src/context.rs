//! What most commands need: the config (found, loaded, validated), the store, the clock and
//! the person acting.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use shipcheck_core::model::config::{self, LoadedConfig};
use shipcheck_core::runs::Session;
use shipcheck_core::runs::team::Actor;
use shipcheck_core::store::{Store, StoreTarget};

use crate::cli::Global;
use crate::errors::CliError;

/// The config file to use: `--config`, else `shipcheck.toml` here or in a parent.
pub fn config_path(global: &Global) -> Option<PathBuf> {
    if let Some(p) = &global.config {
        return Some(p.clone());
    }
    let cwd = std::env::current_dir().ok()?;
    config::find_config(&cwd)
}

/// Keeps the values of the variables `loaded` names out of everything printed.
fn guard_secrets(loaded: LoadedConfig) -> LoadedConfig {
    crate::output::add_secrets(shipcheck_core::model::redact::secrets_from_env(
        &loaded.config.secret_env_names(),
    ));
    loaded
}

/// Loads the config; a missing file is an error naming what to do.
pub fn load_config(global: &Global) -> Result<LoadedConfig, CliError> {
    match config_path(global) {
        Some(p) => Ok(guard_secrets(config::load_file(&p)?)),
        None => Err(CliError::Usage(
            "no shipcheck.toml here or in a parent directory; run `shipcheck init` to write one, or pass --config PATH".into(),
        )),
    }
}

/// Loads the config, or the built-in defaults (with a notice) when there is none.
pub fn load_config_or_default(global: &Global) -> Result<LoadedConfig, CliError> {
    match config_path(global) {
        Some(p) => Ok(guard_secrets(config::load_file(&p)?)),
        None => {
            say_err!(
                "note: no shipcheck.toml found; using the built-in defaults (`shipcheck init` writes one)"
            );
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            Ok(config::load_str(&cwd.join("shipcheck.toml"), "")?)
        }
    }
}

/// Where runs are stored: `--database`/`SHIPCHECK_DATABASE_URL`, else the SQLite file next
/// to the config.
pub fn store_target(global: &Global, config_file: &Path) -> StoreTarget {
    match &global.database {
        Some(url) if !url.is_empty() => StoreTarget::Postgres(url.clone()),
        _ => StoreTarget::Sqlite(
            config_file
                .parent()
                .unwrap_or(Path::new("."))
                .join(".shipcheck")
                .join("shipcheck.db"),
        ),
    }
}

/// Config, store and clock together.
pub async fn session(global: &Global) -> Result<Session, CliError> {
    let loaded = load_config(global)?;
    let store = Store::open(&store_target(global, &loaded.path)).await?;
    let clock = shipcheck_core::model::clock::for_config(&loaded.config.clock)
        .map_err(|e| CliError::Usage(e.0))?;
    Ok(Session::new(store, Arc::new(loaded), clock))
}

/// The person acting. With a team in the store: the person whose token this process holds
/// (`SHIPCHECK_TOKEN`, else the one `shipcheck login` saved), and `--by` is refused. Without
/// one: `--by`, else `git config user.name`, else `$USER`.
pub async fn actor(session: &Session, by: &Option<String>) -> Result<String, CliError> {
    Ok(actor_of(session, by).await?.recorded())
}

/// [`actor`], as the core's [`Actor`].
pub async fn actor_of(session: &Session, by: &Option<String>) -> Result<Actor, CliError> {
    let typed = by.as_deref().filter(|b| !b.trim().is_empty());
    let fallback = match typed {
        Some(_) => String::new(),
        None => shipcheck_core::clients::git::default_actor().await,
    };
    let token = held_token()?;
    Ok(session
        .actor(token.as_deref(), typed, move || fallback)
        .await?)
}

/// The environment variable a personal token is read from first.
pub const TOKEN_ENV: &str = "SHIPCHECK_TOKEN";

/// Where `shipcheck login` keeps the token: `$XDG_CONFIG_HOME/shipcheck/token`, else
/// `~/.config/shipcheck/token`.
pub fn token_file() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("shipcheck").join("token"))
}

/// The token this process acts with, if any (kept out of everything printed).
pub fn held_token() -> Result<Option<String>, CliError> {
    let token = match std::env::var(TOKEN_ENV) {
        Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => match token_file() {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(&path).map_err(|source| CliError::Io {
                    what: format!(
                        "reading the token `shipcheck login` saved in {}",
                        path.display()
                    ),
                    source,
                })?;
                Some(text.trim().to_string()).filter(|t| !t.is_empty())
            }
            _ => None,
        },
    };
    if let Some(t) = &token {
        guard_token(t);
    }
    Ok(token)
}

/// Keeps a personal token out of everything printed: its random part only, since the
/// prefix every token shares (`shipcheck_`) would otherwise make pieces of *other* tokens
/// (a new person's, printed once by `team add`) look like this one's.
pub fn guard_token(token: &str) {
    let t = token.trim();
    let random = t
        .strip_prefix(shipcheck_core::model::person::TOKEN_PREFIX)
        .unwrap_or(t);
    crate::output::add_secrets(vec![random.to_string()]);
}
