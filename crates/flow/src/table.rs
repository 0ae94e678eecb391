//! A streaming, bounded table of bidirectional flows that emits [`FlowRecord`]s, the way a NetFlow
//! exporter's flow cache does: a record ends on an idle timeout, an active timeout, TCP FIN from
//! both sides or an RST (after a short linger for the last ACK), eviction when the table is full,
//! or the end of the capture.
//!
//! Every IP packet pushed is counted in exactly one record, so packets and bytes summed over the
//! records equal the packets and bytes pushed ([`FlowTableStats`] keeps both sums).

use crate::assemble::ClientRule;
use crate::hash::{FastHasher, FastMap};
use crate::key::{proto, Endpoint, FlowKey, Side};
use crate::lru::{unindex, Lru, NIL};
use crate::record::{EndReason, FlowRecord, RecordSource};
use crate::tunnel::{keepalive_ports, tunnel_kind, TunnelEvidence};
use hashbrown::HashTable;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::net::IpAddr;
use tapir_capture::{Direction, Fragment, IpInfo, Timestamp};

const NS: i64 = 1_000_000_000;
const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;
const TCP_ACK: u8 = 0x10;
/// Later fragments find their flow through the ports of the latest first fragment between the
/// same hosts; this many host pairs are remembered at most.
const FRAG_CACHE_LIMIT: usize = 4096;

/// Why a [`FlowTableConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    #[error("{name} must be positive (got {value} ns)")]
    NonPositiveTimeout { name: &'static str, value: i64 },
    #[error("the flow table needs room for at least one flow (max_flows = 0)")]
    ZeroCapacity,
}

/// Timeouts and the size bound of a [`FlowTable`]. Times in nanoseconds.
///
/// | field | default | why |
/// |---|---|---|
/// | `idle_timeout` | 60 s | a quiet flow ends; common exporter default (softflowd's `general` timeout is 3600 s, Cisco's inactive timeout 15 s; 60 s sits between and outlasts TCP keep-alive probes of most apps) |
/// | `keepalive_idle_timeout` | 180 s | UDP 4500 (NAT-T keep-alives every 20 s, RFC 3948 §4) and 51820 (WireGuard; a session is dead after Reject-After-Time = 180 s, whitepaper §6.1): a quiet tunnel stays one record |
/// | `active_timeout` | 1800 s | a long flow is cut into records this long, so reports are not held back for hours (Cisco's default active timeout is 30 min) |
/// | `fin_linger` | 2 s | after both FINs or an RST, the last ACK and retransmissions still join the flow |
/// | `max_flows` | 1,048,576 | memory bound: about 200 bytes a flow; beyond it each new flow ends the least recently seen one |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowTableConfig {
    pub idle_timeout: i64,
    pub keepalive_idle_timeout: i64,
    pub active_timeout: i64,
    pub fin_linger: i64,
    pub max_flows: usize,
}

impl FlowTableConfig {
    /// Default idle timeout, 60 s (see the table above); also that of host-pair units.
    pub const DEFAULT_IDLE_TIMEOUT: i64 = 60 * NS;
}

impl Default for FlowTableConfig {
    fn default() -> Self {
        FlowTableConfig {
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            keepalive_idle_timeout: 180 * NS,
            active_timeout: 1800 * NS,
            fin_linger: 2 * NS,
            max_flows: 1 << 20,
        }
    }
}

impl FlowTableConfig {
    pub fn validate(&self) -> Result<(), TableError> {
        for (name, value) in [
            ("idle_timeout", self.idle_timeout),
            ("keepalive_idle_timeout", self.keepalive_idle_timeout),
            ("active_timeout", self.active_timeout),
            ("fin_linger", self.fin_linger),
        ] {
            if value <= 0 {
                return Err(TableError::NonPositiveTimeout { name, value });
            }
        }
        if self.max_flows == 0 {
            return Err(TableError::ZeroCapacity);
        }
        Ok(())
    }
}

/// Running totals of a [`FlowTable`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowTableStats {
    /// IP packets pushed.
    pub packets: u64,
    /// IP bytes pushed.
    pub bytes: u64,
    /// Records emitted so far.
    pub records: u64,
    /// Records ended by eviction because the table was full.
    pub evicted: u64,
    /// The most flows open at once.
    pub peak_flows: usize,
}

/// One open flow. Counters are indexed by [`Side`] of the canonical key (A = 0, B = 1).
#[derive(Clone, Debug)]
struct Open {
    /// Sequential id of the record, in order of first packet.
    id: u64,
    client: Side,
    start: Timestamp,
    last: Timestamp,
    packets: [u64; 2],
    bytes: [u64; 2],
    tos: u8,
    flags: u8,
    fin: [bool; 2],
    /// Set once both FINs or an RST were seen: the flow ends at this time.
    closing: Option<(i64, EndReason)>,
    ev: TunnelEvidence,
}

/// Where [`FlowTable::push`] counted a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowPlacement {
    /// The record's id: sequential in order of first packet, never reused within one table.
    pub id: u64,
    /// This packet opened the record.
    pub new: bool,
    pub key: FlowKey,
    /// The record's client (its source) side of `key`.
    pub client: Side,
    /// The side of `key` this packet came from.
    pub side: Side,
    /// The table's slot of the flow while it is open: below `max_flows`, taken by another flow
    /// once this one has ended. A caller can keep per-flow state in a vector indexed by it
    /// instead of a map keyed by id (see [`FlowTable::drain_ended_slots`]).
    pub slot: u32,
}

impl FlowPlacement {
    /// Upstream when the packet came from the record's client.
    pub fn direction(&self) -> Direction {
        if self.side == self.client {
            Direction::Up
        } else {
            Direction::Down
        }
    }

    /// `tcp 10.0.0.1:5555 > 10.0.0.2:443`, client first.
    pub fn describe(&self) -> String {
        self.key.describe(self.client)
    }

    /// [`FlowPlacement::describe`] with both addresses passed through `f` (pseudonyms for
    /// `--anonymize`).
    pub fn describe_with(&self, f: impl Fn(IpAddr) -> IpAddr) -> String {
        self.key.map_addrs(f).describe(self.client)
    }
}

#[inline]
fn idx(s: Side) -> usize {
    match s {
        Side::A => 0,
        Side::B => 1,
    }
}

/// The streaming flow table. Push decoded packets in capture order; collect ended records with
/// [`FlowTable::take_ended`] as you go and the rest with [`FlowTable::finish`].
///
/// ```
/// use tapir_flow::{FlowTable, FlowTableConfig, EndReason};
/// use tapir_capture::{Fragment, IpInfo, Timestamp};
/// let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
/// let p = |s: &str, d: &str, sp, dp, flags| IpInfo { src: s.parse().unwrap(),
///     dst: d.parse().unwrap(), proto: 6, ip_len: 60, tos: 0, ttl: 64, src_port: sp,
///     dst_port: dp, tcp_flags: flags, payload_len: 0, payload_offset: 0, spi: None, fragment: Fragment::None };
/// t.push(Timestamp(0), &p("10.0.0.1", "10.0.0.2", 5000, 80, 0x02));
/// t.push(Timestamp(1_000), &p("10.0.0.2", "10.0.0.1", 80, 5000, 0x12));
/// let recs = t.finish();
/// assert_eq!(recs.len(), 1);
/// assert_eq!((recs[0].packets_fwd, recs[0].packets_rev), (1, 1));
/// assert_eq!(recs[0].end_reason, EndReason::EndOfCapture);
/// ```
pub struct FlowTable {
    cfg: FlowTableConfig,
    client: ClientRule,
    /// Each open flow's slot, found by the key's hash (kept in the slot) and compared with the
    /// slot's key: four bytes an entry, so the index of 200,000 flows stays in cache where a
    /// map holding the keys (44 bytes an entry) did not, and ending a flow compares slot
    /// numbers only.
    flows: HashTable<u32>,
    hasher: BuildHasherDefault<FastHasher>,
    /// Open flows, linked in the order of their last packet (see [`Lru`]).
    lru: Lru<FlowKey, Open>,
    frag_ports: FastMap<(IpAddr, IpAddr, u8), (u16, u16)>,
    /// Ended records with their ids and slots, in the order they ended.
    ended: Vec<(u64, u32, FlowRecord)>,
    next_id: u64,
    stats: FlowTableStats,
    /// Capture time of the next sweep for timed-out flows.
    next_sweep: Option<i64>,
    sweep_every: i64,
}

impl FlowTable {
    pub fn new(cfg: FlowTableConfig) -> Result<Self, TableError> {
        cfg.validate()?;
        // Sweeping costs a pass over the table, so it runs a few times per idle timeout, not per
        // packet; a flow that timed out is also ended on its next packet, so records stay exact.
        let sweep_every = (cfg.idle_timeout.min(cfg.fin_linger * 4) / 2).clamp(NS / 10, 10 * NS);
        Ok(FlowTable {
            cfg,
            client: ClientRule::Auto,
            flows: HashTable::new(),
            hasher: BuildHasherDefault::default(),
            lru: Lru::new(),
            frag_ports: FastMap::default(),
            ended: Vec::new(),
            next_id: 0,
            stats: FlowTableStats::default(),
            next_sweep: None,
            sweep_every,
        })
    }

    pub fn config(&self) -> &FlowTableConfig {
        &self.cfg
    }

    /// Which end of a new flow is its client (the record's source, upstream for `--by flow`):
    /// with [`ClientRule::Prefixes`], the end inside a prefix when the first packet names one;
    /// otherwise, and by default, the initiator.
    pub fn with_client_rule(mut self, rule: ClientRule) -> Self {
        self.client = rule;
        self
    }

    pub fn stats(&self) -> FlowTableStats {
        self.stats
    }

    /// Flows open now.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Add one IP packet seen at `ts`; returns the record it was counted in.
    #[inline]
    pub fn push(&mut self, ts: Timestamp, ip: &IpInfo) -> FlowPlacement {
        self.stats.packets += 1;
        self.stats.bytes += ip.ip_len as u64;
        match self.next_sweep {
            None => self.next_sweep = Some(ts.0.saturating_add(self.sweep_every)),
            Some(t) if ts.0 >= t => {
                self.sweep(ts);
                self.next_sweep = Some(ts.0.saturating_add(self.sweep_every));
            }
            Some(_) => {}
        }
        let (sp, dp) = self.ports(ip);
        let (key, side) = FlowKey::new(
            ip.proto,
            Endpoint {
                addr: ip.src,
                port: sp,
            },
            Endpoint {
                addr: ip.dst,
                port: dp,
            },
        );
        let hash = self.hasher.hash_one(key);
        let slots = &self.lru.slots;
        if let Some(&i) = self.flows.find(hash, |&i| slots[i as usize].key == key) {
            self.lru.touch(i);
            let f = &mut self.lru.slots[i as usize].value;
            let mut new = false;
            if let Some(reason) = ends_before(&self.cfg, &key, f, ts) {
                let rec = record(&key, f, reason);
                self.ended.push((f.id, i, rec));
                self.stats.records += 1;
                *f = open(&self.client, self.next_id, &key, side, ts, ip);
                self.next_id += 1;
                new = true;
            }
            update(&self.cfg, f, side, ts, ip);
            return FlowPlacement {
                id: f.id,
                new,
                key,
                client: f.client,
                side,
                slot: i,
            };
        }
        if self.flows.len() >= self.cfg.max_flows {
            self.make_room(ts);
        }
        let mut f = open(&self.client, self.next_id, &key, side, ts, ip);
        self.next_id += 1;
        update(&self.cfg, &mut f, side, ts, ip);
        let (id, client) = (f.id, f.client);
        let i = self.lru.push_back(key, hash, f);
        let slots = &self.lru.slots;
        self.flows
            .insert_unique(hash, i, |&j| slots[j as usize].hash);
        self.stats.peak_flows = self.stats.peak_flows.max(self.flows.len());
        FlowPlacement {
            id,
            new: true,
            key,
            client,
            side,
            slot: i,
        }
    }

    /// Ports for the key: none for protocols without ports and for ESP (whose SPI differs per
    /// direction, see [`FlowKey`]), the first fragment's for later fragments.
    #[inline]
    fn ports(&mut self, ip: &IpInfo) -> (u16, u16) {
        if !proto::has_ports(ip.proto) {
            return (0, 0);
        }
        match ip.fragment {
            Fragment::None => (ip.src_port, ip.dst_port),
            Fragment::First => {
                let k = (ip.src, ip.dst, ip.proto);
                if self.frag_ports.len() < FRAG_CACHE_LIMIT || self.frag_ports.contains_key(&k) {
                    self.frag_ports.insert(k, (ip.src_port, ip.dst_port));
                }
                (ip.src_port, ip.dst_port)
            }
            Fragment::Later => self
                .frag_ports
                .get(&(ip.src, ip.dst, ip.proto))
                .copied()
                .unwrap_or((0, 0)),
        }
    }

    /// End every flow that timed out or finished its linger by `now`, least recently seen
    /// first. One pass over the open flows, a few times per idle timeout of capture time.
    pub fn sweep(&mut self, now: Timestamp) {
        let mut i = self.lru.head;
        let mut n = 0u64;
        while i != NIL {
            let slot = &self.lru.slots[i as usize];
            let next = slot.next;
            if let Some(reason) = ends_before(&self.cfg, &slot.key, &slot.value, now) {
                self.ended
                    .push((slot.value.id, i, record(&slot.key, &slot.value, reason)));
                unindex(&mut self.flows, slot.hash, i);
                self.lru.remove(i);
                n += 1;
            }
            i = next;
        }
        self.stats.records += n;
    }

    /// The table is full: the least recently seen flow ends — timed out if it has, evicted
    /// otherwise. Constant time: a flood of new flows costs one removal per flow, whatever the
    /// size of the table.
    fn make_room(&mut self, now: Timestamp) {
        let i = self.lru.head;
        if i == NIL {
            return;
        }
        let slot = &self.lru.slots[i as usize];
        let reason = ends_before(&self.cfg, &slot.key, &slot.value, now);
        self.ended.push((
            slot.value.id,
            i,
            record(&slot.key, &slot.value, reason.unwrap_or(EndReason::Evicted)),
        ));
        unindex(&mut self.flows, slot.hash, i);
        self.lru.remove(i);
        self.stats.records += 1;
        if reason.is_none() {
            self.stats.evicted += 1;
        }
    }

    /// Records ended so far, in the order they ended; the table keeps none of them.
    pub fn take_ended(&mut self) -> Vec<FlowRecord> {
        self.ended.drain(..).map(|(_, _, r)| r).collect()
    }

    /// [`FlowTable::take_ended`] with each record's id (the [`FlowPlacement::id`] its packets
    /// were given).
    pub fn drain_ended(&mut self) -> impl Iterator<Item = (u64, FlowRecord)> + '_ {
        self.ended.drain(..).map(|(id, _, r)| (id, r))
    }

    /// The ids and slots ([`FlowPlacement::slot`]) of the flows ended so far, in the order
    /// they ended, for a caller that keeps per-flow state by slot; their records are dropped.
    pub fn drain_ended_slots(&mut self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.ended.drain(..).map(|(id, slot, _)| (id, slot))
    }

    /// End every open flow: records not yet taken, then the open flows (reason
    /// [`EndReason::EndOfCapture`], or FIN/RST for flows already closing) ordered by start.
    pub fn finish(mut self) -> Vec<FlowRecord> {
        let mut out: Vec<FlowRecord> = self.ended.drain(..).map(|(_, _, r)| r).collect();
        let lru = &self.lru;
        let mut open: Vec<FlowRecord> = self
            .flows
            .iter()
            .map(|&i| {
                let slot = &lru.slots[i as usize];
                let reason = slot.value.closing.map_or(EndReason::EndOfCapture, |c| c.1);
                record(&slot.key, &slot.value, reason)
            })
            .collect();
        open.sort_by(|a, b| {
            (a.start, a.src, a.src_port, a.dst, a.dst_port, a.proto)
                .cmp(&(b.start, b.src, b.src_port, b.dst, b.dst_port, b.proto))
        });
        out.extend(open);
        out
    }
}

/// Whether `f` has ended by the time `now`, and why.
#[inline]
fn ends_before(cfg: &FlowTableConfig, k: &FlowKey, f: &Open, now: Timestamp) -> Option<EndReason> {
    if let Some((at, reason)) = f.closing {
        if now.0 > at {
            return Some(reason);
        }
    }
    let idle = if keepalive_ports(k.proto, k.a.port, k.b.port) {
        cfg.keepalive_idle_timeout
    } else {
        cfg.idle_timeout
    };
    if now.nanos_since(f.last) > idle {
        return Some(EndReason::IdleTimeout);
    }
    if now.nanos_since(f.start) > cfg.active_timeout {
        return Some(EndReason::ActiveTimeout);
    }
    None
}

/// A new flow whose first packet came from `side`.
#[inline]
fn open(rule: &ClientRule, id: u64, k: &FlowKey, side: Side, ts: Timestamp, ip: &IpInfo) -> Open {
    let client = if rule.matches(ip.src) {
        side
    } else if rule.matches(ip.dst) {
        side.other()
    } else {
        initiator(k, side, ip)
    };
    Open {
        id,
        client,
        start: ts,
        last: ts,
        packets: [0; 2],
        bytes: [0; 2],
        tos: ip.tos,
        flags: 0,
        fin: [false; 2],
        closing: None,
        ev: TunnelEvidence::default(),
    }
}

/// The client of a flow from its first packet: the sender, unless the packet shows it is the
/// server's — a SYN-ACK, or (when the start of a TCP or UDP flow was missed) a packet from a
/// well-known port (< 1024), or from a lower port to one in the ephemeral range (≥ 32768, where
/// Linux and the IANA range both put client ports; RFC 6335 §6).
fn initiator(k: &FlowKey, side: Side, ip: &IpInfo) -> Side {
    if ip.proto == proto::TCP && ip.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK {
        return side.other();
    }
    let mid_flow = ip.proto == proto::TCP && ip.tcp_flags & TCP_SYN == 0 || ip.proto == proto::UDP;
    let (sp, dp) = (k.end(side).port, k.end(side.other()).port);
    let server_port = sp != 0 && sp < dp && (sp < 1024 || dp >= 32_768);
    if mid_flow && server_port && dp >= 1024 {
        return side.other();
    }
    side
}

#[inline]
fn update(cfg: &FlowTableConfig, f: &mut Open, side: Side, ts: Timestamp, ip: &IpInfo) {
    let i = idx(side);
    f.packets[i] += 1;
    f.bytes[i] += ip.ip_len as u64;
    if ts > f.last {
        f.last = ts;
    }
    f.flags |= ip.tcp_flags;
    f.ev.observe(ip);
    if ip.proto == proto::TCP && f.closing.is_none() {
        if ip.tcp_flags & TCP_RST != 0 {
            f.closing = Some((ts.0.saturating_add(cfg.fin_linger), EndReason::Rst));
        } else if ip.tcp_flags & TCP_FIN != 0 {
            f.fin[i] = true;
            if f.fin[0] && f.fin[1] {
                f.closing = Some((ts.0.saturating_add(cfg.fin_linger), EndReason::Fin));
            }
        }
    }
}

fn record(k: &FlowKey, f: &Open, reason: EndReason) -> FlowRecord {
    let c = f.client;
    let (s, d) = (k.end(c), k.end(c.other()));
    let (fi, ri) = (idx(c), idx(c.other()));
    let packets = f.packets[0] + f.packets[1];
    FlowRecord {
        src: s.addr,
        dst: d.addr,
        src_port: s.port,
        dst_port: d.port,
        proto: k.proto,
        start: f.start,
        end: f.last,
        packets_fwd: f.packets[fi],
        bytes_fwd: f.bytes[fi],
        packets_rev: f.packets[ri],
        bytes_rev: f.bytes[ri],
        tos: f.tos,
        tcp_flags: f.flags,
        tunnel: tunnel_kind(k.proto, k.a.port, k.b.port, packets, Some(&f.ev)),
        end_reason: reason,
        source: RecordSource::Capture,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testing::ip as pkt;

    fn s(secs: f64) -> Timestamp {
        Timestamp::from_secs_f64(secs)
    }

    #[test]
    fn tcp_handshake_data_and_fin() {
        let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
        let c = "192.168.1.2";
        let v = "93.184.216.34";
        t.push(s(0.0), &pkt(c, 50000, v, 443, 6, 0x02, 60));
        t.push(s(0.1), &pkt(v, 443, c, 50000, 6, 0x12, 60));
        t.push(s(0.2), &pkt(c, 50000, v, 443, 6, 0x10, 52));
        t.push(s(0.3), &pkt(v, 443, c, 50000, 6, 0x18, 1500));
        t.push(s(0.4), &pkt(c, 50000, v, 443, 6, 0x11, 52));
        t.push(s(0.5), &pkt(v, 443, c, 50000, 6, 0x11, 52));
        t.push(s(0.6), &pkt(c, 50000, v, 443, 6, 0x10, 52));
        assert!(t.take_ended().is_empty(), "the linger keeps the last ACK");
        // Same 5-tuple after the linger: a new connection, the old record ends by FIN.
        t.push(s(10.0), &pkt(c, 50000, v, 443, 6, 0x02, 60));
        let ended = t.take_ended();
        assert_eq!(ended.len(), 1);
        let r = &ended[0];
        assert_eq!(r.end_reason, EndReason::Fin);
        assert_eq!(r.src, c.parse::<IpAddr>().unwrap());
        assert_eq!((r.src_port, r.dst_port), (50000, 443));
        assert_eq!((r.packets_fwd, r.packets_rev), (4, 3));
        assert_eq!((r.bytes_fwd, r.bytes_rev), (216, 1612));
        assert_eq!(r.tcp_flags, 0x1b);
        assert_eq!(r.end, s(0.6));
        assert_eq!(r.tunnel, Some(crate::TunnelKind::Tls));
        let rest = t.finish();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].end_reason, EndReason::EndOfCapture);
    }

    #[test]
    fn syn_ack_first_makes_the_receiver_the_client() {
        let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
        t.push(s(0.0), &pkt("10.0.0.9", 80, "10.0.0.1", 40000, 6, 0x12, 60));
        let r = t.finish();
        assert_eq!(r[0].src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!((r[0].packets_fwd, r[0].packets_rev), (0, 1));
    }

    #[test]
    fn a_flow_seen_mid_way_is_turned_to_its_client() {
        let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
        // A Tor relay's ORPort sending to a client's ephemeral port, no SYN in the capture.
        t.push(
            s(0.0),
            &pkt("10.81.0.1", 9001, "10.77.10.1", 60838, 6, 0x18, 600),
        );
        // Two unprivileged, non-ephemeral ports: the sender stays the client.
        t.push(
            s(0.0),
            &pkt("10.0.0.1", 5000, "10.0.0.2", 6000, 6, 0x10, 60),
        );
        let r = t.finish();
        let tor = r
            .iter()
            .find(|x| x.proto == 6 && x.dst_port == 9001)
            .unwrap();
        assert_eq!(tor.src, "10.77.10.1".parse::<IpAddr>().unwrap());
        assert_eq!((tor.packets_fwd, tor.packets_rev), (0, 1));
        assert!(r.iter().any(|x| x.src_port == 5000 && x.dst_port == 6000));
    }

    #[test]
    fn rst_idle_and_active_timeouts() {
        let cfg = FlowTableConfig {
            idle_timeout: 5 * NS,
            active_timeout: 20 * NS,
            ..Default::default()
        };
        let mut t = FlowTable::new(cfg).unwrap();
        // RST
        t.push(s(0.0), &pkt("10.0.0.1", 1111, "10.0.0.2", 22, 6, 0x02, 60));
        t.push(s(0.1), &pkt("10.0.0.2", 22, "10.0.0.1", 1111, 6, 0x14, 40));
        // UDP with a 6 s gap: idle timeout
        t.push(s(0.0), &pkt("10.0.0.1", 5353, "10.0.0.3", 53, 17, 0, 80));
        t.push(s(6.5), &pkt("10.0.0.1", 5353, "10.0.0.3", 53, 17, 0, 80));
        // Steady UDP every 2 s for 30 s: active timeout at 20 s
        for i in 0..16 {
            t.push(
                s(i as f64 * 2.0),
                &pkt("10.0.0.1", 7000, "10.0.0.4", 7001, 17, 0, 100),
            );
        }
        let mut all = t.take_ended();
        all.extend(t.finish());
        let by = |port: u16, r: EndReason| {
            all.iter()
                .filter(|x| x.dst_port == port && x.end_reason == r)
                .count()
        };
        assert_eq!(by(22, EndReason::Rst), 1);
        // Ended by the packet at 6.5 s, and that second record by a sweep once 7001 ran on.
        assert_eq!(by(53, EndReason::IdleTimeout), 2);
        assert_eq!(by(7001, EndReason::ActiveTimeout), 1);
        let total: u64 = all.iter().map(|r| r.packets()).sum();
        assert_eq!(total, 2 + 2 + 16);
    }

    #[test]
    fn keepalive_ports_get_the_longer_idle_timeout() {
        let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
        // NAT-T keep-alives every 90 s: longer than 60 s, shorter than 180 s.
        for i in 0..4 {
            t.push(
                s(i as f64 * 90.0),
                &pkt("10.0.0.1", 4500, "10.0.0.2", 4500, 17, 0, 29),
            );
        }
        assert_eq!(t.finish().len(), 1);
    }

    #[test]
    fn slots_stay_below_the_cap_and_pass_on_as_flows_end() {
        let cfg = FlowTableConfig {
            max_flows: 3,
            ..Default::default()
        };
        let mut t = FlowTable::new(cfg).unwrap();
        let mut slot_of = std::collections::HashMap::new();
        for i in 0..20u16 {
            let p = t.push(
                s(i as f64 * 0.01),
                &pkt("10.0.0.1", 1000 + i % 7, "10.0.0.2", 53, 17, 0, 70),
            );
            assert!(p.slot < 3, "slot {} with at most 3 flows", p.slot);
            let ended: Vec<(u64, u32)> = t.drain_ended_slots().collect();
            for (id, slot) in &ended {
                // An ended flow's slot is the one its packets were given.
                assert_eq!(slot_of.remove(id), Some(*slot));
            }
            // A slot belongs to one open flow at a time.
            if let Some(&s) = slot_of.get(&p.id) {
                assert_eq!(s, p.slot);
            }
            assert!(slot_of.iter().all(|(id, s)| *id == p.id || *s != p.slot));
            slot_of.insert(p.id, p.slot);
        }
    }

    #[test]
    fn full_table_evicts_the_oldest_idle() {
        let cfg = FlowTableConfig {
            max_flows: 4,
            ..Default::default()
        };
        let mut t = FlowTable::new(cfg).unwrap();
        for i in 0..10u16 {
            t.push(
                s(i as f64 * 0.01),
                &pkt("10.0.0.1", 1000 + i, "10.0.0.2", 53, 17, 0, 70),
            );
            assert!(t.len() <= 4);
        }
        let st = t.stats();
        assert_eq!(st.evicted, 6);
        let ev = t.take_ended();
        assert!(ev.iter().all(|r| r.end_reason == EndReason::Evicted));
        // The oldest went first.
        assert_eq!(ev[0].src_port, 1000);
        assert_eq!(t.finish().len(), 4);
    }

    #[test]
    fn later_fragments_join_their_flow_and_esp_pairs_directions() {
        let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
        let mut first = pkt("10.0.0.1", 5000, "10.0.0.2", 6000, 17, 0, 1500);
        first.fragment = Fragment::First;
        let mut later = pkt("10.0.0.1", 0, "10.0.0.2", 0, 17, 0, 600);
        later.fragment = Fragment::Later;
        t.push(s(0.0), &first);
        t.push(s(0.0), &later);
        let mut esp = pkt("10.0.0.1", 0, "10.0.0.3", 0, 50, 0, 120);
        esp.spi = Some(1);
        t.push(s(0.1), &esp);
        let mut back = pkt("10.0.0.3", 0, "10.0.0.1", 0, 50, 0, 120);
        back.spi = Some(2);
        t.push(s(0.2), &back);
        let r = t.finish();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].packets(), 2);
        assert_eq!(r[0].bytes(), 2100);
        assert_eq!((r[1].packets_fwd, r[1].packets_rev), (1, 1));
        assert_eq!(r[1].tunnel, Some(crate::TunnelKind::Esp));
    }

    #[test]
    fn bad_config_is_refused() {
        let c = FlowTableConfig {
            idle_timeout: 0,
            ..Default::default()
        };
        assert!(matches!(
            FlowTable::new(c),
            Err(TableError::NonPositiveTimeout { .. })
        ));
        let c = FlowTableConfig {
            max_flows: 0,
            ..Default::default()
        };
        assert!(matches!(FlowTable::new(c), Err(TableError::ZeroCapacity)));
    }

    proptest! {
        /// Whatever the packets, their order in time or the table size: every packet and byte is
        /// in exactly one record, and no record has an end before its start.
        #[test]
        fn sums_are_conserved(
            pkts in proptest::collection::vec(
                (0i64..400, 0u8..6, 0u8..6, 0u16..4, 0u16..4, 0usize..4, any::<u8>(), 20u32..1600),
                0..300),
            max_flows in 1usize..20,
        ) {
            let cfg = FlowTableConfig { max_flows, idle_timeout: 30 * NS,
                active_timeout: 100 * NS, ..Default::default() };
            let mut t = FlowTable::new(cfg).unwrap();
            let protos = [6u8, 17, 50, 1];
            let (mut np, mut nb) = (0u64, 0u64);
            for (ts, a, b, sp, dp, pr, flags, len) in pkts {
                let ip = pkt(&format!("10.0.0.{a}"), 1000 + sp, &format!("10.0.0.{b}"),
                    1000 + dp, protos[pr], flags, len);
                t.push(Timestamp(ts * NS / 2), &ip);
                np += 1;
                nb += len as u64;
            }
            let st = t.stats();
            let mut all = t.take_ended();
            all.extend(t.finish());
            prop_assert_eq!(all.iter().map(|r| r.packets()).sum::<u64>(), np);
            prop_assert_eq!(all.iter().map(|r| r.bytes()).sum::<u64>(), nb);
            prop_assert_eq!((st.packets, st.bytes), (np, nb));
            prop_assert!(all.iter().all(|r| r.end >= r.start && r.packets() > 0));
        }
    }
}
