//! Any bytes after a pcapng section header block type: the pcapng reader must report errors,
//! never panic, and stop. (`capture_reader` starts from any bytes and mostly finds pcap.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_capture::CaptureReader;

fuzz_target!(|data: &[u8]| {
    // Seeds are whole pcapng files; mutated inputs are kept in pcapng by forcing the block type.
    let mut bytes = Vec::with_capacity(data.len() + 4);
    bytes.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
    bytes.extend_from_slice(data.get(4..).unwrap_or(&[]));
    let Ok(mut reader) = CaptureReader::new(&bytes[..]) else {
        return;
    };
    let mut records = 0usize;
    while let Some(packet) = reader.next_packet() {
        if let Ok(packet) = packet {
            let _ = packet.decode();
            assert!(packet.data.len() <= tapir_capture::MAX_CAPLEN as usize);
        }
        records += 1;
        assert!(records <= bytes.len() / 8 + 1);
    }
    assert!(reader.offset() <= bytes.len() as u64);
});
