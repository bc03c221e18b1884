//! The Prometheus instant-query answer and sample values.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::prometheus(data);
});
