//! `flyctl logs --json`: a stream of indented objects, then the log scanner on the messages.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::fly_logs(data);
});
