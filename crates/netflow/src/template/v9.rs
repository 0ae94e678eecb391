//! NetFlow v9 (RFC 3954): the packet header.

use super::*;

/// Decode a v9 packet.
pub(crate) fn decode_v9(
    cache: &mut TemplateCache,
    exporter: IpAddr,
    d: &[u8],
    out: &mut Vec<FlowRecord>,
    st: &mut SetStats,
) -> Result<(), NetflowError> {
    const HEADER: usize = 20;
    if d.len() < HEADER {
        return Err(NetflowError::Truncated {
            what: "NetFlow v9 header",
            offset: 0,
            need: HEADER,
            have: d.len(),
        });
    }
    let ctx = Ctx {
        exporter,
        domain: be32(d, 16).unwrap_or(0),
        proto: Proto::V9,
        export_ns: be32(d, 8).unwrap_or(0) as i64 * 1_000_000_000,
        uptime_ms: be32(d, 4),
    };
    sets(cache, &ctx, d, HEADER, d.len(), out, st)
}
