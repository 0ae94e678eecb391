//! A capture to flow records, the NetFlow/IPFIX exports it carries decoded beside the flows of
//! its packets: the one function every command that reads a capture as records runs (`tapir
//! flows`, and `tapir watch`/`volume`/`sequence`/`timeline` on captures).

use crate::{is_export, udp_payload, Decoder, DEFAULT_PORTS};
use std::cell::RefCell;
use std::io::Read;
use tapir_capture::{CaptureReader, IpInfo};
use tapir_flow::{capture_records_until, CaptureFlows, FlowRecord, FlowTable};

/// Templates kept in all by [`CapturedExports::default`], as `tapir flows --max-templates`.
pub const DEFAULT_MAX_TEMPLATES: usize = 4096;

/// Export packets inside captured traffic: the UDP ports that carry them and the decoder that
/// keeps their templates across packets.
#[derive(Debug)]
pub struct CapturedExports {
    decoder: Decoder,
    ports: Vec<u16>,
    records: u64,
}

impl Default for CapturedExports {
    /// The default ports ([`DEFAULT_PORTS`]) and template limits.
    fn default() -> Self {
        Self::new(DEFAULT_PORTS.to_vec(), Decoder::new(DEFAULT_MAX_TEMPLATES))
    }
}

impl CapturedExports {
    /// Packets to `ports` are decoded by `decoder`; no port: nothing is decoded.
    pub fn new(ports: Vec<u16>, decoder: Decoder) -> Self {
        Self {
            decoder,
            ports,
            records: 0,
        }
    }

    /// The records that one IP packet (`frame`, decoded to `ip`) carries when it is an export
    /// packet. A packet on an export port that does not decode (or is cut) is an ordinary
    /// packet and gives none; the decoder counts it. Nothing is allocated for other packets.
    pub fn records(&mut self, frame: &[u8], ip: &IpInfo) -> Vec<FlowRecord> {
        if self.ports.is_empty() || !is_export(ip, &self.ports) {
            return Vec::new();
        }
        let Some(payload) = udp_payload(frame, ip) else {
            return Vec::new();
        };
        let recs = self.decoder.decode(ip.src, payload).unwrap_or_default();
        self.records += recs.len() as u64;
        recs
    }

    /// Records decoded from export packets so far.
    pub fn decoded(&self) -> u64 {
        self.records
    }

    /// The decoder, for its counters ([`Decoder::stats`]).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }
}

/// Every record of a capture, handed to `on_record` as it comes: the records of export packets
/// as the packet is read, the flows of the capture's packets as they end in `table` (also the
/// export packets themselves, which are UDP flows too). Reading stops before the next packet
/// once `stop` says so; the rest is [`tapir_flow::capture_records_until`]'s contract (a cut
/// capture keeps what came before it, reported in [`CaptureFlows::cut`]).
pub fn capture_records<R: Read, E>(
    reader: &mut CaptureReader<R>,
    table: FlowTable,
    exports: &mut CapturedExports,
    stop: &dyn Fn() -> bool,
    on_record: &mut dyn FnMut(FlowRecord) -> Result<(), E>,
) -> Result<CaptureFlows, E> {
    // Both callbacks hand records over, one at a time.
    let sink = RefCell::new(on_record);
    capture_records_until(
        reader,
        table,
        stop,
        &mut |raw, ip| {
            for rec in exports.records(raw.data, ip) {
                (sink.borrow_mut())(rec)?;
            }
            Ok(())
        },
        &mut |rec| (sink.borrow_mut())(rec),
    )
}
