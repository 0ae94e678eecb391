//! Any bytes as an input of unknown kind, gzip and zstd included: telling its kind and reading
//! it as a capture or a trace must report errors, never panic, and stop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_capture::{FileKind, Stream};

fuzz_target!(|data: &[u8]| {
    let Ok(mut s) = Stream::new(std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    match s.kind() {
        Ok(FileKind::Trace) => {
            let mut r = s.into_trace();
            while r.next_packet().is_some() {}
        }
        _ => {
            if let Ok(mut r) = s.into_capture() {
                while let Some(p) = r.next_packet() {
                    if let Ok(p) = p {
                        assert!(p.data.len() <= tapir_capture::MAX_CAPLEN as usize);
                    }
                }
            }
        }
    }
});
