//! Properties every defence keeps, on random traces: no real byte is lost, real bytes keep their
//! order within a direction, output is in time order and never before the input began, and the
//! output up to any time t depends only on the input up to t (causality).

use proptest::prelude::*;
use tapir_defense::{parse_chain, run, Defense, Direction, Pkt, Timestamp, TracePacket};

const SPECS: &[&[&str]] = &[
    &["pad-mtu"],
    &["pad-bucket:514"],
    &["pad-pow2"],
    &["pad-set:128,512,1500"],
    &["pad-random:max=300"],
    &["constant:rate=200,size=1500,min=0.5s"],
    &["constant:up=50,down=400,size=1000,pad=20"],
    &["front:n=200,wmin=0.1s,wmax=1s"],
    &["wtfpad:inter=2ms,stop=0.3"],
    &["decoy:every=0.5s,bytes=100kB,rate=50Mbit"],
    &["delay:mean=5ms"],
    &["mix:batch=7"],
    &["mix:timed=30ms"],
    &["delay:mean=3ms", "pad-bucket:514"],
    &[
        "front:n=50,wmin=0.1s,wmax=0.5s",
        "constant:rate=300,size=1500",
    ],
];

fn trace() -> impl Strategy<Value = Vec<TracePacket>> {
    prop::collection::vec((0u64..20_000_000, 40u32..1500, any::<bool>()), 1..300).prop_map(|v| {
        let mut t = 0i64;
        v.into_iter()
            .map(|(gap, size, up)| {
                // Gaps mostly small, sometimes long (a silence).
                t += if gap % 17 == 0 {
                    gap as i64 * 20
                } else {
                    gap as i64 / 40
                };
                let dir = if up { Direction::Up } else { Direction::Down };
                TracePacket::new(Timestamp::from_nanos(t), size, dir)
            })
            .collect()
    })
}

/// The defence's output over the input up to `t` (no finish: the input has not ended).
fn run_until(d: &mut dyn Defense, input: &[TracePacket], t: Timestamp) -> Vec<Pkt> {
    let mut out = Vec::new();
    for p in input.iter().filter(|p| p.ts <= t) {
        d.advance(p.ts, &mut out);
        d.send(Pkt::real(*p), &mut out);
    }
    d.advance(t, &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn defences_lose_nothing_keep_order_and_are_causal(input in trace(), cut in 0.0f64..1.0, seed in any::<u64>()) {
        for specs in SPECS {
            let (out, costs) = run(&mut parse_chain(specs, seed).unwrap(), input.iter().copied());
            prop_assert_eq!(costs.lost_bytes, 0, "{:?}", specs);
            prop_assert_eq!(costs.real_bytes, input.iter().map(|p| u64::from(p.size)).sum::<u64>());
            let real_out: u64 = out.iter().map(|p| u64::from(p.real)).sum();
            prop_assert_eq!(real_out, costs.real_bytes, "{:?}", specs);
            prop_assert!(out.windows(2).all(|w| w[0].ts <= w[1].ts), "{:?}: output out of order", specs);
            prop_assert!(out.iter().all(|p| p.ts >= input[0].ts && p.real <= p.size), "{:?}", specs);
            prop_assert!(costs.latency_max_ns >= 0, "{:?}", specs);
            // Defences that keep packets whole deliver each direction's real packets in order.
            if !specs.iter().any(|s| s.starts_with("constant")) {
                for dir in [Direction::Up, Direction::Down] {
                    let a: Vec<u32> = input.iter().filter(|p| p.dir == dir).map(|p| p.size).collect();
                    let b: Vec<u32> = out.iter().filter(|p| p.dir == dir && p.real > 0).map(|p| p.real).collect();
                    prop_assert_eq!(a, b, "{:?}", specs);
                }
            }
            // Causality: up to a time t inside the trace, the output is what the input up to t gives.
            let first = input[0].ts.as_nanos();
            let last = input[input.len() - 1].ts.as_nanos();
            let t = Timestamp::from_nanos(first + ((last - first) as f64 * cut) as i64);
            let prefix = run_until(&mut parse_chain(specs, seed).unwrap(), &input, t);
            let full: Vec<Pkt> = out.iter().copied().filter(|p| p.ts <= t).collect();
            let part: Vec<Pkt> = prefix.into_iter().filter(|p| p.ts <= t).collect();
            prop_assert_eq!(full, part, "{:?}: output up to t depends on later input", specs);
        }
    }
}
