//! tapir-flow: from decoded packets to the units tapir analyses.
//!
//! A capture becomes one or more *traces*: sequences of [`TracePacket`]s (time, IP length,
//! direction seen from the client). [`Assembler`] decides which trace (unit) each packet belongs
//! to — the whole capture, a bidirectional flow ([`FlowKey`]) or a host pair ([`PairKey`]) — and
//! which way it travels. Entry point: build an [`AssembleConfig`], push [`PacketMeta`]s.
//!
//! ```
//! use tapir_flow::{Assembler, AssembleConfig, PacketMeta, Unit};
//! use tapir_capture::{Direction, Timestamp};
//! let mut asm = Assembler::new(AssembleConfig { unit: Unit::Pair, ..Default::default() });
//! let mk = |t, s: &str, d: &str| PacketMeta { ts: Timestamp(t), src: s.parse().unwrap(),
//!     dst: d.parse().unwrap(), proto: 17, src_port: 1, dst_port: 2, ip_len: 80, tcp_flags: 0,
//!     later_fragment: false };
//! assert_eq!(asm.push(&mk(0, "10.0.0.1", "10.0.0.2")).packet.dir, Direction::Up);
//! assert_eq!(asm.push(&mk(1, "10.0.0.2", "10.0.0.1")).packet.dir, Direction::Down);
//! assert_eq!(asm.finish().len(), 1);
//! ```
#![deny(unsafe_code)]

mod assemble;
mod capture;
mod cidr;
mod hash;
mod key;
mod lru;
mod record;
mod table;
#[cfg(test)]
mod testing;
mod tunnel;

pub use assemble::{
    AssembleConfig, Assembler, ClientRule, HostCounter, PacketMeta, Placed, Unit, UnitInfo,
    UnitKey, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN,
};
pub use capture::{capture_records, capture_records_until, CaptureFlows};
pub use cidr::{Cidr, CidrError};
pub use hash::{FastHasher, FastMap};
pub use key::{proto, Endpoint, FlowKey, PairKey, Side};
pub use record::{EndReason, FlowRecord, RecordSource, TunnelKind};
pub use table::{FlowPlacement, FlowTable, FlowTableConfig, FlowTableStats, TableError};
pub use tapir_capture::{Direction, Timestamp, TracePacket};
pub use tunnel::{keepalive_ports, tunnel_kind, TunnelEvidence, WIREGUARD_PORT};
