//! Link-layer header types, numbered as in the tcpdump.org LINKTYPE_ registry (the values
//! pcap and pcapng files carry).

use std::fmt;

/// A capture's link-layer header type (`LINKTYPE_*` value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the byte order of the capturing host.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// DLT_RAW as written by OpenBSD (its DLT value leaks into files).
    pub const RAW_OPENBSD: LinkType = LinkType(12);
    /// DLT_RAW as written by BSD/OS.
    pub const RAW_BSDOS: LinkType = LinkType(14);
    /// Raw IP, version taken from the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: like [`LinkType::NULL`] but the family is big-endian.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1 (`tcpdump -i any`).
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2 (newer `tcpdump -i any`).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Short upper-case name, as tcpdump prints it, or `None` for types tapir does not decode.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::RAW_OPENBSD | LinkType::RAW_BSDOS | LinkType::RAW => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => return None,
        })
    }

    /// Whether [`crate::decode`] understands this link type.
    pub fn is_supported(self) -> bool {
        self.name().is_some()
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_known_types() {
        assert_eq!(LinkType::ETHERNET.to_string(), "EN10MB (1)");
        assert_eq!(LinkType(147).to_string(), "147");
        assert!(LinkType::LINUX_SLL2.is_supported());
        assert!(!LinkType(147).is_supported());
    }
}
