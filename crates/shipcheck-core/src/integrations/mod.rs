//! Clients for the systems shipcheck talks to. Programs (git, flyctl) run through
//! [`crate::exec`]; HTTP APIs through [`crate::http`].

pub mod fly;
