//! `tapir flows --live IFACE`: the flow table of `tapir flows FILE` fed by a libpcap capture.
//! Each record is written (and flushed) as its flow ends: idle or active timeout, FIN/RST,
//! eviction; the flows still open follow at the end (Ctrl-C, `--count`, `--duration`). A
//! quiet interface still ends idle flows on time: on every read timeout with no packet the
//! table is swept at the capture time of that moment ([`live::CaptureClock`]).

use super::flows::{warn_templates, FlowsArgs, Format, Settings, Sink};
use super::live::{self, CaptureClock, StatsTicker};
use crate::load::warn;
use anyhow::Context;
use std::time::Instant;
use tapir_capture::{LiveNext, LiveStats};
use tapir_flow::FlowTable;

pub(super) fn run(a: &FlowsArgs, s: &Settings, iface: &str) -> anyhow::Result<()> {
    let cfg = live::config(&a.capture)?;
    let mut table = FlowTable::new(s.table.clone())?;
    let mut cap = live::open(iface, &cfg)?;
    // Opened before privileges go, so that the path is the one root was asked to write; a
    // live output is written in place, record by record, for readers that follow it.
    let mut sink = Sink::new(s, a.output.as_deref(), true)?;
    let who = crate::privileges::drop_to(cfg.user.as_deref())?;
    eprintln!(
        "tapir: {}; {}; {who}; Ctrl-C ends with the open flows and a summary",
        live::describe(&cap, &cfg),
        if s.format == Format::Table {
            "the table comes at the end (--json or --format csv: each record as its flow ends)"
        } else {
            "each record as its flow ends"
        }
    );

    let _cooperate = crate::interrupt::cooperate();
    let started = live::arm(&mut cap, &cfg);
    let shared = cap.shared_stats();
    let mut exports = s.exports();
    let mut clock = CaptureClock::default();
    let mut ticker = StatsTicker::new(cfg.stats_every);
    let (mut ip_packets, mut skipped) = (0u64, 0u64);
    while let Some(next) = cap.next_or_idle() {
        let mut out = 0usize;
        match next {
            LiveNext::Packet(raw) => {
                clock.saw(raw.ts, Instant::now());
                // Not IP (ARP, LLDP) or undecodable: part of no flow.
                let Ok(ip) = raw.decode() else {
                    skipped += 1;
                    continue;
                };
                ip_packets += 1;
                for rec in exports.records(raw.data, &ip) {
                    sink.push(rec)?;
                    out += 1;
                }
                table.push(raw.ts, &ip);
            }
            // No packet for a while: flows idle past their timeout end now, not whenever
            // the next packet comes.
            LiveNext::Idle => {
                if let Some(now) = clock.at(Instant::now()) {
                    table.sweep(now);
                }
            }
        }
        for (_, rec) in table.drain_ended() {
            sink.push(rec)?;
            out += 1;
        }
        if out > 0 {
            sink.flush()?;
        }
        if ticker.due() {
            let st = shared.load();
            eprintln!(
                "tapir: {iface}: {:.0} s, {} packets, {} dropped by the kernel, {} by the \
                 interface; {} flows open, {} records written",
                started.elapsed().as_secs_f64(),
                st.read,
                st.dropped,
                st.if_dropped,
                table.len(),
                sink.written
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = table.stats();
    for rec in table.finish() {
        sink.push(rec)?;
    }
    let written = sink.written;
    let (records, rec_packets, rec_bytes) = (
        sink.capture_records,
        sink.capture_packets,
        sink.capture_bytes,
    );
    sink.finish()
        .with_context(|| format!("live capture on {iface}"))?;
    let ls: LiveStats = cap.stats().unwrap_or_else(|_| shared.load());
    if stats.evicted > 0 {
        warn(format!(
            "{iface}: the flow table was full: {} flows ended early (end reason evicted); \
             --max-flows {} raises the limit",
            stats.evicted, s.table.max_flows
        ));
    }
    warn_templates(&exports.decoder().stats(), s);
    if a.stats {
        eprintln!(
            "{iface}: {} IP packets, {} IP bytes, {skipped} other frames; records from the \
             capture: {} ({} packets, {} bytes), {} evicted; {} exported records decoded",
            stats.packets,
            stats.bytes,
            records,
            rec_packets,
            rec_bytes,
            stats.evicted,
            exports.decoded()
        );
    }
    let to = match &a.output {
        Some(p) => format!(" to {}", p.display()),
        None => String::new(),
    };
    live::conclude(
        &mut cap,
        format!(
            "{} packets in {seconds:.1} s on {iface} ({ip_packets} IP), {written} flow records \
             written{to}, {} dropped by the kernel, {} by the interface",
            ls.read, ls.dropped, ls.if_dropped
        ),
    )
}
