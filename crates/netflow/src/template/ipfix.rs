//! IPFIX (RFC 7011): the message header.

use super::*;

/// Decode an IPFIX message.
pub(crate) fn decode_ipfix(
    cache: &mut TemplateCache,
    exporter: IpAddr,
    d: &[u8],
    out: &mut Vec<FlowRecord>,
    st: &mut SetStats,
) -> Result<(), NetflowError> {
    const HEADER: usize = 16;
    if d.len() < HEADER {
        return Err(NetflowError::Truncated {
            what: "IPFIX message header",
            offset: 0,
            need: HEADER,
            have: d.len(),
        });
    }
    let len = be16(d, 2).unwrap_or(0) as usize;
    if len < HEADER {
        return Err(NetflowError::BadLength {
            what: "IPFIX message length",
            offset: 2,
            len,
        });
    }
    if len > d.len() {
        return Err(NetflowError::Truncated {
            what: "IPFIX message",
            offset: 0,
            need: len,
            have: d.len(),
        });
    }
    let ctx = Ctx {
        exporter,
        domain: be32(d, 12).unwrap_or(0),
        proto: Proto::Ipfix,
        export_ns: be32(d, 4).unwrap_or(0) as i64 * 1_000_000_000,
        uptime_ms: None,
    };
    sets(cache, &ctx, d, HEADER, len, out, st)
}
