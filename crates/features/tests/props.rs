//! Properties over arbitrary windows and configurations.

use proptest::prelude::*;
use tapir_capture::{Direction, Timestamp, TracePacket};
use tapir_features::{
    AckFilter, Axis, Extractor, FeatureConfig, FeatureSpace, Scale, WindowSpec, Windower,
};

fn packet() -> impl Strategy<Value = TracePacket> {
    (any::<i64>(), any::<u32>(), any::<bool>()).prop_map(|(t, s, up)| {
        TracePacket::new(
            Timestamp(t),
            s,
            if up { Direction::Up } else { Direction::Down },
        )
    })
}

/// Mostly increasing times with occasional jumps backwards and huge gaps.
fn plausible_window() -> impl Strategy<Value = Vec<TracePacket>> {
    prop::collection::vec(
        (-1_000i64..2_000_000_000, 0u32..70_000, any::<bool>()),
        0..300,
    )
    .prop_map(|v| {
        let mut t = 0i64;
        v.into_iter()
            .map(|(d, s, up)| {
                t = t.saturating_add(d);
                TracePacket::new(
                    Timestamp(t),
                    s,
                    if up { Direction::Up } else { Direction::Down },
                )
            })
            .collect()
    })
}

fn axis() -> impl Strategy<Value = Axis> {
    (
        prop_oneof![
            Just(Scale::Linear),
            Just(Scale::Log),
            Just(Scale::SignedLog)
        ],
        -1e12f64..1e12,
        -1e12f64..1e12,
        0usize..140,
    )
        .prop_map(|(s, a, b, n)| Axis::new(s, a, b, n))
}

fn count_bursts_naive(w: &[TracePacket], ack_max: u32, gap: i64) -> u64 {
    let mut n = 0;
    let mut open: Option<Direction> = None;
    for (i, p) in w.iter().enumerate() {
        if i > 0 && (p.ts.0.saturating_sub(w[i - 1].ts.0)).max(0) > gap {
            open = None;
        }
        if p.size <= ack_max {
            continue;
        }
        if open != Some(p.dir) {
            n += 1;
            open = Some(p.dir);
        }
    }
    n
}

proptest! {
    #[test]
    fn arbitrary_windows_give_finite_features(w in prop::collection::vec(packet(), 0..200)) {
        let ex = Extractor::new(&FeatureConfig::default()).unwrap();
        for space in FeatureSpace::ALL {
            let f = ex.extract(space, &w).unwrap();
            prop_assert!(f.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
    }

    #[test]
    fn counts_add_up(w in plausible_window()) {
        let cfg = FeatureConfig::default();
        let ex = Extractor::new(&cfg).unwrap();
        let h = ex.histograms(FeatureSpace::Combined, &w);
        prop_assert_eq!(h[0].total(), w.len().saturating_sub(1) as u64);
        // The relative rule's limit for this window, then the naive count with it; and the
        // paper's fixed rule.
        let bytes = ex.ack_limit(&w).unwrap();
        prop_assert_eq!(
            h[1].total(),
            count_bursts_naive(&w, bytes, cfg.surge_gap_ns as i64)
        );
        let paper = Extractor::new(&FeatureConfig::paper()).unwrap();
        prop_assert_eq!(
            paper.histograms(FeatureSpace::Burst, &w)[0].total(),
            count_bursts_naive(&w, 128, cfg.surge_gap_ns as i64)
        );
        let f = ex.extract(FeatureSpace::Combined, &w).unwrap();
        prop_assert!(f.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn arbitrary_configs_never_panic(
        a in axis(), b in axis(), c in axis(), d in axis(),
        gap in any::<u64>(), ack in prop::option::of(any::<u32>()),
        rel in prop::option::of((any::<u32>(), any::<u32>(), any::<u32>())),
        w in prop::collection::vec(packet(), 0..50),
    ) {
        let ack = match (rel, ack) {
            (Some((percentile, margin, max_bytes)), _) => AckFilter::Relative {
                percentile: percentile % 60,
                margin,
                max_bytes: max_bytes % 2000,
            },
            (None, a) => a.map_or(AckFilter::Off, |bytes| AckFilter::MaxSize { bytes }),
        };
        let cfg = FeatureConfig {
            size_axis: a, iat_axis: b, burst_axis: c, surge_axis: d,
            ack,
            surge_gap_ns: gap,
            coalesced: Default::default(),
        };
        if let Ok(ex) = Extractor::new(&cfg) {
            let f = ex.extract(FeatureSpace::Combined, &w).unwrap();
            prop_assert_eq!(f.len(), tapir_features::dim(FeatureSpace::Combined, &cfg));
            prop_assert!(f.iter().all(|v| v.is_finite()));
            let h = ex.histograms(FeatureSpace::Combined, &w);
            for hist in &h {
                prop_assert!(hist.x_edges.windows(2).all(|e| e[0] < e[1]));
                prop_assert!(hist.y_edges.windows(2).all(|e| e[0] < e[1]));
            }
        }
    }

    #[test]
    fn windower_matches_slicing(n in 0usize..300, window in 2usize..20, stride in 1usize..20) {
        let stride = stride.min(window);
        let packets: Vec<TracePacket> = (0..n as i64)
            .map(|i| TracePacket::new(Timestamp(i), 100, Direction::Up))
            .collect();
        let spec = WindowSpec::new(window, Some(stride)).unwrap();
        let mut w = Windower::new(spec);
        let mut got = Vec::new();
        for &p in &packets {
            if let Some(win) = w.push(p) {
                got.push(win.to_vec());
            }
        }
        let want: Vec<Vec<TracePacket>> = (0..)
            .map(|k| k * stride)
            .take_while(|s| s + window <= n)
            .map(|s| packets[s..s + window].to_vec())
            .collect();
        let sliced: Vec<Vec<TracePacket>> = spec.windows(&packets).map(<[_]>::to_vec).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(sliced, want);
    }
}
