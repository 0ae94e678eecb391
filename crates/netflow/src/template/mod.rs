//! NetFlow v9 (RFC 3954) and IPFIX (RFC 7011): template-described records.
//!
//! Both carry sets of templates and sets of data records; a data set can only be read with the
//! template its set id names, sent earlier by the same exporter and observation domain. Templates
//! live in a bounded [`TemplateCache`]; data sets whose template is unknown are counted and
//! skipped (the exporter resends templates periodically).

use crate::bytes::{be16, be32, be_uint};
use crate::{exported, NetflowError};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tapir_capture::Timestamp;
use tapir_flow::{FlowRecord, RecordSource};

mod ie;
mod ipfix;
mod v9;

use ie::*;
pub(crate) use ipfix::decode_ipfix;
pub(crate) use v9::decode_v9;

/// IPFIX field length meaning "variable, encoded in the record" (RFC 7011 §7).
const VARIABLE: u16 = 65535;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    ie: Ie,
    len: u16,
}

/// A decoded template: its fields, or for an options template only how to skip its records.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Template {
    fields: Vec<Field>,
    /// Options records describe the exporter, not flows: skipped.
    options: bool,
    /// The smallest record (variable fields counted as their 1-byte length prefix).
    min_len: usize,
}

/// Which protocol a template belongs to, so a v9 and an IPFIX exporter on one address never share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Proto {
    V9,
    Ipfix,
}

type CacheKey = (IpAddr, u32, Proto, u16);

/// Templates one exporter may hold by default: real exporters use a handful (softflowd two,
/// routers a few dozen), so one exporter sending thousands cannot push out everyone else's.
pub const DEFAULT_TEMPLATES_PER_EXPORTER: usize = 256;

/// Templates keyed by exporter, observation domain (v9 source id), protocol and template id;
/// bounded in all and per exporter, the oldest learned template goes first when full.
#[derive(Debug)]
pub struct TemplateCache {
    map: HashMap<CacheKey, Template>,
    order: VecDeque<CacheKey>,
    per_exporter: HashMap<IpAddr, usize>,
    max: usize,
    max_per_exporter: usize,
    dropped: u64,
}

impl TemplateCache {
    /// A cache holding at most `max` templates (at least 1), at most
    /// [`DEFAULT_TEMPLATES_PER_EXPORTER`] of one exporter.
    pub fn new(max: usize) -> Self {
        Self::with_limits(max, DEFAULT_TEMPLATES_PER_EXPORTER)
    }

    /// A cache holding at most `max` templates in all and `per_exporter` of one exporter (each
    /// at least 1).
    pub fn with_limits(max: usize, per_exporter: usize) -> Self {
        TemplateCache {
            map: HashMap::new(),
            order: VecDeque::new(),
            per_exporter: HashMap::new(),
            max: max.max(1),
            max_per_exporter: per_exporter.max(1),
            dropped: 0,
        }
    }

    /// Templates pushed out so far because a limit was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn insert(&mut self, k: CacheKey, t: Template) {
        if self.map.insert(k, t).is_none() {
            self.order.push_back(k);
            let n = self.per_exporter.entry(k.0).or_insert(0);
            *n += 1;
            if *n > self.max_per_exporter {
                // The exporter's own oldest template goes.
                if let Some(i) = self.order.iter().position(|x| x.0 == k.0) {
                    if let Some(old) = self.order.remove(i) {
                        self.forget(&old);
                        self.dropped += 1;
                    }
                }
            }
            while self.map.len() > self.max {
                match self.order.pop_front() {
                    Some(old) => {
                        self.forget(&old);
                        self.dropped += 1;
                    }
                    None => break,
                }
            }
        }
    }

    /// Drops `k` from the map and the per-exporter count (not from `order`).
    fn forget(&mut self, k: &CacheKey) {
        if self.map.remove(k).is_some() {
            if let Some(n) = self.per_exporter.get_mut(&k.0) {
                *n -= 1;
                if *n == 0 {
                    self.per_exporter.remove(&k.0);
                }
            }
        }
    }

    fn remove(&mut self, k: &CacheKey) {
        if self.map.contains_key(k) {
            self.forget(k);
            self.order.retain(|x| x != k);
        }
    }
}

/// Counters a decode adds to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetStats {
    pub templates: u64,
    pub records: u64,
    /// Data sets skipped because their template was not (yet) known.
    pub unknown_template_sets: u64,
    /// Options data records skipped.
    pub options_records: u64,
}

/// Header fields both formats share, in the form the record times need.
struct Ctx {
    exporter: IpAddr,
    domain: u32,
    proto: Proto,
    /// Export time in ns since the epoch.
    export_ns: i64,
    /// v9: sys uptime at export, in ms; IPFIX has none (flowStartSysUpTime needs
    /// systemInitTimeMilliseconds from the record).
    uptime_ms: Option<u32>,
}

/// Walk the sets from `at` to `end`.
fn sets(
    cache: &mut TemplateCache,
    ctx: &Ctx,
    d: &[u8],
    mut at: usize,
    end: usize,
    out: &mut Vec<FlowRecord>,
    st: &mut SetStats,
) -> Result<(), NetflowError> {
    let (tmpl_id, opt_id) = match ctx.proto {
        Proto::V9 => (0u16, 1u16),
        Proto::Ipfix => (2, 3),
    };
    // v9 ends its last set wherever the datagram ends; fewer than 4 bytes left is padding.
    while at + 4 <= end {
        let id = be16(d, at).unwrap_or(0);
        let len = be16(d, at + 2).unwrap_or(0) as usize;
        if len < 4 {
            return Err(NetflowError::BadLength {
                what: "set",
                offset: at,
                len,
            });
        }
        if at + len > end {
            return Err(NetflowError::Truncated {
                what: "set",
                offset: at,
                need: len,
                have: end - at,
            });
        }
        let body = &d[at + 4..at + len];
        if id == tmpl_id {
            templates(cache, ctx, body, at + 4, false, st)?;
        } else if id == opt_id {
            templates(cache, ctx, body, at + 4, true, st)?;
        } else if id >= 256 {
            let key = (ctx.exporter, ctx.domain, ctx.proto, id);
            match cache.map.get(&key) {
                Some(t) => data(t, ctx, body, out, st),
                None => st.unknown_template_sets += 1,
            }
        }
        // Ids 4..255 are reserved: skipped by length.
        at += len;
    }
    Ok(())
}

/// Read the (options) templates in one set body.
fn templates(
    cache: &mut TemplateCache,
    ctx: &Ctx,
    b: &[u8],
    base: usize,
    options: bool,
    st: &mut SetStats,
) -> Result<(), NetflowError> {
    let mut at = 0usize;
    let head = if options { 6 } else { 4 };
    while at + head <= b.len() {
        let id = be16(b, at).unwrap_or(0);
        let nfields = match (ctx.proto, options) {
            // v9 options (RFC 3954 §6.1): scope and option lengths in bytes, 4 bytes a field.
            (Proto::V9, true) => {
                let scope = be16(b, at + 2).unwrap_or(0) as usize;
                let opt = be16(b, at + 4).unwrap_or(0) as usize;
                (scope + opt) / 4
            }
            // Templates, and IPFIX options templates (total count first, scope count after).
            _ => be16(b, at + 2).unwrap_or(0) as usize,
        };
        if id < 256 {
            // Padding at the end of a set reads as id 0; anything else is malformed.
            if id == 0 {
                break;
            }
            return Err(NetflowError::BadLength {
                what: "template id",
                offset: base + at,
                len: id as usize,
            });
        }
        at += head;
        let key = (ctx.exporter, ctx.domain, ctx.proto, id);
        if nfields == 0 {
            // IPFIX template withdrawal (RFC 7011 §8.1).
            cache.remove(&key);
            continue;
        }
        let mut fields = Vec::with_capacity(nfields);
        let mut min_len = 0usize;
        for _ in 0..nfields {
            let (Some(raw_id), Some(len)) = (be16(b, at), be16(b, at + 2)) else {
                return Err(NetflowError::Truncated {
                    what: "template field",
                    offset: base + at,
                    need: 4,
                    have: b.len().saturating_sub(at),
                });
            };
            at += 4;
            let mut pen = 0u32;
            if ctx.proto == Proto::Ipfix && raw_id & 0x8000 != 0 {
                pen = be32(b, at).ok_or(NetflowError::Truncated {
                    what: "enterprise number",
                    offset: base + at,
                    need: 4,
                    have: b.len().saturating_sub(at),
                })?;
                at += 4;
            }
            let fid = if ctx.proto == Proto::Ipfix {
                raw_id & 0x7fff
            } else {
                raw_id
            };
            min_len += if len == VARIABLE && ctx.proto == Proto::Ipfix {
                1
            } else {
                len as usize
            };
            fields.push(Field {
                ie: if options { Ie::Skip } else { ie(fid, pen) },
                len,
            });
        }
        if min_len == 0 {
            // A record of zero bytes would make a data set loop forever.
            return Err(NetflowError::BadLength {
                what: "template record length",
                offset: base + at,
                len: 0,
            });
        }
        cache.insert(
            key,
            Template {
                fields,
                options,
                min_len,
            },
        );
        st.templates += 1;
    }
    Ok(())
}

/// Values of one data record that tapir keeps.
#[derive(Default)]
struct Vals {
    octets: [u64; 2],
    packets: [u64; 2],
    proto: u8,
    tos: u8,
    flags: u8,
    sport: u16,
    dport: u16,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    first_up: Option<i64>,
    last_up: Option<i64>,
    start: Option<i64>,
    end: Option<i64>,
    start_delta_us: Option<i64>,
    end_delta_us: Option<i64>,
    sys_init: Option<i64>,
}

/// NTP timestamps (RFC 5905: seconds since 1900, 32-bit fraction) for the micro/nano IEs.
fn ntp_ns(v: u64) -> i64 {
    const NTP_TO_UNIX: i64 = 2_208_988_800;
    let secs = (v >> 32) as i64 - NTP_TO_UNIX;
    let frac = ((v & 0xffff_ffff) * 1_000_000_000) >> 32;
    secs * 1_000_000_000 + frac as i64
}

fn data(t: &Template, ctx: &Ctx, b: &[u8], out: &mut Vec<FlowRecord>, st: &mut SetStats) {
    let mut at = 0usize;
    // Records until fewer bytes remain than the smallest record: the rest is padding.
    while at + t.min_len <= b.len() {
        let mut v = Vals::default();
        let mut ok = true;
        for f in &t.fields {
            let mut len = f.len as usize;
            if f.len == VARIABLE && ctx.proto == Proto::Ipfix {
                let Some(&l) = b.get(at) else {
                    ok = false;
                    break;
                };
                at += 1;
                len = l as usize;
                if l == 255 {
                    let Some(l2) = be16(b, at) else {
                        ok = false;
                        break;
                    };
                    at += 2;
                    len = l2 as usize;
                }
            }
            let Some(x) = b.get(at..at + len) else {
                ok = false;
                break;
            };
            at += len;
            take(&mut v, f.ie, x);
        }
        if !ok {
            break;
        }
        if t.options {
            st.options_records += 1;
            continue;
        }
        let (Some(src), Some(dst)) = (v.src, v.dst) else {
            // A flow template without addresses (e.g. an aggregate) is not a flow record.
            continue;
        };
        let uptime = |ms: Option<i64>| {
            let ms = ms?;
            match (v.sys_init, ctx.uptime_ms) {
                // Times out of the nanosecond range (hostile or corrupt fields) count as absent.
                (Some(init), _) => init.checked_add(ms)?.checked_mul(1_000_000),
                (None, Some(up)) => Some(crate::uptime_to_ns(ctx.export_ns, up, ms as u32)),
                (None, None) => None,
            }
        };
        let before_export = |us: Option<i64>| {
            us.and_then(|us| us.checked_mul(1000))
                .and_then(|ns| ctx.export_ns.checked_sub(ns))
        };
        let start = v
            .start
            .or(before_export(v.start_delta_us))
            .or(uptime(v.first_up))
            .unwrap_or(ctx.export_ns);
        let end = v
            .end
            .or(before_export(v.end_delta_us))
            .or(uptime(v.last_up))
            .unwrap_or(start);
        let source = match ctx.proto {
            Proto::V9 => RecordSource::NetflowV9 {
                exporter: ctx.exporter,
                domain: ctx.domain,
            },
            Proto::Ipfix => RecordSource::Ipfix {
                exporter: ctx.exporter,
                domain: ctx.domain,
            },
        };
        out.push(exported(
            src,
            dst,
            v.sport,
            v.dport,
            v.proto,
            Timestamp(start),
            Timestamp(end.max(start)),
            [v.packets[0], v.octets[0]],
            [v.packets[1], v.octets[1]],
            v.tos,
            v.flags,
            source,
        ));
        st.records += 1;
    }
}

fn take(v: &mut Vals, ie: Ie, x: &[u8]) {
    let n = || be_uint(x);
    let r = |rev: bool| usize::from(rev);
    match ie {
        Ie::Octets { rev } => v.octets[r(rev)] = n(),
        Ie::Packets { rev } => v.packets[r(rev)] = n(),
        Ie::Proto => v.proto = n() as u8,
        Ie::Tos => v.tos = n() as u8,
        Ie::TcpFlags { .. } => v.flags |= n() as u8,
        Ie::SrcPort => v.sport = n() as u16,
        Ie::DstPort => v.dport = n() as u16,
        Ie::SrcV4 | Ie::DstV4 => {
            if let Ok(a) = <[u8; 4]>::try_from(x) {
                let a = IpAddr::V4(Ipv4Addr::from(a));
                if ie == Ie::SrcV4 {
                    v.src = Some(a)
                } else {
                    v.dst = Some(a)
                }
            }
        }
        Ie::SrcV6 | Ie::DstV6 => {
            if let Ok(a) = <[u8; 16]>::try_from(x) {
                let a = IpAddr::V6(Ipv6Addr::from(a));
                if ie == Ie::SrcV6 {
                    v.src = Some(a)
                } else {
                    v.dst = Some(a)
                }
            }
        }
        Ie::FirstUptime => v.first_up = Some(n() as i64),
        Ie::LastUptime => v.last_up = Some(n() as i64),
        Ie::StartSecs => v.start = Some((n() as i64).saturating_mul(1_000_000_000)),
        Ie::EndSecs => v.end = Some((n() as i64).saturating_mul(1_000_000_000)),
        Ie::StartMs => v.start = Some((n() as i64).saturating_mul(1_000_000)),
        Ie::EndMs => v.end = Some((n() as i64).saturating_mul(1_000_000)),
        Ie::StartUs | Ie::StartNs => v.start = Some(ntp_ns(n())),
        Ie::EndUs | Ie::EndNs => v.end = Some(ntp_ns(n())),
        Ie::StartDeltaUs => v.start_delta_us = Some(n() as i64),
        Ie::EndDeltaUs => v.end_delta_us = Some(n() as i64),
        Ie::SysInitMs => v.sys_init = Some(n() as i64),
        Ie::Skip => {}
    }
}
