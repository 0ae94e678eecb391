//! A capture to flow records: the one loop that turns packets into NetFlow-style records.
//! `tapir_netflow::capture_records` wraps it with the decoding of export packets, and every
//! command that reads captures as records (`tapir flows`, and `tapir watch`/`volume`/
//! `sequence`/`timeline` on captures) runs that.

use crate::record::FlowRecord;
use crate::table::{FlowTable, FlowTableStats};
use std::io::Read;
use tapir_capture::{CaptureError, CaptureReader, IpInfo, RawPacket};

/// What [`capture_records`] read besides the records it handed over.
#[derive(Debug)]
pub struct CaptureFlows {
    /// Frames read that were not IP or whose IP header was cut or malformed: no flow's.
    pub skipped: u64,
    /// The table's counters: IP packets and bytes pushed, records, evictions.
    pub stats: FlowTableStats,
    /// The fault that ended the capture early (a cut or broken record). The records cover the
    /// packets before it; what to do about it (a warning, an error) is the caller's choice.
    pub cut: Option<CaptureError>,
}

/// Reads every packet of `reader` into `table` and hands each flow record to `on_record` as
/// soon as it ends (timeouts, FIN/RST, eviction), the rest at the end of the capture. Every IP
/// packet is first shown to `on_packet` with its frame (to decode NetFlow exports carried in
/// the capture, say). A capture that stops being readable part-way keeps what came before:
/// the table is finished and the fault returned in [`CaptureFlows::cut`]. An error from a
/// callback stops the reading and is returned as it is.
///
/// Memory stays bounded by the table's cap; nothing is allocated per packet.
pub fn capture_records<R: Read, E>(
    reader: &mut CaptureReader<R>,
    table: FlowTable,
    on_packet: &mut dyn FnMut(&RawPacket<'_>, &IpInfo) -> Result<(), E>,
    on_record: &mut dyn FnMut(FlowRecord) -> Result<(), E>,
) -> Result<CaptureFlows, E> {
    capture_records_until(reader, table, &|| false, on_packet, on_record)
}

/// [`capture_records`] that also stops, before the next packet, once `stop` says so (an
/// interrupted run): the table is finished as at the end of the capture, so the flows still
/// open are written with what they carried.
pub fn capture_records_until<R: Read, E>(
    reader: &mut CaptureReader<R>,
    mut table: FlowTable,
    stop: &dyn Fn() -> bool,
    on_packet: &mut dyn FnMut(&RawPacket<'_>, &IpInfo) -> Result<(), E>,
    on_record: &mut dyn FnMut(FlowRecord) -> Result<(), E>,
) -> Result<CaptureFlows, E> {
    let mut skipped = 0;
    let mut cut = None;
    while !stop() {
        let Some(next) = reader.next_packet() else {
            break;
        };
        let raw = match next {
            Ok(raw) => raw,
            Err(e) => {
                cut = Some(e);
                break;
            }
        };
        // Not IP (ARP, LLDP) or undecodable: part of no flow.
        let Ok(ip) = raw.decode() else {
            skipped += 1;
            continue;
        };
        on_packet(&raw, &ip)?;
        table.push(raw.ts, &ip);
        for rec in table.take_ended() {
            on_record(rec)?;
        }
    }
    let stats = table.stats();
    for rec in table.finish() {
        on_record(rec)?;
    }
    Ok(CaptureFlows {
        skipped,
        stats,
        cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FlowTableConfig;
    use std::convert::Infallible;

    fn read(path: &str) -> (Vec<FlowRecord>, CaptureFlows, u64) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../capture/tests/data")
            .join(path);
        let mut r = CaptureReader::open(&path).unwrap();
        let table = FlowTable::new(FlowTableConfig::default()).unwrap();
        let mut recs = Vec::new();
        let mut seen = 0u64;
        let got = capture_records::<_, Infallible>(
            &mut r,
            table,
            &mut |_, _| {
                seen += 1;
                Ok(())
            },
            &mut |rec| {
                recs.push(rec);
                Ok(())
            },
        )
        .unwrap();
        (recs, got, seen)
    }

    #[test]
    fn every_ip_packet_lands_in_one_record() {
        let (recs, got, seen) = read("time-backwards.pcap");
        assert!(got.cut.is_none());
        assert_eq!(seen, got.stats.packets);
        assert_eq!(
            recs.iter().map(|r| r.packets()).sum::<u64>(),
            got.stats.packets
        );
    }

    #[test]
    fn a_cut_capture_keeps_the_records_before_the_cut() {
        let dir = std::env::temp_dir().join(format!("tapir-flow-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../capture/tests/data/time-backwards.pcap");
        let mut bytes = std::fs::read(src).unwrap();
        bytes.truncate(bytes.len() - 5);
        let cut = dir.join("cut.pcap");
        std::fs::write(&cut, &bytes).unwrap();
        let mut r = CaptureReader::open(&cut).unwrap();
        let table = FlowTable::new(FlowTableConfig::default()).unwrap();
        let mut recs = Vec::new();
        let got = capture_records::<_, Infallible>(&mut r, table, &mut |_, _| Ok(()), &mut |rec| {
            recs.push(rec);
            Ok(())
        })
        .unwrap();
        assert!(got.cut.is_some(), "the cut is reported");
        assert_eq!(got.stats.packets, 2, "the two whole packets are kept");
        assert_eq!(recs.iter().map(|r| r.packets()).sum::<u64>(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
