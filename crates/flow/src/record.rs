//! One bidirectional flow record: the fields of a NetFlow record (M3AAWG, "Metadata and NetFlow"
//! table: packets and octets, start and stop, addresses and ports, protocol, ToS, TCP flags) for
//! both directions, plus what tapir adds: the tunnel it looks like and why it ended.
//!
//! Every source of flows — tapir's own [`crate::FlowTable`] over a capture, or NetFlow v5/v9/IPFIX
//! exports — produces this one type, so the analyses downstream never care where it came from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use tapir_capture::Timestamp;

/// The tunnel a flow looks like from its protocol, ports and packet sizes (never its content).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TunnelKind {
    /// IPsec ESP directly over IP (protocol 50).
    Esp,
    /// IPsec AH (protocol 51).
    Ah,
    /// ESP encapsulated in UDP port 4500 for NAT traversal (RFC 3948).
    EspInUdp,
    /// IKE on UDP 500, or on 4500 before any ESP packet was seen.
    Ike,
    /// WireGuard (UDP, recognised by its message types and sizes). Named as the lab's condition.
    #[serde(rename = "wireguard")]
    WireGuard,
    /// OpenVPN (UDP or TCP, recognised by its opcodes). Named as the lab's condition.
    #[serde(rename = "openvpn")]
    OpenVpn,
    /// TLS on a well-known TLS port (443, 8443, 993, 465, 853).
    Tls,
    /// TLS on a Tor relay's customary ORPort or DirPort (9001, 9030).
    TorRelayPort,
}

impl TunnelKind {
    /// Every kind, in declaration order.
    pub const ALL: [TunnelKind; 8] = [
        TunnelKind::Esp,
        TunnelKind::Ah,
        TunnelKind::EspInUdp,
        TunnelKind::Ike,
        TunnelKind::WireGuard,
        TunnelKind::OpenVpn,
        TunnelKind::Tls,
        TunnelKind::TorRelayPort,
    ];

    /// The short name used in tables, CSV and JSON (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Esp => "esp",
            TunnelKind::Ah => "ah",
            TunnelKind::EspInUdp => "esp_in_udp",
            TunnelKind::Ike => "ike",
            TunnelKind::WireGuard => "wireguard",
            TunnelKind::OpenVpn => "openvpn",
            TunnelKind::Tls => "tls",
            TunnelKind::TorRelayPort => "tor_relay_port",
        }
    }

    /// The kind named by [`TunnelKind::name`].
    pub fn from_name(s: &str) -> Option<TunnelKind> {
        TunnelKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

impl fmt::Display for TunnelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a flow record was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// No packet for longer than the idle timeout.
    IdleTimeout,
    /// The flow lasted longer than the active timeout; a new record continues it.
    ActiveTimeout,
    /// Both sides sent FIN (plus a short linger for the last ACK).
    Fin,
    /// A side sent RST.
    Rst,
    /// The table was full and this was the flow idle the longest.
    Evicted,
    /// The capture ended with the flow still open.
    EndOfCapture,
    /// Received from a NetFlow/IPFIX exporter, which decided the end itself.
    Exported,
}

impl EndReason {
    pub fn name(self) -> &'static str {
        match self {
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::ActiveTimeout => "active_timeout",
            EndReason::Fin => "fin",
            EndReason::Rst => "rst",
            EndReason::Evicted => "evicted",
            EndReason::EndOfCapture => "end_of_capture",
            EndReason::Exported => "exported",
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordSource {
    /// Built by tapir from packets in a capture.
    Capture,
    /// A NetFlow v5 export from `exporter`.
    NetflowV5 { exporter: IpAddr },
    /// A NetFlow v9 export from `exporter`, observation domain = source id.
    NetflowV9 { exporter: IpAddr, domain: u32 },
    /// An IPFIX (RFC 7011) export from `exporter`.
    Ipfix { exporter: IpAddr, domain: u32 },
}

impl RecordSource {
    /// A short name: `capture`, `netflow_v5`, `netflow_v9`, `ipfix`.
    pub fn name(&self) -> &'static str {
        match self {
            RecordSource::Capture => "capture",
            RecordSource::NetflowV5 { .. } => "netflow_v5",
            RecordSource::NetflowV9 { .. } => "netflow_v9",
            RecordSource::Ipfix { .. } => "ipfix",
        }
    }

    /// The exporter's address, for exported records.
    pub fn exporter(&self) -> Option<IpAddr> {
        match self {
            RecordSource::Capture => None,
            RecordSource::NetflowV5 { exporter }
            | RecordSource::NetflowV9 { exporter, .. }
            | RecordSource::Ipfix { exporter, .. } => Some(*exporter),
        }
    }
}

/// A bidirectional flow record. `src` is the flow's initiator (the client): the sender of the
/// first packet seen, or of the SYN when a TCP flow's first packet was lost.
///
/// For exported unidirectional records (NetFlow v5/v9 without biflow fields) the `_rev` counters
/// are 0 and `src` is the exporter's source.
///
/// Its serde form (the JSON lines of `tapir flows`) is flat, one column per field, the same
/// columns as the CSV: `dscp` after `tos`, and `source` as its name (`capture`, `netflow_v5`, …)
/// followed by `exporter` and `domain` (null for captures). The older nested
/// `"source":{"kind":…}` form is still read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "FlatRecord", try_from = "FlatRecord")]
pub struct FlowRecord {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub proto: u8,
    /// Time of the first packet.
    pub start: Timestamp,
    /// Time of the last packet.
    pub end: Timestamp,
    /// Packets from `src` to `dst`.
    pub packets_fwd: u64,
    /// IP bytes (IP header included) from `src` to `dst`.
    pub bytes_fwd: u64,
    pub packets_rev: u64,
    pub bytes_rev: u64,
    /// The first packet's IPv4 ToS / IPv6 traffic class (DSCP = `tos >> 2`).
    pub tos: u8,
    /// Union of TCP flags over both directions.
    pub tcp_flags: u8,
    pub tunnel: Option<TunnelKind>,
    pub end_reason: EndReason,
    pub source: RecordSource,
}

/// [`FlowRecord`] as its JSON lines and CSV have it: flat.
#[derive(Serialize, Deserialize)]
struct FlatRecord {
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    proto: u8,
    start: Timestamp,
    end: Timestamp,
    packets_fwd: u64,
    bytes_fwd: u64,
    packets_rev: u64,
    bytes_rev: u64,
    tos: u8,
    /// Written for the reader; `tos` is what is read.
    #[serde(default)]
    dscp: u8,
    tcp_flags: u8,
    tunnel: Option<TunnelKind>,
    end_reason: EndReason,
    source: SourceField,
    #[serde(default)]
    exporter: Option<IpAddr>,
    #[serde(default)]
    domain: Option<u32>,
}

/// `source` as a name, or as the nested object that earlier versions wrote.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum SourceField {
    Name(String),
    Nested(RecordSource),
}

impl From<FlowRecord> for FlatRecord {
    fn from(r: FlowRecord) -> FlatRecord {
        let domain = match r.source {
            RecordSource::NetflowV9 { domain, .. } | RecordSource::Ipfix { domain, .. } => {
                Some(domain)
            }
            _ => None,
        };
        FlatRecord {
            dscp: r.dscp(),
            exporter: r.source.exporter(),
            domain,
            source: SourceField::Name(r.source.name().to_string()),
            src: r.src,
            dst: r.dst,
            src_port: r.src_port,
            dst_port: r.dst_port,
            proto: r.proto,
            start: r.start,
            end: r.end,
            packets_fwd: r.packets_fwd,
            bytes_fwd: r.bytes_fwd,
            packets_rev: r.packets_rev,
            bytes_rev: r.bytes_rev,
            tos: r.tos,
            tcp_flags: r.tcp_flags,
            tunnel: r.tunnel,
            end_reason: r.end_reason,
        }
    }
}

impl TryFrom<FlatRecord> for FlowRecord {
    type Error = String;

    fn try_from(f: FlatRecord) -> Result<FlowRecord, String> {
        let need = |what: &str| format!("source {what} needs an exporter");
        let source = match f.source {
            SourceField::Nested(s) => s,
            SourceField::Name(name) => match name.as_str() {
                "capture" => RecordSource::Capture,
                "netflow_v5" => RecordSource::NetflowV5 {
                    exporter: f.exporter.ok_or_else(|| need(&name))?,
                },
                "netflow_v9" => RecordSource::NetflowV9 {
                    exporter: f.exporter.ok_or_else(|| need(&name))?,
                    domain: f.domain.unwrap_or(0),
                },
                "ipfix" => RecordSource::Ipfix {
                    exporter: f.exporter.ok_or_else(|| need(&name))?,
                    domain: f.domain.unwrap_or(0),
                },
                other => {
                    return Err(format!(
                        "unknown source {other:?} (capture, netflow_v5, netflow_v9 or ipfix)"
                    ))
                }
            },
        };
        Ok(FlowRecord {
            src: f.src,
            dst: f.dst,
            src_port: f.src_port,
            dst_port: f.dst_port,
            proto: f.proto,
            start: f.start,
            end: f.end,
            packets_fwd: f.packets_fwd,
            bytes_fwd: f.bytes_fwd,
            packets_rev: f.packets_rev,
            bytes_rev: f.bytes_rev,
            tos: f.tos,
            tcp_flags: f.tcp_flags,
            tunnel: f.tunnel,
            end_reason: f.end_reason,
            source,
        })
    }
}

impl FlowRecord {
    /// Packets in both directions.
    pub fn packets(&self) -> u64 {
        self.packets_fwd.saturating_add(self.packets_rev)
    }

    /// IP bytes in both directions.
    pub fn bytes(&self) -> u64 {
        self.bytes_fwd.saturating_add(self.bytes_rev)
    }

    /// Differentiated Services code point (RFC 2474: the upper six bits of ToS).
    pub fn dscp(&self) -> u8 {
        self.tos >> 2
    }

    /// `end - start` in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.end.nanos_since(self.start) as f64 / 1e9
    }

    /// `proto src > dst`, e.g. `tcp 10.0.0.1:5000 > 10.0.0.2:443`.
    pub fn describe(&self) -> String {
        let ep = |a: IpAddr, p: u16| match a {
            IpAddr::V4(a) => format!("{a}:{p}"),
            IpAddr::V6(a) => format!("[{a}]:{p}"),
        };
        format!(
            "{} {} > {}",
            crate::proto::name(self.proto),
            ep(self.src, self.src_port),
            ep(self.dst, self.dst_port)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> FlowRecord {
        FlowRecord {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            src_port: 40000,
            dst_port: 443,
            proto: 6,
            start: Timestamp(1_000_000_000),
            end: Timestamp(3_500_000_000),
            packets_fwd: 10,
            bytes_fwd: 1000,
            packets_rev: 8,
            bytes_rev: 9000,
            tos: 0xb8,
            tcp_flags: 0x1b,
            tunnel: Some(TunnelKind::Tls),
            end_reason: EndReason::Fin,
            source: RecordSource::Ipfix {
                exporter: "192.0.2.1".parse().unwrap(),
                domain: 7,
            },
        }
    }

    #[test]
    fn totals_and_dscp() {
        let r = rec();
        assert_eq!(r.packets(), 18);
        assert_eq!(r.bytes(), 10_000);
        assert_eq!(r.dscp(), 46, "0xb8 is EF");
        assert!((r.duration_secs() - 2.5).abs() < 1e-12);
        assert_eq!(r.describe(), "tcp 10.0.0.1:40000 > 10.0.0.2:443");
    }

    #[test]
    fn json_round_trip_and_names() {
        let r = rec();
        let j = serde_json::to_string(&r).unwrap();
        assert!(j.contains(r#""tunnel":"tls""#), "{j}");
        assert!(j.contains(r#""end_reason":"fin""#), "{j}");
        assert!(
            j.contains(r#""tos":184,"dscp":46,"#)
                && j.contains(r#""source":"ipfix","exporter":"192.0.2.1","domain":7}"#),
            "flat, the CSV's columns: {j}"
        );
        let back: FlowRecord = serde_json::from_str(&j).unwrap();
        assert_eq!(back, r);
        // The nested form that earlier versions wrote is still read.
        let old = j.replace(
            r#""source":"ipfix","exporter":"192.0.2.1","domain":7"#,
            r#""source":{"kind":"ipfix","exporter":"192.0.2.1","domain":7}"#,
        );
        assert_ne!(old, j);
        assert_eq!(serde_json::from_str::<FlowRecord>(&old).unwrap(), r);
        let bad = j.replace(r#""exporter":"192.0.2.1""#, r#""exporter":null"#);
        assert!(serde_json::from_str::<FlowRecord>(&bad).is_err());
        for k in TunnelKind::ALL {
            assert_eq!(TunnelKind::from_name(k.name()), Some(k));
            let s = serde_json::to_string(&k).unwrap();
            assert_eq!(s, format!("\"{}\"", k.name()));
        }
        assert_eq!(r.source.exporter(), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(RecordSource::Capture.exporter(), None);
    }
}
