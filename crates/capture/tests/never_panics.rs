//! No byte string makes the readers or the decoder panic, and the readers always stop.

mod common;

use proptest::prelude::*;
use std::io::Write;
use tapir_capture::{decode, CaptureReader, LinkType, Stream, TraceReader};

/// Link types the decoder knows, plus one it does not.
const LINKS: [u16; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

fn read_everything(bytes: &[u8]) {
    if let Ok(mut reader) = CaptureReader::new(bytes) {
        let mut n = 0usize;
        while let Some(p) = reader.next_packet() {
            if let Ok(p) = p {
                let _ = p.decode();
            }
            n += 1;
            // Every record consumes at least 8 bytes, so the reader cannot loop forever.
            assert!(n <= bytes.len() / 8 + 1);
        }
        assert!(reader.offset() <= bytes.len() as u64);
    }
}

/// The same bytes through the decompressing path: gzip'd whole (the reader must see exactly
/// what it saw plain), and raw after a gzip or zstd magic (the decompressor sees garbage).
fn read_compressed(bytes: &[u8]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    let gz = gz.finish().unwrap();
    let plain = CaptureReader::new(bytes).map(|mut r| {
        let mut n = 0usize;
        while let Some(Ok(_)) = r.next_packet() {
            n += 1;
        }
        n
    });
    let via_gzip = Stream::new(std::io::Cursor::new(gz))
        .and_then(|s| s.into_capture())
        .map(|mut r| {
            let mut n = 0usize;
            while let Some(Ok(_)) = r.next_packet() {
                n += 1;
            }
            n
        });
    assert_eq!(plain.ok(), via_gzip.ok());
    for magic in [&[0x1f, 0x8b, 8, 0][..], &[0x28, 0xb5, 0x2f, 0xfd][..]] {
        let mut garbage = magic.to_vec();
        garbage.extend_from_slice(bytes);
        if let Ok(mut s) = Stream::new(std::io::Cursor::new(garbage)) {
            let _ = s.kind();
            if let Ok(mut r) = s.into_capture() {
                let mut n = 0usize;
                while r.next_packet().is_some() {
                    n += 1;
                    assert!(n <= bytes.len() + 1);
                }
            }
        }
    }
}

/// A valid header of each format, so that mutations reach the record parsers.
fn header(kind: u8) -> Vec<u8> {
    match kind % 3 {
        0 => common::pcap(1, false, false, &[]),
        1 => common::pcap(101, true, true, &[]),
        _ => {
            let mut ng = common::PcapNg::new(kind % 2 == 0);
            ng.interface(1, 0, Some(9), None);
            ng.out
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn capture_reader_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_everything(&bytes);
    }

    #[test]
    fn capture_reader_on_valid_header_then_random(kind in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = header(kind);
        bytes.extend_from_slice(&tail);
        read_everything(&bytes);
    }

    #[test]
    fn compressed_path_on_random_bytes(kind in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = header(kind);
        bytes.extend_from_slice(&tail);
        read_compressed(&bytes);
        read_compressed(&tail);
    }

    #[test]
    fn decode_on_random_frames(link in 0usize..LINKS.len(), frame in proptest::collection::vec(any::<u8>(), 0..256), orig_len in any::<u32>()) {
        let _ = decode(LinkType(LINKS[link]), &frame, orig_len);
    }

    /// IP-looking frames get much further into the decoder than uniform bytes.
    #[test]
    fn decode_on_ip_looking_frames(v6 in any::<bool>(), proto in prop::sample::select(vec![0u8, 6, 17, 43, 44, 50, 51, 60]), rest in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut frame = if v6 { vec![0x60, 0, 0, 0, 0, 0, proto, 64] } else { vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto] };
        frame.extend_from_slice(&rest);
        let _ = decode(LinkType::RAW, &frame, frame.len() as u32);
    }

    #[test]
    fn trace_reader_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut reader = TraceReader::new(&bytes[..]);
        let mut n = 0usize;
        while let Some(p) = reader.next_packet() {
            if let Ok(p) = p {
                prop_assert!(p.size > 0);
            }
            n += 1;
            prop_assert!(n <= bytes.len() + 1);
        }
    }

    #[test]
    fn trace_reader_on_trace_like_text(lines in proptest::collection::vec("[-+ .0-9e#a\t]{0,24}", 0..20)) {
        let text = lines.join("\n");
        let mut reader = TraceReader::new(text.as_bytes());
        while let Some(p) = reader.next_packet() {
            if let Err(e) = p {
                prop_assert!(e.line >= 1 && e.line as usize <= lines.len());
            }
        }
    }
}
