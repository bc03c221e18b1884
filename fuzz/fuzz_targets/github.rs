//! The GitHub API answers: lists, runs, pending deployments, statuses, commits, errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::github(data);
});
