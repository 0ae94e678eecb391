//! A live source that waits with no packet ends the units idle past their timeout then, with
//! their events, not at the next packet or the end: a flow that stops gets its summary on
//! time.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use tapir_capture::{
    CaptureError, LinkType, PacketSource, Position, RawPacket, SourceItem, Timestamp,
};
use tapir_dataset::{visit_source, ExtractSettings, UnitEvent, Visit};
use tapir_features::WindowSpec;
use tapir_flow::Unit;

const S: i64 = 1_000_000_000;

enum Item {
    /// A UDP packet from 10.0.0.1:`port` to 10.0.0.2:53 (a host of its own per port for
    /// host pairs) at this many nanoseconds.
    Packet(i64, u16),
    /// No packet; the clock reads this.
    Idle(i64),
}

/// Hands its items out in order and logs each pause.
struct Script {
    items: Vec<Item>,
    at: usize,
    frame: Vec<u8>,
    log: Rc<RefCell<Vec<String>>>,
}

impl PacketSource for Script {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        unreachable!("a source with pauses is read with next_item")
    }

    fn position(&self) -> Position {
        Position::Packet(self.at as u64)
    }

    fn next_item(&mut self) -> Option<Result<SourceItem<'_>, CaptureError>> {
        let item = self.items.get(self.at)?;
        self.at += 1;
        match *item {
            Item::Idle(t) => {
                self.log.borrow_mut().push(format!("idle {}", t / S));
                Some(Ok(SourceItem::Idle(Timestamp(t))))
            }
            Item::Packet(t, port) => {
                self.frame.clear();
                let src = [10, 0, (port >> 8) as u8, port as u8];
                etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
                    .ipv4(src, [10, 0, 0, 2], 64)
                    .udp(port, 53)
                    .write(&mut self.frame, &[0u8; 100])
                    .unwrap();
                Some(Ok(SourceItem::Packet(RawPacket {
                    ts: Timestamp(t),
                    link_type: LinkType::ETHERNET,
                    orig_len: self.frame.len() as u32,
                    data: &self.frame,
                    interface: 0,
                })))
            }
        }
    }
}

/// The log of a run: pauses, and each unit's end with its packets.
fn run(unit: Unit) -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut items = Vec::new();
    // Two units of three packets in the first second, a unit that goes on, then pauses.
    for k in 0..3 {
        items.push(Item::Packet(k * 100_000_000, 1000));
        items.push(Item::Packet(k * 100_000_000 + 1, 2000));
    }
    items.push(Item::Packet(30 * S, 3000));
    items.push(Item::Idle(50 * S));
    items.push(Item::Packet(55 * S, 3000));
    items.push(Item::Idle(62 * S));
    items.push(Item::Idle(70 * S));
    let mut src = Script {
        items,
        at: 0,
        frame: Vec::new(),
        log: log.clone(),
    };
    let settings = ExtractSettings {
        unit,
        window: WindowSpec::disjoint(2).unwrap(),
        ..Default::default()
    };
    let sink = log.clone();
    visit_source(Path::new("test0"), &mut src, None, &settings, &mut |ev| {
        if let UnitEvent::UnitEnd { packets, .. } = ev {
            sink.borrow_mut().push(format!("end {packets}"));
        }
        Ok(Visit::Continue)
    })
    .unwrap();
    let v = log.borrow().clone();
    v
}

#[test]
fn units_idle_past_their_timeout_end_at_a_pause() {
    for unit in [Unit::Flow, Unit::Pair] {
        // 60 s without a packet ends a flow or a pair: the first two end at the pause at 62 s,
        // not at the end of the input; the third, seen at 55 s, ends only at the end.
        assert_eq!(
            run(unit),
            ["idle 50", "idle 62", "end 3", "end 3", "idle 70", "end 2"],
            "{unit:?}"
        );
    }
}
