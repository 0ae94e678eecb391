//! Which tunnel a flow looks like, from its protocol, ports and packet sizes — never its content.
//!
//! Evidence is gathered per packet with [`TunnelEvidence::observe`] and judged once per flow with
//! [`tunnel_kind`]; both `tapir inspect` and the [`crate::FlowTable`] use them.

use crate::key::proto;
use crate::record::TunnelKind;
use tapir_capture::IpInfo;

/// IKE (RFC 7296 §2) and NAT traversal (RFC 3948 §2).
const IKE_PORT: u16 = 500;
const NAT_T_PORT: u16 = 4500;
/// WireGuard's customary listening port (the port of `wg-quick` examples).
pub const WIREGUARD_PORT: u16 = 51820;
const OPENVPN_PORT: u16 = 1194;

/// What a flow's packets say about the tunnel it may be. Small and `Copy` so a flow table can keep
/// one per flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelEvidence {
    /// UDP packets whose payload has a WireGuard data message's size (32 + a multiple of 16).
    pub udp_wg_sized: u64,
    /// A UDP payload of a WireGuard handshake message was seen.
    pub wg_handshake: bool,
    /// A packet carried an IPsec SPI (ESP, ESP in UDP, AH).
    pub spi: bool,
}

impl TunnelEvidence {
    /// Add one packet's evidence.
    #[inline]
    pub fn observe(&mut self, ip: &IpInfo) {
        if ip.spi.is_some() {
            self.spi = true;
        }
        if ip.proto == proto::UDP {
            // WireGuard whitepaper §5.4: handshake initiation 148 and response 92 bytes of UDP
            // payload; data messages are 32 bytes of header and tag plus inner data padded to 16.
            let udp_payload = ip.payload_len;
            // Handshake messages count as WireGuard-sized too, or a flow with a handshake could
            // never have every packet WireGuard-sized (148 and 92 are not 32 + 16k).
            if udp_payload == 148 || udp_payload == 92 {
                self.wg_handshake = true;
                self.udp_wg_sized += 1;
            } else if udp_payload >= 32 && (udp_payload - 32) % 16 == 0 {
                self.udp_wg_sized += 1;
            }
        }
    }
}

/// The tunnel a flow between ports `port_a` and `port_b` looks like, after `packets` packets with
/// `ev` as evidence (`None` when nothing was gathered: ports and protocol decide alone).
pub fn tunnel_kind(
    ip_proto: u8,
    port_a: u16,
    port_b: u16,
    packets: u64,
    ev: Option<&TunnelEvidence>,
) -> Option<TunnelKind> {
    let has = |p: u16| port_a == p || port_b == p;
    match ip_proto {
        proto::ESP => Some(TunnelKind::Esp),
        proto::AH => Some(TunnelKind::Ah),
        // On 4500 IKE and ESP share the port; a non-zero SPI marks ESP (RFC 3948 §2.2).
        proto::UDP if has(NAT_T_PORT) => Some(if ev.is_some_and(|e| e.spi) {
            TunnelKind::EspInUdp
        } else {
            TunnelKind::Ike
        }),
        proto::UDP if has(IKE_PORT) => Some(TunnelKind::Ike),
        proto::UDP if has(OPENVPN_PORT) => Some(TunnelKind::OpenVpn),
        proto::UDP if has(WIREGUARD_PORT) => Some(TunnelKind::WireGuard),
        proto::UDP => {
            let ev = ev?;
            // Every packet WireGuard-sized, over enough packets that chance is unlikely
            // (a random size passes the test one time in 16).
            (ev.wg_handshake && packets >= 8 && ev.udp_wg_sized == packets)
                .then_some(TunnelKind::WireGuard)
        }
        proto::TCP if has(OPENVPN_PORT) => Some(TunnelKind::OpenVpn),
        proto::TCP if has(443) || has(8443) || has(993) || has(465) || has(853) => {
            Some(TunnelKind::Tls)
        }
        // Tor's customary ORPort and DirPort (torrc defaults in the Tor manual).
        proto::TCP if has(9001) || has(9030) => Some(TunnelKind::TorRelayPort),
        _ => None,
    }
}

/// Whether a UDP flow on these ports is a tunnel that sends keep-alives (NAT-T every 20 s,
/// RFC 3948 §4; WireGuard's persistent keepalive, commonly 25 s) and may go quiet between them.
pub fn keepalive_ports(ip_proto: u8, port_a: u16, port_b: u16) -> bool {
    ip_proto == proto::UDP
        && [NAT_T_PORT, WIREGUARD_PORT]
            .iter()
            .any(|p| *p == port_a || *p == port_b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapir_capture::Fragment;

    fn udp(payload: u32, spi: Option<u32>) -> IpInfo {
        IpInfo {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: proto::UDP,
            ip_len: payload + 28,
            tos: 0,
            ttl: 64,
            src_port: 40000,
            dst_port: 40001,
            tcp_flags: 0,
            payload_len: payload,
            payload_offset: 28,
            spi,
            fragment: Fragment::None,
        }
    }

    #[test]
    fn ports_decide_for_ipsec_and_tls() {
        assert_eq!(tunnel_kind(50, 0, 0, 1, None), Some(TunnelKind::Esp));
        assert_eq!(tunnel_kind(51, 0, 0, 1, None), Some(TunnelKind::Ah));
        assert_eq!(tunnel_kind(17, 500, 500, 1, None), Some(TunnelKind::Ike));
        assert_eq!(tunnel_kind(17, 4500, 3000, 1, None), Some(TunnelKind::Ike));
        let mut ev = TunnelEvidence::default();
        ev.observe(&udp(100, Some(7)));
        assert_eq!(
            tunnel_kind(17, 4500, 3000, 1, Some(&ev)),
            Some(TunnelKind::EspInUdp)
        );
        assert_eq!(tunnel_kind(6, 5000, 443, 1, None), Some(TunnelKind::Tls));
        assert_eq!(
            tunnel_kind(6, 9001, 5000, 1, None),
            Some(TunnelKind::TorRelayPort)
        );
        assert_eq!(tunnel_kind(6, 5000, 80, 1, None), None);
        assert_eq!(tunnel_kind(17, 5000, 53, 1, None), None);
    }

    #[test]
    fn wireguard_from_sizes_needs_handshake_and_all_sizes() {
        let mut ev = TunnelEvidence::default();
        ev.observe(&udp(148, None));
        ev.observe(&udp(92, None));
        for _ in 0..8 {
            ev.observe(&udp(32 + 16 * 5, None));
        }
        let n = ev.udp_wg_sized;
        assert_eq!(n, 10);
        assert_eq!(
            tunnel_kind(17, 40000, 40001, n, Some(&ev)),
            Some(TunnelKind::WireGuard)
        );
        // One odd-sized packet among them rules it out.
        assert_eq!(tunnel_kind(17, 40000, 40001, n + 1, Some(&ev)), None);
        assert!(keepalive_ports(17, 51820, 1));
        assert!(!keepalive_ports(6, 51820, 1));
    }
}
