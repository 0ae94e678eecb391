//! Pseudonyms for shared results, with the project's one key scheme (`tapir-anon`): keyed
//! HMAC-SHA-256 hashes for addresses and message identifiers (the domain hashed on its own, so
//! "same domain" survives) and Crypto-PAn for the relays' IP addresses, so a mail report and a
//! flow report anonymised with one key still line up. Display names are dropped: they identify
//! people and carry no structure worth keeping. Host names of relays are kept: they are
//! infrastructure, and the MTA census of the summary is about them.

use crate::events::MailEvent;
use crate::meta::MailMeta;
use tapir_anon::Anonymizer;

/// Replaces every address, display name, message identifier and relay IP address of a record.
pub fn anonymize_meta(a: &Anonymizer, m: &mut MailMeta) {
    for mb in m
        .from
        .iter_mut()
        .chain(&mut m.to)
        .chain(&mut m.cc)
        .chain(&mut m.bcc)
    {
        mb.address = a.anonymize_email(&mb.address);
        mb.name = None;
    }
    for s in [&mut m.return_path, &mut m.envelope_from, &mut m.message_id]
        .into_iter()
        .flatten()
    {
        *s = a.anonymize_email(s);
    }
    for s in m.in_reply_to.iter_mut().chain(&mut m.references) {
        *s = a.anonymize_email(s);
    }
    for h in &mut m.received {
        if let Some(f) = &mut h.for_addr {
            *f = a.anonymize_email(f);
        }
        if let Some(ip) = &mut h.from_ip {
            *ip = a.anonymize_ip(*ip);
        }
    }
}

/// Same pseudonyms as [`anonymize_meta`] for an event.
pub fn anonymize_event(a: &Anonymizer, e: &mut MailEvent) {
    e.from = a.anonymize_email(&e.from);
    e.to = a.anonymize_email(&e.to);
    if let Some(id) = &mut e.message_id {
        *id = a.anonymize_email(id);
    }
}
