//! `.trace` files: one packet a line, `<seconds> <signed size>`, positive = upstream. The
//! interchange format of website-fingerprinting datasets.

use crate::error::{TraceError, TraceErrorKind};
use crate::{Direction, Timestamp, TracePacket};
use std::io::{self, BufRead, Write};

/// Lines longer than this are an error (and skipped) rather than buffered: a binary file fed
/// to the reader must not make it allocate without bound.
pub const MAX_LINE_LEN: usize = 4096;

/// How much of a bad line an error quotes.
const QUOTE_LEN: usize = 80;

/// Streaming `.trace` reader.
///
/// Blank lines and `#` comments (whole-line or trailing) are skipped. A malformed line gives an
/// error naming its line number and text, and the reader **continues** with the next line: the
/// caller decides whether to skip bad lines or stop at the first. An I/O error ends the reader.
///
/// ```
/// use tapir_capture::{Direction, TraceReader};
/// let text = "# t size\n0.000 1500\n0.010 -52\noops\n0.020 -1500\n";
/// let mut reader = TraceReader::new(text.as_bytes());
/// let mut ok = Vec::new();
/// while let Some(next) = reader.next_packet() {
///     match next {
///         Ok(p) => ok.push(p),
///         Err(e) => assert_eq!(e.line, 4), // report and go on
///     }
/// }
/// assert_eq!(ok.len(), 3);
/// assert_eq!(ok[1].dir, Direction::Down);
/// assert_eq!(ok[1].size, 52);
/// ```
pub struct TraceReader<R> {
    inner: R,
    line: Vec<u8>,
    line_no: u64,
    done: bool,
}

impl<R: BufRead> TraceReader<R> {
    pub fn new(inner: R) -> Self {
        TraceReader {
            inner,
            line: Vec::with_capacity(64),
            line_no: 0,
            done: false,
        }
    }

    /// Number of the last line read (1-based).
    pub fn line_number(&self) -> u64 {
        self.line_no
    }

    /// The next packet; `None` at the end of input or after an I/O error.
    pub fn next_packet(&mut self) -> Option<Result<TracePacket, TraceError>> {
        while !self.done {
            let too_long = match self.read_line() {
                Ok(Some(too_long)) => too_long,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(TraceError {
                        line: self.line_no,
                        kind: TraceErrorKind::from(e),
                    }));
                }
            };
            if too_long {
                return Some(Err(self.syntax("line too long")));
            }
            match parse_line(&self.line) {
                Ok(Some(p)) => return Some(Ok(p)),
                Ok(None) => continue,
                Err(reason) => return Some(Err(self.syntax(reason))),
            }
        }
        None
    }

    fn syntax(&self, reason: &'static str) -> TraceError {
        let text = String::from_utf8_lossy(&self.line);
        let text: String = text.trim_end().chars().take(QUOTE_LEN).collect();
        TraceError {
            line: self.line_no,
            kind: TraceErrorKind::Syntax { reason, text },
        }
    }

    /// Reads one line into `self.line` (without its terminator), keeping at most
    /// [`MAX_LINE_LEN`] bytes. `None` at end of input; `Some(true)` if the line was longer.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.line.clear();
        let mut seen_any = false;
        let mut too_long = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            seen_any = true;
            let (chunk, used, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            let room = MAX_LINE_LEN.saturating_sub(self.line.len());
            if chunk.len() > room {
                too_long = true;
            }
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            if done {
                break;
            }
        }
        if !seen_any {
            return Ok(None);
        }
        self.line_no += 1;
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(Some(too_long))
    }
}

/// Parses one line: `Ok(None)` for blank and comment lines.
fn parse_line(line: &[u8]) -> Result<Option<TracePacket>, &'static str> {
    let content = match line.iter().position(|&b| b == b'#') {
        Some(i) => &line[..i],
        None => line,
    };
    let text = std::str::from_utf8(content).map_err(|_| "not UTF-8 text")?;
    let mut fields = text.split_ascii_whitespace();
    let Some(time) = fields.next() else {
        return Ok(None);
    };
    let size = fields.next().ok_or("missing size")?;
    if fields.next().is_some() {
        return Err("more than two fields");
    }
    let ts = parse_seconds(time)?;
    let size: i64 = size.parse().map_err(|_| "size is not an integer")?;
    let dir = match size {
        0 => return Err("size is 0"),
        s if s > 0 => Direction::Up,
        _ => Direction::Down,
    };
    let size = u32::try_from(size.unsigned_abs()).map_err(|_| "size out of range")?;
    Ok(Some(TracePacket { ts, size, dir }))
}

/// Parses decimal seconds exactly to the nanosecond (f64 would lose nanoseconds on epoch
/// times); exponent forms fall back to f64. Digits past the ninth decimal are rounded.
fn parse_seconds(s: &str) -> Result<Timestamp, &'static str> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !all_digits(int) || !all_digits(frac) {
        // Not plain decimal: accept what f64 accepts ("1e-3"), refuse inf and NaN.
        let v: f64 = s.parse().map_err(|_| "time is not a number")?;
        if !v.is_finite() {
            return Err("time is not finite");
        }
        if v.abs() >= 9.2e9 {
            return Err("time out of range");
        }
        return Ok(Timestamp::from_secs_f64(v));
    }
    let secs: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| "time out of range")?
    };
    let mut nanos: i64 = 0;
    let mut scale = 100_000_000;
    for b in frac.bytes().take(9) {
        nanos += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    if frac.as_bytes().get(9).is_some_and(|&b| b >= b'5') {
        nanos += 1;
    }
    let total = secs
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nanos))
        .ok_or("time out of range")?;
    Ok(Timestamp::from_nanos(if negative { -total } else { total }))
}

/// Writes `.trace` lines: `secs.nanos signed_size`, nanoseconds always with 9 digits, so
/// that reading back gives the same packets exactly.
pub struct TraceWriter<W: Write> {
    inner: W,
}

impl<W: Write> TraceWriter<W> {
    pub fn new(inner: W) -> Self {
        TraceWriter { inner }
    }

    pub fn write(&mut self, packet: &TracePacket) -> io::Result<()> {
        // Timestamp's Display is sign-and-magnitude with 9 decimals: exactly what parses back.
        writeln!(self.inner, "{} {}", packet.ts, packet.signed_size())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Returns the underlying writer (not flushed: call [`TraceWriter::flush`] first if needed).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Vec<Result<TracePacket, String>> {
        let mut r = TraceReader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(p) = r.next_packet() {
            out.push(p.map_err(|e| e.to_string()));
        }
        out
    }

    #[test]
    fn comments_blank_lines_and_errors_with_line_numbers() {
        let got =
            read_all("# header\n\n0.5 100 # trailing\r\n1 -40\n2 0\nx 5\n3 1 2\n  4\t-7\nnan 3\n");
        assert_eq!(got.len(), 7);
        assert_eq!(
            got[0],
            Ok(TracePacket::new(Timestamp(500_000_000), 100, Direction::Up))
        );
        assert_eq!(
            got[1],
            Ok(TracePacket::new(
                Timestamp(1_000_000_000),
                40,
                Direction::Down
            ))
        );
        assert_eq!(
            got[2],
            Err("line 5: size is 0 in \"2 0\" (expected \"<seconds> <signed size>\")".to_string())
        );
        assert!(got[3]
            .as_ref()
            .unwrap_err()
            .starts_with("line 6: time is not a number"));
        assert!(got[4]
            .as_ref()
            .unwrap_err()
            .starts_with("line 7: more than two fields"));
        assert_eq!(
            got[5],
            Ok(TracePacket::new(
                Timestamp(4_000_000_000),
                7,
                Direction::Down
            ))
        );
        assert!(got[6]
            .as_ref()
            .unwrap_err()
            .starts_with("line 9: time is not finite"));
    }

    #[test]
    fn exact_nanoseconds() {
        assert_eq!(
            parse_seconds("1700000000.123456789"),
            Ok(Timestamp(1_700_000_000_123_456_789))
        );
        assert_eq!(parse_seconds("-0.000000001"), Ok(Timestamp(-1)));
        assert_eq!(parse_seconds(".5"), Ok(Timestamp(500_000_000)));
        assert_eq!(parse_seconds("0.0000000015"), Ok(Timestamp(2)));
        assert_eq!(parse_seconds("1e-3"), Ok(Timestamp(1_000_000)));
        assert_eq!(parse_seconds("inf"), Err("time is not finite"));
        assert_eq!(parse_seconds("."), Err("time is not a number"));
        assert_eq!(
            parse_seconds("99999999999999999999"),
            Err("time out of range")
        );
        assert_eq!(parse_seconds("1e300"), Err("time out of range"));
    }

    #[test]
    fn long_lines_are_errors_and_reading_goes_on() {
        let text = format!("{}\n1 1\n", "9".repeat(MAX_LINE_LEN + 10));
        let got = read_all(&text);
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .starts_with("line 1: line too long"));
        assert_eq!(
            got[1],
            Ok(TracePacket::new(Timestamp(1_000_000_000), 1, Direction::Up))
        );
    }

    #[test]
    fn writer_round_trips() {
        let packets = [
            TracePacket::new(Timestamp(1_700_000_000_000_000_001), 1500, Direction::Up),
            TracePacket::new(Timestamp(-1), 52, Direction::Down),
            TracePacket::new(Timestamp(0), u32::MAX, Direction::Down),
        ];
        let mut w = TraceWriter::new(Vec::new());
        for p in &packets {
            w.write(p).unwrap();
        }
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert_eq!(
            text,
            "1700000000.000000001 1500\n-0.000000001 -52\n0.000000000 -4294967295\n"
        );
        let back: Vec<_> = read_all(&text).into_iter().map(Result::unwrap).collect();
        assert_eq!(back, packets);
    }
}
