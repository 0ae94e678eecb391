//! Any frame under any link type: decode returns a result, never panics, and decode_ip (the
//! IP layer only) accepts and rejects the same frames with the same IP-layer fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_capture::{decode, decode_ip, LinkType};

fuzz_target!(|data: &[u8]| {
    // First two bytes pick the link type (mostly among the supported ones), the next four the
    // original length; the rest is the frame.
    let Some((head, frame)) = data.split_first_chunk::<6>() else {
        return;
    };
    const LINKS: [u16; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
    let link = if head[0] < 250 {
        LINKS[usize::from(head[0]) % LINKS.len()]
    } else {
        u16::from_le_bytes([head[1], head[0]])
    };
    let orig_len = u32::from_le_bytes([head[2], head[3], head[4], head[5]]);
    let full = decode(LinkType(link), frame, orig_len);
    if let Ok(info) = &full {
        // Ports come from a captured transport header only.
        if info.src_port != 0 || info.dst_port != 0 {
            assert!(info.proto == 6 || info.proto == 17);
        }
    }
    match (full, decode_ip(LinkType(link), frame, orig_len)) {
        (Ok(a), Ok(b)) => {
            let ip_layer = |i: &tapir_capture::IpInfo| {
                (i.src, i.dst, i.proto, i.ip_len, i.tos, i.ttl, i.fragment)
            };
            assert_eq!(ip_layer(&a), ip_layer(&b));
            assert_eq!((b.src_port, b.dst_port, b.tcp_flags, b.payload_offset), (0, 0, 0, 0));
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("decode {a:?}, decode_ip {b:?}"),
    }
});
