//! `tapir classify --live IFACE`: the offline path (units, windows, features, model) fed by a
//! libpcap capture instead of a file. One JSON line per decision as it is made, with its
//! latency (and DiffServ class with `--qos`); a unit's summary line when it ends (idle
//! timeout) and for every unit at the end; `stats` lines with the kernel's drop count; a final
//! `live` summary line. Ctrl-C (or `--count`, `--duration`) ends the capture.

use super::classify::{label_of, prepare, probabilities, Line, SummaryLine, UnitTally};
use super::live::{self, round3};
use crate::cli::ClassifyArgs;
use crate::interrupt;
use crate::output::Output;
use anyhow::Context;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use tapir_capture::LiveStats;
use tapir_dataset::{visit_source, DatasetError, UnitEvent, Visit};

#[derive(Serialize)]
struct StatsLine<'a> {
    stats: &'static str,
    interface: &'a str,
    seconds: f64,
    /// Frames read, from libpcap.
    packets: u64,
    received: u64,
    dropped: u64,
    if_dropped: u64,
    windows: u64,
}

#[derive(Serialize)]
struct FinalLine<'a> {
    summary: &'static str,
    interface: &'a str,
    seconds: f64,
    packets: u64,
    ip_packets: u64,
    /// Frames that were not IP or whose IP header was cut.
    skipped: u64,
    received: u64,
    dropped: u64,
    if_dropped: u64,
    packets_per_second: f64,
    windows: u64,
    units: u64,
    /// `windows_<label>`: windows given each label (flat, as the window lines' `p_<class>`).
    #[serde(flatten)]
    labels: BTreeMap<String, u64>,
    latency_ms_p50: f64,
    latency_ms_p99: f64,
    latency_ms_max: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_by: Option<&'static str>,
}

/// Decision latencies in buckets 5% wide (from 1 µs to days), for percentiles in constant
/// memory however long the capture runs.
#[derive(Default)]
struct LatencyHistogram {
    counts: Vec<u64>,
    n: u64,
    max_ms: f64,
}

const BUCKET_GROWTH: f64 = 1.05;

impl LatencyHistogram {
    fn add(&mut self, ms: f64) {
        let us = (ms * 1e3).max(1.0);
        let i = (us.ln() / BUCKET_GROWTH.ln()) as usize;
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.n += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    /// The upper edge of the bucket holding quantile `q`, in ms (0 with no decision).
    fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((q * self.n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let edge = BUCKET_GROWTH.powi(i as i32 + 1) / 1e3;
                return round3(edge.min(self.max_ms));
            }
        }
        round3(self.max_ms)
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

pub fn run(a: &ClassifyArgs, iface: &str) -> anyhow::Result<()> {
    let c = &a.capture;
    let cfg = live::config(c)?;
    let p = prepare(a)?;
    let settings = &p.settings;
    let (mut cap, host, mut out) = live::start_units(iface, &cfg, settings, a.output.as_deref())?;

    let _cooperate = interrupt::cooperate();
    let started = live::arm(&mut cap, &cfg);
    let shared = cap.shared_stats();

    let model = &p.mf.model;
    let classes = &p.mf.classes;
    let qos = p.qos.as_ref();
    let mut sc = p.decider.scratch(classes.len());
    let mut tallies: BTreeMap<u64, UnitTally> = BTreeMap::new();
    let mut labels = vec![0u64; classes.len() + 1];
    let mut latency = LatencyHistogram::default();
    let (mut windows, mut units) = (0u64, 0u64);
    let mut ticker = live::StatsTicker::new(cfg.stats_every);
    let windows_out = !a.summary;
    let io = |e: std::io::Error| DatasetError::Io {
        path: iface.into(),
        source: e,
    };
    let json = |out: &mut Output, v: &dyn erased::Line| -> Result<(), DatasetError> {
        v.write(out).map_err(io)?;
        out.flush().map_err(io)
    };
    let read = visit_source(Path::new(iface), &mut cap, host, settings, &mut |ev| {
        match ev {
            UnitEvent::Window(w) => {
                if w.unit_packets < settings.min_packets {
                    return Ok(Visit::Continue);
                }
                let label = p.decider.decide(settings, model, w.packets, &mut sc)?;
                let last = w.packets[w.packets.len() - 1].ts;
                let ms = (now_ns() - last.0).max(0) as f64 / 1e6;
                latency.add(ms);
                windows += 1;
                labels[label] += 1;
                tallies
                    .entry(w.unit)
                    .or_insert_with(|| UnitTally::new(w.unit_desc, classes.len()))
                    .add(label, &sc.proba);
                if windows_out {
                    let (qos_name, dscp) = qos.map(|q| q.of(label)).unzip();
                    json(
                        &mut out,
                        &Line {
                            file: None,
                            interface: Some(iface),
                            unit: w.unit_desc,
                            window: w.index,
                            start: w.packets[0].ts.0,
                            end: last.0,
                            label: label_of(classes, label),
                            true_label: None,
                            probabilities: probabilities(classes, &sc.proba),
                            latency_ms: Some(round3(ms)),
                            qos: qos_name,
                            dscp,
                        },
                    )?;
                }
                if ticker.due() {
                    let s = shared.load();
                    json(
                        &mut out,
                        &StatsLine {
                            stats: "live",
                            interface: iface,
                            seconds: round3(started.elapsed().as_secs_f64()),
                            packets: s.read,
                            received: s.received,
                            dropped: s.dropped,
                            if_dropped: s.if_dropped,
                            windows,
                        },
                    )?;
                }
            }
            UnitEvent::UnitEnd { unit, .. } => {
                // A unit that ended (idle, or the capture stopped) is summed up and forgotten:
                // memory follows the live units, not the hours of capture.
                if let Some(t) = tallies.remove(&unit) {
                    units += 1;
                    let (label, share, mean_probability) = t.summary();
                    let (qos_name, dscp) = qos.map(|q| q.of(label)).unzip();
                    json(
                        &mut out,
                        &SummaryLine {
                            summary: "unit",
                            file: None,
                            interface: Some(iface),
                            unit: &t.desc,
                            windows: t.windows,
                            label: label_of(classes, label),
                            share,
                            mean_probability,
                            true_label: None,
                            qos: qos_name,
                            dscp,
                        },
                    )?;
                }
            }
            UnitEvent::Packet { .. } => {}
        }
        Ok(Visit::Continue)
    });
    let seconds = started.elapsed().as_secs_f64();
    let read = read.with_context(|| format!("live capture on {iface}"))?;
    let s: LiveStats = cap.stats().unwrap_or_else(|_| shared.load());
    let failed = cap.take_error();
    let stopped_by = live::stopped_by(&cfg, &s, failed.is_some());
    let fin = FinalLine {
        summary: "live",
        interface: iface,
        seconds: round3(seconds),
        packets: s.read,
        ip_packets: read.packets,
        skipped: read.skipped,
        received: s.received,
        dropped: s.dropped,
        if_dropped: s.if_dropped,
        packets_per_second: (s.read as f64 / seconds.max(1e-9)).round(),
        windows,
        units,
        labels: (0..=classes.len())
            .map(|i| (format!("windows_{}", label_of(classes, i)), labels[i]))
            .collect(),
        latency_ms_p50: latency.quantile(0.5),
        latency_ms_p99: latency.quantile(0.99),
        latency_ms_max: round3(latency.max_ms),
        stopped_by,
    };
    serde_json::to_writer(&mut out, &fin)?;
    out.write_all(b"\n")?;
    out.finish()?;
    let said = format!(
        "{} packets in {seconds:.1} s on {iface}, {windows} windows classified, {} dropped by \
         the kernel, {} by the interface",
        s.read, s.dropped, s.if_dropped
    );
    if let Some(e) = failed {
        return Err(anyhow::Error::new(e).context(said));
    }
    live::conclude(&mut cap, said)
}

/// JSON lines of several shapes through one writer closure.
mod erased {
    use serde::Serialize;
    use std::io::{self, Write};

    pub trait Line {
        fn write(&self, out: &mut dyn Write) -> io::Result<()>;
    }

    impl<T: Serialize> Line for T {
        fn write(&self, out: &mut dyn Write) -> io::Result<()> {
            serde_json::to_writer(&mut *out, self)?;
            out.write_all(b"\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_quantiles_are_within_a_bucket() {
        let mut h = LatencyHistogram::default();
        for i in 1..=1000 {
            h.add(f64::from(i) / 100.0); // 0.01 ms … 10 ms
        }
        let p50 = h.quantile(0.5);
        assert!((5.0..=5.0 * BUCKET_GROWTH + 1e-3).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99);
        assert!((9.9..=10.0).contains(&p99), "{p99}");
        assert_eq!(h.max_ms, 10.0);
        assert_eq!(LatencyHistogram::default().quantile(0.5), 0.0);
    }
}
