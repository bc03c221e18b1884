//! The deploy window: `[window]` as TOML and an instant.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::window(data);
});
