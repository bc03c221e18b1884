//! `shipcheck.toml`: its shape ([`model`]), loading with spans and hints ([`load`]), and the
//! commented file `shipcheck init` writes ([`template`]).

pub mod error;
pub mod integrations;
pub mod load;
pub mod model;
pub mod template;

pub use error::ConfigError;
pub use integrations::*;
pub use load::{LoadedConfig, find_config, load_file, load_str};
pub use model::*;
