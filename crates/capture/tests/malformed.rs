//! The malformed captures in tests/data (made by make_malformed.py): each gives one exact error
//! at one exact offset, and the reader stops there.

mod common;

use std::path::PathBuf;
use tapir_capture::{CaptureErrorKind, CaptureReader};

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

#[test]
fn empty_file() {
    let e = CaptureReader::new(&bytes("empty.pcap")[..]).err().unwrap();
    assert!(matches!(e.kind, CaptureErrorKind::Empty));
    assert_eq!(
        e.to_string(),
        "at byte 0: empty file: not a pcap or pcapng capture"
    );
}

#[test]
fn cut_global_header() {
    let e = CaptureReader::new(&bytes("cut-global-header.pcap")[..])
        .err()
        .unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::Truncated {
            need: 24,
            have: 10,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "at byte 0: truncated pcap file header: need 24 bytes, have 10"
    );
}

#[test]
fn bad_magic() {
    let e = CaptureReader::new(&bytes("bad-magic.pcap")[..])
        .err()
        .unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BadMagic { magic: 0xdead_beef }
    ));
    assert_eq!(e.offset, 0);
}

#[test]
fn record_cut_in_half() {
    let (packets, e) = common::read_all(&bytes("cut-record.pcap"));
    assert_eq!(packets.len(), 2);
    let e = e.unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::Truncated {
            need: 82,
            have: 49,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "at byte 204: truncated record: need 82 bytes, have 49"
    );
}

#[test]
fn caplen_of_two_gigabytes_is_refused_not_allocated() {
    let (packets, e) = common::read_all(&bytes("caplen-2g.pcap"));
    assert!(packets.is_empty());
    let e = e.unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::CaplenTooLarge {
            caplen: 0x8000_0000,
            limit: 262_144
        }
    ));
    assert_eq!(
        e.to_string(),
        "at byte 24: record claims caplen 2147483648, limit 262144"
    );
}

#[test]
fn flipped_byte_in_a_block_trailer() {
    let (packets, e) = common::read_all(&bytes("flipped-trailer.pcapng"));
    // Blocks at 0 (SHB), 180 (IDB), 280 (first EPB), 388 (the damaged EPB).
    assert_eq!(packets.len(), 1);
    let e = e.unwrap();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BlockLengthMismatch {
            head: 108,
            tail: 147
        }
    ));
    assert_eq!(e.offset, 388);
}

#[test]
fn time_going_backwards_is_not_an_error() {
    let (packets, e) = common::read_all(&bytes("time-backwards.pcap"));
    assert!(e.is_none(), "{e:?}");
    assert_eq!(packets.len(), 3);
    assert!(packets[1].0 < packets[0].0);
    assert!(packets[2].0 > packets[0].0);
}
