//! gzip and zstd input, and input that can be read only once (pipes): the same packets as the
//! plain file, and a clear error, never a panic, when the compressed stream is cut or corrupt.

mod common;

use common::{pcap, Pkt};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use tapir_capture::{
    open, sniff, sniff_bytes, CaptureErrorKind, CaptureReader, Compression, FileKind, Opened,
    Stream, TraceErrorKind, TracePacket,
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A source that hands out at most `step` bytes a call and cannot be rewound: how a pipe
/// behaves when its writer is slower than its reader.
struct Pipe {
    bytes: Vec<u8>,
    at: usize,
    step: usize,
}

impl Pipe {
    fn new(bytes: Vec<u8>, step: usize) -> Self {
        Pipe { bytes, at: 0, step }
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

type Packet = (i64, u16, u32, Vec<u8>);

/// Every packet of a stream, and the error that ended it, if any.
fn packets_of(s: Stream) -> (Vec<Packet>, Option<tapir_capture::CaptureError>) {
    let mut r = match s.into_capture() {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        match p {
            Ok(p) => out.push((p.ts.as_nanos(), p.link_type.0, p.orig_len, p.data.to_vec())),
            Err(e) => {
                assert!(r.next_packet().is_none(), "the reader stops after an error");
                return (out, Some(e));
            }
        }
    }
    (out, None)
}

fn trace_of(s: Stream) -> (Vec<TracePacket>, Vec<tapir_capture::TraceError>) {
    let mut r = s.into_trace();
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    while let Some(p) = r.next_packet() {
        match p {
            Ok(p) => ok.push(p),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

/// A capture large enough to need many refills of every buffer on the way: 6,000 packets of
/// 40–1,500 bytes, about 4.6 MB.
fn big_pcap() -> Vec<u8> {
    let frames: Vec<Vec<u8>> = (0..6000u32)
        .map(|i| {
            let len = 40 + (i.wrapping_mul(2_654_435_761) % 1461) as usize;
            (0..len).map(|j| (i as usize * 7 + j) as u8).collect()
        })
        .collect();
    let pkts: Vec<Pkt> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Pkt::new(1_700_000_000_000_000_000 + i as i64 * 1_000, f))
        .collect();
    pcap(101, true, false, &pkts)
}

fn stream(bytes: Vec<u8>) -> Stream {
    Stream::new(io::Cursor::new(bytes)).unwrap()
}

#[test]
fn gzip_and_zstd_captures_give_the_same_packets_as_the_plain_file() {
    for name in ["lo-http.pcap", "lo-http.pcapng", "any-v6-snap96.pcap"] {
        let plain = std::fs::read(data(name)).unwrap();
        let (want, err) = packets_of(stream(plain.clone()));
        assert!(err.is_none() && !want.is_empty(), "{name}: {err:?}");
        for (compression, bytes) in [
            (Compression::Gzip, gzip(&plain)),
            (Compression::Zstd, zstd(&plain)),
        ] {
            let mut s = stream(bytes.clone());
            assert_eq!(s.compression(), compression);
            let kind = s.kind().unwrap();
            assert_eq!(kind == FileKind::PcapNg, name.ends_with("ng"), "{name}");
            let (got, err) = packets_of(s);
            assert!(err.is_none(), "{name} {compression}: {err:?}");
            assert_eq!(got, want, "{name} {compression}");
            // The same through a pipe that gives 7 bytes at a time.
            let (got, err) = packets_of(Stream::new(Pipe::new(bytes, 7)).unwrap());
            assert!(err.is_none(), "{name} {compression} piped: {err:?}");
            assert_eq!(got, want, "{name} {compression} piped");
        }
    }
}

#[test]
fn a_large_capture_streams_through_every_buffer() {
    let plain = big_pcap();
    assert!(plain.len() > 4_000_000);
    let (want, err) = packets_of(stream(plain.clone()));
    assert!(err.is_none());
    assert_eq!(want.len(), 6000);
    for bytes in [plain.clone(), gzip(&plain), zstd(&plain)] {
        for step in [usize::MAX, 4093, 1] {
            if step == 1 && bytes.len() > 1_000_000 && bytes[0] != 0x1f {
                continue; // one byte a call over megabytes is slow without saying more
            }
            let (got, err) = packets_of(Stream::new(Pipe::new(bytes.clone(), step)).unwrap());
            assert!(err.is_none(), "step {step}: {err:?}");
            assert!(
                got == want,
                "step {step}: {} of {} packets",
                got.len(),
                want.len()
            );
        }
    }
}

#[test]
fn multi_member_gzip_and_multi_frame_zstd_are_read_whole() {
    let plain = big_pcap();
    let (want, _) = packets_of(stream(plain.clone()));
    // Cut at arbitrary points, not at record boundaries: members are one byte stream.
    let cuts = [0, 1_000, 1_234_567, 3_000_001, plain.len()];
    let mut gz = Vec::new();
    let mut zst = Vec::new();
    for w in cuts.windows(2) {
        gz.extend(gzip(&plain[w[0]..w[1]]));
        zst.extend(zstd(&plain[w[0]..w[1]]));
        // A skippable frame (RFC 8878, 3.1.2) between the data frames.
        zst.extend([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    }
    for (what, bytes) in [("gzip", gz), ("zstd", zst)] {
        let (got, err) = packets_of(stream(bytes));
        assert!(err.is_none(), "{what}: {err:?}");
        assert!(
            got == want,
            "{what}: {} of {} packets",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn a_cut_compressed_capture_keeps_the_packets_before_the_cut() {
    let plain = big_pcap();
    let (want, _) = packets_of(stream(plain.clone()));
    for (format, full) in [
        (Compression::Gzip, gzip(&plain)),
        (Compression::Zstd, zstd(&plain)),
    ] {
        let cut = &full[..full.len() * 3 / 5];
        let (got, err) = packets_of(stream(cut.to_vec()));
        let err = err.expect("a cut stream is an error");
        let CaptureErrorKind::Compressed(c) = &err.kind else {
            panic!("{format}: expected a compression error, got {err}");
        };
        assert_eq!(c.format, format);
        assert!(c.cut, "{err}");
        assert!(c.compressed_offset <= cut.len() as u64);
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{format} stream cut short")) && msg.contains("decompressed"),
            "{msg}"
        );
        // Most packets came out, all of them exactly the first ones of the plain file.
        assert!(got.len() > want.len() / 3, "{format}: only {}", got.len());
        assert!(got[..] == want[..got.len()], "{format}");
        assert!(c.decompressed >= err.offset, "{err}");
    }
    // Cut inside the gzip trailer (CRC and length): every packet is there, then the error.
    let full = gzip(&plain);
    let (got, err) = packets_of(stream(full[..full.len() - 3].to_vec()));
    assert!(got == want);
    let err = err.expect("a cut trailer is an error");
    assert!(
        matches!(&err.kind, CaptureErrorKind::Compressed(c) if c.cut),
        "{err}"
    );
}

#[test]
fn corrupt_compressed_streams_are_errors_not_panics() {
    let plain = std::fs::read(data("lo-http.pcap")).unwrap();
    // Two frames, the second with a broken magic number: the first frame's packets, then a
    // compression error at the second.
    let (want, _) = packets_of(stream(plain.clone()));
    let half = plain.len() / 2;
    let first = zstd(&plain[..half]);
    let mut bad = first.clone();
    let mut second = zstd(&plain[half..]);
    second[1] ^= 0xff;
    bad.extend(second);
    let (got, err) = packets_of(stream(bad));
    let err = err.expect("corrupt zstd");
    let CaptureErrorKind::Compressed(c) = &err.kind else {
        panic!("expected a compression error, got {err}");
    };
    assert_eq!(c.format, Compression::Zstd);
    assert!(!c.cut, "{err}");
    assert_eq!(c.decompressed, half as u64);
    assert_eq!(c.compressed_offset, first.len() as u64);
    assert!(err.to_string().contains("zstd stream corrupt"), "{err}");
    assert!(!got.is_empty() && got[..] == want[..got.len()]);
    // A frame that asks for a 256 MiB window: refused before anything is buffered.
    let mut huge = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3];
    huge.extend([0x01, 0x00, 0x00]); // an empty last raw block
    let (got, err) = packets_of(stream(huge));
    assert!(got.is_empty());
    let err = err.expect("window too large");
    assert!(
        matches!(&err.kind, CaptureErrorKind::Compressed(c) if !c.cut && c.detail.contains("268435456-byte window")),
        "{err}"
    );
    // A flipped bit in the gzip trailer's CRC: the data decodes, the check fails.
    let mut bad = gzip(&plain);
    let n = bad.len();
    bad[n - 6] ^= 0x10;
    let (got, err) = packets_of(stream(bad));
    let err = err.expect("bad CRC");
    assert!(
        matches!(&err.kind, CaptureErrorKind::Compressed(c) if !c.cut && c.format == Compression::Gzip),
        "{err}"
    );
    assert!(got.len() <= 37);
    // Every single-byte corruption of both: an error or the right packets, never a panic.
    for full in [gzip(&plain), zstd(&plain)] {
        for at in (0..full.len()).step_by(3) {
            let mut bad = full.clone();
            bad[at] = bad[at].wrapping_add(0x5b);
            let Ok(s) = Stream::new(io::Cursor::new(bad)) else {
                continue;
            };
            let (got, err) = packets_of(s);
            if err.is_none() && got != want {
                // Possible only where no check covers the byte (e.g. the gzip header's
                // modification time); the packets must then still be well formed.
                assert_eq!(got.len(), want.len(), "byte {at}");
            }
        }
    }
}

#[test]
fn compressed_traces_read_like_the_plain_file() {
    let plain = std::fs::read(data("sample.trace")).unwrap();
    let (want, want_bad) = trace_of(stream(plain.clone()));
    assert!(!want.is_empty() && want_bad.len() == 1);
    for bytes in [gzip(&plain), zstd(&plain)] {
        let mut s = stream(bytes.clone());
        assert_eq!(s.kind().unwrap(), FileKind::Trace);
        let (got, bad) = trace_of(s);
        assert_eq!(got, want);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, want_bad[0].line);
        assert_eq!(sniff_bytes(&bytes).unwrap(), FileKind::Trace);
        let (got, _) = trace_of(Stream::new(Pipe::new(bytes, 3)).unwrap());
        assert_eq!(got, want);
    }
    // A cut gzip trace: the lines before, then an error of the compression kind.
    let long: String = (0..20_000)
        .map(|i| format!("{}.{:09} {}\n", i / 100, i % 100, 40 + i % 1400))
        .collect();
    let full = gzip(long.as_bytes());
    let (got, bad) = trace_of(stream(full[..full.len() / 2].to_vec()));
    assert!(got.len() > 1000 && got.len() < 20_000, "{}", got.len());
    assert_eq!(bad.len(), 1);
    assert!(
        matches!(&bad[0].kind, TraceErrorKind::Compressed(c) if c.cut && c.format == Compression::Gzip),
        "{}",
        bad[0]
    );
    assert!(bad[0].to_string().starts_with("after line "), "{}", bad[0]);
}

/// Writes `bytes` to a temporary file named `name`; removed when the guard drops.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let dir = std::env::temp_dir().join(format!("tapir-capture-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        TempFile(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn files_are_told_by_magic_not_by_name() {
    let pcapng = std::fs::read(data("lo-http.pcapng")).unwrap();
    let trace = std::fs::read(data("sample.trace")).unwrap();
    // Misleading names: a zstd pcapng called .gz, a gzip trace with no extension.
    let a = TempFile::new("capture.gz", &zstd(&pcapng));
    let b = TempFile::new("trace", &gzip(&trace));
    assert_eq!(sniff(a.path()).unwrap(), FileKind::PcapNg);
    assert_eq!(sniff(b.path()).unwrap(), FileKind::Trace);
    let (opened, compression) = open(a.path()).unwrap();
    assert_eq!(compression, Compression::Zstd);
    let Opened::Capture(mut r) = opened else {
        panic!("a capture")
    };
    let mut n = 0;
    while let Some(p) = r.next_packet() {
        p.unwrap();
        n += 1;
    }
    assert_eq!(n, 37);
    let (opened, compression) = open(b.path()).unwrap();
    assert_eq!(compression, Compression::Gzip);
    assert!(matches!(opened, Opened::Trace(_)));
    // CaptureReader::open decompresses too.
    let mut r = CaptureReader::open(a.path()).unwrap();
    assert!(r.next_packet().unwrap().is_ok());
    // A gzip file of something else is told as what it holds.
    let c = TempFile::new("notes.gz", &gzip(b"time,size\n0,1\n"));
    let e = sniff(c.path()).unwrap_err();
    assert!(
        matches!(e.kind, CaptureErrorKind::Unrecognised { .. }),
        "{e}"
    );
}
