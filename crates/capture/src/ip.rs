//! IPv4 and IPv6 headers, and the few transport fields traffic analysis needs.

use crate::error::{DecodeError, Layer};
use crate::link::{locate, Net};
use crate::LinkType;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ESP: u8 = 50;
const PROTO_AH: u8 = 51;
const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DEST_OPTS: u8 = 60;
/// IKE and ESP share UDP port 4500 when NAT traversal is on (RFC 3948).
const NAT_T_PORT: u16 = 4500;

/// Whether a packet is an IP fragment, and which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Fragment {
    /// A whole datagram.
    #[default]
    None,
    /// The first fragment: offset 0, more fragments follow. Carries the transport header.
    First,
    /// Any later fragment: no transport header, so ports are 0.
    Later,
}

/// What the IP layer says about one packet. All fields come from the headers, never from the
/// payload of an encrypted protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Transport protocol: the last next-header value after IPv6 extension headers and AH.
    pub proto: u8,
    /// The IP packet's length on the wire, from the IP header (IPv4 total length, IPv6 payload
    /// length + 40), so it is right even when the capture kept fewer bytes.
    pub ip_len: u32,
    /// IPv4 TOS byte or IPv6 traffic class.
    pub tos: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// 0 unless a TCP or UDP header was captured.
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...), 0 otherwise.
    pub tcp_flags: u8,
    /// Bytes after the transport header when a TCP or UDP header was captured, otherwise bytes
    /// after the IP header(s); computed from `ip_len`, so snaplen does not shrink it.
    pub payload_len: u32,
    /// Where the transport payload starts in the frame given to [`decode`] (after the link,
    /// IP, extension and TCP or UDP headers); 0 unless a TCP or UDP header was captured.
    pub payload_offset: u32,
    /// IPsec Security Parameters Index: ESP, ESP in UDP/4500, or AH.
    pub spi: Option<u32>,
    pub fragment: Fragment,
}

impl IpInfo {
    pub fn is_tcp(&self) -> bool {
        self.proto == PROTO_TCP
    }

    pub fn is_udp(&self) -> bool {
        self.proto == PROTO_UDP
    }
}

#[inline(always)]
fn be16(data: &[u8], at: usize) -> Option<u16> {
    data.get(at..)?
        .first_chunk::<2>()
        .map(|b| u16::from_be_bytes(*b))
}

#[inline(always)]
fn be32(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..)?
        .first_chunk::<4>()
        .map(|b| u32::from_be_bytes(*b))
}

/// Decodes a link-layer frame down to the IP header and, when captured, the transport ports.
///
/// Zero-copy and allocation-free; never panics. `orig_len` is the frame's length on the wire,
/// used only when the IP header gives no length (0, as TCP segmentation offload writes it).
///
/// Errors: [`DecodeError::NotIp`] for frames that carry no IP (ARP, LLDP, ...), which callers
/// skip silently; [`DecodeError::Truncated`] when the link or IP header itself is cut. A cut
/// transport header is not an error: the ports are then 0.
///
/// ```
/// use tapir_capture::{decode, LinkType};
/// // A 20-byte IPv4 header (raw IP link type) announcing 1400 bytes, captured without payload.
/// let mut ip = [0u8; 20];
/// ip[0] = 0x45;
/// ip[2..4].copy_from_slice(&1400u16.to_be_bytes());
/// ip[9] = 50; // ESP: SPI not captured
/// ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
/// ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
/// let info = decode(LinkType::RAW, &ip, 20).unwrap();
/// assert_eq!(info.ip_len, 1400);
/// assert_eq!(info.proto, 50);
/// assert_eq!(info.spi, None);
/// ```
// Not inlined: the header is then written once, straight into the caller's result, where a
// copy of it (of fields just stored one by one) would stall on store forwarding.
#[inline(never)]
pub fn decode(link: LinkType, data: &[u8], orig_len: u32) -> Result<IpInfo, DecodeError> {
    decode_with::<true>(link, data, orig_len)
}

/// [`decode`] down to the IP header only: the same addresses, protocol, lengths, TOS, TTL and
/// fragment, the same errors (a cut or missing transport header is never one), but no look at
/// the transport header: ports, TCP flags and payload offset stay 0, an ESP SPI stays `None`
/// (an AH SPI is read: AH is part of the IP layer), and `payload_len` counts the bytes after
/// the IP header(s). For readers that need the IP layer only (a whole capture's trace: time,
/// length and source).
///
/// ```
/// use tapir_capture::{decode, decode_ip, LinkType};
/// // IPv4 + UDP 12345 -> 53, 100 bytes of payload.
/// let mut p = vec![0x45, 0, 0, 128, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
/// p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 108, 0, 0]);
/// let full = decode(LinkType::RAW, &p, 128).unwrap();
/// let ip = decode_ip(LinkType::RAW, &p, 128).unwrap();
/// assert_eq!((full.src_port, full.payload_len), (12345, 100));
/// assert_eq!((ip.src_port, ip.payload_len), (0, 108));
/// assert_eq!((ip.src, ip.dst, ip.proto, ip.ip_len), (full.src, full.dst, 17, 128));
/// ```
#[inline(never)]
pub fn decode_ip(link: LinkType, data: &[u8], orig_len: u32) -> Result<IpInfo, DecodeError> {
    decode_with::<false>(link, data, orig_len)
}

/// [`plain_ipv4`] where it applies, else the general decoder, kept out of line so that the
/// common case pays neither its checks nor its register saves.
#[inline(always)]
fn decode_with<const TRANSPORT: bool>(
    link: LinkType,
    data: &[u8],
    orig_len: u32,
) -> Result<IpInfo, DecodeError> {
    match plain_ipv4::<TRANSPORT>(link, data) {
        Some(info) => Ok(info),
        None => decode_general::<TRANSPORT>(link, data, orig_len),
    }
}

/// The common case of [`decode`] and [`decode_ip`] in a few tests: an IPv4 header of 20 bytes,
/// straight after an Ethernet header (no VLAN tag) or alone (a raw-IP link type), announcing a
/// total length of at least 20, not a fragment, not AH. What [`decode_general`] gives for such a
/// packet, or `None` for any other packet, which it then decodes.
#[inline(always)]
fn plain_ipv4<const TRANSPORT: bool>(link: LinkType, data: &[u8]) -> Option<IpInfo> {
    let offset = match link {
        LinkType::ETHERNET => match data.get(12..14)? {
            [0x08, 0x00] => 14,
            _ => return None,
        },
        LinkType::RAW | LinkType::RAW_OPENBSD | LinkType::RAW_BSDOS | LinkType::IPV4 => 0,
        _ => return None,
    };
    let ip = data.get(offset..)?;
    let h = ip.first_chunk::<20>()?;
    let ip_len = u32::from(u16::from_be_bytes([h[2], h[3]]));
    // Version 4 and 20 bytes of header; no fragment offset and no more-fragments flag.
    if h[0] != 0x45 || ip_len < 20 || u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
        return None;
    }
    if h[9] == PROTO_AH {
        return None;
    }
    let mut info = v4_info(h, ip_len, Fragment::None);
    transport::<TRANSPORT>(&mut info, ip, 20);
    if info.payload_offset != 0 {
        info.payload_offset += offset as u32;
    }
    Some(info)
}

/// The IP-layer fields of the IPv4 header `h` (its first 20 bytes).
#[inline(always)]
fn v4_info(h: &[u8; 20], ip_len: u32, fragment: Fragment) -> IpInfo {
    let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
    ip_layer(src, dst, h[9], ip_len, h[1], h[8], fragment)
}

/// A header with its IP-layer fields set and the transport fields empty, left for
/// [`transport`].
#[inline(always)]
fn ip_layer(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_len: u32,
    tos: u8,
    ttl: u8,
    fragment: Fragment,
) -> IpInfo {
    IpInfo {
        src,
        dst,
        proto,
        ip_len,
        tos,
        ttl,
        src_port: 0,
        dst_port: 0,
        tcp_flags: 0,
        payload_len: 0,
        payload_offset: 0,
        spi: None,
        fragment,
    }
}

/// [`decode`], with the transport header read when `TRANSPORT`, for every packet
/// [`plain_ipv4`] leaves.
#[inline(never)]
#[cold]
fn decode_general<const TRANSPORT: bool>(
    link: LinkType,
    data: &[u8],
    orig_len: u32,
) -> Result<IpInfo, DecodeError> {
    let (net, offset) = locate(link, data)?;
    let ip = data.get(offset..).unwrap_or(&[]);
    // What the wire carried after the link header; the capture may hold less, or (with a
    // broken writer) claim less than it holds.
    let captured = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let wire_len = orig_len.max(captured).saturating_sub(offset as u32);
    let net = match net {
        Net::Either => match ip.first().map(|b| b >> 4) {
            Some(4) => Net::V4,
            Some(6) => Net::V6,
            Some(_) => {
                return Err(DecodeError::Malformed {
                    layer: Layer::Link,
                    reason: "raw IP packet is neither version 4 nor 6",
                })
            }
            None => {
                return Err(DecodeError::Truncated {
                    layer: Layer::Link,
                    need: 1,
                    have: 0,
                })
            }
        },
        known => known,
    };
    let mut info = match net {
        Net::V6 => decode_v6::<TRANSPORT>(ip, wire_len),
        _ => decode_v4::<TRANSPORT>(ip, wire_len),
    }?;
    if info.payload_offset != 0 {
        info.payload_offset += offset as u32;
    }
    Ok(info)
}

#[inline(always)]
fn decode_v4<const TRANSPORT: bool>(ip: &[u8], wire_len: u32) -> Result<IpInfo, DecodeError> {
    let h = ip.first_chunk::<20>().ok_or(DecodeError::Truncated {
        layer: Layer::Ipv4,
        need: 20,
        have: ip.len(),
    })?;
    if h[0] >> 4 != 4 {
        return Err(DecodeError::Malformed {
            layer: Layer::Ipv4,
            reason: "version is not 4",
        });
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(DecodeError::Malformed {
            layer: Layer::Ipv4,
            reason: "header length below 20 bytes",
        });
    }
    if ip.len() < ihl {
        return Err(DecodeError::Truncated {
            layer: Layer::Ipv4,
            need: ihl,
            have: ip.len(),
        });
    }
    let total = u32::from(u16::from_be_bytes([h[2], h[3]]));
    let ip_len = match total {
        0 => wire_len,
        t if (t as usize) < ihl => {
            return Err(DecodeError::Malformed {
                layer: Layer::Ipv4,
                reason: "total length below header length",
            })
        }
        t => t,
    };
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let fragment = if frag & 0x1fff != 0 {
        Fragment::Later
    } else if frag & 0x2000 != 0 {
        Fragment::First
    } else {
        Fragment::None
    };
    let mut info = v4_info(h, ip_len, fragment);
    let mut offset = ihl;
    // AH in transport or tunnel mode sits between IPv4 and the next protocol (RFC 4302).
    if info.proto == PROTO_AH && fragment != Fragment::Later {
        let (next, len, spi) = match ah(ip, offset) {
            Some(ah) => ah,
            None => {
                info.payload_len = ip_len.saturating_sub(offset as u32);
                return Ok(info);
            }
        };
        info.spi = Some(spi);
        info.proto = next;
        offset += len;
    }
    transport::<TRANSPORT>(&mut info, ip, offset);
    Ok(info)
}

/// AH header at `offset`: (next header, length in bytes, SPI), if captured.
fn ah(ip: &[u8], offset: usize) -> Option<(u8, usize, u32)> {
    let next = *ip.get(offset)?;
    let len = (usize::from(*ip.get(offset + 1)?) + 2) * 4;
    let spi = be32(ip, offset + 4)?;
    Some((next, len, spi))
}

#[inline(always)]
fn decode_v6<const TRANSPORT: bool>(ip: &[u8], wire_len: u32) -> Result<IpInfo, DecodeError> {
    let h = ip.first_chunk::<40>().ok_or(DecodeError::Truncated {
        layer: Layer::Ipv6,
        need: 40,
        have: ip.len(),
    })?;
    if h[0] >> 4 != 6 {
        return Err(DecodeError::Malformed {
            layer: Layer::Ipv6,
            reason: "version is not 6",
        });
    }
    let payload = u32::from(u16::from_be_bytes([h[4], h[5]]));
    // 0 means a jumbogram (RFC 2675) or segmentation offload: take the wire length.
    let ip_len = if payload == 0 { wire_len } else { payload + 40 };
    let mut src = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&h[24..40]);
    let mut info = ip_layer(
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
        h[6],
        ip_len,
        (h[0] << 4) | (h[1] >> 4),
        h[7],
        Fragment::None,
    );
    let mut offset = 40usize;
    // Extension headers (RFC 8200, section 4). Every step moves `offset` forward by at least 8,
    // and a header that is not captured ends the walk, so the loop ends with the data.
    loop {
        match info.proto {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS => {
                let (Some(&next), Some(&len)) = (ip.get(offset), ip.get(offset + 1)) else {
                    break;
                };
                info.proto = next;
                offset += (usize::from(len) + 1) * 8;
            }
            IPV6_FRAGMENT => {
                let (Some(&next), Some(field)) = (ip.get(offset), be16(ip, offset + 2)) else {
                    break;
                };
                info.proto = next;
                offset += 8;
                if field >> 3 != 0 {
                    info.fragment = Fragment::Later;
                    info.payload_len = ip_len.saturating_sub(offset as u32);
                    return Ok(info);
                }
                if field & 1 != 0 {
                    info.fragment = Fragment::First;
                }
            }
            PROTO_AH => {
                let Some((next, len, spi)) = ah(ip, offset) else {
                    break;
                };
                info.spi = Some(spi);
                info.proto = next;
                offset += len;
            }
            _ => break,
        }
    }
    transport::<TRANSPORT>(&mut info, ip, offset);
    Ok(info)
}

/// Sets the payload length to the bytes after the IP header(s) at `offset`; with `READ`, then
/// fills ports, flags, SPI and payload length from the transport header there.
#[inline(always)]
fn transport<const READ: bool>(info: &mut IpInfo, ip: &[u8], offset: usize) {
    let after_ip = info.ip_len.saturating_sub(offset as u32);
    info.payload_len = after_ip;
    if !READ || info.fragment == Fragment::Later {
        return;
    }
    // Bytes past the IP length are link-layer padding (Ethernet pads to 60 bytes): never read
    // them as payload.
    let end = (info.ip_len as usize).min(ip.len());
    let l4 = ip.get(offset..end).unwrap_or(&[]);
    match info.proto {
        PROTO_TCP => {
            if let Some(t) = l4.first_chunk::<20>() {
                info.src_port = u16::from_be_bytes([t[0], t[1]]);
                info.dst_port = u16::from_be_bytes([t[2], t[3]]);
                info.tcp_flags = t[13];
                let data_offset = (u32::from(t[12] >> 4) * 4).max(20);
                info.payload_len = after_ip.saturating_sub(data_offset);
                info.payload_offset = offset as u32 + data_offset;
            }
        }
        PROTO_UDP => {
            if let Some(u) = l4.first_chunk::<8>() {
                info.src_port = u16::from_be_bytes([u[0], u[1]]);
                info.dst_port = u16::from_be_bytes([u[2], u[3]]);
                info.payload_len = after_ip.saturating_sub(8);
                info.payload_offset = offset as u32 + 8;
                if info.src_port == NAT_T_PORT || info.dst_port == NAT_T_PORT {
                    // RFC 3948, section 2.2: IKE messages on this port start with a zero
                    // "non-ESP marker"; anything else is an ESP header, SPI first.
                    info.spi = be32(l4, 8).filter(|&spi| spi != 0);
                }
            }
        }
        PROTO_ESP => info.spi = be32(l4, 0),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(proto: u8, total: u16, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![
            0x45, 0xb8, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
        ];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(rest);
        p
    }

    /// `decode_ip` accepts and rejects exactly what `decode` does, with the same IP-layer
    /// fields, on headers valid and random: seeded IPv4 and IPv6 headers over TCP, UDP, ESP,
    /// AH and extension headers, cut at every length, some bytes flipped.
    #[test]
    fn decode_ip_is_decode_without_the_transport_header() {
        let mut rng = crate::rng::SplitMix64::new(7);
        let protos = [6u8, 17, 50, 51, 0, 44, 43, 60, 1, 58];
        for n in 0..20_000u32 {
            let v6 = n % 2 == 1;
            let proto = protos[(rng.next_u64() % protos.len() as u64) as usize];
            let mut p = if v6 {
                let mut h = vec![0x60, 0, 0, 0, 0, 0, proto, 64];
                h[4..6].copy_from_slice(&((rng.next_u64() % 200) as u16).to_be_bytes());
                h.extend((0..32).map(|_| rng.next_u64() as u8));
                h
            } else {
                v4(proto, (rng.next_u64() % 200) as u16, &[])
            };
            p.extend((0..rng.next_u64() % 48).map(|_| rng.next_u64() as u8));
            if n % 3 == 0 {
                let at = (rng.next_u64() % p.len() as u64) as usize;
                p[at] ^= rng.next_u64() as u8;
            }
            let cut = (rng.next_u64() % (p.len() as u64 + 1)) as usize;
            let data = &p[..cut];
            let orig = p.len() as u32;
            for link in [LinkType::RAW, LinkType::IPV4, LinkType::IPV6] {
                match (decode(link, data, orig), decode_ip(link, data, orig)) {
                    (Ok(full), Ok(ip)) => {
                        let ip_layer = |i: &IpInfo| (i.src, i.dst, i.proto, i.ip_len, i.tos, i.ttl);
                        assert_eq!(ip_layer(&full), ip_layer(&ip), "{data:02x?}");
                        assert_eq!(full.fragment, ip.fragment);
                        assert_eq!((ip.src_port, ip.dst_port, ip.tcp_flags), (0, 0, 0));
                        assert_eq!(ip.payload_offset, 0);
                        assert!(ip.payload_len >= full.payload_len, "{data:02x?}");
                        if ip.proto != PROTO_ESP && ip.proto != PROTO_UDP {
                            assert_eq!(full.spi, ip.spi, "an AH SPI is the IP layer's");
                        }
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{data:02x?}: decode {a:?}, decode_ip {b:?}"),
                }
            }
        }
    }

    /// The shortcut for plain IPv4 gives what the general decoders give, field for field and
    /// error for error, on seeded headers at and around its edges: header lengths, versions,
    /// total lengths (0, below 20, past the capture), fragment bits, AH, NAT-T ports, Ethernet
    /// with and without a VLAN tag or IPv6, every raw-IP link type, cut at any length.
    #[test]
    fn the_plain_ipv4_shortcut_is_the_general_decoder() {
        let mut rng = crate::rng::SplitMix64::new(11);
        let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
        let links = [
            LinkType::ETHERNET,
            LinkType::RAW,
            LinkType::RAW_OPENBSD,
            LinkType::RAW_BSDOS,
            LinkType::IPV4,
            LinkType::IPV6,
            LinkType::NULL,
            LinkType::LINUX_SLL,
        ];
        let (mut plain, mut other) = (0, 0);
        for _ in 0..60_000 {
            let proto = [6u8, 17, 50, 51, 1][pick(5)];
            let total = [0u16, 19, 20, 40, 60, 1500, pick(200) as u16][pick(7)];
            let mut ip = v4(proto, total, &[]);
            ip[0] = [0x45, 0x45, 0x45, 0x46, 0x44, 0x55, 0x65][pick(7)];
            let frag: u16 = [0, 0x4000, 0x2000, 0x0001, 0x8000, pick(65_536) as u16][pick(6)];
            ip[6..8].copy_from_slice(&frag.to_be_bytes());
            let port = [4500u16, 53, 443][pick(3)];
            ip.extend_from_slice(&port.to_be_bytes());
            ip.extend_from_slice(&port.to_be_bytes());
            ip.extend((0..pick(40)).map(|_| pick(256) as u8));
            let link = links[pick(links.len())];
            let mut p = Vec::new();
            if link == LinkType::ETHERNET {
                p.extend_from_slice(&[2; 12]);
                match pick(4) {
                    0 => p.extend_from_slice(&[0x81, 0x00, 0, 7, 0x08, 0x00]),
                    1 => p.extend_from_slice(&[0x86, 0xdd]),
                    _ => p.extend_from_slice(&[0x08, 0x00]),
                }
            }
            p.extend_from_slice(&ip);
            let data = &p[..p.len() - pick(p.len() + 1).min(pick(4) * p.len() / 3)];
            let orig = p.len() as u32 + [0, 0, 100][pick(3)];
            let same =
                |a: &Result<IpInfo, DecodeError>, b: &Result<IpInfo, DecodeError>| match (a, b) {
                    (Ok(a), Ok(b)) => a == b,
                    (Err(a), Err(b)) => a.to_string() == b.to_string(),
                    _ => false,
                };
            let full = decode(link, data, orig);
            assert!(
                same(&full, &decode_general::<true>(link, data, orig)),
                "{link:?} {data:02x?}"
            );
            let ip = decode_ip(link, data, orig);
            assert!(
                same(&ip, &decode_general::<false>(link, data, orig)),
                "{link:?} {data:02x?}"
            );
            if plain_ipv4::<true>(link, data).is_some() {
                plain += 1;
            } else {
                other += 1;
            }
        }
        // Both sides of the shortcut were tried.
        assert!(
            plain > 2_000 && other > 2_000,
            "{plain} plain, {other} other"
        );
    }

    #[test]
    fn ipv4_udp_and_ports() {
        let p = v4(17, 28 + 100, &[0x30, 0x39, 0, 53, 0, 108, 0, 0]);
        let info = decode(LinkType::IPV4, &p, p.len() as u32).unwrap();
        assert_eq!(info.ip_len, 128);
        assert_eq!(info.tos, 0xb8);
        assert_eq!(info.ttl, 64);
        assert_eq!((info.src_port, info.dst_port), (12345, 53));
        assert_eq!(info.payload_len, 100);
        assert_eq!(info.payload_offset, 28);
        assert_eq!(info.src.to_string(), "192.0.2.1");
    }

    #[test]
    fn tso_zero_length_falls_back_to_wire_length() {
        let p = v4(6, 0, &[]);
        let info = decode(LinkType::RAW, &p, 9000).unwrap();
        assert_eq!(info.ip_len, 9000);
        // TCP header not captured: ports 0, no error.
        assert_eq!(info.src_port, 0);
        assert_eq!(info.payload_len, 9000 - 20);
    }

    #[test]
    fn esp_and_nat_t() {
        let esp = v4(50, 100, &[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]);
        assert_eq!(
            decode(LinkType::RAW, &esp, 100).unwrap().spi,
            Some(0xdead_beef)
        );
        let nat_t = v4(
            17,
            40,
            &[0x11, 0x94, 0x11, 0x94, 0, 20, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1],
        );
        assert_eq!(decode(LinkType::RAW, &nat_t, 40).unwrap().spi, Some(7));
        let ike = v4(
            17,
            40,
            &[
                0x11, 0x94, 0x11, 0x94, 0, 20, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0,
            ],
        );
        assert_eq!(decode(LinkType::RAW, &ike, 40).unwrap().spi, None);
        // A 1-byte NAT keepalive followed by link padding: the padding is not an SPI.
        let keepalive = v4(
            17,
            29,
            &[0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0, 0xff, 1, 2, 3, 4],
        );
        assert_eq!(decode(LinkType::RAW, &keepalive, 40).unwrap().spi, None);
    }

    #[test]
    fn ipv4_fragments() {
        let mut first = v4(17, 1500, &[0, 1, 0, 2, 0, 0, 0, 0]);
        first[6] = 0x20;
        let info = decode(LinkType::RAW, &first, 1500).unwrap();
        assert_eq!(info.fragment, Fragment::First);
        assert_eq!(info.dst_port, 2);
        let mut later = first.clone();
        later[7] = 0xb9;
        let info = decode(LinkType::RAW, &later, 1500).unwrap();
        assert_eq!(info.fragment, Fragment::Later);
        assert_eq!(info.dst_port, 0);
        assert_eq!(info.payload_len, 1480);
    }

    #[test]
    fn ipv6_extension_headers_and_fragment() {
        let mut p = vec![0x6a, 0xb0, 0, 0, 0, 0, 0, 64];
        p[4..6].copy_from_slice(&(8u16 + 8 + 8 + 20 + 10).to_be_bytes());
        p[6] = IPV6_HOP_BY_HOP;
        p.extend_from_slice(&[0u8; 32]);
        p.extend_from_slice(&[IPV6_FRAGMENT, 0, 0, 0, 0, 0, 0, 0]); // hop-by-hop, 8 bytes
        p.extend_from_slice(&[PROTO_AH, 0, 0, 1, 0, 0, 0, 9]); // fragment, offset 0, M=1
        p.extend_from_slice(&[PROTO_TCP, 0, 0, 0, 0, 0, 0, 42]); // AH: length field 0 means 8 bytes; SPI 42
        let mut tcp = [0u8; 20];
        tcp[0..2].copy_from_slice(&443u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&50000u16.to_be_bytes());
        tcp[12] = 0x50;
        tcp[13] = 0x18;
        p.extend_from_slice(&tcp);
        let info = decode(LinkType::IPV6, &p, p.len() as u32).unwrap();
        assert_eq!(info.proto, PROTO_TCP);
        assert_eq!(info.tos, 0xab);
        assert_eq!(info.ip_len, 40 + 54);
        assert_eq!(info.fragment, Fragment::First);
        assert_eq!(info.spi, Some(42));
        assert_eq!(
            (info.src_port, info.dst_port, info.tcp_flags),
            (443, 50000, 0x18)
        );
        assert_eq!(info.payload_len, 10);
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            decode(LinkType::IPV4, &[0x45; 10], 10),
            Err(DecodeError::Truncated {
                layer: Layer::Ipv4,
                need: 20,
                have: 10
            })
        );
        let mut options_cut = v4(6, 60, &[]);
        options_cut[0] = 0x46;
        assert!(matches!(
            decode(LinkType::IPV4, &options_cut, 60),
            Err(DecodeError::Truncated { need: 24, .. })
        ));
        assert!(matches!(
            decode(LinkType::IPV6, &v4(6, 60, &[0; 20]), 60),
            Err(DecodeError::Malformed {
                layer: Layer::Ipv6,
                ..
            })
        ));
        assert!(matches!(
            decode(LinkType::RAW, &[0x10, 0, 0], 3),
            Err(DecodeError::Malformed {
                layer: Layer::Link,
                ..
            })
        ));
    }
}
