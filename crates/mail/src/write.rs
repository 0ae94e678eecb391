//! Writing mail back: mboxrd files, and a message re-delivered at a new time (a new top
//! `Received:` header, as the relay that delayed it would add), optionally to one recipient.

use crate::meta::header_end;
use std::io::{self, Write};
use tapir_capture::{days_from_civil, Timestamp};

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn weekday(t: Timestamp) -> &'static str {
    let u = t.utc();
    // 1970-01-01 was a Thursday.
    DAYS[days_from_civil(u.year, u.month, u.day).rem_euclid(7) as usize]
}

/// `Thu, 20 Nov 2025 10:00:05 +0000`: an RFC 5322 date in UTC, to the second.
pub fn format_rfc5322(t: Timestamp) -> String {
    let u = t.utc();
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        weekday(t),
        u.day,
        MONTHS[(u.month - 1) as usize],
        u.year,
        u.hour,
        u.minute,
        u.second
    )
}

/// `Thu Nov 20 10:00:05 2025`: the `asctime` date of an mbox `From ` line, in UTC.
pub fn format_asctime(t: Timestamp) -> String {
    let u = t.utc();
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {:04}",
        weekday(t),
        MONTHS[(u.month - 1) as usize],
        u.day,
        u.hour,
        u.minute,
        u.second,
        u.year
    )
}

/// The field name of a header line, lower-cased, if the line starts a field.
fn field_name(line: &[u8]) -> Option<String> {
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return None;
    }
    let colon = line.iter().position(|&b| b == b':')?;
    Some(String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase())
}

/// `raw` re-delivered at `time` by `by` (a host name): a new top `Received:` header whose date
/// is `time`, so that a reader takes it as the delivery time. With `to`, the copy is addressed
/// to that one recipient: `To:`, `Cc:` and `Bcc:` give way to `To: <to>` and the `Received:`
/// names it (`for <to>`). The line ending follows the message's own. A message whose header
/// section cannot be found (see [`header_end`]) is an error.
pub fn redeliver(
    raw: &[u8],
    time: Timestamp,
    by: &str,
    to: Option<&str>,
) -> Result<Vec<u8>, crate::BrokenKind> {
    let body = header_end(raw)?;
    let crlf = raw
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && raw[i - 1] == b'\r');
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::with_capacity(raw.len() + 160);
    out.extend_from_slice(b"Received: by ");
    out.extend_from_slice(by.as_bytes());
    if let Some(to) = to {
        out.extend_from_slice(format!(" for <{to}>").as_bytes());
    }
    out.extend_from_slice(b"; ");
    out.extend_from_slice(format_rfc5322(time).as_bytes());
    out.extend_from_slice(eol);
    let Some(to) = to else {
        out.extend_from_slice(raw);
        return Ok(out);
    };
    out.extend_from_slice(format!("To: <{to}>").as_bytes());
    out.extend_from_slice(eol);
    let mut dropping = false;
    for line in raw[..body].split_inclusive(|&b| b == b'\n') {
        match field_name(line) {
            Some(name) => dropping = matches!(name.as_str(), "to" | "cc" | "bcc"),
            // A continuation line belongs to the field before it; the blank line ends the header.
            None if is_blank(line) => dropping = false,
            None => {}
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&raw[body..]);
    Ok(out)
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// Writes messages as an mboxrd file: each after a `From SENDER DATE` line, lines matching
/// `>*From ` escaped with one more `>`, a blank line between two, so that [`crate::Mbox`] reads
/// back exactly the bytes written.
pub struct MboxWriter<W> {
    w: W,
    first: bool,
}

impl<W: Write> MboxWriter<W> {
    pub fn new(w: W) -> Self {
        MboxWriter { w, first: true }
    }

    /// One message, delivered at `time` (the separator's date) from `sender` (the envelope
    /// sender; `MAILER-DAEMON` when unknown).
    pub fn write(&mut self, sender: Option<&str>, time: Timestamp, data: &[u8]) -> io::Result<()> {
        let sender = sender
            .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
            .unwrap_or("MAILER-DAEMON");
        // The blank line before a separator is framing, not part of the message before it.
        if !std::mem::take(&mut self.first) {
            self.w.write_all(b"\n")?;
        }
        writeln!(self.w, "From {sender} {}", format_asctime(time))?;
        for line in data.split_inclusive(|&b| b == b'\n') {
            let gt = line.iter().take_while(|&&b| b == b'>').count();
            if line[gt..].starts_with(b"From ") {
                self.w.write_all(b">")?;
            }
            self.w.write_all(line)?;
        }
        if !data.ends_with(b"\n") {
            self.w.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_message, Envelope, Mbox, ReadOptions};

    #[test]
    fn dates_in_both_formats() {
        let t = Timestamp::from_parts(1_763_632_805, 0, 1);
        assert_eq!(format_rfc5322(t), "Thu, 20 Nov 2025 10:00:05 +0000");
        assert_eq!(format_asctime(t), "Thu Nov 20 10:00:05 2025");
        assert_eq!(
            format_asctime(Timestamp::from_parts(1_310_126_914, 0, 1)),
            "Fri Jul  8 12:08:34 2011"
        );
    }

    #[test]
    fn a_redelivered_copy_has_the_new_time_and_one_recipient() {
        let raw = b"Received: from a by b; Thu, 20 Nov 2025 10:00:05 +0000\r\nFrom: a@x.org\r\nTo: b@y.org,\r\n c@y.org\r\nCc: d@y.org\r\nSubject: s\r\n\r\nTo: not a header\r\n";
        let later = Timestamp::from_parts(1_763_632_865, 0, 1);
        let m = parse_message(
            &redeliver(raw, later, "mix.example", None).unwrap(),
            Envelope::default(),
        )
        .unwrap();
        assert_eq!(m.time(), Some(later));
        assert_eq!(m.recipients().count(), 3);
        let copy = redeliver(raw, later, "mix.example", Some("e@y.org")).unwrap();
        let m = parse_message(&copy, Envelope::default()).unwrap();
        let to: Vec<&str> = m.recipients().map(|r| r.address.as_str()).collect();
        assert_eq!(to, vec!["e@y.org"]);
        assert_eq!(m.time(), Some(later));
        assert_eq!(m.subject.as_deref(), Some("s"));
        assert!(
            copy.ends_with(b"\r\n\r\nTo: not a header\r\n"),
            "the body is kept"
        );
        assert!(redeliver(b"", later, "x", None).is_err());
    }

    #[test]
    fn mbox_writing_round_trips_through_the_reader() {
        let msgs: [&[u8]; 2] = [b"A: 1\n\nFrom here\n>From there\n", b"B: 2\n\nno newline"];
        let mut w = MboxWriter::new(Vec::new());
        for m in msgs {
            w.write(Some("a@x.org"), Timestamp::ZERO, m).unwrap();
        }
        let bytes = w.into_inner();
        let mut r = Mbox::new(&bytes[..], "t", &ReadOptions::default());
        let first = r.next_raw().unwrap().unwrap().unwrap();
        assert_eq!(first.data, msgs[0]);
        assert_eq!(first.envelope.time, Some(Timestamp::ZERO));
        assert_eq!(first.envelope.sender.as_deref(), Some("a@x.org"));
        let second = r.next_raw().unwrap().unwrap().unwrap();
        assert_eq!(second.data, b"B: 2\n\nno newline\n");
        assert!(r.next_raw().unwrap().is_none());
    }
}
