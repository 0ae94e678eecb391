//! Inputs as users give them: a path, `-` for standard input, a pipe or a FIFO; plain, gzip or
//! zstd compressed.
//!
//! Compression and format are told by looking at the first bytes in the reader's own buffer,
//! and that same buffer is handed on to the packet reader, so nothing is lost on input that
//! cannot be read twice (`cat x.pcap | tapir inspect -`, `tapir inspect <(zcat x.pcap.gz)`).
//! Decompression streams: memory is the two buffers plus the decompressor's window (32 KiB
//! for gzip, at most [`ZSTD_MAX_WINDOW`] for zstd), whatever the size of the file.

use crate::error::{io_kind, CaptureError, CaptureErrorKind, Compression, CompressionError};
use crate::input::{Input, DEFAULT_CAPACITY};
use crate::sniff::{sniff_plain, SNIFF_LEN};
use crate::{CaptureReader, FileKind, TraceError, TraceErrorKind, TraceReader};
use flate2::bufread::MultiGzDecoder;
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// gzip member magic (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Zstandard frame magic 0xFD2FB528, little-endian (RFC 8878, section 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Skippable frames have magic 0x184D2A50..=0x184D2A5F (RFC 8878, section 3.1.2).
const ZSTD_SKIPPABLE: u32 = 0x184d_2a50;

/// Buffer for the compressed bytes under a decompressor.
const COMPRESSED_BUFFER: usize = 256 * 1024;

/// Largest zstd window accepted. 128 MiB is what `zstd --long` and the highest `--ultra`
/// levels use (the reference decoder's default limit is 128 MiB too); a frame asking for more
/// is reported rather than buffered.
pub const ZSTD_MAX_WINDOW: u64 = 128 * 1024 * 1024;

type Raw = Box<dyn Read + Send>;

/// The decompressed bytes of an input: what [`CaptureReader::open`] and [`Stream`] read from.
pub struct Decoder(Inner);

enum Inner {
    Plain(Raw),
    Gzip(Box<Gzip>),
    Zstd(Box<Zstd>),
}

impl Read for Decoder {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            Inner::Plain(r) => r.read(buf),
            Inner::Gzip(g) => g.read(buf),
            Inner::Zstd(z) => z.read(buf),
        }
    }
}

/// An opened input, positioned at its first decompressed byte, with look-ahead: its format can
/// be told ([`Stream::kind`]) and it then be read as a capture or a trace without a byte lost.
///
/// ```
/// use tapir_capture::{Compression, FileKind, Stream};
/// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lo-http.pcap");
/// let mut s = Stream::open(&path)?; // or "-" for standard input
/// assert_eq!(s.compression(), Compression::None);
/// assert_eq!(s.kind()?, FileKind::Pcap);
/// let mut reader = s.into_capture()?;
/// let mut n = 0;
/// while let Some(p) = reader.next_packet() {
///     p?;
///     n += 1;
/// }
/// assert_eq!(n, 37);
/// # Ok::<(), tapir_capture::CaptureError>(())
/// ```
pub struct Stream {
    input: Input<Decoder>,
    compression: Compression,
}

impl Stream {
    /// Opens a file, or standard input for `-`. Errors opening it are reported at offset 0.
    pub fn open(path: &Path) -> Result<Stream, CaptureError> {
        let raw: Raw = if path == Path::new("-") {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path).map_err(|e| CaptureError::new(0, CaptureErrorKind::Io(e)))?)
        };
        Stream::from_raw(raw)
    }

    /// Any byte source (a socket, a pipe, bytes in memory), decompressed if it is gzip or zstd.
    pub fn new(reader: impl Read + Send + 'static) -> Result<Stream, CaptureError> {
        Stream::from_raw(Box::new(reader))
    }

    fn from_raw(raw: Raw) -> Result<Stream, CaptureError> {
        let mut raw = Input::with_capacity(raw, COMPRESSED_BUFFER);
        raw.fill(ZSTD_MAGIC.len())
            .map_err(|e| CaptureError::new(0, io_kind(e)))?;
        let head = raw.peek();
        let compression = if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        };
        let input = match compression {
            Compression::Gzip => Input::new(Decoder(Inner::Gzip(Box::new(Gzip {
                dec: MultiGzDecoder::new(raw),
                produced: 0,
                failed: None,
            })))),
            Compression::Zstd => Input::new(Decoder(Inner::Zstd(Box::new(Zstd {
                src: raw,
                dec: FrameDecoder::new(),
                in_frame: false,
                produced: 0,
                failed: None,
            })))),
            // Plain input keeps the buffer it was peeked with: one buffer, no copy between two.
            _ => {
                let mut input = raw.map_inner(|r| Decoder(Inner::Plain(r)));
                input.grow_to(DEFAULT_CAPACITY);
                input
            }
        };
        Ok(Stream { input, compression })
    }

    /// The compression found by magic number.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// What the (decompressed) input holds, told as [`crate::sniff`] does, by peeking: nothing
    /// is consumed. A compressed stream damaged after its first bytes is still told by those
    /// bytes; the damage is reported by the reader, after the packets before it.
    pub fn kind(&mut self) -> Result<FileKind, CaptureError> {
        // Four bytes tell a capture; only text needs more (a pipe may be slow to give 64 KiB).
        for need in [4, SNIFF_LEN] {
            if let Err(e) = self.input.fill(need) {
                if self.input.peek().is_empty() {
                    return Err(CaptureError::new(0, io_kind(e)));
                }
            }
            if let Ok(k @ (FileKind::Pcap | FileKind::PcapNg)) = sniff_plain(self.input.peek()) {
                return Ok(k);
            }
        }
        sniff_plain(self.input.peek())
    }

    /// Up to `n` of the next bytes, without consuming them (fewer only at end of input).
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let have = self.input.fill(n)?;
        Ok(self.input.peek().get(..have.min(n)).unwrap_or(&[]))
    }

    /// Reads the rest as a pcap or pcapng capture.
    pub fn into_capture(self) -> Result<CaptureReader<Decoder>, CaptureError> {
        CaptureReader::from_input(self.input)
    }

    /// Reads the rest as a `.trace` file.
    pub fn into_trace(self) -> TraceReader<Stream> {
        TraceReader::new(self)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl BufRead for Stream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.input.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        BufRead::consume(&mut self.input, n);
    }
}

/// A capture or trace, opened and told apart by [`open`].
pub enum Opened {
    Capture(CaptureReader<Decoder>),
    Trace(TraceReader<Stream>),
}

/// Opens `path` (`-` for standard input), decompresses it if it is gzip or zstd, tells whether
/// it is a capture or a trace, and returns the matching reader: one pass over the input, so it
/// works on pipes.
pub fn open(path: &Path) -> Result<(Opened, Compression), CaptureError> {
    let mut s = Stream::open(path)?;
    let compression = s.compression();
    let opened = match s.kind()? {
        FileKind::Trace => Opened::Trace(s.into_trace()),
        FileKind::Pcap | FileKind::PcapNg => Opened::Capture(s.into_capture()?),
    };
    Ok((opened, compression))
}

impl TraceReader<Stream> {
    /// Opens a `.trace` file (`-` for standard input; gzip or zstd decompressed).
    pub fn open(path: &Path) -> Result<Self, TraceError> {
        let s = Stream::open(path).map_err(|e| TraceError {
            line: 0,
            kind: match e.kind {
                CaptureErrorKind::Io(e) => TraceErrorKind::Io(e),
                CaptureErrorKind::Compressed(c) => TraceErrorKind::Compressed(c),
                other => TraceErrorKind::Io(io::Error::other(other.to_string())),
            },
        })?;
        Ok(s.into_trace())
    }
}

/// Whether an I/O error from a decompressor is about the data (rather than the device under it).
fn is_data_fault(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::Other
    )
}

/// Builds the error for a fault found with `src` as the compressed input, and remembers it so
/// that reading again gives the same error rather than decoding garbage.
fn fault(
    format: Compression,
    src: &mut Input<Raw>,
    produced: u64,
    detail: String,
    failed: &mut Option<CompressionError>,
    at: Option<u64>,
    cut: Option<bool>,
) -> io::Error {
    // Unless the decoder said: out of compressed bytes when it still wanted some, so cut.
    let cut = cut.unwrap_or_else(|| matches!(src.fill(1), Ok(0)));
    let e = CompressionError {
        format,
        compressed_offset: at.unwrap_or(src.pos()),
        decompressed: produced,
        cut,
        detail,
    };
    *failed = Some(e.clone());
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn replay(e: &CompressionError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.clone())
}

struct Gzip {
    dec: MultiGzDecoder<Input<Raw>>,
    produced: u64,
    failed: Option<CompressionError>,
}

impl Read for Gzip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(replay(e));
        }
        match self.dec.read(buf) {
            Ok(n) => {
                self.produced += n as u64;
                Ok(n)
            }
            Err(e) if is_data_fault(&e) => Err(fault(
                Compression::Gzip,
                self.dec.get_mut(),
                self.produced,
                e.to_string(),
                &mut self.failed,
                None,
                // flate2 reports input that ends too early as UnexpectedEof, and only that.
                Some(e.kind() == io::ErrorKind::UnexpectedEof),
            )),
            Err(e) => Err(e),
        }
    }
}

/// The window size a frame header declares (RFC 8878, 3.1.1.1.2), `None` for a single-segment
/// frame (whose window is its content size) or a header too short to tell.
fn declared_window(header: &[u8]) -> Option<u64> {
    let descriptor = *header.get(4)?;
    if descriptor & 0x20 != 0 {
        return None;
    }
    let wd = *header.get(5)?;
    let base = 1u64 << (10 + u32::from(wd >> 3));
    Some(base + base / 8 * u64::from(wd & 7))
}

/// Zstandard decoding frame after frame (a file may hold several, and skippable frames), one
/// block at a time, with the content checksum checked at the end of each frame.
struct Zstd {
    src: Input<Raw>,
    dec: FrameDecoder,
    in_frame: bool,
    produced: u64,
    failed: Option<CompressionError>,
}

impl Zstd {
    fn fail(&mut self, detail: String) -> io::Error {
        self.fail_at(detail, None, None)
    }

    fn fail_at(&mut self, detail: String, at: Option<u64>, cut: Option<bool>) -> io::Error {
        fault(
            Compression::Zstd,
            &mut self.src,
            self.produced,
            detail,
            &mut self.failed,
            at,
            cut,
        )
    }
}

impl Read for Zstd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(replay(e));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                if self.dec.can_collect() > 0 {
                    let n = self.dec.read(buf)?;
                    self.produced += n as u64;
                    return Ok(n);
                }
                if self.dec.is_finished() {
                    if let (Some(want), Some(got)) = (
                        self.dec.get_checksum_from_data(),
                        self.dec.get_calculated_checksum(),
                    ) {
                        if want != got {
                            return Err(self.fail_at(
                                format!("content checksum {got:#010x} does not match the frame's {want:#010x}"),
                                None,
                                Some(false),
                            ));
                        }
                    }
                    self.in_frame = false;
                    continue;
                }
                if let Err(e) = self
                    .dec
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBlocks(1))
                {
                    return Err(self.fail(e.to_string()));
                }
                continue;
            }
            // Between frames: the end of the input, a skippable frame, or the next frame.
            let have = self.src.fill(8)?;
            if have == 0 {
                return Ok(0);
            }
            let magic = self
                .src
                .peek()
                .first_chunk::<4>()
                .map(|m| u32::from_le_bytes(*m));
            match magic {
                Some(m) if m & 0xffff_fff0 == ZSTD_SKIPPABLE => {
                    let len = self
                        .src
                        .peek()
                        .get(4..8)
                        .and_then(|b| b.try_into().ok())
                        .map(u32::from_le_bytes);
                    let Some(len) = len else {
                        return Err(self.fail("skippable frame header cut short".into()));
                    };
                    self.src.consume(8);
                    if self.src.skip(u64::from(len))? < u64::from(len) {
                        return Err(self.fail("skippable frame cut short".into()));
                    }
                }
                _ => {
                    let at = self.src.pos();
                    let declared = declared_window(self.src.peek());
                    if let Err(e) = self.dec.reset(&mut self.src) {
                        return Err(self.fail_at(format!("frame header: {e}"), Some(at), None));
                    }
                    // A single-segment frame's window is its content size.
                    let window = declared.unwrap_or_else(|| self.dec.content_size());
                    if window > ZSTD_MAX_WINDOW {
                        return Err(self.fail_at(
                            format!(
                                "frame asks for a {window}-byte window, more than the \
                                 {ZSTD_MAX_WINDOW}-byte limit"
                            ),
                            Some(at),
                            Some(false),
                        ));
                    }
                    self.in_frame = true;
                }
            }
        }
    }
}
