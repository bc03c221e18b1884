//! The phase engine: a session over the store ([`session`]), the walk through a run's phases
//! ([`walk`], actions in [`act`], the watch's part in [`phases`]), the check runner
//! ([`runner`]), rollbacks ([`rollback`]) and emergency stops ([`stop`]).

mod act;
pub mod phases;
pub mod rollback;
pub mod runner;
pub mod session;
pub mod stop;
pub mod walk;

pub use rollback::{RollbackOptions, RollbackOutcome};
pub use runner::{EngineEvent, NoObserver, Observer};
pub use session::{RunError, Session, StartOptions};
pub use walk::{Confirm, Need, NoConfirm, StepOptions, StepReport};
