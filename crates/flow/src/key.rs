//! Flow keys: canonical (direction-free) identities for flows and host pairs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// IP protocol numbers tapir treats specially.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const SCTP: u8 = 132;

    /// Whether the protocol has 16-bit source and destination ports at the start of its header.
    pub fn has_ports(p: u8) -> bool {
        matches!(p, TCP | UDP | SCTP)
    }

    /// A short name for tables.
    pub fn name(p: u8) -> String {
        match p {
            ICMP => "icmp".into(),
            TCP => "tcp".into(),
            UDP => "udp".into(),
            ESP => "esp".into(),
            AH => "ah".into(),
            ICMPV6 => "icmp6".into(),
            SCTP => "sctp".into(),
            other => format!("ip{other}"),
        }
    }
}

/// One end of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// Which end of a canonical key a packet came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// The packet's source is the key's `a` end.
    A,
    /// The packet's source is the key's `b` end.
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// A direction-free flow identity: both directions of a conversation map to the same key.
///
/// * TCP, UDP, SCTP: the 5-tuple.
/// * ESP: the two endpoints only. Security associations are one-way and each direction has its
///   own SPI, so keying on the SPI would split a tunnel in two; keying on the endpoints pairs both
///   directions, and a rekeyed SA continues the same tunnel.
/// * anything else: endpoints and protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlowKey {
    pub proto: u8,
    /// The lower endpoint (by address, then port).
    pub a: Endpoint,
    /// The higher endpoint.
    pub b: Endpoint,
}

impl FlowKey {
    /// The canonical key of a packet from `src` to `dst`, and which side sent it.
    pub fn new(proto: u8, src: Endpoint, dst: Endpoint) -> (FlowKey, Side) {
        if src <= dst {
            (
                FlowKey {
                    proto,
                    a: src,
                    b: dst,
                },
                Side::A,
            )
        } else {
            (
                FlowKey {
                    proto,
                    a: dst,
                    b: src,
                },
                Side::B,
            )
        }
    }

    /// The endpoint on `side`.
    pub fn end(&self, side: Side) -> Endpoint {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }

    /// The key with both addresses passed through `f` (pseudonyms for `--anonymize`), each
    /// end on the side it was: a description with the same client side names the same ends.
    /// The result is no longer canonical; it is for describing, not for looking up.
    pub fn map_addrs(self, f: impl Fn(IpAddr) -> IpAddr) -> FlowKey {
        let end = |e: Endpoint| Endpoint {
            addr: f(e.addr),
            port: e.port,
        };
        FlowKey {
            proto: self.proto,
            a: end(self.a),
            b: end(self.b),
        }
    }

    /// `proto client > server`, with the client on `client` side.
    pub fn describe(&self, client: Side) -> String {
        format!(
            "{} {} > {}",
            proto::name(self.proto),
            self.end(client),
            self.end(client.other())
        )
    }
}

/// A direction-free host pair: every packet between two addresses, whatever the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PairKey {
    pub a: IpAddr,
    pub b: IpAddr,
}

impl PairKey {
    pub fn new(src: IpAddr, dst: IpAddr) -> (PairKey, Side) {
        if src <= dst {
            (PairKey { a: src, b: dst }, Side::A)
        } else {
            (PairKey { a: dst, b: src }, Side::B)
        }
    }

    pub fn end(&self, side: Side) -> IpAddr {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }

    /// The pair with both addresses passed through `f`, as [`FlowKey::map_addrs`].
    pub fn map_addrs(self, f: impl Fn(IpAddr) -> IpAddr) -> PairKey {
        PairKey {
            a: f(self.a),
            b: f(self.b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str, port: u16) -> Endpoint {
        Endpoint {
            addr: s.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn mapped_addresses_keep_their_sides() {
        let (k, client) = FlowKey::new(6, ep("10.0.0.2", 5555), ep("10.0.0.1", 443));
        let swap = |a: IpAddr| -> IpAddr {
            if a == "10.0.0.1".parse::<IpAddr>().unwrap() {
                "192.0.2.9".parse().unwrap()
            } else {
                "192.0.2.1".parse().unwrap()
            }
        };
        // The client's pseudonym sorts before the server's now; it is still the client.
        assert_eq!(
            k.map_addrs(swap).describe(client),
            "tcp 192.0.2.1:5555 > 192.0.2.9:443"
        );
        let (p, client) = PairKey::new(k.a.addr, k.b.addr);
        let m = p.map_addrs(swap);
        assert_eq!(m.end(client), swap(k.a.addr));
    }

    #[test]
    fn both_directions_one_key() {
        let (k1, s1) = FlowKey::new(6, ep("10.0.0.2", 443), ep("10.0.0.1", 5555));
        let (k2, s2) = FlowKey::new(6, ep("10.0.0.1", 5555), ep("10.0.0.2", 443));
        assert_eq!(k1, k2);
        assert_eq!(s1, Side::B);
        assert_eq!(s2, Side::A);
        assert_eq!(k1.describe(Side::A), "tcp 10.0.0.1:5555 > 10.0.0.2:443");
        let (p1, _) = PairKey::new("::1".parse().unwrap(), "::2".parse().unwrap());
        let (p2, _) = PairKey::new("::2".parse().unwrap(), "::1".parse().unwrap());
        assert_eq!(p1, p2);
    }
}
