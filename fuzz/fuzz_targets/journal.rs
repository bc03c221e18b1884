//! A run's journal as the store holds it: read, chained, folded, reported.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::journal(data);
});
