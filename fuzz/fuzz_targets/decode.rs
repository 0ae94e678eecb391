//! Any frame under any link type: decode returns a result, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_capture::{decode, LinkType};

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
    if let Ok(info) = decode(LinkType(link), frame, orig_len) {
        // Ports come from a captured transport header only.
        if info.src_port != 0 || info.dst_port != 0 {
            assert!(info.proto == 6 || info.proto == 17);
        }
    }
});
