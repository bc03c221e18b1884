//! Clients of the outside world. git and flyctl are programs run through [`crate::exec`];
//! the HTTP services go through [`crate::http`].

pub mod fly;
pub mod git;
