//! The metadata attacks against defences, on hand-built sessions and small simulations with
//! known answers: the planted surge disappears under constant volume and reappears without
//! it; decoys make it a guess; broadcast hides the list in its group; a mix defeats the
//! default window but not an attacker who widens it; a shared tunnel hides the host from
//! `watch`, a one-user tunnel does not hide it from timing.

use tapir_capture::{Direction, SplitMix64, Timestamp, TracePacket};
use tapir_experiment::sequence::{sequence_rows, sequence_trial, MailScenario};
use tapir_experiment::volume::{flow_records, plant_surge, volume_trial, VolumeScenario};
use tapir_experiment::watch::{watch_trial, FlowScenario};
use tapir_experiment::{attack_matrix, AttackSettings};

/// A web-like session of about 5 s: bursts of full-size packets down, an ACK up per two.
fn session(seed: u64) -> Vec<TracePacket> {
    let mut rng = SplitMix64::new(seed);
    let mut t = 0i64;
    let mut out = Vec::new();
    for burst in 0..8 {
        t += rng.range_u64(100_000_000, 600_000_000) as i64;
        for i in 0..(30 + 10 * (burst % 3)) {
            t += rng.range_u64(100_000, 2_000_000) as i64;
            out.push(TracePacket::new(
                Timestamp::from_nanos(t),
                1500,
                Direction::Down,
            ));
            if i % 2 == 1 {
                out.push(TracePacket::new(
                    Timestamp::from_nanos(t),
                    52,
                    Direction::Up,
                ));
            }
        }
    }
    out
}

fn pool() -> Vec<Vec<TracePacket>> {
    (0..6).map(session).collect()
}

fn small_volume() -> VolumeScenario {
    VolumeScenario {
        intervals: 20,
        interval_ns: 10_000_000_000,
        surge_sessions: 4,
        record_ns: 1_000_000_000,
    }
}

const CONSTANT: &str = "constant:up=20,down=100,size=1500,min=200s";

#[test]
fn the_planted_surge_disappears_under_constant_volume_and_reappears_without_it() {
    let p = pool();
    let refs: Vec<&[TracePacket]> = p.iter().map(Vec::as_slice).collect();
    let sc = small_volume();
    for seed in 1..=3 {
        let plain = volume_trial(&refs, &sc, "none", seed).unwrap();
        assert!(plain.found, "seed {seed}: {plain:?}");
        assert_eq!(plain.surges, 1, "seed {seed}: one alert, the surge");
        assert_eq!(plain.recovery, 1.0);

        let cv = volume_trial(&refs, &sc, CONSTANT, seed).unwrap();
        assert!(!cv.found && cv.surges == 0, "seed {seed}: {cv:?}");
        assert_eq!(cv.recovery, 0.0);
        assert_eq!(cv.planted, plain.planted, "same timeline");
        assert_eq!(cv.costs.lost_bytes, 0);
        assert!(cv.costs.latency_max_ns > 0, "the surge waited in the queue");

        // Without the defence the same timeline shows the same surge again.
        let again = volume_trial(&refs, &sc, "none", seed).unwrap();
        assert_eq!(again, plain);
    }
}

#[test]
fn constant_volume_makes_every_interval_carry_the_same_bytes() {
    let p = pool();
    let refs: Vec<&[TracePacket]> = p.iter().map(Vec::as_slice).collect();
    let sc = small_volume();
    let (timeline, planted) = plant_surge(&refs, &sc, 7);
    let mut d = tapir_defense::parse_chain(&[CONSTANT], 7).unwrap();
    let (out, _) = tapir_defense::run(&mut d, timeline.iter().copied());
    let observed: Vec<TracePacket> = out.iter().map(|p| p.observed()).collect();
    let per_interval = |pk: &[TracePacket]| {
        let mut v = vec![0u64; sc.intervals];
        for e in flow_records(pk, sc.record_ns) {
            let i = (e.time.0 / sc.interval_ns) as usize;
            if i < v.len() {
                v[i] += e.bytes();
            }
        }
        v
    };
    let before = per_interval(&timeline);
    let median = {
        let mut s = before.clone();
        s.sort_unstable();
        s[s.len() / 2]
    };
    assert!(before[planted] > 3 * median, "{before:?}");
    // Full intervals of a constant channel: 10 s × (20 + 100) packets/s × 1500 bytes, give or
    // take the one slot that falls on an interval's edge.
    let after = per_interval(&observed);
    let full = 10 * 120 * 1500;
    for (i, b) in after.iter().enumerate().skip(1) {
        assert!(
            b.abs_diff(full) <= 2 * 1500,
            "interval {i}: {b} bytes, not {full}"
        );
    }
}

#[test]
fn decoys_turn_the_surge_into_a_guess() {
    let p = pool();
    let refs: Vec<&[TracePacket]> = p.iter().map(Vec::as_slice).collect();
    let sc = small_volume();
    let mut alerts = 0;
    let mut recovery = 0.0;
    for seed in 1..=4 {
        let o = volume_trial(&refs, &sc, "decoy:every=30s,bytes=2MB", seed).unwrap();
        assert!(o.costs.dummy_packets > 0);
        alerts += o.surges;
        recovery += o.recovery;
    }
    assert!(alerts > 4, "decoys raise alerts of their own: {alerts}");
    assert!(recovery / 4.0 < 0.8, "{recovery}");
}

fn small_mail() -> MailScenario {
    MailScenario {
        people: 20,
        members: 5,
        posts: 8,
        span_ns: 6 * 3_600_000_000_000,
        background: 150,
        server_mail: 10,
        server_inbound: 5,
    }
}

#[test]
fn broadcast_hides_the_list_in_its_group_at_the_price_of_the_deliveries() {
    let sc = small_mail();
    let plain = sequence_trial(&sc, "none", 3).unwrap();
    assert_eq!(plain.naive, 1.0, "{plain:?}");
    assert_eq!(plain.found, 5);
    let b = sequence_trial(&sc, "broadcast:group=20", 3).unwrap();
    // The attacker names everyone the server broadcasts to: the 5 members among 20.
    assert!(b.naive <= 5.0 / 20.0 + 1e-9, "{b:?}");
    assert!(b.found >= 19, "{b:?}");
    // Every message now goes to the whole group: exact deliveries, no delay.
    assert_eq!(
        b.costs.dummy_packets,
        b.costs.out_packets - b.costs.real_packets
    );
    assert!(b.costs.out_packets >= 18 * 19, "{:?}", b.costs);
    assert_eq!(b.costs.latency_max_ns, 0);
    assert!(sequence_trial(&sc, "broadcast:everyone", 3).is_err());
    assert!(
        sequence_trial(&sc, "pad-mtu", 3).is_err(),
        "padding resizes mail"
    );
}

#[test]
fn a_mix_defeats_the_default_window_not_an_attacker_who_widens_it() {
    let sc = small_mail();
    let rows = sequence_rows(&sc, &["none", "mix:timed=600s"], 4, 11).unwrap();
    assert_eq!(rows[0].naive, 1.0);
    let mix = &rows[1];
    let adaptive = mix.adaptive.unwrap();
    assert!(mix.naive < 0.75, "{mix:?}");
    assert!(adaptive > mix.naive + 0.2, "{mix:?}");
    // A timed mix of 10 minutes: nobody waits longer than a period.
    assert!(mix.latency_p99_ms <= 600_000.0 && mix.latency_median_ms > 0.0);
}

#[test]
fn a_shared_tunnel_hides_the_host_from_watch_but_timing_still_points() {
    let sc = FlowScenario {
        hosts: 8,
        flows: 30,
        ..FlowScenario::default()
    };
    let plain = watch_trial(&sc, "none", 5).unwrap();
    assert_eq!((plain.named, plain.correlated), (1.0, 1.0));
    assert_eq!(plain.costs.out_bytes, plain.costs.real_bytes);
    let one = watch_trial(&sc, "tunnel:hosts=1", 5).unwrap();
    assert_eq!(one.named, 0.0, "watch names the endpoint, not the host");
    assert_eq!(
        one.correlated, 1.0,
        "alone in its tunnel, timing gives it away"
    );
    let all = watch_trial(&sc, "tunnel:hosts=8", 5).unwrap();
    assert_eq!(all.named, 0.0);
    assert!(all.correlated < 0.9, "{all:?}");
    assert!(
        all.costs.out_bytes > all.costs.real_bytes,
        "encapsulation costs bytes"
    );
    assert!(watch_trial(&sc, "tunnel:all", 5).is_err());
}

#[test]
fn the_matrix_has_a_row_per_attack_and_setting_with_its_costs() {
    let p = pool();
    let refs: Vec<&[TracePacket]> = p.iter().map(Vec::as_slice).collect();
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let a = AttackSettings {
        trials: 2,
        seed: 1,
        volume: small_volume(),
        mail: small_mail(),
        flows: FlowScenario {
            hosts: 5,
            flows: 20,
            ..FlowScenario::default()
        },
        volume_specs: own(&["none", CONSTANT, "decoy:every=30s,bytes=2MB"]),
        sequence_specs: own(&["none", "delay:mean=600s", "broadcast:group=10"]),
        watch_specs: own(&["none", "tunnel:hosts=5"]),
    };
    let m = attack_matrix("test", &refs, &a).unwrap();
    let names: Vec<(&str, &str)> = m
        .rows
        .iter()
        .map(|r| (r.attack.as_str(), r.spec.as_str()))
        .collect();
    assert_eq!(names.len(), 8);
    assert_eq!(names[0], ("volume", "none"));
    assert_eq!(names[3], ("sequence", "none"));
    assert_eq!(names[7], ("watch", "tunnel:hosts=5"));
    for r in &m.rows {
        assert!((0.0..=1.0).contains(&r.naive), "{r:?}");
        if r.spec == "none" {
            assert_eq!(r.naive, 1.0, "undefended, every attack succeeds: {r:?}");
            assert_eq!((r.overhead, r.latency_p99_ms), (0.0, 0.0));
        } else {
            assert!(r.best() < 1.0 || r.attack == "sequence", "{r:?}");
        }
    }
    let cv = &m.rows[1];
    assert!(cv.overhead > 1.0 && cv.latency_p99_ms > 0.0, "{cv:?}");
    let bc = &m.rows[5];
    assert!(bc.extra > 0.5 && bc.extra_unit == "deliveries", "{bc:?}");
    assert!(attack_matrix("test", &[], &a).is_err());
    // Scenarios too small to mean anything are refused with the reason, never a panic.
    let short = VolumeScenario {
        intervals: 3,
        ..small_volume()
    };
    let e = volume_trial(&refs, &short, "none", 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 10 intervals"), "{e}");
    let lonely = MailScenario {
        people: 1,
        members: 1,
        ..small_mail()
    };
    assert!(sequence_trial(&lonely, "none", 1).is_err());
    let crowd = FlowScenario {
        hosts: 1000,
        ..FlowScenario::default()
    };
    assert!(watch_trial(&crowd, "none", 1).is_err());
}

#[test]
fn broadcast_over_mail_events_adds_exactly_the_missing_deliveries() {
    use tapir_analysis::Event;
    use tapir_experiment::sequence::broadcast;
    let at = |s: i64| Timestamp::from_nanos(s * 1_000_000_000);
    let copy = |t: i64, to: &str, size: u64, id: Option<&str>| {
        let mut e = Event::mail(at(t), "hub@x.org", to, size);
        e.label = id.map(String::from);
        e
    };
    let events = vec![
        copy(0, "a@x.org", 1000, Some("<1@x>")),
        copy(0, "b@x.org", 1010, Some("<1@x>")),
        Event::mail(at(1), "a@x.org", "hub@x.org", 500),
        copy(5, "c@x.org", 300, None),
    ];
    let group: Vec<String> = ["A@x.org", "b@x.org", "d@x.org", "hub@x.org"]
        .map(String::from)
        .to_vec();
    let (out, costs) = broadcast(&events, "hub@x.org", &group);
    // Message <1@x> went to a and b: d is added. The id-less one to c: a, b and d are added.
    assert_eq!(costs.real_packets, 3);
    assert_eq!(costs.dummy_packets, 4);
    assert_eq!(costs.out_packets, 7);
    assert_eq!(costs.real_bytes, 2310);
    assert_eq!(costs.out_bytes, 2310 + 1000 + 3 * 300);
    assert_eq!(out.len(), 8);
    assert!(out.windows(2).all(|w| w[0].time <= w[1].time));
    let to_d: Vec<&Event> = out.iter().filter(|e| e.dst == "d@x.org").collect();
    assert_eq!(to_d.len(), 2);
    assert_eq!(to_d[0].label.as_deref(), Some("<1@x>"));
    assert_eq!((to_d[0].size, to_d[1].size), (1000, 300));
    assert!(
        to_d[0].time > at(0),
        "added copies leave after the message's own"
    );
    // Everything else passes unchanged.
    assert!(events.iter().all(|e| out.contains(e)));
}
