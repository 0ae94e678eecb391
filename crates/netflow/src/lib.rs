//! tapir-netflow: NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011) export packets into tapir's
//! [`FlowRecord`], from a UDP collector or from export packets found inside a capture.
//!
//! Entry point: a [`Decoder`] per stream of export packets (it keeps the templates, keyed by
//! exporter address, observation domain and template id, bounded); [`Decoder::decode`] one
//! packet's UDP payload at a time. [`Collector`] binds a UDP socket and decodes what arrives.
//! A packet that cannot be read is an error for that packet only; the decoder stays usable.
//! [`capture_records`] reads a capture into records: its flows, and the records of the export
//! packets it carries.
//!
//! ```
//! use tapir_netflow::Decoder;
//! use tapir_flow::EndReason;
//! // A NetFlow v5 packet with one record: 10.0.0.1:1234 > 10.0.0.2:80, TCP, 3 packets, 180 bytes.
//! let mut p = vec![0u8; 24 + 48];
//! p[1] = 5; p[3] = 1;                               // version 5, one record
//! p[8..12].copy_from_slice(&1_700_000_000u32.to_be_bytes()); // export time
//! p[24..28].copy_from_slice(&[10, 0, 0, 1]);
//! p[28..32].copy_from_slice(&[10, 0, 0, 2]);
//! p[24 + 19] = 3;                                   // packets
//! p[24 + 23] = 180;                                 // octets
//! p[24 + 32..24 + 34].copy_from_slice(&1234u16.to_be_bytes());
//! p[24 + 34..24 + 36].copy_from_slice(&80u16.to_be_bytes());
//! p[24 + 38] = 6;                                   // TCP
//! let mut d = Decoder::new(1024);
//! let recs = d.decode("192.0.2.9".parse().unwrap(), &p).unwrap();
//! assert_eq!(recs.len(), 1);
//! assert_eq!((recs[0].packets_fwd, recs[0].bytes_fwd, recs[0].dst_port), (3, 180, 80));
//! assert_eq!(recs[0].end_reason, EndReason::Exported);
//! ```
#![deny(unsafe_code)]

mod bytes;
mod capture;
mod collector;
mod error;
mod template;
mod v5;

pub use capture::{capture_records, CapturedExports, DEFAULT_MAX_TEMPLATES};
pub use collector::Collector;
pub use error::NetflowError;
pub use template::{SetStats, TemplateCache, DEFAULT_TEMPLATES_PER_EXPORTER};

use std::net::IpAddr;
use tapir_capture::{IpInfo, Timestamp};
use tapir_flow::{tunnel_kind, EndReason, FlowRecord, RecordSource};

/// Default UDP ports of export packets: NetFlow (2055, 9995/9996 on some exporters) and IPFIX
/// (4739, RFC 7011 §10.3.1).
pub const DEFAULT_PORTS: [u16; 3] = [2055, 4739, 9995];

/// Decodes export packets from any number of exporters; keeps their templates.
#[derive(Debug)]
pub struct Decoder {
    templates: TemplateCache,
    stats: DecoderStats,
}

/// Totals over every packet a [`Decoder`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    pub packets: u64,
    /// Packets refused as a whole (bad version, truncated header or set).
    pub bad_packets: u64,
    pub records: u64,
    pub templates: u64,
    pub unknown_template_sets: u64,
    pub options_records: u64,
    /// Templates pushed out because the cache was full, in all or for their exporter.
    pub templates_dropped: u64,
}

impl Decoder {
    /// A decoder keeping at most `max_templates` templates over all exporters.
    pub fn new(max_templates: usize) -> Self {
        Self::with_limits(max_templates, template::DEFAULT_TEMPLATES_PER_EXPORTER)
    }

    /// A decoder keeping at most `max_templates` templates in all and `per_exporter` of one
    /// exporter.
    pub fn with_limits(max_templates: usize, per_exporter: usize) -> Self {
        Decoder {
            templates: TemplateCache::with_limits(max_templates, per_exporter),
            stats: DecoderStats::default(),
        }
    }

    pub fn stats(&self) -> DecoderStats {
        DecoderStats {
            templates_dropped: self.templates.dropped(),
            ..self.stats
        }
    }

    /// Templates known now.
    pub fn templates(&self) -> usize {
        self.templates.len()
    }

    /// Decode one export packet (a UDP payload) sent by `exporter`.
    ///
    /// Records decoded before an error inside a v9/IPFIX packet are dropped with the packet: a
    /// half-read packet is reported, not half-used.
    pub fn decode(
        &mut self,
        exporter: IpAddr,
        packet: &[u8],
    ) -> Result<Vec<FlowRecord>, NetflowError> {
        let mut out = Vec::new();
        self.stats.packets += 1;
        let r = self.decode_into(exporter, packet, &mut out);
        if r.is_err() {
            self.stats.bad_packets += 1;
            out.clear();
        }
        r.map(|_| out)
    }

    fn decode_into(
        &mut self,
        exporter: IpAddr,
        d: &[u8],
        out: &mut Vec<FlowRecord>,
    ) -> Result<(), NetflowError> {
        let version = bytes::be16(d, 0).ok_or(NetflowError::Truncated {
            what: "export version",
            offset: 0,
            need: 2,
            have: d.len(),
        })?;
        match version {
            5 => {
                let n = v5::decode(exporter, d, out)?;
                self.stats.records += n as u64;
            }
            9 | 10 => {
                let mut st = SetStats::default();
                if version == 9 {
                    template::decode_v9(&mut self.templates, exporter, d, out, &mut st)?;
                } else {
                    template::decode_ipfix(&mut self.templates, exporter, d, out, &mut st)?;
                }
                self.stats.records += st.records;
                self.stats.templates += st.templates;
                self.stats.unknown_template_sets += st.unknown_template_sets;
                self.stats.options_records += st.options_records;
            }
            v => return Err(NetflowError::UnsupportedVersion(v)),
        }
        Ok(())
    }
}

/// Whether a decoded packet looks like an export packet: UDP to one of `ports`.
pub fn is_export(ip: &IpInfo, ports: &[u16]) -> bool {
    ip.is_udp() && ports.contains(&ip.dst_port)
}

/// The UDP payload of a captured frame whose IP header decoded to `ip`, if the whole payload was
/// captured.
pub fn udp_payload<'a>(frame: &'a [u8], ip: &IpInfo) -> Option<&'a [u8]> {
    if !ip.is_udp() || ip.payload_offset == 0 {
        return None;
    }
    let at = ip.payload_offset as usize;
    frame.get(at..at + ip.payload_len as usize)
}

/// A time given as milliseconds of exporter uptime (v5, v9 FIRST/LAST_SWITCHED) in ns since the
/// epoch, from the export time and the uptime at export. The difference is taken modulo 2^32 ms:
/// uptime wraps after 49.7 days, and exporters replaying a capture (softflowd -r) give record
/// times "before boot", which only the wrapping difference reads right.
pub(crate) fn uptime_to_ns(export_ns: i64, uptime_at_export_ms: u32, t_ms: u32) -> i64 {
    let delta_ms = t_ms.wrapping_sub(uptime_at_export_ms) as i32 as i64;
    export_ns + delta_ms * 1_000_000
}

/// A record from an exporter; `fwd` and `rev` are `[packets, bytes]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn exported(
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    proto: u8,
    start: Timestamp,
    end: Timestamp,
    fwd: [u64; 2],
    rev: [u64; 2],
    tos: u8,
    tcp_flags: u8,
    source: RecordSource,
) -> FlowRecord {
    FlowRecord {
        src,
        dst,
        src_port,
        dst_port,
        proto,
        start,
        end,
        packets_fwd: fwd[0],
        bytes_fwd: fwd[1],
        packets_rev: rev[0],
        bytes_rev: rev[1],
        tos,
        tcp_flags,
        // Counts come from the exporter: a hostile one may send any value.
        tunnel: tunnel_kind(
            proto,
            src_port,
            dst_port,
            fwd[0].saturating_add(rev[0]),
            None,
        ),
        end_reason: EndReason::Exported,
        source,
    }
}

#[cfg(test)]
mod tests;
