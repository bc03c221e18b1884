//! The config loader, validator and error renderer: any text as `shipcheck.toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::config(data);
});
