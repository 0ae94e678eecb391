//! The encryption a relay can see from outside: the seed's "apparent encryption used by
//! message". Only the top-level content type and, for unstructured text, an OpenPGP armour
//! line are looked at; the body itself is never decoded.

use mail_parser::ContentType;
use serde::{Deserialize, Serialize};

/// Apparent protection of a message's body.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// Nothing recognised: plain text or ordinary MIME.
    #[default]
    None,
    /// `-----BEGIN PGP MESSAGE-----` in a text body (RFC 4880 §6.2 armour).
    InlinePgp,
    /// `multipart/encrypted; protocol="application/pgp-encrypted"` (RFC 3156 §4).
    PgpMime,
    /// `application/pkcs7-mime` with enveloped data (RFC 8551 §3.3).
    #[serde(rename = "smime")]
    SMime,
    /// S/MIME signed only: `multipart/signed` with a PKCS #7 signature or signed-data.
    #[serde(rename = "smime_signed")]
    SMimeSigned,
    /// OpenPGP signed only: RFC 3156 §5 `multipart/signed` or a cleartext-signed body.
    PgpSigned,
}

impl Encryption {
    /// The body is encrypted (signatures do not hide anything).
    pub fn is_encrypted(self) -> bool {
        matches!(self, Self::InlinePgp | Self::PgpMime | Self::SMime)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::InlinePgp => "inline-pgp",
            Self::PgpMime => "pgp-mime",
            Self::SMime => "smime",
            Self::SMimeSigned => "smime-signed",
            Self::PgpSigned => "pgp-signed",
        }
    }
}

fn lower_attr(ct: &ContentType<'_>, name: &str) -> String {
    ct.attribute(name).unwrap_or_default().to_ascii_lowercase()
}

/// Classifies a message from its top-level `Content-Type` and its raw body.
pub fn detect(ct: Option<&ContentType<'_>>, body: &[u8]) -> Encryption {
    let (ty, sub) = ct.map_or((String::from("text"), String::from("plain")), |c| {
        (
            c.c_type.to_ascii_lowercase(),
            c.c_subtype
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        )
    });
    match (ty.as_str(), sub.as_str()) {
        ("multipart", "encrypted") => {
            let proto = ct.map(|c| lower_attr(c, "protocol")).unwrap_or_default();
            if proto == "application/pgp-encrypted" {
                return Encryption::PgpMime;
            }
        }
        ("multipart", "signed") => {
            let proto = ct.map(|c| lower_attr(c, "protocol")).unwrap_or_default();
            match proto.as_str() {
                "application/pgp-signature" => return Encryption::PgpSigned,
                "application/pkcs7-signature" | "application/x-pkcs7-signature" => {
                    return Encryption::SMimeSigned
                }
                _ => {}
            }
        }
        ("application", "pkcs7-mime" | "x-pkcs7-mime") => {
            // Old clients omit smime-type; a bare .p7m body is then almost always enveloped.
            let kind = ct.map(|c| lower_attr(c, "smime-type")).unwrap_or_default();
            return if kind == "signed-data" {
                Encryption::SMimeSigned
            } else {
                Encryption::SMime
            };
        }
        _ => {}
    }
    // Inline PGP lives in text parts, also inside multipart/mixed or alternative; the armour
    // header must start a line (RFC 4880 §6.2), which rules out quoted mentions in prose.
    if ty == "text" || ty == "multipart" {
        if armour_line(body, b"-----BEGIN PGP MESSAGE-----") {
            return Encryption::InlinePgp;
        }
        if armour_line(body, b"-----BEGIN PGP SIGNED MESSAGE-----") {
            return Encryption::PgpSigned;
        }
    }
    Encryption::None
}

fn armour_line(body: &[u8], marker: &[u8]) -> bool {
    memchr::memmem::find_iter(body, marker).any(|i| i == 0 || body[i - 1] == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn kind(raw: &str) -> Encryption {
        let msg = MessageParser::new().parse_headers(raw.as_bytes()).unwrap();
        let ct = msg
            .headers()
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case("content-type"))
            .and_then(|h| h.value.as_content_type());
        let body = raw.split_once("\n\n").map_or("", |(_, b)| b);
        detect(ct, body.as_bytes())
    }

    #[test]
    fn content_types() {
        assert_eq!(
            kind("Content-Type: application/pkcs7-mime; smime-type=signed-data\n\nx"),
            Encryption::SMimeSigned
        );
        assert_eq!(
            kind("Content-Type: application/x-pkcs7-mime\n\nx"),
            Encryption::SMime
        );
        assert_eq!(
            kind("Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=a\n\n"),
            Encryption::PgpSigned
        );
        // Unknown protocol of multipart/encrypted: nothing recognised, nothing claimed.
        assert_eq!(
            kind("Content-Type: multipart/encrypted; protocol=\"application/x-other\"\n\n"),
            Encryption::None
        );
    }

    #[test]
    fn armour_must_start_a_line() {
        assert_eq!(
            kind("Subject: x\n\nquote: -----BEGIN PGP MESSAGE----- inside prose\n"),
            Encryption::None
        );
        assert_eq!(
            kind("Subject: x\n\n-----BEGIN PGP MESSAGE-----\n"),
            Encryption::InlinePgp
        );
        // A PDF attachment's bytes are not a text part.
        assert_eq!(
            kind("Content-Type: application/pdf\n\n-----BEGIN PGP MESSAGE-----\n"),
            Encryption::None
        );
    }
}
