//! Offloaded frames: the `virtio_net_hdr` that an AF_PACKET socket with
//! `PACKET_VNET_HDR` puts before each frame, and the length such a frame takes
//! on the wire.
//!
//! With segmentation offloads on (TSO/GSO on the sender, GRO on a receiver), a
//! "frame" crossing a veth can be one TCP or UDP segment of up to 64 kB that the
//! kernel cuts into MTU-sized packets only when (if ever) it reaches a device
//! without the offload. The header carries what the kernel needs for that: the
//! segment size and type, and where a checksum left to "hardware" must go. linkem
//! passes it on unchanged, so the frame leaves as it arrived, and charges the
//! serialiser the bytes the packets would take on the wire: the payload plus one
//! set of headers per segment.

/// Size of `struct virtio_net_hdr` (no `num_buffers`): flags, gso_type, hdr_len,
/// gso_size, csum_start, csum_offset.
pub const VNET_HDR_LEN: usize = 10;

const GSO_NONE: u8 = 0;
const GSO_TCPV4: u8 = 1;
const GSO_UDP: u8 = 3;
const GSO_TCPV6: u8 = 4;
const GSO_UDP_L4: u8 = 5;
const GSO_ECN: u8 = 0x80;

/// The segmentation the header asks for: segment payload size and the kind of
/// transport, or `None` for a frame that is sent as it is.
fn gso(hdr: &[u8]) -> Option<(u8, u16)> {
    let kind = hdr[1] & !GSO_ECN;
    let size = u16::from_le_bytes([hdr[4], hdr[5]]);
    (kind != GSO_NONE && size > 0).then_some((kind, size))
}

/// Bytes of Ethernet, IP and transport headers at the start of `frame`, or
/// `None` when they cannot be read (then the frame is charged its own length).
fn header_len(frame: &[u8], kind: u8) -> Option<usize> {
    let mut off = 14;
    let mut ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    if ethertype == 0x8100 {
        ethertype = u16::from_be_bytes([*frame.get(16)?, *frame.get(17)?]);
        off += 4;
    }
    off += match ethertype {
        0x0800 => usize::from(frame.get(off)? & 0x0f) * 4,
        0x86dd => 40,
        _ => return None,
    };
    off += match kind {
        GSO_TCPV4 | GSO_TCPV6 => usize::from(frame.get(off + 12)? >> 4) * 4,
        GSO_UDP | GSO_UDP_L4 => 8,
        _ => return None,
    };
    (off <= frame.len()).then_some(off)
}

/// Wire bytes of `buf`, a `virtio_net_hdr` followed by one Ethernet frame: the
/// frame's length if it is not segmented, else the length of the packets it
/// becomes (each segment carries its own copy of the headers). A buffer
/// shorter than the header counts as empty.
pub fn wire_len(buf: &[u8]) -> u32 {
    if buf.len() < VNET_HDR_LEN {
        return 0;
    }
    let (hdr, frame) = buf.split_at(VNET_HDR_LEN);
    let len = frame.len();
    let wire = match gso(hdr).and_then(|(kind, size)| Some((header_len(frame, kind)?, size))) {
        Some((h, size)) => {
            let payload = len - h;
            let segments = payload.div_ceil(usize::from(size)).max(1);
            len + (segments - 1) * h
        }
        None => len,
    };
    u32::try_from(wire).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header asking for `kind` segments of `size` bytes, then an Ethernet +
    /// IPv4 (20 bytes) + TCP (32 bytes, with timestamps) frame with `payload` bytes.
    fn tcp_frame(kind: u8, size: u16, payload: usize) -> Vec<u8> {
        let mut b = vec![0u8; VNET_HDR_LEN + 14 + 20 + 32 + payload];
        b[1] = kind;
        b[4..6].copy_from_slice(&size.to_le_bytes());
        let f = &mut b[VNET_HDR_LEN..];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        f[14] = 0x45;
        f[14 + 20 + 12] = 8 << 4;
        b
    }

    #[test]
    fn unsegmented_frames_count_as_they_are() {
        assert_eq!(wire_len(&tcp_frame(GSO_NONE, 0, 1448)), 14 + 20 + 32 + 1448);
        assert_eq!(wire_len(&[0u8; 4]), 0);
    }

    #[test]
    fn a_tso_frame_counts_one_header_per_segment() {
        // 45 segments of 1448 bytes: 45 wire packets of 1514 bytes.
        assert_eq!(wire_len(&tcp_frame(GSO_TCPV4, 1448, 45 * 1448)), 45 * 1514);
        // A short last segment.
        assert_eq!(
            wire_len(&tcp_frame(GSO_TCPV4 | GSO_ECN, 1448, 1448 + 100)),
            1514 + 166
        );
    }

    #[test]
    fn a_udp_gso_frame_counts_one_header_per_datagram() {
        let mut b = tcp_frame(GSO_UDP_L4, 1200, 3 * 1200);
        // The same bytes read as UDP: 14 + 20 + 8 bytes of headers.
        b.truncate(VNET_HDR_LEN + 14 + 20 + 8 + 3 * 1200);
        assert_eq!(wire_len(&b), 3 * (14 + 20 + 8 + 1200));
    }

    #[test]
    fn an_unreadable_frame_counts_its_own_length() {
        let mut b = tcp_frame(GSO_TCPV4, 1448, 4000);
        b[VNET_HDR_LEN + 12] = 0x88; // not IP
        assert_eq!(wire_len(&b), (b.len() - VNET_HDR_LEN) as u32);
    }
}
