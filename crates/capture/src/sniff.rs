//! Telling captures and trace files apart by their content, not their name.

use crate::error::{CaptureError, CaptureErrorKind, Compression};
use crate::pcap::PcapState;
use crate::pcapng::SECTION_HEADER_BLOCK;
use crate::stream::Stream;
use crate::TraceReader;
use std::path::Path;

/// What kind of input a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Pcap,
    PcapNg,
    Trace,
}

/// How much of a text file is read to find its first packet line: comment headers of
/// trace datasets are a few lines, not kilobytes.
pub(crate) const SNIFF_LEN: usize = 64 * 1024;

/// Tells what a file holds: a capture by its magic number, otherwise a trace file if its first
/// line that is neither blank nor a comment parses as `<seconds> <signed size>`. A gzip or
/// zstd file is told by what it decompresses to.
///
/// This opens the file and reads its first bytes: on standard input (`-`) or a pipe those bytes
/// are gone afterwards. To tell and then read, use [`crate::open`] or [`Stream::kind`].
pub fn sniff(path: &Path) -> Result<FileKind, CaptureError> {
    Stream::open(path)?.kind()
}

/// What a file name says it holds, for walking folders: `x.pcap`, `x.pcapng`, `x.cap`,
/// `x.trace`, `x.txt`, each also with `.gz`, `.zst` or `.zstd` after it (case ignored). Only a
/// guess: when the file is read, its content decides ([`sniff`], [`crate::open`]).
pub fn kind_from_name(path: &Path) -> Option<(FileKind, Compression)> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let (stem, compression) = if let Some(s) = name.strip_suffix(".gz") {
        (s, Compression::Gzip)
    } else if let Some(s) = name
        .strip_suffix(".zst")
        .or_else(|| name.strip_suffix(".zstd"))
    {
        (s, Compression::Zstd)
    } else {
        (name.as_str(), Compression::None)
    };
    let (_, ext) = stem.rsplit_once('.')?;
    let kind = match ext {
        "pcap" | "cap" => FileKind::Pcap,
        "pcapng" => FileKind::PcapNg,
        "trace" | "txt" => FileKind::Trace,
        _ => return None,
    };
    Some((kind, compression))
}

/// [`sniff`] on the first bytes of a file (up to 64 KiB is plenty), compressed or not.
pub fn sniff_bytes(head: &[u8]) -> Result<FileKind, CaptureError> {
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Stream::new(std::io::Cursor::new(head.to_vec()))?.kind();
    }
    sniff_plain(head)
}

/// [`sniff_bytes`] on bytes known not to be compressed.
pub(crate) fn sniff_plain(head: &[u8]) -> Result<FileKind, CaptureError> {
    let Some(magic) = head.first_chunk::<4>() else {
        if head.is_empty() {
            return Err(CaptureError::new(0, CaptureErrorKind::Empty));
        }
        return first_trace_line(head);
    };
    if u32::from_le_bytes(*magic) == SECTION_HEADER_BLOCK {
        return Ok(FileKind::PcapNg);
    }
    if PcapState::recognise(*magic) {
        return Ok(FileKind::Pcap);
    }
    first_trace_line(head)
}

fn first_trace_line(head: &[u8]) -> Result<FileKind, CaptureError> {
    let unrecognised =
        |reason: String| CaptureError::new(0, CaptureErrorKind::Unrecognised { reason });
    // A text file has no NUL bytes; a binary one almost always does.
    if head.contains(&0) {
        return Err(unrecognised(format!(
            "binary data with unknown magic {:02x?}",
            &head[..head.len().min(4)]
        )));
    }
    let mut reader = TraceReader::new(head);
    match reader.next_packet() {
        Some(Ok(_)) => Ok(FileKind::Trace),
        Some(Err(e)) => Err(unrecognised(format!("text, but {e}"))),
        None => Err(unrecognised(format!(
            "text with no packet line in its first {} bytes",
            head.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        let k = |n: &str| kind_from_name(Path::new(n));
        assert_eq!(k("a/x.pcap"), Some((FileKind::Pcap, Compression::None)));
        assert_eq!(k("x.PCAP.GZ"), Some((FileKind::Pcap, Compression::Gzip)));
        assert_eq!(k("x.pcap.zst"), Some((FileKind::Pcap, Compression::Zstd)));
        assert_eq!(
            k("x.pcapng.zstd"),
            Some((FileKind::PcapNg, Compression::Zstd))
        );
        assert_eq!(k("x.trace.gz"), Some((FileKind::Trace, Compression::Gzip)));
        assert_eq!(k("x.trace.zst"), Some((FileKind::Trace, Compression::Zstd)));
        assert_eq!(k("x.cap"), Some((FileKind::Pcap, Compression::None)));
        assert_eq!(k("x.csv.gz"), None);
        assert_eq!(k("x.gz"), None);
        assert_eq!(k("pcap"), None);
        assert_eq!(k("-"), None);
    }

    #[test]
    fn by_magic_and_by_first_line() {
        assert_eq!(
            sniff_bytes(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).unwrap(),
            FileKind::Pcap
        );
        assert_eq!(
            sniff_bytes(&[0xa1, 0xb2, 0x3c, 0x4d]).unwrap(),
            FileKind::Pcap
        );
        assert_eq!(
            sniff_bytes(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0]).unwrap(),
            FileKind::PcapNg
        );
        assert_eq!(
            sniff_bytes(b"# trace\n\n0.0 -1500\n").unwrap(),
            FileKind::Trace
        );
        assert_eq!(sniff_bytes(b"1 2").unwrap(), FileKind::Trace);
        let csv = sniff_bytes(b"time,size\n0,1\n").unwrap_err();
        assert!(matches!(csv.kind, CaptureErrorKind::Unrecognised { .. }));
        assert!(csv.to_string().contains("line 1"), "{csv}");
        assert!(matches!(
            sniff_bytes(b"").unwrap_err().kind,
            CaptureErrorKind::Empty
        ));
        assert!(matches!(
            sniff_bytes(&[1, 2, 3, 0, 5]).unwrap_err().kind,
            CaptureErrorKind::Unrecognised { .. }
        ));
        assert!(matches!(
            sniff_bytes(b"# only comments\n").unwrap_err().kind,
            CaptureErrorKind::Unrecognised { .. }
        ));
    }
}
