//! Inputs found by the `defense_spec` fuzz target (`scripts/fuzz.sh defense_spec`), kept so that
//! they stay fixed.

use tapir_defense::{parse_spec, run, Direction, Timestamp, TracePacket};

fn short_trace() -> Vec<TracePacket> {
    (0..40)
        .map(|i| {
            let dir = if i % 3 == 0 {
                Direction::Up
            } else {
                Direction::Down
            };
            TracePacket::new(Timestamp::from_nanos(i * 5_000_000), 600, dir)
        })
        .collect()
}

/// A minimum duration of 5.7e21 s made BuFLO schedule packets for centuries: the spec is now
/// refused with the reason.
#[test]
fn constant_with_a_huge_minimum_is_refused() {
    let spec = "constant:up=20,down=40,size=600,min=5666666666666666666666600ms,pad=2";
    let err = parse_spec(spec, 7).err().expect("refused").to_string();
    assert!(
        err.contains("min=") && err.contains("at most 30 days"),
        "{err}"
    );
    // Within 30 days, but 100 million packets downstream: refused for the schedule.
    let spec = "constant:up=20,down=40,size=600,min=2592000s";
    let err = parse_spec(spec, 7).err().expect("refused").to_string();
    assert!(
        err.contains("min=") && err.contains("packets each way"),
        "{err}"
    );
}

/// The bound leaves real settings alone: a Tamaraw-like schedule of a minute runs.
#[test]
fn constant_with_a_real_minimum_runs() {
    let mut d = parse_spec("constant:up=100,down=600,size=600,min=60s", 7).unwrap();
    let (out, costs) = run(d.as_mut(), short_trace());
    assert!(out.len() >= 600 * 60);
    assert_eq!(costs.real_packets, 40);
}

/// FRONT with n=4.4e88 dummies never ended: refused.
#[test]
fn front_with_a_huge_n_is_refused() {
    let spec = format!("front:n={}.0", "4".repeat(89));
    let err = parse_spec(&spec, 7).err().expect("refused").to_string();
    assert!(err.contains("at most") && err.contains("dummies"), "{err}");
    let mut d = parse_spec("front:n=5000", 7).unwrap();
    let (_, costs) = run(d.as_mut(), short_trace());
    assert_eq!(costs.real_packets, 40);
}

/// Tamaraw padding to a multiple of 2.2e116 packets never ended: refused.
#[test]
fn constant_with_a_huge_pad_is_refused() {
    let spec = format!(
        "constant:up=20,down=4000,min=5010ms,pad={}",
        "2".repeat(117)
    );
    let err = parse_spec(&spec, 7).err().expect("refused").to_string();
    assert!(err.contains("pad=") && err.contains("at most"), "{err}");
}

/// A timed mix with a period of 5.6e25 s overflowed the time of its next flush: durations are
/// now at most 30 days, and a mix of hours still runs.
#[test]
fn a_mix_period_beyond_30_days_is_refused() {
    let spec = format!("mix:timed=0{}6ms", "5".repeat(31));
    let err = parse_spec(&spec, 7).err().expect("refused").to_string();
    assert!(
        err.contains("timed=") && err.contains("at most 30 days"),
        "{err}"
    );
    for ok in ["mix:timed=21600s", "delay:mean=600s", "mix:timed=2592000s"] {
        let mut d = parse_spec(ok, 7).unwrap();
        let (_, costs) = run(d.as_mut(), short_trace());
        assert_eq!(costs.real_packets, 40, "{ok}");
    }
}
