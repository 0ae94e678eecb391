//! Any bytes as a .trace file: errors name a line, packets are never size 0.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_capture::TraceReader;

fuzz_target!(|data: &[u8]| {
    let mut reader = TraceReader::new(data);
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(packet) => assert!(packet.size > 0),
            Err(e) => assert!(e.line >= 1),
        }
    }
});
