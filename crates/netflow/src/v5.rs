//! NetFlow v5: a fixed 24-byte header and fixed 48-byte records (Cisco, "NetFlow Export Datagram
//! Format", version 5).

use crate::bytes::{be16, be32};
use crate::{exported, NetflowError};
use std::net::{IpAddr, Ipv4Addr};
use tapir_capture::Timestamp;
use tapir_flow::{FlowRecord, RecordSource};

pub(crate) const HEADER: usize = 24;
pub(crate) const RECORD: usize = 48;
/// The format allows at most 30 records per packet.
const MAX_COUNT: usize = 30;

/// Decode a v5 packet from `exporter` into `out`; returns the number of records.
pub(crate) fn decode(
    exporter: IpAddr,
    d: &[u8],
    out: &mut Vec<FlowRecord>,
) -> Result<usize, NetflowError> {
    if d.len() < HEADER {
        return Err(NetflowError::Truncated {
            what: "NetFlow v5 header",
            offset: 0,
            need: HEADER,
            have: d.len(),
        });
    }
    let count = be16(d, 2).unwrap_or(0) as usize;
    if count > MAX_COUNT {
        return Err(NetflowError::BadLength {
            what: "NetFlow v5 record count",
            offset: 2,
            len: count,
        });
    }
    let need = HEADER + count * RECORD;
    if d.len() < need {
        return Err(NetflowError::Truncated {
            what: "NetFlow v5 records",
            offset: HEADER,
            need,
            have: d.len(),
        });
    }
    let uptime_ms = be32(d, 4).unwrap_or(0);
    let secs = be32(d, 8).unwrap_or(0) as i64;
    let nsecs = be32(d, 12).unwrap_or(0) as i64;
    let export = secs * 1_000_000_000 + nsecs;
    let source = RecordSource::NetflowV5 { exporter };
    for i in 0..count {
        let r = HEADER + i * RECORD;
        let at = |o: usize| be32(d, r + o).unwrap_or(0);
        let first = crate::uptime_to_ns(export, uptime_ms, at(24));
        let last = crate::uptime_to_ns(export, uptime_ms, at(28));
        let b = |o: usize| d.get(r + o).copied().unwrap_or(0);
        out.push(exported(
            IpAddr::V4(Ipv4Addr::from(at(0))),
            IpAddr::V4(Ipv4Addr::from(at(4))),
            be16(d, r + 32).unwrap_or(0),
            be16(d, r + 34).unwrap_or(0),
            b(38),
            Timestamp(first),
            Timestamp(last.max(first)),
            [at(16) as u64, at(20) as u64],
            [0, 0],
            b(39),
            b(37),
            source,
        ));
    }
    Ok(count)
}
