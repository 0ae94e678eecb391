//! Packets to traces: which unit of analysis a packet belongs to, and which way it travels.

use crate::hash::{FastHasher, FastMap};
use crate::key::{proto, Endpoint, FlowKey, PairKey, Side};
use crate::lru::{unindex, Lru, NIL};
use crate::Cidr;
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::net::IpAddr;
use std::str::FromStr;
use tapir_capture::{Direction, Timestamp, TracePacket};

/// What one packet tells the flow layer. Built from a decoded IP header
/// (`PacketMeta::from_ip`) or by hand in tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    pub ts: Timestamp,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    /// 0 where the protocol has no ports or the header was cut.
    pub src_port: u16,
    pub dst_port: u16,
    /// IP length in bytes (from the IP header, so snaplen does not matter).
    pub ip_len: u32,
    pub tcp_flags: u8,
    /// A fragment other than the first: it has no transport header.
    pub later_fragment: bool,
}

impl PacketMeta {
    /// From a decoded IP header and the packet's capture time.
    pub fn from_ip(ts: Timestamp, ip: &tapir_capture::IpInfo) -> Self {
        PacketMeta {
            ts,
            src: ip.src,
            dst: ip.dst,
            proto: ip.proto,
            src_port: ip.src_port,
            dst_port: ip.dst_port,
            ip_len: ip.ip_len,
            tcp_flags: ip.tcp_flags,
            later_fragment: ip.fragment == tapir_capture::Fragment::Later,
        }
    }
}

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

/// The unit of analysis: what one trace is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// The whole capture is one trace (the paper's traces are whole tunnels).
    #[default]
    Capture,
    /// One trace per bidirectional flow (5-tuple; ESP by endpoints).
    Flow,
    /// One trace per host pair, all protocols together.
    Pair,
}

impl Unit {
    /// Every unit, in the order `tapir --help` lists them.
    pub const ALL: [Unit; 3] = [Unit::Capture, Unit::Flow, Unit::Pair];

    /// The name on the command line (`--by`) and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Unit::Capture => "capture",
            Unit::Flow => "flow",
            Unit::Pair => "pair",
        }
    }
}

impl FromStr for Unit {
    type Err = String;

    /// Accepts the names of [`Unit::name`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Unit::ALL
            .into_iter()
            .find(|u| u.name() == s)
            .ok_or_else(|| format!("unknown unit {s:?}: expected capture, flow or pair"))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the client (the "upstream" end) is chosen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClientRule {
    /// Flows and pairs: the initiator. Whole captures: the capture's own host, the address seen
    /// in the most packets (see [`HostCounter`]; tapir-dataset counts the first 65,536).
    #[default]
    Auto,
    /// Addresses in these prefixes are clients (`--client CIDR`).
    Prefixes(Vec<Cidr>),
}

impl ClientRule {
    /// Whether `ip` is a client by this rule (never, for [`ClientRule::Auto`]).
    pub fn matches(&self, ip: IpAddr) -> bool {
        match self {
            ClientRule::Auto => false,
            ClientRule::Prefixes(p) => p.iter().any(|c| c.contains(ip)),
        }
    }
}

/// Counts how many packets each address appears in, to find a capture's own host.
///
/// A "first private address" rule picks routers and link-local neighbours on real captures; the
/// host that appears in the most packets is the one the capture was taken on (or for).
///
/// Packets of one conversation come in runs: a packet between the same two addresses as the
/// one before it (either way round) adds to a run that goes into the table when the run ends,
/// so a run of packets costs one table update per address, not one per packet.
#[derive(Debug)]
pub struct HostCounter {
    counts: FastMap<IpAddr, u64>,
    /// The addresses of the last packet, and how many packets after the first of the run
    /// (which went into the table when it came) are not counted yet.
    run: Option<(IpAddr, IpAddr, u64)>,
    limit: usize,
}

/// The table stops learning new addresses past this size, so a scan or a spoofed flood cannot
/// grow it without bound; the capture's own host is seen early and often.
const HOST_COUNTER_LIMIT: usize = 1 << 20;

impl Default for HostCounter {
    fn default() -> Self {
        Self::with_limit(HOST_COUNTER_LIMIT)
    }
}

impl HostCounter {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_limit(limit: usize) -> Self {
        HostCounter {
            counts: FastMap::default(),
            run: None,
            limit,
        }
    }

    #[inline]
    pub fn add(&mut self, src: IpAddr, dst: IpAddr) {
        if let Some((a, b, n)) = &mut self.run {
            if (*a == src && *b == dst) || (*a == dst && *b == src) {
                *n += 1;
                return;
            }
        }
        self.end_run();
        self.count(src, dst, 1);
        self.run = Some((src, dst, 0));
    }

    /// The run's packets after its first go into the table. The first packet has put both
    /// addresses in, or found the table full, and nothing was added since: these packets
    /// only add to counts that are there.
    fn end_run(&mut self) {
        if let Some((a, b, n)) = self.run.take() {
            if n > 0 {
                self.count(a, b, n);
            }
        }
    }

    fn count(&mut self, src: IpAddr, dst: IpAddr, n: u64) {
        for ip in [src, dst] {
            if let Some(c) = self.counts.get_mut(&ip) {
                *c += n;
            } else if self.counts.len() < self.limit {
                self.counts.insert(ip, n);
            }
        }
    }

    /// The most frequent address; ties go to the lower address so the answer is deterministic.
    pub fn host(&self) -> Option<IpAddr> {
        // The open run counts too, without ending it.
        let pending = |ip: &IpAddr| match self.run {
            Some((a, b, n)) => n * (u64::from(a == *ip) + u64::from(b == *ip)),
            None => 0,
        };
        self.counts
            .iter()
            .map(|(ip, c)| (ip, c + pending(ip)))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(ip, _)| *ip)
    }
}

/// The identity of a unit: what a trace of this unit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnitKey {
    Capture,
    Flow(FlowKey),
    Pair(PairKey),
}

/// What the assembler knows about one live unit.
#[derive(Clone, Debug)]
pub struct UnitInfo {
    /// Sequential id, in order of first packet; stable within one file.
    pub id: u64,
    pub key: UnitKey,
    /// Which side of the key is the client (for `Capture`, unused).
    pub client: Side,
    pub first: Timestamp,
    pub last: Timestamp,
    pub packets: u64,
    pub bytes: u64,
}

impl UnitInfo {
    /// A human description: `capture`, `tcp 10.0.0.1:5555 > 10.0.0.2:443` or `10.0.0.1 > 10.0.0.2`.
    pub fn describe(&self) -> String {
        self.describe_with(|a| a)
    }

    /// [`UnitInfo::describe`] with every address passed through `f` (pseudonyms for
    /// `--anonymize`).
    pub fn describe_with(&self, f: impl Fn(IpAddr) -> IpAddr) -> String {
        match self.key {
            UnitKey::Capture => "capture".into(),
            UnitKey::Flow(k) => k.map_addrs(f).describe(self.client),
            UnitKey::Pair(k) => {
                let k = k.map_addrs(f);
                format!("{} > {}", k.end(self.client), k.end(self.client.other()))
            }
        }
    }
}

/// One packet placed in its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub unit: u64,
    pub packet: TracePacket,
    /// This packet opened the unit.
    pub new_unit: bool,
    /// The unit's slot in the assembler's table while it is live (0 for a whole capture): a
    /// caller can keep per-unit state in a vector by slot, as with
    /// [`crate::FlowPlacement::slot`]. A slot is reused once its unit has ended
    /// ([`Assembler::drain_ended_slots`]).
    pub slot: u32,
}

/// Settings for [`Assembler`].
#[derive(Clone, Debug)]
pub struct AssembleConfig {
    pub unit: Unit,
    pub client: ClientRule,
    /// For `Unit::Capture` with `ClientRule::Auto`: the capture's own host, found with
    /// [`HostCounter`] (tapir-dataset counts the first 65,536 IP packets). `None` then means
    /// "the source of the first packet".
    pub host: Option<IpAddr>,
    /// A flow or pair with no packet for this long ends; a later packet starts a new unit.
    pub idle_timeout_ns: i64,
    /// At most this many live units; past it the least recently seen are ended first.
    pub max_units: usize,
}

impl Default for AssembleConfig {
    fn default() -> Self {
        AssembleConfig {
            unit: Unit::Capture,
            client: ClientRule::Auto,
            host: None,
            // The flow table's: a host pair or flow goes quiet by the same rule as a record
            // of `tapir flows`. The cap below bounds memory whatever the timeout.
            idle_timeout_ns: crate::FlowTableConfig::DEFAULT_IDLE_TIMEOUT,
            max_units: 65_536,
        }
    }
}

/// Places packets in units and gives each its direction. Streaming: one call per packet, memory
/// bounded by `max_units`.
///
/// ```
/// use tapir_flow::{Assembler, AssembleConfig, PacketMeta, Unit};
/// use tapir_capture::{Direction, Timestamp};
/// let mut asm = Assembler::new(AssembleConfig { unit: Unit::Flow, ..Default::default() });
/// let p = PacketMeta { ts: Timestamp(0), src: "10.0.0.1".parse().unwrap(), dst: "10.0.0.2".parse().unwrap(),
///     proto: 6, src_port: 5555, dst_port: 443, ip_len: 60, tcp_flags: 0x02, later_fragment: false };
/// let placed = asm.push(&p);
/// assert_eq!(placed.packet.dir, Direction::Up);
/// assert!(placed.new_unit);
/// ```
#[derive(Debug)]
pub struct Assembler {
    cfg: AssembleConfig,
    /// The whole capture's one unit (`Unit::Capture`), kept apart from `units`: every packet
    /// goes to it, so it is found without hashing.
    capture: Option<UnitInfo>,
    /// Each live flow or pair's slot in `lru`, found by the key's hash (kept in the slot), as
    /// in the flow table.
    index: HashTable<u32>,
    hasher: BuildHasherDefault<FastHasher>,
    /// Live flows or pairs, linked in the order of their last packet: the least recently seen
    /// is the first to time out and the one a full table ends.
    lru: Lru<UnitKey, UnitInfo>,
    next_id: u64,
    /// (src, dst, proto) → ports of the last first fragment, so later fragments join their flow.
    frag_ports: FastMap<(IpAddr, IpAddr, u8), (u16, u16)>,
    /// Ended units with the slots they had.
    ended: Vec<(u32, UnitInfo)>,
    capture_host: Option<IpAddr>,
    /// Units ended early because the table was full.
    evicted: u64,
    /// The slot of the unit the last packet was placed in ([`NIL`]: none).
    last_slot: u32,
}

const FRAG_CACHE_LIMIT: usize = 4096;

impl Assembler {
    pub fn new(cfg: AssembleConfig) -> Self {
        let capture_host = cfg.host;
        Assembler {
            cfg,
            capture: None,
            index: HashTable::new(),
            hasher: BuildHasherDefault::default(),
            lru: Lru::new(),
            next_id: 0,
            frag_ports: FastMap::default(),
            ended: Vec::new(),
            capture_host,
            evicted: 0,
            last_slot: NIL,
        }
    }

    pub fn config(&self) -> &AssembleConfig {
        &self.cfg
    }

    /// Place one packet.
    pub fn push(&mut self, p: &PacketMeta) -> Placed {
        if self.cfg.unit == Unit::Capture {
            return self.push_capture(p.ts, p.ip_len, &p.src);
        }
        self.push_keyed(p)
    }

    /// Place one decoded packet: [`push`](Self::push) with `PacketMeta::from_ip(ts, ip)`,
    /// without copying the header for a whole capture. Copying addresses the decoder has just
    /// written costs a store-forwarding stall (a 16-byte load over the narrower stores of a
    /// tag and four address bytes) on every packet.
    #[inline]
    pub fn push_ip(&mut self, ts: Timestamp, ip: &tapir_capture::IpInfo) -> Placed {
        if self.cfg.unit == Unit::Capture {
            return self.push_capture(ts, ip.ip_len, &ip.src);
        }
        self.push_keyed(&PacketMeta::from_ip(ts, ip))
    }

    /// Place one packet of a whole capture (an assembler of [`Unit::Capture`]) from the only
    /// fields that unit needs: its time, IP length and source. The one unit never idles out.
    /// Other units are keyed by ports and protocol too: they go through
    /// [`push`](Self::push) or [`push_ip`](Self::push_ip).
    #[inline]
    pub fn push_capture(&mut self, ts: Timestamp, ip_len: u32, src: &IpAddr) -> Placed {
        debug_assert_eq!(self.cfg.unit, Unit::Capture);
        let new_unit = self.capture.is_none();
        let u = match &mut self.capture {
            Some(u) => u,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.capture.insert(UnitInfo {
                    id,
                    key: UnitKey::Capture,
                    client: Side::A,
                    first: ts,
                    last: ts,
                    packets: 0,
                    bytes: 0,
                })
            }
        };
        u.packets += 1;
        u.bytes += ip_len as u64;
        if ts > u.last {
            u.last = ts;
        }
        let dir = capture_direction(&self.cfg.client, &mut self.capture_host, src);
        Placed {
            unit: u.id,
            packet: TracePacket::new(ts, ip_len, dir),
            new_unit,
            slot: 0,
        }
    }

    /// A flow or host pair (a whole capture is `push`'s own case). Constant time whatever
    /// the number of live units: one index lookup, a move to the tail of the list, and at most
    /// the units that end here (idle at the head, or the head of a full table).
    fn push_keyed(&mut self, p: &PacketMeta) -> Placed {
        let (key, side) = self.key_of(p);
        let idle = self.cfg.idle_timeout_ns;
        // Units idle past the timeout end before this packet, least recently seen first.
        self.sweep(p.ts);
        let hash = self.hasher.hash_one(key);
        let slots = &self.lru.slots;
        let found = self
            .index
            .find(hash, |&i| slots[i as usize].key == key)
            .copied();
        let (i, new_unit) = match found {
            Some(i) if p.ts.nanos_since(self.lru.slots[i as usize].value.last) <= idle => {
                self.lru.touch(i);
                (i, false)
            }
            found => {
                // A unit idle past the timeout (the sweep stops at the first live unit, so it
                // may be further along) ends here and the packet starts a new one.
                if let Some(i) = found {
                    self.end(i);
                }
                if self.index.len() >= self.cfg.max_units {
                    self.make_room();
                }
                let id = self.next_id;
                self.next_id += 1;
                let client = choose_client(&self.cfg.client, p, side);
                let info = UnitInfo {
                    id,
                    key,
                    client,
                    first: p.ts,
                    last: p.ts,
                    packets: 0,
                    bytes: 0,
                };
                let i = self.lru.push_back(key, hash, info);
                let slots = &self.lru.slots;
                self.index
                    .insert_unique(hash, i, |&j| slots[j as usize].hash);
                (i, true)
            }
        };
        let unit = &mut self.lru.slots[i as usize].value;
        unit.packets += 1;
        unit.bytes += p.ip_len as u64;
        if p.ts > unit.last {
            unit.last = p.ts;
        }
        let dir = if side == unit.client {
            Direction::Up
        } else {
            Direction::Down
        };
        self.last_slot = i;
        Placed {
            unit: unit.id,
            packet: TracePacket::new(p.ts, p.ip_len, dir),
            new_unit,
            slot: i,
        }
    }

    /// Ends the live unit in slot `i`.
    fn end(&mut self, i: u32) {
        let slot = &self.lru.slots[i as usize];
        let hash = slot.hash;
        self.ended.push((i, slot.value.clone()));
        unindex(&mut self.index, hash, i);
        self.lru.remove(i);
        if self.last_slot == i {
            self.last_slot = NIL;
        }
    }

    /// Ends the units idle past the timeout by `now` (a live source's clock while no packet
    /// comes); they are in [`Assembler::take_ended`] next. A whole capture never idles out.
    pub fn expire(&mut self, now: Timestamp) {
        self.sweep(now);
    }

    /// Units that ended (idle timeout or table full) since the last call. Their ids never come
    /// back; a caller holding per-unit state can drop it.
    pub fn take_ended(&mut self) -> Vec<UnitInfo> {
        self.ended.drain(..).map(|(_, u)| u).collect()
    }

    /// The ids and slots ([`Placed::slot`]) of the units ended since the last call, in the
    /// order they ended, for a caller that keeps per-unit state by slot.
    #[inline]
    pub fn drain_ended_slots(&mut self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.ended.drain(..).map(|(slot, u)| (u.id, slot))
    }

    /// End every unit (end of input) and return all ended units, in id order.
    pub fn finish(&mut self) -> Vec<UnitInfo> {
        let mut all: Vec<UnitInfo> = self.ended.drain(..).map(|(_, u)| u).collect();
        all.extend(self.capture.take());
        all.extend(self.lru.iter().map(|slot| slot.value.clone()));
        self.index.clear();
        self.lru = Lru::new();
        self.last_slot = NIL;
        all.sort_by_key(|u| u.id);
        all
    }

    /// The live units, in no particular order.
    pub fn live_units(&self) -> impl Iterator<Item = &UnitInfo> {
        self.capture
            .iter()
            .chain(self.lru.iter().map(|slot| &slot.value))
    }

    /// The unit the last [`push`](Self::push) placed its packet in, if it is still live: one
    /// lookup, where finding it among [`live_units`](Self::live_units) is a pass over them all.
    pub fn last_unit(&self) -> Option<&UnitInfo> {
        if self.cfg.unit == Unit::Capture {
            return self.capture.as_ref();
        }
        match self.last_slot {
            NIL => None,
            i => self.lru.slots.get(i as usize).map(|slot| &slot.value),
        }
    }

    /// Units ended early so far because `max_units` were live (not those that went idle).
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Ends the units idle past the timeout by `now`, from the least recently seen on, up to
    /// the first that is not: constant time per unit ended, and a look at one unit otherwise.
    fn sweep(&mut self, now: Timestamp) {
        let idle = self.cfg.idle_timeout_ns;
        loop {
            let i = self.lru.head;
            match self.lru.slots.get(i as usize) {
                Some(slot) if now.nanos_since(slot.value.last) > idle => self.end(i),
                _ => break,
            }
        }
    }

    /// The table is full: the least recently seen unit ends (its idle peers have already
    /// ended in the sweep before), counted as evicted. Constant time, so a flood of new units
    /// costs one removal each whatever the size of the table.
    fn make_room(&mut self) {
        let i = self.lru.head;
        if i != NIL {
            self.end(i);
            self.evicted += 1;
        }
    }

    fn key_of(&mut self, p: &PacketMeta) -> (UnitKey, Side) {
        match self.cfg.unit {
            Unit::Capture => (UnitKey::Capture, Side::A),
            Unit::Pair => {
                let (k, s) = PairKey::new(p.src, p.dst);
                (UnitKey::Pair(k), s)
            }
            Unit::Flow => {
                let (sp, dp) = self.ports_of(p);
                let (k, s) = FlowKey::new(
                    p.proto,
                    Endpoint {
                        addr: p.src,
                        port: sp,
                    },
                    Endpoint {
                        addr: p.dst,
                        port: dp,
                    },
                );
                (UnitKey::Flow(k), s)
            }
        }
    }

    fn ports_of(&mut self, p: &PacketMeta) -> (u16, u16) {
        if !proto::has_ports(p.proto) {
            return (0, 0);
        }
        let fk = (p.src, p.dst, p.proto);
        if p.later_fragment {
            // A later fragment carries no ports: it joins the flow of the latest first fragment
            // between the same hosts (fragments of one datagram travel back to back).
            return self.frag_ports.get(&fk).copied().unwrap_or((0, 0));
        }
        if self.frag_ports.contains_key(&fk) || self.frag_ports.len() < FRAG_CACHE_LIMIT {
            self.frag_ports.insert(fk, (p.src_port, p.dst_port));
        }
        (p.src_port, p.dst_port)
    }
}

/// The client of a new flow or pair: `--client` if it names either end, else the initiator
/// (the sender of the first packet; for TCP, a first packet that is a SYN-ACK means the SYN was
/// missed, so its receiver initiated).
fn choose_client(rule: &ClientRule, p: &PacketMeta, side: Side) -> Side {
    if rule.matches(p.src) {
        return side;
    }
    if rule.matches(p.dst) {
        return side.other();
    }
    if p.proto == proto::TCP && p.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK {
        return side.other();
    }
    side
}

/// Direction of a packet in a whole-capture trace: upstream when its source is the client
/// (`--client` prefixes, else the capture's host). A packet between two other hosts counts as
/// downstream; such transit packets are rare in an endpoint capture.
#[inline]
fn capture_direction(rule: &ClientRule, host: &mut Option<IpAddr>, src: &IpAddr) -> Direction {
    let up = match rule {
        ClientRule::Prefixes(_) => rule.matches(*src),
        ClientRule::Auto => host.get_or_insert(*src) == src,
    };
    if up {
        Direction::Up
    } else {
        Direction::Down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(t: i64, src: &str, sp: u16, dst: &str, dp: u16, proto: u8, flags: u8) -> PacketMeta {
        PacketMeta {
            ts: Timestamp(t),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto,
            src_port: sp,
            dst_port: dp,
            ip_len: 100,
            tcp_flags: flags,
            later_fragment: false,
        }
    }

    /// `push_ip` places every packet as `push` does with the header copied into a
    /// `PacketMeta`, for every unit and client rule.
    #[test]
    fn push_ip_places_as_push_does() {
        let ip = |src: &str, sp: u16, dst: &str, dp: u16, flags: u8, len: u32| {
            crate::testing::ip(src, sp, dst, dp, 6, flags, len)
        };
        let packets = [
            ip("10.0.0.1", 40000, "10.0.0.2", 443, TCP_SYN, 60),
            ip("10.0.0.2", 443, "10.0.0.1", 40000, TCP_SYN | TCP_ACK, 60),
            ip("10.0.0.1", 40000, "10.0.0.2", 443, TCP_ACK, 1500),
            ip("10.0.0.3", 53, "10.0.0.1", 5353, 0, 80),
            ip("2001:db8::1", 1, "2001:db8::2", 2, TCP_ACK, 1280),
            ip("10.0.0.2", 443, "10.0.0.1", 40000, TCP_FIN, 40),
        ];
        for unit in [Unit::Capture, Unit::Flow, Unit::Pair] {
            for client in [
                ClientRule::Auto,
                ClientRule::Prefixes(vec!["10.0.0.2/32".parse().unwrap()]),
            ] {
                let cfg = AssembleConfig {
                    unit,
                    client,
                    ..Default::default()
                };
                let (mut a, mut b) = (Assembler::new(cfg.clone()), Assembler::new(cfg));
                for (t, p) in packets.iter().enumerate() {
                    let ts = Timestamp(t as i64 * 1_000);
                    assert_eq!(
                        a.push_ip(ts, p),
                        b.push(&PacketMeta::from_ip(ts, p)),
                        "{unit:?} packet {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn flow_initiator_is_client() {
        let mut a = Assembler::new(AssembleConfig {
            unit: Unit::Flow,
            ..Default::default()
        });
        let syn = a.push(&pkt(0, "10.0.0.9", 40000, "10.0.0.1", 443, 6, TCP_SYN));
        let synack = a.push(&pkt(
            1,
            "10.0.0.1",
            443,
            "10.0.0.9",
            40000,
            6,
            TCP_SYN | TCP_ACK,
        ));
        assert_eq!(syn.unit, synack.unit);
        assert_eq!(syn.packet.dir, Direction::Up);
        assert_eq!(synack.packet.dir, Direction::Down);
        // A flow first seen at its SYN-ACK: the receiver is the client.
        let late = a.push(&pkt(
            2,
            "10.0.0.1",
            80,
            "10.0.0.9",
            40001,
            6,
            TCP_SYN | TCP_ACK,
        ));
        assert_ne!(late.unit, syn.unit);
        assert_eq!(late.packet.dir, Direction::Down);
        let ended = a.finish();
        assert_eq!(ended.len(), 2);
        assert_eq!(ended[0].describe(), "tcp 10.0.0.9:40000 > 10.0.0.1:443");
        assert_eq!(ended[1].describe(), "tcp 10.0.0.9:40001 > 10.0.0.1:80");
    }

    #[test]
    fn client_prefix_overrides_initiator() {
        let cfg = AssembleConfig {
            unit: Unit::Flow,
            client: ClientRule::Prefixes(vec!["192.168.0.0/16".parse().unwrap()]),
            ..Default::default()
        };
        let mut a = Assembler::new(cfg);
        let p = a.push(&pkt(0, "8.8.8.8", 53, "192.168.1.2", 5353, 17, 0));
        assert_eq!(p.packet.dir, Direction::Down);
        let q = a.push(&pkt(1, "192.168.1.2", 5353, "8.8.8.8", 53, 17, 0));
        assert_eq!(q.packet.dir, Direction::Up);
    }

    #[test]
    fn esp_directions_pair_up() {
        let mut a = Assembler::new(AssembleConfig {
            unit: Unit::Flow,
            ..Default::default()
        });
        let x = a.push(&pkt(0, "10.0.0.1", 0, "10.0.0.2", 0, proto::ESP, 0));
        let y = a.push(&pkt(1, "10.0.0.2", 0, "10.0.0.1", 0, proto::ESP, 0));
        assert_eq!(x.unit, y.unit);
        assert_eq!(
            (x.packet.dir, y.packet.dir),
            (Direction::Up, Direction::Down)
        );
    }

    #[test]
    fn capture_unit_uses_host() {
        let cfg = AssembleConfig {
            host: Some("10.0.0.2".parse().unwrap()),
            ..Default::default()
        };
        let mut a = Assembler::new(cfg);
        let d = a.push(&pkt(0, "10.0.0.1", 1, "10.0.0.2", 2, 17, 0));
        let u = a.push(&pkt(0, "10.0.0.2", 2, "10.0.0.1", 1, 17, 0));
        assert_eq!(
            (d.packet.dir, u.packet.dir),
            (Direction::Down, Direction::Up)
        );
        assert_eq!(d.unit, u.unit);
        let mut hc = HostCounter::new();
        hc.add("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        hc.add("10.0.0.3".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert_eq!(hc.host(), Some("10.0.0.2".parse().unwrap()));
    }

    /// Runs of packets between the same two addresses give the counts, and the host, of
    /// counting every packet on its own: seeded sequences with long runs, reversed packets,
    /// a packet to itself, ties, and a table that fills up part-way.
    #[test]
    fn host_counter_runs_count_as_single_packets() {
        let addrs: Vec<IpAddr> = (1..=6)
            .map(|i| format!("10.0.0.{i}").parse().unwrap())
            .chain(["2001:db8::1".parse().unwrap()])
            .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for case in 0..300 {
            let limit = [1, 2, 3, 5, 100][case % 5];
            let mut hc = HostCounter::with_limit(limit);
            let mut naive: FastMap<IpAddr, u64> = FastMap::default();
            let len = 1 + next(60);
            let (mut src, mut dst) = (addrs[0], addrs[1]);
            for _ in 0..len {
                match next(4) {
                    0 => {}
                    1 => std::mem::swap(&mut src, &mut dst),
                    _ => {
                        src = addrs[next(addrs.len())];
                        dst = addrs[next(addrs.len())];
                    }
                }
                hc.add(src, dst);
                for ip in [src, dst] {
                    if let Some(c) = naive.get_mut(&ip) {
                        *c += 1;
                    } else if naive.len() < limit {
                        naive.insert(ip, 1);
                    }
                }
                let want = naive
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(ip, _)| *ip);
                assert_eq!(hc.host(), want, "case {case}");
            }
            hc.end_run();
            assert_eq!(hc.counts, naive, "case {case}");
        }
    }

    #[test]
    fn idle_timeout_starts_new_unit_and_fragments_follow() {
        let cfg = AssembleConfig {
            unit: Unit::Flow,
            idle_timeout_ns: 10,
            ..Default::default()
        };
        let mut a = Assembler::new(cfg);
        let first = a.push(&pkt(0, "10.0.0.1", 5000, "10.0.0.2", 6000, 17, 0));
        let mut frag = pkt(1, "10.0.0.1", 0, "10.0.0.2", 0, 17, 0);
        frag.later_fragment = true;
        assert_eq!(a.push(&frag).unit, first.unit);
        let later = a.push(&pkt(100, "10.0.0.1", 5000, "10.0.0.2", 6000, 17, 0));
        assert!(later.new_unit);
        assert_ne!(later.unit, first.unit);
        let ended = a.take_ended();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].packets, 2);
    }

    #[test]
    fn idle_units_end_at_the_next_packet_of_any_unit() {
        let mut a = Assembler::new(AssembleConfig {
            unit: Unit::Pair,
            idle_timeout_ns: 1_000,
            ..Default::default()
        });
        a.push(&pkt(0, "10.0.0.1", 1, "10.0.0.2", 80, 6, 0));
        a.push(&pkt(10, "10.0.0.3", 1, "10.0.0.2", 80, 6, 0));
        a.push(&pkt(500, "10.0.0.3", 1, "10.0.0.2", 80, 6, 0));
        assert!(a.take_ended().is_empty());
        // 10.0.0.1's pair has been quiet for 1,100 ns: it ends before this packet is placed;
        // 10.0.0.3's (600 ns) stays.
        a.push(&pkt(1_100, "10.0.0.3", 1, "10.0.0.2", 80, 6, 0));
        let ended = a.take_ended();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].describe(), "10.0.0.1 > 10.0.0.2");
        assert_eq!(a.live_units().count(), 1);
        assert_eq!(a.evicted(), 0);
    }

    #[test]
    fn table_is_bounded() {
        let cfg = AssembleConfig {
            unit: Unit::Flow,
            max_units: 4,
            ..Default::default()
        };
        let mut a = Assembler::new(cfg);
        for port in 0..100u16 {
            a.push(&pkt(
                port as i64,
                "10.0.0.1",
                1000 + port,
                "10.0.0.2",
                80,
                6,
                0,
            ));
        }
        assert!(a.live_units().count() <= 4);
        assert_eq!(a.take_ended().len(), 96);
        // None went idle (60 s timeout, 100 ns of traffic): all 96 were pushed out.
        assert_eq!(a.evicted(), 96);
        let placed = a.push(&pkt(200, "10.0.0.9", 9, "10.0.0.2", 80, 6, 0));
        let last = a.last_unit().expect("the unit just placed is live");
        assert_eq!(last.id, placed.unit);
        assert_eq!(last.describe(), "tcp 10.0.0.9:9 > 10.0.0.2:80");
    }

    #[test]
    fn a_full_table_ends_the_least_recently_seen_unit() {
        let mut a = Assembler::new(AssembleConfig {
            unit: Unit::Flow,
            max_units: 64,
            ..Default::default()
        });
        for i in 0..1000u16 {
            // Every third packet returns to flow 0, which must never be evicted.
            a.push(&pkt(2 * i as i64, "10.0.0.1", 1000, "10.0.0.2", 80, 6, 0));
            a.push(&pkt(
                2 * i as i64 + 1,
                "10.0.0.1",
                2000 + i,
                "10.0.0.2",
                80,
                6,
                0,
            ));
        }
        let live: Vec<UnitInfo> = a.live_units().cloned().collect();
        // One unit ends per new one once the table is full: it stays full.
        assert_eq!(live.len(), 64);
        assert_eq!(a.evicted(), 1001 - 64);
        let ended = a.take_ended();
        assert_eq!(
            ended.len() + live.len(),
            1001,
            "every unit is live or ended once"
        );
        assert!(
            live.iter().any(|u| u.packets == 1000),
            "the busy flow stays"
        );
        let newest_ended = ended.iter().map(|u| u.last).max().unwrap();
        let oldest_live = live.iter().map(|u| u.last).min().unwrap();
        assert!(
            newest_ended < oldest_live,
            "only the least recently seen are ended"
        );
        assert!(ended.windows(2).all(|w| w[0].id != w[1].id));
    }
}
