//! `tapir extract --live IFACE`: the units, windows and features of `tapir extract FILE` fed
//! by a libpcap capture. One row per window, written (and flushed) as the window completes,
//! with the columns of the file case: `file` and `group` are the interface, `label` is empty.
//! Ctrl-C (or `--count`, `--duration`) ends the capture.

use super::extract::{format_row, header, lead};
use super::live::{self, StatsTicker};
use crate::cli::ExtractArgs;
use crate::load::warn;
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use tapir_capture::LiveStats;
use tapir_dataset::{stream_source, DatasetError, ExtractSettings, Visit};
use tapir_features::Extractor;

pub(super) fn run(
    a: &ExtractArgs,
    settings: &ExtractSettings,
    jsonl: bool,
    iface: &str,
) -> anyhow::Result<()> {
    let cfg = live::config(&a.capture)?;
    settings.features.validate()?;
    let extractor = Extractor::new(&settings.features)?;
    let (mut cap, host, mut out) = live::start_units(iface, &cfg, settings, a.output.as_deref())?;
    let keys = header(&mut out, settings, jsonl)?;
    out.flush()?;
    let lead = lead(iface, &[], iface, keys.as_deref());

    let _cooperate = crate::interrupt::cooperate();
    let started = live::arm(&mut cap, &cfg);
    let shared = cap.shared_stats();
    let mut ticker = StatsTicker::new(cfg.stats_every);
    let mut windows = 0u64;
    let mut buf = Vec::new();
    let io = |e: std::io::Error| DatasetError::Io {
        path: iface.into(),
        source: e,
    };
    let read = stream_source(
        Path::new(iface),
        &mut cap,
        host,
        settings,
        &extractor,
        &mut |r| {
            buf.clear();
            format_row(&mut buf, keys.as_deref(), &lead, &r).map_err(io)?;
            out.write_all(&buf).map_err(io)?;
            out.flush().map_err(io)?;
            windows += 1;
            if ticker.due() {
                let st = shared.load();
                eprintln!(
                    "tapir: {iface}: {:.0} s, {} packets, {} dropped by the kernel, {} by the \
                     interface; {windows} windows",
                    started.elapsed().as_secs_f64(),
                    st.read,
                    st.dropped,
                    st.if_dropped,
                );
            }
            Ok(Visit::Continue)
        },
    );
    let seconds = started.elapsed().as_secs_f64();
    let read = read.with_context(|| format!("live capture on {iface}"))?;
    out.finish()?;
    let ls: LiveStats = cap.stats().unwrap_or_else(|_| shared.load());
    let st = &read.state;
    if st.units_evicted > 0 {
        warn(format!(
            "{iface}: {} units ended early because {} were live at once (--max-units)",
            st.units_evicted, settings.max_units
        ));
    }
    if st.dropped_windows > 0 {
        warn(format!(
            "{iface}: {} partial windows ({} packets) given up because the window buffers \
             were full (--max-held-packets {})",
            st.dropped_windows, st.dropped_packets, settings.max_held_packets
        ));
    }
    live::conclude(
        &mut cap,
        format!(
            "{} packets in {seconds:.1} s on {iface} ({} IP), {windows} windows of {} unit(s) \
             written, {} dropped by the kernel, {} by the interface",
            ls.read, read.packets, st.units, ls.dropped, ls.if_dropped
        ),
    )
}
