//! A fast, non-cryptographic hasher for the per-packet tables (flows, hosts, units).
//!
//! std's SipHash resists hash flooding but costs more than the rest of a packet's work; these
//! tables are bounded in size (see `AssembleConfig::max_units`), so a flood can slow them but not
//! grow them. The mixing is the multiply-rotate of FxHash (Firefox, rustc).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hasher; see the module docs for why it is safe enough here.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// The state through a finaliser (MurmurHash3's 64-bit `fmix`: xor-shifts and two
    /// multiplies), so that every output bit depends on every bit of the input: hash tables
    /// pick the bucket from the low bits, and the low bits of a product depend only on the low
    /// bits of its factors. Without it a million host pairs differing in their addresses'
    /// upper bytes fell into a few thousand buckets' worth of probe chains. Two multiplies per
    /// hash, against a cache miss per probe it saves.
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The low 16 bits of the hashes of 65,536 keys that differ in one address each (host
    /// pairs with the other end fixed, spread over every byte of the address) are close to as
    /// many distinct values as random bits would give (1 - 1/e of them, 63%).
    #[test]
    fn low_bits_spread_over_every_input_byte() {
        use std::hash::BuildHasher;
        use std::net::{IpAddr, Ipv4Addr};
        let b = BuildHasherDefault::<FastHasher>::default();
        for shift in [0u32, 8, 16] {
            let mut seen = vec![false; 1 << 16];
            for i in 0..(1u32 << 16) {
                let src = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 ^ (i << shift)));
                let dst = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
                seen[(b.hash_one((src, dst)) & 0xffff) as usize] = true;
            }
            let distinct = seen.iter().filter(|&&s| s).count();
            assert!(
                distinct > 38_000,
                "shift {shift}: {distinct} distinct low halves"
            );
        }
    }

    #[test]
    fn spreads_keys() {
        let mut m: FastMap<(u32, u16), u32> = FastMap::default();
        for i in 0..10_000u32 {
            m.insert((i, (i % 7) as u16), i);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m[&(1234, (1234 % 7) as u16)], 1234);
    }
}
