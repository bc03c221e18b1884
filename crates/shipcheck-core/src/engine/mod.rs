//! The phase engine: the walk through a run's phases
//! ([`walk`], actions in [`act`], the watch's part in [`phases`]), the check runner
//! ([`runner`]), rollbacks ([`rollback`]) and emergency stops ([`stop`]).

pub mod act;
pub mod phases;
pub mod runner;
pub mod stop;
pub mod walk;

pub use walk::{Need, StepOptions, StepReport};
