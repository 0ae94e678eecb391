//! One file → its traces → windows → feature rows. Streaming: a file is read packet by packet,
//! and memory holds one window buffer per live unit plus the feature rows produced.

use crate::{DatasetError, Source};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use tapir_capture::{
    sniff, CaptureReader, DecodeError, FileKind, Timestamp, TracePacket, TraceReader,
};
use tapir_features::{Extractor, FeatureConfig, FeatureSpace, Windower};
use tapir_flow::{AssembleConfig, Assembler, ClientRule, HostCounter, PacketMeta, Unit};

/// How files become windows.
#[derive(Clone, Debug)]
pub struct ExtractSettings {
    pub unit: Unit,
    pub client: ClientRule,
    pub window: usize,
    pub stride: usize,
    /// Units with fewer packets in all give no windows.
    pub min_packets: u64,
    pub space: FeatureSpace,
    pub features: FeatureConfig,
    /// Stop at the first bad file or bad line instead of reporting it and going on.
    pub strict: bool,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            unit: Unit::Capture,
            client: ClientRule::Auto,
            window: tapir_features::DEFAULT_WINDOW,
            stride: tapir_features::DEFAULT_WINDOW,
            min_packets: 0,
            space: FeatureSpace::Combined,
            features: FeatureConfig::default(),
            strict: false,
        }
    }
}

/// One window of one trace, with its features.
#[derive(Clone, Debug)]
pub struct WindowRow {
    /// Index of the source in the list given to [`extract_all`].
    pub source: usize,
    /// The unit within the file (0 for a whole capture).
    pub unit: u64,
    /// Index of the window within its unit.
    pub index: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub features: Vec<f32>,
}

/// What reading one file gave.
#[derive(Debug, Default)]
pub struct FileWindows {
    pub rows: Vec<WindowRow>,
    /// `unit id → description` for units that gave at least one window.
    pub units: HashMap<u64, String>,
    /// IP packets read (decoded) from the file.
    pub packets: u64,
    /// Frames that were not IP (ARP, LLDP, …) or whose IP header was cut or malformed.
    pub skipped: u64,
    /// The first problem with a skipped frame or line, for the report.
    pub first_skip: Option<String>,
    /// Lines or records that made the reader stop or skip, already formatted with the file name.
    pub warnings: Vec<String>,
}

/// Per-unit state while a file is read.
struct UnitState {
    windower: Windower,
    packets: u64,
    next_index: u32,
    /// Windows held until the unit reaches `min_packets`.
    pending: Vec<WindowRow>,
}

struct Collector<'a> {
    settings: &'a ExtractSettings,
    extractor: &'a Extractor,
    dim: usize,
    source: usize,
    units: HashMap<u64, UnitState>,
    out: FileWindows,
}

impl<'a> Collector<'a> {
    fn push(
        &mut self,
        unit: u64,
        desc: impl FnOnce() -> String,
        p: TracePacket,
    ) -> Result<(), DatasetError> {
        let s = self.settings;
        let st = match self.units.get_mut(&unit) {
            Some(st) => st,
            None => {
                let windower = Windower::new(s.window, s.stride).map_err(DatasetError::Features)?;
                self.out.units.insert(unit, desc());
                self.units.entry(unit).or_insert(UnitState {
                    windower,
                    packets: 0,
                    next_index: 0,
                    pending: Vec::new(),
                })
            }
        };
        st.packets += 1;
        if let Some(w) = st.windower.push(p) {
            let mut features = vec![0.0f32; self.dim];
            self.extractor
                .extract_into(s.space, w, &mut features)
                .map_err(DatasetError::Features)?;
            let row = WindowRow {
                source: self.source,
                unit,
                index: st.next_index,
                start: w[0].ts,
                end: w[w.len() - 1].ts,
                features,
            };
            st.next_index += 1;
            if st.packets >= s.min_packets {
                self.out.rows.extend(st.pending.drain(..));
                self.out.rows.push(row);
            } else {
                st.pending.push(row);
            }
        }
        Ok(())
    }

    fn end_unit(&mut self, unit: u64) {
        if let Some(st) = self.units.remove(&unit) {
            if st.packets >= self.settings.min_packets {
                self.out.rows.extend(st.pending);
            }
            if st.next_index == 0 || st.packets < self.settings.min_packets {
                self.out.units.remove(&unit);
            }
        }
    }

    fn finish(mut self) -> FileWindows {
        let ids: Vec<u64> = self.units.keys().copied().collect();
        for id in ids {
            self.end_unit(id);
        }
        self.out.rows.sort_by_key(|r| (r.unit, r.index));
        self.out
    }

    fn skip(&mut self, why: impl FnOnce() -> String) {
        self.out.skipped += 1;
        if self.out.first_skip.is_none() {
            self.out.first_skip = Some(why());
        }
    }
}

/// Reads one capture or trace file into windows of features.
///
/// A capture that stops being readable part-way (a cut record, a bad block) keeps the windows
/// before the fault and reports it as a warning; with `strict` it is an error. Frames that are
/// not IP are skipped and counted.
pub fn extract_file(
    path: &Path,
    source: usize,
    settings: &ExtractSettings,
    extractor: &Extractor,
) -> Result<FileWindows, DatasetError> {
    let kind = sniff(path).map_err(|e| DatasetError::capture(path, e))?;
    let dim = extractor.dim(settings.space);
    let mut c = Collector {
        settings,
        extractor,
        dim,
        source,
        units: HashMap::new(),
        out: FileWindows::default(),
    };
    match kind {
        FileKind::Trace => read_trace(path, &mut c)?,
        FileKind::Pcap | FileKind::PcapNg => read_capture(path, &mut c)?,
    }
    Ok(c.finish())
}

fn read_trace(path: &Path, c: &mut Collector<'_>) -> Result<(), DatasetError> {
    let mut r = TraceReader::open(path).map_err(|e| DatasetError::trace(path, e))?;
    while let Some(next) = r.next_packet() {
        match next {
            Ok(p) => {
                c.out.packets += 1;
                c.push(0, || "trace".to_string(), p)?;
            }
            Err(e) if c.settings.strict => return Err(DatasetError::trace(path, e)),
            Err(e) => {
                let msg = format!("{}: {e}", path.display());
                c.skip(|| msg.clone());
                c.out.warnings.push(msg);
            }
        }
    }
    Ok(())
}

/// The capture's own host: the address in the most IP packets (first pass over the file).
fn capture_host(path: &Path) -> Result<Option<std::net::IpAddr>, DatasetError> {
    let mut r = CaptureReader::open(path).map_err(|e| DatasetError::capture(path, e))?;
    let mut hc = HostCounter::new();
    while let Some(Ok(raw)) = r.next_packet() {
        if let Ok(ip) = raw.decode() {
            hc.add(ip.src, ip.dst);
        }
    }
    Ok(hc.host())
}

fn read_capture(path: &Path, c: &mut Collector<'_>) -> Result<(), DatasetError> {
    let s = c.settings;
    let host = if s.unit == Unit::Capture && s.client == ClientRule::Auto {
        capture_host(path)?
    } else {
        None
    };
    let mut asm = Assembler::new(AssembleConfig {
        unit: s.unit,
        client: s.client.clone(),
        host,
        ..Default::default()
    });
    let mut r = CaptureReader::open(path).map_err(|e| DatasetError::capture(path, e))?;
    loop {
        let offset = r.offset();
        let raw = match r.next_packet() {
            None => break,
            Some(Ok(raw)) => raw,
            Some(Err(e)) => {
                if s.strict {
                    return Err(DatasetError::capture(path, e));
                }
                c.out.warnings.push(format!(
                    "{}: {e}; stopped reading this file, kept what came before",
                    path.display()
                ));
                break;
            }
        };
        let ts = raw.ts;
        let ip = match raw.decode() {
            Ok(ip) => ip,
            Err(DecodeError::NotIp { .. }) => {
                c.out.skipped += 1;
                continue;
            }
            Err(e) => {
                c.skip(|| format!("{}: record at byte {offset}: {e}", path.display()));
                continue;
            }
        };
        c.out.packets += 1;
        let placed = asm.push(&PacketMeta::from_ip(ts, &ip));
        let info = &asm;
        c.push(
            placed.unit,
            || {
                info.live_units()
                    .find(|u| u.id == placed.unit)
                    .map(|u| u.describe())
                    .unwrap_or_default()
            },
            placed.packet,
        )?;
        for ended in asm.take_ended() {
            c.end_unit(ended.id);
        }
    }
    Ok(())
}

/// Outcome for one source in [`extract_all`].
#[derive(Debug)]
pub struct SourceResult {
    pub source: usize,
    pub result: Result<FileWindows, DatasetError>,
}

/// Extracts every source in parallel (one file per task, as many tasks as rayon threads).
/// `progress` is called with the number of packets of each finished file. With `strict`, the
/// first failing file stops the others as soon as they notice.
pub fn extract_all(
    sources: &[Source],
    settings: &ExtractSettings,
    progress: &(dyn Fn(&Source, u64) + Sync),
) -> Result<Vec<SourceResult>, DatasetError> {
    settings
        .features
        .validate()
        .map_err(DatasetError::Features)?;
    let extractor = Extractor::new(&settings.features).map_err(DatasetError::Features)?;
    let stop = AtomicBool::new(false);
    let results: Vec<SourceResult> = sources
        .par_iter()
        .enumerate()
        .map(|(i, src)| {
            if stop.load(Ordering::Relaxed) {
                return SourceResult {
                    source: i,
                    result: Err(DatasetError::Cancelled),
                };
            }
            let result = extract_file(&src.path, i, settings, &extractor);
            if result.is_err() && settings.strict {
                stop.store(true, Ordering::Relaxed);
            }
            progress(src, result.as_ref().map(|r| r.packets).unwrap_or(0));
            SourceResult { source: i, result }
        })
        .collect();
    if settings.strict {
        if let Some(pos) = results
            .iter()
            .position(|r| matches!(r.result, Err(ref e) if !matches!(e, DatasetError::Cancelled)))
        {
            let mut results = results;
            let r = results.swap_remove(pos);
            return Err(r.result.expect_err("checked above"));
        }
    }
    Ok(results)
}
