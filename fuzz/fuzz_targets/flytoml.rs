//! Fly config files as `shipcheck init` discovers them, its plan and the file it writes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::flytoml(data);
});
