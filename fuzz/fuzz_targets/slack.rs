//! The Slack webhook's answer and the error readers of every service.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::slack(data);
});
