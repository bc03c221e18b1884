//! A run: one deployment. Its events ([`event`]), the state folded from them ([`state`]).

pub mod event;
pub mod state;

pub use event::{Event, NoteKind, StoredEvent};
pub use state::{ItemRecord, ItemState, RunState, RunStatus};
