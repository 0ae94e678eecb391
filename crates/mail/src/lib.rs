//! What an SMTP relay sees of mail, encrypted or not.
//!
//! The M3AAWG paper on traffic analysis (seeds/000) lists what an intermediary server using
//! TLS still sees of a message whose body is PGP- or S/MIME-encrypted: Return-Path, Received
//! chain, From, To, Cc, Date, Subject, Message-ID, every other header, the size, the time it
//! was received and the apparent encryption. This crate reads mail (mbox, Maildir, `.eml`) into
//! exactly that record, [`MailMeta`] ([`MailRecord`] is its flat form, a table row),
//! summarises what it gives away ([`Summary`]), turns messages into [`MailEvent`]s for volume
//! and sequence analysis and the correspondence graph (drawn by tapir-analysis), pseudonymises
//! addresses with a key ([`anonymize_meta`]), and writes mail back ([`MboxWriter`],
//! [`redeliver`] for a message delayed or copied by a countermeasure).
//!
//! Entry points: [`Messages`] to walk inputs (broken messages come out as [`Item::Broken`]
//! and reading goes on), or [`parse_message`] for bytes already in memory.
//!
//! ```
//! use tapir_mail::{events, parse_message, Encryption, Envelope};
//!
//! let raw = b"Received: from a.example.org by mx.example.net with ESMTPS; \
//! Thu, 20 Nov 2025 10:00:05 +0000\r\n\
//! From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n\
//! Subject: plans\r\nDate: Thu, 20 Nov 2025 10:00:00 +0000\r\n\
//! Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\
//! \r\n--b--\r\n";
//! let m = parse_message(raw, Envelope::default()).unwrap();
//! assert_eq!(m.encryption, Encryption::PgpMime);
//! assert_eq!(m.subject.as_deref(), Some("plans")); // encrypted, yet the subject travels in clear
//! assert!(m.received[0].tls);
//! let ev = events(&m);
//! assert_eq!((ev[0].from.as_str(), ev[0].to.as_str()), ("alice@example.org", "bob@example.net"));
//! ```
#![deny(unsafe_code)]

mod anon;
mod crypto;
mod date;
mod error;
mod events;
mod input;
mod meta;
mod record;
mod summary;
mod write;

pub use anon::{anonymize_event, anonymize_meta};
pub use crypto::Encryption;
pub use date::format_utc;
pub use error::{Broken, BrokenKind, MailError};
pub use events::{events, MailEvent};
pub use input::{to_item, to_item_with, Item, Mbox, Messages, RawMessage, ReadOptions};
pub use meta::{
    header_end, header_end_limited, parse_message, parse_message_with, Envelope, Hop, MailMeta,
    Mailbox, Origin, DEFAULT_MAX_HEADERS,
};
pub use record::MailRecord;
pub use summary::{Count, Pair, Summary, SummaryReport};
/// The key scheme shared with flow records (re-exported for callers of this crate).
pub use tapir_anon::Anonymizer;
pub use write::{format_asctime, format_rfc5322, redeliver, MboxWriter};
