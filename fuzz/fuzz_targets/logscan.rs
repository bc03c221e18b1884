//! The log scanner: built-in patterns over any bytes, and a pattern of the user's.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::logscan(data);
});
