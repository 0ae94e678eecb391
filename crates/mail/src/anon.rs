//! Keyed pseudonyms for mail addresses and message identifiers, so that results can be shared.
//!
//! HMAC-SHA-256 (RFC 2104) under a secret key: the same address always gives the same
//! pseudonym under one key, so the correspondence graph keeps its shape, but without the key
//! nobody can test a guessed address against it, which a plain hash would allow. The domain is
//! hashed on its own, so addresses of one domain still share a (pseudonymous) domain.
//! Display names are dropped: they identify people and carry no structure worth keeping.

use crate::error::MailError;
use crate::events::MailEvent;
use crate::meta::MailMeta;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write;

/// Pseudonymises addresses with a secret key.
#[derive(Clone)]
pub struct Anonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Anonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Anonymizer { key: <secret> }")
    }
}

impl Anonymizer {
    pub fn new(key: &[u8]) -> Result<Self, MailError> {
        if key.is_empty() {
            return Err(MailError::EmptyKey);
        }
        // HMAC accepts keys of any length, so this cannot fail; map it anyway rather than panic.
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| MailError::EmptyKey)?;
        Ok(Anonymizer { mac })
    }

    fn hex(&self, domain_sep: &str, data: &str, chars: usize) -> String {
        let mut m = self.mac.clone();
        // The separator keeps an address and a domain with equal text from colliding.
        m.update(domain_sep.as_bytes());
        m.update(&[0]);
        m.update(data.as_bytes());
        let out = m.finalize().into_bytes();
        let mut s = String::with_capacity(chars);
        for b in out.iter().take(chars.div_ceil(2)) {
            let _ = write!(s, "{b:02x}");
        }
        s.truncate(chars);
        s
    }

    /// `alice@example.org` → `3f2a…@9c1d….invalid`; a string without `@` gets a bare hash.
    /// 64 bits for the whole address make collisions unlikely below billions of addresses.
    pub fn address(&self, addr: &str) -> String {
        let addr = addr.trim().to_lowercase();
        match addr.rsplit_once('@') {
            Some((_, domain)) => format!(
                "{}@{}.invalid",
                self.hex("addr", &addr, 16),
                self.hex("domain", domain, 8)
            ),
            None if addr.is_empty() => addr,
            None => self.hex("addr", &addr, 16),
        }
    }

    /// Replaces every address, display name and message identifier of a record.
    pub fn meta(&self, m: &mut MailMeta) {
        for mb in m
            .from
            .iter_mut()
            .chain(&mut m.to)
            .chain(&mut m.cc)
            .chain(&mut m.bcc)
        {
            mb.address = self.address(&mb.address);
            mb.name = None;
        }
        for s in [&mut m.return_path, &mut m.envelope_from, &mut m.message_id]
            .into_iter()
            .flatten()
        {
            *s = self.address(s);
        }
        for s in m.in_reply_to.iter_mut().chain(&mut m.references) {
            *s = self.address(s);
        }
        for h in &mut m.received {
            if let Some(f) = &mut h.for_addr {
                *f = self.address(f.trim_matches(|c| c == '<' || c == '>'));
            }
        }
    }

    pub fn event(&self, e: &mut MailEvent) {
        e.from = self.address(&e.from);
        e.to = self.address(&e.to);
        if let Some(id) = &mut e.message_id {
            *id = self.address(id);
        }
    }
}
