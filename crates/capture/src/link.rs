//! Link-layer headers: find where the IP packet starts in a frame.

use crate::error::{DecodeError, Layer};
use crate::LinkType;

/// Which IP version the link layer announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Net {
    V4,
    V6,
    /// Raw IP without a version hint: read it from the first nibble.
    Either,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q customer tag, 802.1ad service tag (QinQ) and the pre-standard QinQ tag.
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

const ETHERNET_HEADER_LEN: usize = 14;
/// Linux cooked capture v1: packet type, ARPHRD type, address length, 8-byte address, protocol.
const SLL_HEADER_LEN: usize = 16;
/// Linux cooked capture v2: protocol first, then reserved, ifindex, ARPHRD, type, address.
const SLL2_HEADER_LEN: usize = 20;
const NULL_HEADER_LEN: usize = 4;

/// BSD address family values for IPv6: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30; Linux's 10
/// shows up in DLT_NULL files written by some user-space tools.
const AF_INET: u32 = 2;
const AF_INET6: [u32; 4] = [24, 28, 30, 10];

#[inline(always)]
fn be16(data: &[u8], at: usize) -> Option<u16> {
    data.get(at..)?
        .first_chunk::<2>()
        .map(|b| u16::from_be_bytes(*b))
}

fn truncated(layer: Layer, need: usize, have: usize) -> DecodeError {
    DecodeError::Truncated { layer, need, have }
}

/// Returns the IP version and the offset of the IP header in `data`.
#[inline]
pub(crate) fn locate(link: LinkType, data: &[u8]) -> Result<(Net, usize), DecodeError> {
    match link {
        LinkType::ETHERNET => {
            let ethertype = be16(data, 12)
                .ok_or_else(|| truncated(Layer::Link, ETHERNET_HEADER_LEN, data.len()))?;
            ethertype_chain(data, ETHERNET_HEADER_LEN, ethertype)
        }
        LinkType::RAW | LinkType::RAW_OPENBSD | LinkType::RAW_BSDOS => Ok((Net::Either, 0)),
        LinkType::IPV4 => Ok((Net::V4, 0)),
        LinkType::IPV6 => Ok((Net::V6, 0)),
        LinkType::LINUX_SLL => {
            let protocol =
                be16(data, 14).ok_or_else(|| truncated(Layer::Link, SLL_HEADER_LEN, data.len()))?;
            ethertype_chain(data, SLL_HEADER_LEN, protocol)
        }
        LinkType::LINUX_SLL2 => {
            if data.len() < SLL2_HEADER_LEN {
                return Err(truncated(Layer::Link, SLL2_HEADER_LEN, data.len()));
            }
            let protocol = be16(data, 0).unwrap_or(0);
            ethertype_chain(data, SLL2_HEADER_LEN, protocol)
        }
        LinkType::NULL | LinkType::LOOP => {
            let family = data
                .first_chunk::<4>()
                .ok_or_else(|| truncated(Layer::Link, NULL_HEADER_LEN, data.len()))?;
            // DLT_NULL stores the family in the writer's byte order and DLT_LOOP in network
            // order, but files travel between machines and some writers get it wrong, so both
            // orders are accepted for both (no family value is ambiguous between them).
            let le = u32::from_le_bytes(*family);
            let be = u32::from_be_bytes(*family);
            if le == AF_INET || be == AF_INET {
                Ok((Net::V4, NULL_HEADER_LEN))
            } else if AF_INET6.contains(&le) || AF_INET6.contains(&be) {
                Ok((Net::V6, NULL_HEADER_LEN))
            } else {
                Err(DecodeError::NotIp)
            }
        }
        other => Err(DecodeError::UnsupportedLinkType(other)),
    }
}

/// Follows VLAN tags (any number, stacked) from `ethertype`, whose payload starts at `offset`.
#[inline(always)]
fn ethertype_chain(
    data: &[u8],
    mut offset: usize,
    mut ethertype: u16,
) -> Result<(Net, usize), DecodeError> {
    loop {
        match ethertype {
            ETHERTYPE_IPV4 => return Ok((Net::V4, offset)),
            ETHERTYPE_IPV6 => return Ok((Net::V6, offset)),
            t if ETHERTYPE_VLAN.contains(&t) => {
                // Tag: 2 bytes of priority/VLAN id, then the inner ethertype. Each tag moves
                // the offset forward, so the loop ends with the data.
                ethertype = be16(data, offset + 2)
                    .ok_or_else(|| truncated(Layer::Vlan, offset + 4, data.len()))?;
                offset += 4;
            }
            _ => return Err(DecodeError::NotIp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_stacked_tags() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x86, 0xdd]);
        assert_eq!(locate(LinkType::ETHERNET, &frame), Ok((Net::V6, 22)));
        // A tag cut in the middle is a truncation, not a panic.
        assert_eq!(
            locate(LinkType::ETHERNET, &frame[..16]),
            Err(DecodeError::Truncated {
                layer: Layer::Vlan,
                need: 18,
                have: 16
            })
        );
    }

    #[test]
    fn non_ip_and_unknown_links() {
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        assert_eq!(locate(LinkType::ETHERNET, &arp), Err(DecodeError::NotIp));
        assert_eq!(
            locate(LinkType(147), &arp),
            Err(DecodeError::UnsupportedLinkType(LinkType(147)))
        );
    }

    #[test]
    fn loopback_family_in_both_byte_orders() {
        for family in [24u32, 28, 30] {
            assert_eq!(
                locate(LinkType::NULL, &family.to_le_bytes()),
                Ok((Net::V6, 4))
            );
            assert_eq!(
                locate(LinkType::LOOP, &family.to_be_bytes()),
                Ok((Net::V6, 4))
            );
            assert_eq!(
                locate(LinkType::LOOP, &family.to_le_bytes()),
                Ok((Net::V6, 4))
            );
        }
        assert_eq!(
            locate(LinkType::NULL, &2u32.to_be_bytes()),
            Ok((Net::V4, 4))
        );
        assert_eq!(
            locate(LinkType::NULL, &7u32.to_le_bytes()),
            Err(DecodeError::NotIp)
        );
    }
}
