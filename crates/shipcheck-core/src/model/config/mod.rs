//! `shipcheck.toml`: its shape ([`model`]), loading with spans and hints ([`load`]),
//! validation ([`validate`]), errors ([`error`]), and the commented file `shipcheck init`
//! writes: what it finds in Fly config files ([`discover`]), what it decides to write
//! ([`init_plan`]) and the text ([`template`], `init_render`).

mod checklist;
pub mod clock;
mod describe;
pub mod discover;
pub mod error;
pub mod events;
pub mod fly;
pub mod init_plan;
mod init_render;
pub mod integrations;
pub mod load;
pub mod model;
pub mod monitor;
pub mod schema;
mod span;
pub mod team;
pub mod template;
pub mod validate;
pub mod workflow;

pub use crate::model::checklist::conditions::PathsConfig;
pub use clock::ClockConfig;
pub use error::{ConfigError, InvalidConfig, Problem};
pub use events::EventsConfig;
pub use fly::{ErrorPatterns, FLY_TOKEN_VARS, FlyConfig};
pub use init_plan::{FlyRegions, InitPlan, LeftOut, PlannedApp, Question, plan};
pub use init_render::init_template_from;
pub use integrations::*;
pub use load::{CONFIG_FILE, LoadedConfig, MAX_CONFIG_BYTES, find_config, load_file, load_str};
pub use model::*;
pub use monitor::{IncidentConfig, MonitorConfig, RollbackStrategy, check_schedule};
pub use team::TeamConfig;
pub use template::{
    TemplateApp, init_template, init_template_no_fly, init_template_with, seed_apps,
    system_timezone,
};
pub use validate::{check_timezone, parse_hhmm};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_malformed;
#[cfg(test)]
mod tests_render;
#[cfg(test)]
mod tests_values;
