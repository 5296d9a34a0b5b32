//! A capture file (pcap or pcapng, any link type) read frame by frame, each frame decoded,
//! classified and fingerprinted: nothing may panic, loop or read out of bounds.
#![no_main]

use greenwatch_packet::{decode, CaptureReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = CaptureReader::new(data) else {
        return;
    };
    for frame in reader {
        let Ok(frame) = frame else {
            break;
        };
        let _ = decode(&frame);
    }
});
