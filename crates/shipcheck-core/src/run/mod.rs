//! A run: one deployment. Its events ([`event`]), the state folded from them ([`state`]),
//! the operations that change it ([`session`]) and the walk through its phases ([`walk`]).

mod act;
pub mod event;
pub mod rollback;
pub mod session;
pub mod state;
pub mod stop;
pub mod walk;

pub use event::{Event, NoteKind, StoredEvent};
pub use rollback::{RollbackOptions, RollbackOutcome, Strategy};
pub use session::{RunError, Session, StartOptions};
pub use state::{ItemRecord, ItemState, Rollback, RunState, RunStatus, Stop};
pub use walk::{Confirm, Need, NoConfirm, StepOptions, StepReport};
