//! Test support shared by the crate's tests: real git repositories ([`repo`]) and check
//! contexts with runs whose items carry evidence ([`checks`]).

pub mod checks;
pub mod repo;

/// The text of a recorded API answer under `fixtures/api/` (see its README for provenance),
/// compiled into the test.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/api/",
            $path
        ))
    };
}
pub(crate) use fixture;
