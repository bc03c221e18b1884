//! Every flyctl `--json` reader: status, machines list, releases, secrets list, config show.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    shipcheck_core::fuzz::fly_json(data);
});
