//! Checked big-endian reads: every accessor returns `None` past the end, so no input can panic.

#[inline]
pub(crate) fn be16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at.checked_add(2)?)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
}

#[inline]
pub(crate) fn be32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at.checked_add(4)?)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// An unsigned integer of 1 to 8 bytes (IPFIX reduced-size encoding, RFC 7011 §6.2); longer
/// fields keep their last 8 bytes.
#[inline]
pub(crate) fn be_uint(b: &[u8]) -> u64 {
    let b = if b.len() > 8 { &b[b.len() - 8..] } else { b };
    b.iter().fold(0u64, |acc, x| (acc << 8) | *x as u64)
}
