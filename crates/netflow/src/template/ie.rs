//! The information elements tapir reads, by number (RFC 3954 §8, the IANA IPFIX registry, and
//! RFC 5103 for the reverse direction).

/// RFC 5103 reverse information elements: the forward element's number under this enterprise.
const REVERSE_PEN: u32 = 29305;

/// The information elements tapir reads (numbers shared by v9 and IPFIX, RFC 3954 §8 and the
/// IANA IPFIX registry); everything else is skipped by length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ie {
    Octets {
        rev: bool,
    },
    Packets {
        rev: bool,
    },
    Proto,
    Tos,
    TcpFlags {
        rev: bool,
    },
    SrcPort,
    DstPort,
    SrcV4,
    DstV4,
    SrcV6,
    DstV6,
    /// v9 FIRST/LAST_SWITCHED, IPFIX flowStart/EndSysUpTime: ms since the exporter booted.
    FirstUptime,
    LastUptime,
    StartSecs,
    EndSecs,
    StartMs,
    EndMs,
    StartUs,
    EndUs,
    StartNs,
    EndNs,
    /// flowStart/EndDeltaMicroseconds: µs before the export time.
    StartDeltaUs,
    EndDeltaUs,
    /// systemInitTimeMilliseconds: the exporter's boot time (IPFIX's uptime base).
    SysInitMs,
    Skip,
}

pub(super) fn ie(id: u16, pen: u32) -> Ie {
    let rev = pen == REVERSE_PEN;
    if pen != 0 && !rev {
        return Ie::Skip;
    }
    match (id, rev) {
        (1, _) | (85, _) => Ie::Octets { rev },
        // v9 OUT_BYTES / OUT_PKTS: the reverse direction of a bidirectional record.
        (23, false) => Ie::Octets { rev: true },
        (2, _) | (86, _) => Ie::Packets { rev },
        (24, false) => Ie::Packets { rev: true },
        (4, false) => Ie::Proto,
        (5, false) => Ie::Tos,
        (6, _) => Ie::TcpFlags { rev },
        (7, false) => Ie::SrcPort,
        (11, false) => Ie::DstPort,
        (8, false) => Ie::SrcV4,
        (12, false) => Ie::DstV4,
        (27, false) => Ie::SrcV6,
        (28, false) => Ie::DstV6,
        (22, false) => Ie::FirstUptime,
        (21, false) => Ie::LastUptime,
        (150, false) => Ie::StartSecs,
        (151, false) => Ie::EndSecs,
        (152, false) => Ie::StartMs,
        (153, false) => Ie::EndMs,
        (154, false) => Ie::StartUs,
        (155, false) => Ie::EndUs,
        (156, false) => Ie::StartNs,
        (157, false) => Ie::EndNs,
        (158, false) => Ie::StartDeltaUs,
        (159, false) => Ie::EndDeltaUs,
        (160, false) => Ie::SysInitMs,
        _ => Ie::Skip,
    }
}
