//! shipcheck's rehearsal world: stand-ins for the systems a deployment touches, with their
//! real interfaces, on loopback and in local files. Used by the tests and by `shipcheck demo`.
//!
//! - [`fly`]: a stand-in for `flyctl`, answering from a state directory
//!   ([`fly::flyctl_main`], [`fly::FlyWorld`]).

pub mod fly;

pub use fly::{FlyWorld, flyctl_main};
