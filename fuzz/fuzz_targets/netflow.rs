//! Any bytes as NetFlow v5, v9 or IPFIX export packets from two exporters: the decoder reports
//! errors, never panics, and keeps its template cache within its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};
use tapir_netflow::Decoder;

const MAX_TEMPLATES: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(MAX_TEMPLATES);
    // Packets are separated by the bytes "\xffNF\xff" so that a template in one packet is used by
    // data in the next, as on the wire.
    let mut rest = data;
    let mut i = 0u8;
    loop {
        let (packet, next) = match find(rest, b"\xffNF\xff") {
            Some(at) => (&rest[..at], Some(&rest[at + 4..])),
            None => (rest, None),
        };
        let exporter = IpAddr::V4(Ipv4Addr::new(192, 0, 2, i % 2));
        if let Ok(records) = decoder.decode(exporter, packet) {
            // Every record came from at least a few bytes of the packet.
            assert!(records.len() <= packet.len());
        }
        assert!(decoder.templates() <= MAX_TEMPLATES);
        i = i.wrapping_add(1);
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
});

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
