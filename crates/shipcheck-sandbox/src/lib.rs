//! shipcheck's rehearsal world: stand-ins for the systems a deployment touches, with their
//! real interfaces, on loopback and in local files. Used by the tests and by `shipcheck demo`.
//!
//! - [`fly`]: a stand-in for `flyctl`, answering from a state directory
//!   ([`fly::flyctl_main`], [`fly::FlyWorld`]).
//! - [`world`]: the whole rehearsal world on loopback — a git origin, the apps, and
//!   stand-ins for flyctl, GitHub, Sentry, Prometheus and Slack ([`world::World`]).

pub mod fly;
pub mod world;

pub use fly::{FlyWorld, flyctl_main};
