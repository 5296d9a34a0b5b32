//! A sensor batch as the collector receives it over HTTPS: decoding must refuse what is not a
//! batch with an error, never panic or allocate beyond the batch limit.
#![no_main]

use greenwatch_sensor::Batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Batch::decode(data);
});
