//! Any bytes as a pcap/pcapng file: the reader must report errors, never panic, and stop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_capture::CaptureReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return;
    };
    let mut records = 0usize;
    while let Some(packet) = reader.next_packet() {
        if let Ok(packet) = packet {
            let _ = packet.decode();
            assert!(packet.data.len() <= tapir_capture::MAX_CAPLEN as usize);
        }
        records += 1;
        // Every record or block takes at least 8 bytes of input.
        assert!(records <= data.len() / 8 + 1);
    }
    assert!(reader.offset() <= data.len() as u64);
});
