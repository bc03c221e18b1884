//! Test support shared by the crate's tests: real git repositories ([`repo`]) and check
//! contexts with runs whose items carry evidence ([`checks`]).

pub mod checks;
pub mod repo;
