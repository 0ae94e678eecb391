//! Inputs found by the `netflow` fuzz target (`scripts/fuzz.sh netflow`), replayed as the
//! target reads them: export packets separated by the bytes `ff 4e 46 ff`, alternately from two
//! exporters. Each must decode (or be refused) without a panic.

use std::net::{IpAddr, Ipv4Addr};
use tapir_netflow::Decoder;

fn replay(data: &[u8]) -> usize {
    let mut decoder = Decoder::new(64);
    let mut records = 0;
    let mut rest = data;
    let mut i = 0u8;
    loop {
        let at = rest.windows(4).position(|w| w == b"\xffNF\xff");
        let (packet, next) = match at {
            Some(at) => (&rest[..at], Some(&rest[at + 4..])),
            None => (rest, None),
        };
        let exporter = IpAddr::V4(Ipv4Addr::new(192, 0, 2, i % 2));
        if let Ok(r) = decoder.decode(exporter, packet) {
            records += r.len();
        }
        assert!(decoder.templates() <= 64);
        i = i.wrapping_add(1);
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    records
}

/// A v9 data record whose flowStartMicroseconds-style delta (or systemInitTime) overflowed the
/// nanosecond arithmetic: such a time now counts as absent.
#[test]
fn huge_time_deltas_do_not_overflow() {
    let data = include_bytes!("data/fuzz/delta-overflow.bin");
    replay(data);
}

/// Packet counts near u64::MAX in both directions overflowed their sum: it saturates now.
#[test]
fn huge_packet_counts_do_not_overflow() {
    let data = include_bytes!("data/fuzz/count-overflow.bin");
    replay(data);
}
