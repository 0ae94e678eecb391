//! Hand-computed histograms for small windows, bin by bin, under the default configuration.
//!
//! Default edges used below (docs/features.md):
//! * size: 96-byte bins from -1536; bin = floor((size + 1536) / 96).
//! * IAT and surge: edge k = round(10^(3 + k/4)) ns: 1000, 1778, 3162, 5623, 10000, 17783,
//!   31623, 56234, 100000, ..., 1e8 (k = 20), ...
//! * burst bytes: magnitude edges 2^(5+k); upstream bins 16 + k, downstream 15 - k.

use tapir_capture::{Direction, Timestamp, TracePacket};
use tapir_features::{AckFilter, Extractor, FeatureConfig, FeatureSpace, DEFAULT_SURGE_GAP_NS};

const UP: Direction = Direction::Up;
const DOWN: Direction = Direction::Down;

fn p(ts: i64, size: u32, dir: Direction) -> TracePacket {
    TracePacket::new(Timestamp(ts), size, dir)
}

/// Eight packets exercising: a first packet without IAT, an IAT exactly on a bin edge, a zero
/// IAT, a gap exactly equal to the surge gap (same surge), one nanosecond over it (new surge),
/// time going backwards, and ACK-sized packets inside bursts in both directions.
fn window() -> Vec<TracePacket> {
    vec![
        p(0, 1500, DOWN),
        p(2_000, 52, UP),
        p(12_000, 1500, DOWN),
        p(12_000, 1400, DOWN),
        p(100_012_000, 200, UP),
        p(200_012_001, 300, UP),
        p(200_012_000, 100, DOWN),
        p(200_062_000, 700, UP),
    ]
}

/// Asserts that `hist` (x-major, 32 y bins) holds exactly `expected` (x, y, count) cells.
fn assert_cells(what: &str, hist: &[u32], expected: &[(usize, usize, u32)]) {
    let mut want = vec![0u32; hist.len()];
    for &(x, y, c) in expected {
        want[x * 32 + y] += c;
    }
    for (i, (&got, &w)) in hist.iter().zip(&want).enumerate() {
        assert_eq!(got, w, "{what}: bin x={} y={}", i / 32, i % 32);
    }
}

#[test]
fn size_iat_bin_by_bin() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let h = ex.histograms(FeatureSpace::SizeIat, &window());
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].name, "size-iat");
    assert_cells(
        "size-iat",
        &h[0].counts,
        &[
            (16, 1, 1),  // +52 after 2 µs
            (0, 4, 1),   // -1500 after exactly 10 µs: edge 4 starts bin 4
            (1, 0, 1),   // -1400 after 0 ns
            (18, 20, 1), // +200 after exactly 100 ms
            (19, 20, 1), // +300 after 100 ms + 1 ns
            (14, 0, 1),  // -100 one ns in the past: clamped to 0
            (23, 6, 1),  // +700 after 50 µs
        ],
    );
    // The first packet has no predecessor in the window: N - 1 counts.
    assert_eq!(h[0].total(), 7);
}

#[test]
fn burst_bin_by_bin() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let h = ex.histograms(FeatureSpace::Burst, &window());
    // Surge A = packets 0..=4 (the 100 ms gap is not larger than the surge gap), period
    // 2000 + 10000 + 0 + 1e8 ns -> bin 20. Surge B = packets 5..=7, period 0 + 50000 -> bin 6.
    // ACKs (<= 128 B): the 52 B up packet inside the down burst and the 100 B down packet
    // inside the last up burst; neither breaks its burst.
    assert_cells(
        "burst",
        &h[0].counts,
        &[
            (8, 20, 1),  // -(1500 + 1500 + 1400) = -4400: 4096..8192 -> 15 - 7
            (18, 20, 1), // +200, cut by the surge end: 128..256 -> 16 + 2
            (20, 6, 1),  // +(300 + 700): 512..1024 -> 16 + 4
        ],
    );
}

#[test]
fn burst_with_ack_filter_off() {
    let cfg = FeatureConfig {
        ack: AckFilter::Off,
        ..FeatureConfig::paper()
    };
    let ex = Extractor::new(&cfg).unwrap();
    let h = ex.histograms(FeatureSpace::Burst, &window());
    assert_cells(
        "burst, ack off",
        &h[0].counts,
        &[
            (10, 20, 1), // -1500
            (16, 20, 1), // +52
            (9, 20, 1),  // -2900
            (18, 20, 1), // +200
            (19, 6, 1),  // +300
            (14, 6, 1),  // -100
            (20, 6, 1),  // +700
        ],
    );
}

#[test]
fn features_are_log_counts_in_histogram_order() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let w = window();
    let f = ex.extract(FeatureSpace::Combined, &w).unwrap();
    assert_eq!(f.len(), 2048);
    let hs = ex.histograms(FeatureSpace::Combined, &w);
    let counts: Vec<u32> = hs.iter().flat_map(|h| h.counts.iter().copied()).collect();
    for (v, c) in f.iter().zip(&counts) {
        assert!((v - (1.0 + *c as f32).ln()).abs() < 1e-6);
    }
    assert!((f[16 * 32 + 1] - 2f32.ln()).abs() < 1e-6);
    assert!((f[1024 + 8 * 32 + 20] - 2f32.ln()).abs() < 1e-6);
    // Repeated packets add up: a cell counted twice holds ln(3).
    let twice = [p(0, 100, UP), p(5_000, 200, UP), p(10_000, 200, UP)];
    let g = ex.extract(FeatureSpace::SizeIat, &twice).unwrap();
    let x = (200 + 1536) / 96;
    // 5000 ns: 3162 <= 5000 < 5623 -> IAT bin 2.
    assert!((g[x * 32 + 2] - 3f32.ln()).abs() < 1e-6);
}

#[test]
fn surge_gap_is_inclusive() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let gap = DEFAULT_SURGE_GAP_NS as i64;
    // Exactly the gap: one surge lasting 1e8 ns (bin 20); two bursts (direction change).
    let h = ex.histograms(FeatureSpace::Burst, &[p(0, 500, UP), p(gap, 500, DOWN)]);
    assert_cells("at gap", &h[0].counts, &[(19, 20, 1), (12, 20, 1)]);
    // One ns more: two lone-packet surges of period 0 (bin 0).
    let h = ex.histograms(FeatureSpace::Burst, &[p(0, 500, UP), p(gap + 1, 500, DOWN)]);
    assert_cells("over gap", &h[0].counts, &[(19, 0, 1), (12, 0, 1)]);
    // Same direction over the gap: the surge end splits the burst.
    let h = ex.histograms(FeatureSpace::Burst, &[p(0, 500, UP), p(gap + 1, 500, UP)]);
    assert_cells("split burst", &h[0].counts, &[(19, 0, 2)]);
    // ...and within the gap it is one burst of 1000 bytes.
    let h = ex.histograms(FeatureSpace::Burst, &[p(0, 500, UP), p(gap, 500, UP)]);
    assert_cells("one burst", &h[0].counts, &[(20, 20, 1)]);
}

#[test]
fn direction_changes_and_acks_delimit_bursts() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let t = |i: i64| i * 1_000_000; // 1 ms apart: one surge of (n-1) ms
                                    // up 500, up 500 | down 1000 | (up ACK 60) down 1000 | up 500
    let w = [
        p(t(0), 500, UP),
        p(t(1), 500, UP),
        p(t(2), 1000, DOWN),
        p(t(3), 60, UP),
        p(t(4), 1000, DOWN),
        p(t(5), 500, UP),
    ];
    // Surge period 5 ms = 5e6 ns: edges 10^6.5 = 3162278 <= 5e6 < 10^6.75 = 5623413 -> bin 14.
    let h = ex.histograms(FeatureSpace::Burst, &w);
    assert_cells(
        "bursts",
        &h[0].counts,
        &[
            (20, 14, 1), // +1000
            (10, 14, 1), // -2000: 1024..2048 -> 15 - 5
            (19, 14, 1), // +500
        ],
    );
    // A window of ACKs only has no burst at all.
    let acks = [p(0, 40, UP), p(10, 52, DOWN), p(20, 128, UP)];
    let h = ex.histograms(FeatureSpace::Burst, &acks);
    assert_eq!(h[0].total(), 0);
    // 129 bytes is above the threshold: a burst.
    let h = ex.histograms(FeatureSpace::Burst, &[p(0, 129, UP)]);
    assert_cells("129", &h[0].counts, &[(18, 0, 1)]);
}

#[test]
fn empty_and_single_packet_windows() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let f = ex.extract(FeatureSpace::Combined, &[]).unwrap();
    assert!(f.iter().all(|&v| v == 0.0));
    let one = [p(0, 1500, DOWN)];
    let h = ex.histograms(FeatureSpace::Combined, &one);
    assert_eq!(h[0].total(), 0);
    assert_cells("one", &h[1].counts, &[(10, 0, 1)]);
}

#[test]
fn output_length_is_checked() {
    let ex = Extractor::new(&FeatureConfig::paper()).unwrap();
    let mut short = vec![0.0; 1023];
    let e = ex
        .extract_into(FeatureSpace::SizeIat, &window(), &mut short)
        .unwrap_err();
    assert!(e.to_string().contains("1024"), "{e}");
}

#[test]
fn names_match_dimensions_and_edges() {
    let cfg = FeatureConfig::paper();
    let names = tapir_features::feature_names(FeatureSpace::Combined, &cfg).unwrap();
    assert_eq!(
        names.len(),
        tapir_features::dim(FeatureSpace::Combined, &cfg)
    );
    assert_eq!(
        names[0],
        "size-iat:size=-1536..-1440:iat_s=1.000e-6..1.778e-6"
    );
    assert_eq!(
        names[1024],
        "burst:bytes=-2097152..-1048576:surge_s=1.000e-6..1.778e-6"
    );
    assert_eq!(
        names[1024 + 15 * 32],
        "burst:bytes=-64..0:surge_s=1.000e-6..1.778e-6"
    );
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "names are unique");
    assert!(names.iter().all(|n| !n.contains(',') && !n.contains(' ')));
}
