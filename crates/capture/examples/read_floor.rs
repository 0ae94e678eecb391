//! How fast a pcap file can be gone through at all on this machine: the floor under every
//! reader of it, `bench/compare`'s first rows.
//!
//! ```text
//! read_floor walk PCAP     # read(2) into a 512 KiB buffer, hop from record header to record header
//! read_floor decode PCAP   # tapir-capture's reader and IP decoder, nothing after them
//! ```
//!
//! `walk` is the least any program that reads every record must do: each record's bytes come in
//! from the page cache and its length is read to find the next one (the last byte of the IP
//! source address behind Ethernet is read too, as any decoder would). It takes a classic pcap file
//! in this machine's byte order, plain (not compressed), and does not check the records beyond
//! their lengths. `decode` is [`CaptureReader`] and its IP decoder over every record: what the
//! extraction pipeline starts from. Each prints `N records` (and the sum of bytes touched, so
//! the work cannot be left out) on standard output.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use tapir_capture::CaptureReader;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.as_slice() {
        [mode, path] if mode == "walk" => walk(Path::new(path)),
        [mode, path] if mode == "decode" => decode(Path::new(path)),
        _ => Err("usage: read_floor walk|decode PCAP".into()),
    };
    match r {
        Ok((n, sum)) => {
            println!("{n} records (checksum {sum})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("read_floor: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Reads the whole file through one 512 KiB buffer, hopping over the records.
fn walk(path: &Path) -> Result<(u64, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut header = [0u8; 24];
    f.read_exact(&mut header)?;
    if u32::from_ne_bytes([header[0], header[1], header[2], header[3]]) != 0xa1b2_c3d4 {
        return Err("not a classic pcap file in this machine's byte order (microseconds)".into());
    }
    let mut buf = vec![0u8; 512 * 1024];
    let (mut have, mut n, mut sum) = (0usize, 0u64, 0u64);
    loop {
        let got = f.read(&mut buf[have..])?;
        if got == 0 {
            break;
        }
        have += got;
        let data = &buf[..have];
        let mut at = 0;
        while let Some(h) = data.get(at..at + 16) {
            let caplen = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]) as usize;
            let Some(record) = data.get(at + 16..at + 16 + caplen) else {
                break;
            };
            // The IP header's last source-address byte behind Ethernet, if captured.
            sum += u64::from(record.get(29).copied().unwrap_or(0)) + caplen as u64;
            n += 1;
            at += 16 + caplen;
        }
        if at == 0 && have == buf.len() {
            return Err(format!("record {n} is longer than the buffer").into());
        }
        buf.copy_within(at..have, 0);
        have -= at;
    }
    if have > 0 {
        return Err(format!("{have} bytes of a cut record at the end").into());
    }
    Ok((n, sum))
}

/// The capture reader and the IP decoder over every record.
fn decode(path: &Path) -> Result<(u64, u64)> {
    let mut r = CaptureReader::open(path)?;
    let (mut n, mut sum) = (0u64, 0u64);
    while let Some(p) = r.next_packet() {
        let p = p?;
        if let Ok(ip) = p.decode_ip() {
            sum += u64::from(ip.ip_len);
        }
        n += 1;
    }
    Ok((n, sum))
}
