//! `shipcheck.toml`: its shape ([`model`]), loading with spans and hints ([`load`]), and the
//! commented file `shipcheck init` writes ([`template`]).

pub mod discover;
pub mod error;
pub mod fly;
pub mod load;
pub mod model;
pub mod template;

pub use error::ConfigError;
pub use fly::{ErrorPatterns, FLY_TOKEN_VARS, FlyConfig};
pub use load::{LoadedConfig, load_file, load_str};
pub use model::*;
