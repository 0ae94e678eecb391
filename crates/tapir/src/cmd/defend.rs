//! `tapir defend`: one capture or trace through one or more countermeasures, written out as the
//! observer would see it, with what the defence cost. Mail and event files go to
//! [`super::defend_messages`].

use super::defend_messages::{input_kind, run_events, run_mail, InputKind};
use crate::cli::{DefendArgs, Named, TrafficArgs};
use crate::output::Output;
use crate::settings::{client_rule, usage};
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use tapir_capture::{PcapWriter, TracePacket, TraceWriter};
use tapir_dataset::{visit_packets, ExtractSettings, UnitEvent, Visit};
use tapir_defense::{
    aggregate, parse_chain, Costs, Defense, Meter, Pkt, MESSAGE_SPEC_HELP, SPEC_HELP,
};
use tapir_flow::Unit;

#[derive(Serialize)]
struct Report<'a> {
    inputs: Vec<String>,
    kind: &'static str,
    defence: String,
    seed: u64,
    #[serde(flatten)]
    costs: &'a Costs,
    overhead: f64,
    wasted_share: f64,
}

enum Sink {
    Trace(TraceWriter<Output>),
    Pcap(PcapWriter<Output>),
}

impl Sink {
    fn write(&mut self, p: &Pkt) -> std::io::Result<()> {
        match self {
            Sink::Trace(w) => w.write(&p.observed()),
            Sink::Pcap(w) => w.write(&p.observed()),
        }
    }
    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Trace(mut w) => {
                w.flush()?;
                w.into_inner().finish()
            }
            Sink::Pcap(mut w) => {
                w.flush()?;
                w.into_inner().finish()
            }
        }
    }
}

pub fn run(a: DefendArgs) -> anyhow::Result<()> {
    if a.defences.iter().any(|d| d == "help") {
        println!("{SPEC_HELP}\n\n{MESSAGE_SPEC_HELP}");
        return Ok(());
    }
    match input_kind(&a.inputs[0])? {
        InputKind::Mail => return run_mail(&a),
        InputKind::Events => return run_events(&a),
        InputKind::Packets => {}
    }
    let specs: Vec<&str> = a.defences.iter().map(String::as_str).collect();
    let mut chain = parse_chain(&specs, a.seed).map_err(|e| usage(format!("-d: {e}")))?;
    let traffic = TrafficArgs {
        by: Named(Unit::Capture),
        client: a.client.clone(),
        min_packets: 0,
        strict: a.strict,
    };
    let settings = ExtractSettings {
        client: client_rule(&traffic)?,
        strict: a.strict,
        ..ExtractSettings::default()
    };
    let pcap_out = a
        .output
        .as_deref()
        .and_then(Path::extension)
        .is_some_and(|e| e == "pcap");
    let out = Output::create(a.output.as_deref())?;
    let mut sink = if pcap_out {
        Sink::Pcap(
            PcapWriter::new(out, [10, 0, 0, 1], [10, 0, 0, 2], 17)
                .context("cannot write the pcap header")?,
        )
    } else {
        let mut out = out;
        writeln!(
            out,
            "# tapir defend {}: <seconds> <signed IP length>, + = from the client",
            chain.spec()
        )?;
        Sink::Trace(TraceWriter::new(out))
    };
    let mut meter = Meter::default();
    let mut buf = Vec::new();
    let mut feed = |p: TracePacket,
                    chain: &mut dyn Defense,
                    sink: &mut Sink,
                    buf: &mut Vec<Pkt>|
     -> anyhow::Result<()> {
        meter.input(&p);
        chain.advance(p.ts, buf);
        chain.send(Pkt::real(p), buf);
        for q in buf.drain(..) {
            meter.output(&q);
            sink.write(&q)?;
        }
        Ok(())
    };
    if a.inputs.len() == 1 {
        // One input streams straight through: memory is what the defence holds.
        let mut err = None;
        visit_packets(&a.inputs[0], &settings, &mut |e| {
            if let UnitEvent::Packet { packet, .. } = e {
                if let Err(x) = feed(packet, &mut chain, &mut sink, &mut buf) {
                    err = Some(x);
                    return Ok(Visit::Stop);
                }
            }
            Ok(Visit::Continue)
        })
        .with_context(|| format!("cannot read {}", a.inputs[0].display()))?;
        if let Some(e) = err {
            return Err(e);
        }
    } else {
        // Tunnel aggregation: every input becomes one trace, merged in time order.
        let mut traces = Vec::new();
        for path in &a.inputs {
            let mut t = Vec::new();
            visit_packets(path, &settings, &mut |e| {
                if let UnitEvent::Packet { packet, .. } = e {
                    t.push(packet);
                }
                Ok(Visit::Continue)
            })
            .with_context(|| format!("cannot read {}", path.display()))?;
            traces.push(t);
        }
        for p in aggregate(traces) {
            feed(p, &mut chain, &mut sink, &mut buf)?;
        }
    }
    chain.finish(&mut buf);
    for q in buf.drain(..) {
        meter.output(&q);
        sink.write(&q)?;
    }
    let costs = meter.costs();
    if costs.real_packets == 0 {
        anyhow::bail!("no packets in {}", a.inputs[0].display());
    }
    sink.finish()?;
    let report = Report {
        inputs: a.inputs.iter().map(|p| p.display().to_string()).collect(),
        kind: "packets",
        defence: chain.spec(),
        seed: a.seed,
        costs: &costs,
        overhead: costs.overhead(),
        wasted_share: costs.wasted_share(),
    };
    if a.json {
        eprintln!("{}", serde_json::to_string(&report)?);
    } else {
        let ms = |ns: i64| ns as f64 / 1e6;
        eprintln!(
            "{}: {} real packets ({} bytes) -> {} packets ({} bytes, {} dummies); overhead {:.1}%, wasted {:.1}%; added latency median {:.2} ms, p99 {:.2} ms, max {:.2} ms; ends {:.2} ms later",
            report.defence,
            costs.real_packets,
            costs.real_bytes,
            costs.out_packets,
            costs.out_bytes,
            costs.dummy_packets,
            100.0 * costs.overhead(),
            100.0 * costs.wasted_share(),
            ms(costs.latency_median_ns),
            ms(costs.latency_p99_ns),
            ms(costs.latency_max_ns),
            ms(costs.extra_duration_ns),
        );
    }
    Ok(())
}
