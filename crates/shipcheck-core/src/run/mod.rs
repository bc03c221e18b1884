//! A run: one deployment. Its events ([`event`]), the state folded from them ([`state`]),
//! the operations that change it ([`session`]) and the walk through its phases ([`walk`]).

pub mod conditions;
pub mod event;
pub mod session;
pub mod state;
pub mod walk;

pub use event::{Event, NoteKind, StoredEvent};
pub use session::{RunError, Session, StartOptions};
pub use state::{ItemRecord, ItemState, RunState, RunStatus};
pub use walk::{Confirm, Need, NoConfirm, StepOptions, StepReport};
