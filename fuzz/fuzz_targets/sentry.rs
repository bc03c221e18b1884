//! The Sentry API answers: projects, error-count time series, issues, deploys, errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::sentry(data);
});
