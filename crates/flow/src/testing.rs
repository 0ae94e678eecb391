//! Helpers for the crate's tests.

use tapir_capture::{Fragment, IpInfo};

/// A decoded header of a whole packet (no fragment, no IPsec) with ports: `len` bytes of IP,
/// 28 of them headers.
pub(crate) fn ip(src: &str, sp: u16, dst: &str, dp: u16, proto: u8, flags: u8, len: u32) -> IpInfo {
    IpInfo {
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        proto,
        ip_len: len,
        tos: 0,
        ttl: 64,
        src_port: sp,
        dst_port: dp,
        tcp_flags: flags,
        payload_len: len.saturating_sub(28),
        payload_offset: 28,
        spi: None,
        fragment: Fragment::None,
    }
}
