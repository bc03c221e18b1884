//! Loading (placeholder until the loader lands).
use std::path::{Path, PathBuf};

use super::{ConfigError, model::Config};
use crate::checklist::Checklist;

/// A config with where it came from.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The config.
    pub config: Config,
    /// The checklist it resolves to.
    pub checklist: Checklist,
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub source: String,
}

impl LoadedConfig {
    /// The config file's directory.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Reads and validates a file.
pub fn load_file(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let source = std::fs::read_to_string(path).map_err(|e| ConfigError {
        message: e.to_string(),
    })?;
    load_str(path, &source)
}

/// Parses and validates text.
pub fn load_str(path: &Path, source: &str) -> Result<LoadedConfig, ConfigError> {
    let config: Config = toml::from_str(source).map_err(|e| ConfigError {
        message: e.to_string(),
    })?;
    let checklist = Checklist::from_config(&config).map_err(|p| ConfigError {
        message: format!("{p:?}"),
    })?;
    Ok(LoadedConfig {
        config,
        checklist,
        path: path.to_path_buf(),
        source: source.to_string(),
    })
}

/// `shipcheck.toml` in `start` or a parent (placeholder).
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join("shipcheck.toml"))
        .find(|p| p.is_file())
}
