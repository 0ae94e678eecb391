//! tapir-anon: pseudonyms that let results be shared without the addresses in them.
//!
//! * IP addresses: Crypto-PAn (Xu, Fan, Ammar and Moon, "Prefix-preserving IP address
//!   anonymization", ICNP 2002; Fan et al., Computer Networks 46(2), 2004), with AES-128 as in the
//!   original. Two addresses sharing a k-bit prefix have pseudonyms sharing exactly a k-bit
//!   prefix, so subnets, watchlist prefixes and "same /24" stay visible; the mapping is one-to-one
//!   and the same key always gives the same pseudonym, across files and runs.
//! * Mail addresses: keyed hashes (HMAC-SHA-256), the domain hashed on its own so "same domain"
//!   survives: `alice@example.org` → `u3f2a…@d91c0….anon`.
//!
//! Entry point: [`Anonymizer::new`] with 32 key bytes, or [`Anonymizer::from_passphrase`].
//!
//! ```
//! use tapir_anon::Anonymizer;
//! use std::net::IpAddr;
//! let a = Anonymizer::from_passphrase("correct horse").unwrap();
//! let x = a.anonymize_ip("10.1.2.3".parse().unwrap());
//! let y = a.anonymize_ip("10.1.2.77".parse().unwrap());
//! let (IpAddr::V4(x), IpAddr::V4(y)) = (x, y) else { unreachable!() };
//! // Same /24 before, same /24 after (the 25th bit differs in both).
//! assert_eq!((u32::from(x) ^ u32::from(y)).leading_zeros(), 25);
//! assert_eq!(a.anonymize_email("Alice@Example.org"), a.anonymize_email("alice@example.org"));
//! ```
#![deny(unsafe_code)]

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnonError {
    #[error("an anonymization key must not be empty")]
    EmptyKey,
    #[error("a raw anonymization key has 32 bytes (64 hex digits), got {0} bytes")]
    KeyLength(usize),
}

/// Pseudonyms for addresses, from one secret key.
#[derive(Clone)]
pub struct Anonymizer {
    aes: Aes128,
    /// AES(key[16..32]): the bits that fill the block after the address prefix (Crypto-PAn's pad).
    pad: u128,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Anonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Anonymizer { .. }")
    }
}

impl Anonymizer {
    /// From 32 key bytes, as Crypto-PAn: the first 16 are the AES key, the last 16 make the pad.
    pub fn new(key: &[u8]) -> Result<Self, AnonError> {
        let key: &[u8; 32] = key
            .try_into()
            .map_err(|_| AnonError::KeyLength(key.len()))?;
        let aes = Aes128::new(GenericArray::from_slice(&key[..16]));
        let mut pad = GenericArray::clone_from_slice(&key[16..]);
        aes.encrypt_block(&mut pad);
        let pad = u128::from_be_bytes(pad.into());
        // The mail key is derived, not the raw key, so one leaked hash input reveals nothing of
        // the address key.
        let mut h = Sha256::new();
        h.update(b"tapir-anon mail v1");
        h.update(key);
        Ok(Anonymizer {
            aes,
            pad,
            mac_key: h.finalize().into(),
        })
    }

    /// From what a user types: 64 hex digits are taken as the raw key; anything else is hashed
    /// with SHA-256 into one (so a passphrase works, with the strength of the passphrase).
    pub fn from_passphrase(s: &str) -> Result<Self, AnonError> {
        if s.is_empty() {
            return Err(AnonError::EmptyKey);
        }
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut k = [0u8; 32];
            for (i, k) in k.iter_mut().enumerate() {
                *k = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0);
            }
            return Anonymizer::new(&k);
        }
        let d: [u8; 32] = Sha256::digest(s.as_bytes()).into();
        Anonymizer::new(&d)
    }

    /// The most significant bit of AES(block).
    #[inline]
    fn prf_bit(&self, block: u128) -> u128 {
        let mut b = GenericArray::from(block.to_be_bytes());
        self.aes.encrypt_block(&mut b);
        (b[0] >> 7) as u128
    }

    /// Crypto-PAn over the top `bits` bits of `addr` (left-aligned in a u128): bit i of the
    /// pseudonym is bit i of the address XOR a PRF of the i bits before it, so equal prefixes map
    /// to equal prefixes and the first differing bit stays differing.
    fn pan(&self, addr: u128, bits: u32) -> u128 {
        let mut flip = 0u128;
        for i in 0..bits {
            // The first i address bits, the rest from the pad.
            let keep = if i == 0 { 0 } else { !0u128 << (128 - i) };
            let block = (addr & keep) | (self.pad & !keep);
            flip |= self.prf_bit(block) << (127 - i);
        }
        addr ^ flip
    }

    pub fn anonymize_v4(&self, a: Ipv4Addr) -> Ipv4Addr {
        let x = (u32::from(a) as u128) << 96;
        Ipv4Addr::from((self.pan(x, 32) >> 96) as u32)
    }

    pub fn anonymize_v6(&self, a: Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(self.pan(u128::from(a), 128))
    }

    pub fn anonymize_ip(&self, a: IpAddr) -> IpAddr {
        match a {
            IpAddr::V4(a) => IpAddr::V4(self.anonymize_v4(a)),
            IpAddr::V6(a) => IpAddr::V6(self.anonymize_v6(a)),
        }
    }

    fn tag(&self, what: &[u8], s: &str, hex_len: usize) -> String {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(what);
        m.update(s.as_bytes());
        let d = m.finalize().into_bytes();
        d.iter()
            .take(hex_len.div_ceil(2))
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..hex_len]
            .to_string()
    }

    /// A keyed hash of a mail address, case-folded: `u<16 hex>@d<12 hex>.anon`. The domain part
    /// depends on the domain only, so messages to one domain still group together. A string
    /// without `@` is hashed whole as a local part.
    pub fn anonymize_email(&self, addr: &str) -> String {
        let a = addr.trim().trim_start_matches('<').trim_end_matches('>');
        let a = a.to_lowercase();
        match a.rsplit_once('@') {
            Some((_, domain)) => format!(
                "u{}@d{}.anon",
                self.tag(b"addr:", &a, 16),
                self.tag(b"domain:", domain, 12)
            ),
            None => format!("u{}", self.tag(b"addr:", &a, 16)),
        }
    }

    /// A keyed hash of any other identifier (host names, subjects' message ids).
    pub fn anonymize_str(&self, s: &str) -> String {
        format!("h{}", self.tag(b"str:", s, 16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn anon() -> Anonymizer {
        Anonymizer::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(
            Anonymizer::new(&[0; 31]).unwrap_err(),
            AnonError::KeyLength(31)
        );
        assert_eq!(
            Anonymizer::from_passphrase("").unwrap_err(),
            AnonError::EmptyKey
        );
        let hex = "07".repeat(32);
        let a = Anonymizer::from_passphrase(&hex).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(a.anonymize_ip(ip), anon().anonymize_ip(ip));
        let b = Anonymizer::from_passphrase("other").unwrap();
        assert_ne!(a.anonymize_ip(ip), b.anonymize_ip(ip));
        assert_eq!(format!("{a:?}"), "Anonymizer { .. }");
    }

    /// The test vector of pycryptopan, an independent implementation of Crypto-PAn: key bytes
    /// 0..31, 192.0.2.1 → 2.90.93.17.
    #[test]
    fn matches_an_independent_crypto_pan() {
        let k: Vec<u8> = (0u8..32).collect();
        let b = Anonymizer::new(&k).unwrap();
        assert_eq!(
            b.anonymize_v4("192.0.2.1".parse().unwrap()).to_string(),
            "2.90.93.17"
        );
    }

    #[test]
    fn mail_hashes_keep_domains_together() {
        let a = anon();
        let x = a.anonymize_email("<Bob@Example.ORG>");
        let y = a.anonymize_email("alice@example.org");
        let z = a.anonymize_email("alice@example.net");
        assert_eq!(x.split('@').nth(1), y.split('@').nth(1));
        assert_ne!(y.split('@').nth(1), z.split('@').nth(1));
        assert_ne!(x, y);
        assert!(x.starts_with('u') && x.ends_with(".anon") && x.len() == 1 + 16 + 2 + 12 + 5);
        assert!(!x.contains("bob") && !x.contains("example"));
        assert_ne!(a.anonymize_str("mx1"), a.anonymize_str("mx2"));
    }

    proptest! {
        /// The shared prefix length is exactly preserved (which implies one-to-one).
        #[test]
        fn v4_prefix_preserving(x: u32, y: u32) {
            let a = anon();
            let (ax, ay) = (a.anonymize_v4(x.into()), a.anonymize_v4(y.into()));
            prop_assert_eq!((x ^ y).leading_zeros(), (u32::from(ax) ^ u32::from(ay)).leading_zeros());
        }

        #[test]
        fn v6_prefix_preserving(x: u128, y: u128) {
            let a = anon();
            let (ax, ay) = (a.anonymize_v6(x.into()), a.anonymize_v6(y.into()));
            prop_assert_eq!((x ^ y).leading_zeros(), (u128::from(ax) ^ u128::from(ay)).leading_zeros());
        }
    }
}
