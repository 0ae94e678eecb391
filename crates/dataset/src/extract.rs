//! One file → its traces → windows → feature rows. Streaming: a file is read packet by packet,
//! and memory holds one window buffer per live unit. [`stream_file`] hands each row over as it
//! is made; [`extract_file`] and [`extract_all`] collect them.

use crate::units::{UnitRef, UnitState, UnitStore};
use crate::{DatasetError, Source};
use rayon::prelude::*;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tapir_anon::Anonymizer;
use tapir_capture::{
    CaptureErrorKind, DecodeError, FileKind, PacketSource, SourceItem, Stream, Timestamp,
    TraceErrorKind, TracePacket, TraceReader,
};
use tapir_features::{
    window_seed, AugmentSpec, Extractor, FeatureConfig, FeatureSpace, WindowSpec, Windower,
};
use tapir_flow::{
    AssembleConfig, Assembler, ClientRule, FlowTable, FlowTableConfig, HostCounter, Placed, Unit,
};

/// How files become windows.
#[derive(Clone, Debug)]
pub struct ExtractSettings {
    pub unit: Unit,
    pub client: ClientRule,
    /// How each unit's packets are cut into windows.
    pub window: WindowSpec,
    /// Units with fewer packets in all give no windows.
    pub min_packets: u64,
    pub space: FeatureSpace,
    pub features: FeatureConfig,
    /// Stop at the first bad file or bad line instead of reporting it and going on.
    pub strict: bool,
    /// Augmented copies of every window, for training (none by default).
    pub augment: Option<Augmentation>,
    /// Windows (augmented copies included) that [`extract_file`] and [`extract_all`] hold in
    /// memory at most; more is [`DatasetError::TooManyWindows`]. Default
    /// [`DEFAULT_MAX_WINDOWS`]. [`stream_file`] holds none and ignores it.
    pub max_windows: usize,
    /// Units (flows, host pairs) live at once at most: the flow table's and the assembler's
    /// cap. Past it the least recently seen are ended early and counted in
    /// [`StateStats::units_evicted`]. Default [`DEFAULT_MAX_UNITS`].
    pub max_units: usize,
    /// Packets that the window buffers of all live units hold together at most (counted by
    /// the room the buffers take, never less than four windows). Past it the partial windows
    /// of the least recently seen units are given up, counted in
    /// [`StateStats::dropped_packets`]. Default [`DEFAULT_MAX_HELD_PACKETS`].
    pub max_held_packets: usize,
    /// Pseudonymise the addresses of unit descriptions (`tcp a:1 > b:2`, `a > b`) with this
    /// Crypto-PAn key: the pseudonyms `tapir flows --anonymize` gives under the same key.
    /// Windows and features do not change. Default none.
    pub anonymize: Option<Anonymizer>,
}

/// The default of [`ExtractSettings::max_units`]: 200,000 live units. A unit costs about 350
/// bytes in the flow table and the window state (more while its hash tables grow), so the cap
/// keeps that part under about 100 MB; 200,000 is below 7/8 of 2^18, the load at which both
/// hash tables would double.
pub const DEFAULT_MAX_UNITS: usize = 200_000;

/// The default of [`ExtractSettings::max_held_packets`]: 2^21 packets of 16 bytes, 32 MiB of
/// window buffers, the room of 1,024 units each half-way through a 1,024-packet window.
pub const DEFAULT_MAX_HELD_PACKETS: usize = 1 << 21;

/// The default of [`ExtractSettings::max_windows`]: a million windows, about 8 GiB with the
/// default combined features (2,048 values of 4 bytes each). Real datasets stay far below it
/// (the bundled sample gives about 21,000 with augmentation); hostile or mistaken input (a
/// window of 1 packet on a large capture) cannot exhaust memory.
pub const DEFAULT_MAX_WINDOWS: usize = 1_000_000;

/// Training-time augmentation: `copies` augmented copies of every window, drawn by `spec` with
/// seeds derived from `seed`, the file name, the unit and the window index.
#[derive(Clone, Debug, PartialEq)]
pub struct Augmentation {
    pub spec: AugmentSpec,
    pub copies: u32,
    pub seed: u64,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            unit: Unit::Capture,
            client: ClientRule::Auto,
            window: WindowSpec::DEFAULT,
            min_packets: 0,
            space: FeatureSpace::Combined,
            features: FeatureConfig::default(),
            strict: false,
            augment: None,
            max_windows: DEFAULT_MAX_WINDOWS,
            max_units: DEFAULT_MAX_UNITS,
            max_held_packets: DEFAULT_MAX_HELD_PACKETS,
            anonymize: None,
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
    /// 0 for the window as read; 1..=copies for its augmented copies (training only).
    pub copy: u32,
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
    /// Frames that were not IP or whose IP header was cut or malformed, and bad trace lines.
    pub skipped: u64,
    /// The first problem with a skipped frame or line, for the report.
    pub first_skip: Option<String>,
    /// Faults that made the reader skip lines or stop early, formatted with the file name.
    pub warnings: Vec<String>,
    /// What the bounds on live state did (see [`StateStats`]).
    pub state: StateStats,
}

/// What the bounds on live state did while a file was read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// Units (whole capture, flows, host pairs) that got at least one packet.
    pub units: u64,
    /// The most units live at once.
    pub peak_units: usize,
    /// Units ended early because [`ExtractSettings::max_units`] were live.
    pub units_evicted: u64,
    /// Partial windows given up because the window buffers were full
    /// ([`ExtractSettings::max_held_packets`]).
    pub dropped_windows: u64,
    /// Packets in those partial windows.
    pub dropped_packets: u64,
}

impl StateStats {
    /// Adds the counts of another file (the peak is the larger one).
    pub fn add(&mut self, o: &StateStats) {
        self.units += o.units;
        self.peak_units = self.peak_units.max(o.peak_units);
        self.units_evicted += o.units_evicted;
        self.dropped_windows += o.dropped_windows;
        self.dropped_packets += o.dropped_packets;
    }
}

/// What reading a file gave besides its windows.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// IP packets read (decoded) from the file.
    pub packets: u64,
    /// Frames that were not IP (ARP, LLDP, …) or whose IP header was cut or malformed, and bad
    /// trace lines.
    pub skipped: u64,
    /// The first problem with a skipped frame or line, for the report.
    pub first_skip: Option<String>,
    /// Faults that made the reader skip lines or stop early, formatted with the file name.
    pub warnings: Vec<String>,
    /// What the bounds on live state did.
    pub state: StateStats,
}

/// One window as [`visit_windows`] hands it over.
pub struct WindowRef<'a> {
    pub unit: u64,
    /// The unit's description (`capture`, `trace`, `tcp a:1 > b:2`, …).
    pub unit_desc: &'a str,
    /// Index of the window within its unit.
    pub index: u32,
    /// Packets of the unit so far, this window included.
    pub unit_packets: u64,
    pub packets: &'a [TracePacket],
}

/// What the visitor wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    Continue,
    Stop,
}

/// Events of [`visit_windows`].
pub enum UnitEvent<'a> {
    /// Every packet, in file order; only from [`visit_packets`].
    Packet {
        unit: u64,
        unit_desc: &'a str,
        packet: TracePacket,
    },
    Window(WindowRef<'a>),
    /// A unit ended (timeout or end of file) after `packets` packets.
    UnitEnd {
        unit: u64,
        packets: u64,
    },
}

struct Visitor<'a, 'f> {
    settings: &'a ExtractSettings,
    units: UnitStore,
    stats: ReadStats,
    f: &'f mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, DatasetError>,
    stopped: bool,
    packets: bool,
    /// Room of all window buffers, in packets.
    held: usize,
    /// `max_held_packets`, raised to four windows so that a window can always fill.
    held_limit: usize,
}

/// Spacing cap of split coalesced packets: one 1500-byte packet at 1 Gbit/s.
const SPLIT_MAX_GAP_NS: i64 = 12_000;

impl Visitor<'_, '_> {
    /// Adds one packet to its unit; a packet above the split MTU (an offload-coalesced
    /// segment) goes in as MTU-sized pieces that end at its timestamp.
    #[inline(always)]
    fn push(
        &mut self,
        unit: UnitRef,
        desc: &dyn Fn() -> String,
        p: TracePacket,
    ) -> Result<(), DatasetError> {
        let Some(mtu) = self
            .settings
            .features
            .coalesced
            .split_mtu()
            .filter(|&m| p.size > m)
        else {
            return self.push_one(unit, desc, p);
        };
        let pieces = p.size.div_ceil(mtu);
        let last = self.units.get(unit).and_then(|u| u.last_ts);
        let gap = last
            .map(|l| (p.ts.0.saturating_sub(l).max(0) / i64::from(pieces)).min(SPLIT_MAX_GAP_NS))
            .unwrap_or(0);
        for k in 0..pieces {
            let size = if k + 1 == pieces {
                p.size - mtu * (pieces - 1)
            } else {
                mtu
            };
            let ts = Timestamp(p.ts.0 - gap * i64::from(pieces - 1 - k));
            self.push_one(unit, desc, TracePacket::new(ts, size, p.dir))?;
        }
        Ok(())
    }

    /// Adds one packet to its unit. The ordering rule for time going backwards (captures merged
    /// from several interfaces, clock steps) is applied here, once for every reader of units:
    /// a packet stamped before the unit's previous packet is taken at the previous packet's
    /// time, so a unit's timeline never goes back and its packets stay in file order. The rule
    /// needs no buffering, so a live capture and a file give the same windows.
    #[inline(always)]
    fn push_one(
        &mut self,
        unit_ref: UnitRef,
        desc: &dyn Fn() -> String,
        mut p: TracePacket,
    ) -> Result<(), DatasetError> {
        let s = self.settings;
        let unit = unit_ref.id;
        let (st, made) = self.units.get_or_insert(unit_ref, || UnitState {
            id: unit,
            windower: Windower::new(s.window),
            desc: None,
            packets: 0,
            next_index: 0,
            last_ts: None,
        });
        if made {
            self.stats.state.units += 1;
            // A slot's spare buffer is counted again while a unit uses it.
            self.held += st.windower.capacity();
        }
        if let Some(last) = st.last_ts {
            p.ts = Timestamp(p.ts.0.max(last));
        }
        st.packets += 1;
        st.last_ts = Some(p.ts.0);
        if self.packets {
            let ev = UnitEvent::Packet {
                unit,
                unit_desc: st.desc.get_or_insert_with(|| desc().into()),
                packet: p,
            };
            if (self.f)(ev)? == Visit::Stop {
                self.stopped = true;
            }
        }
        let room = st.windower.capacity();
        if let Some(w) = st.windower.push(p) {
            let index = st.next_index;
            st.next_index += 1;
            let ev = UnitEvent::Window(WindowRef {
                unit,
                unit_desc: st.desc.get_or_insert_with(|| desc().into()),
                index,
                unit_packets: st.packets,
                packets: w,
            });
            if (self.f)(ev)? == Visit::Stop {
                self.stopped = true;
            }
        }
        let grown = st.windower.capacity() - room;
        if grown > 0 {
            self.held += grown;
            if self.held > self.held_limit {
                self.release_buffers();
            }
        }
        let live = self.units.len();
        if live > self.stats.state.peak_units {
            self.stats.state.peak_units = live;
        }
        Ok(())
    }

    /// The window buffers hold more than `held_limit` packets: give back empty buffers first
    /// (nothing is lost), then the partial windows of the units seen least recently, until the
    /// buffers hold half the limit. One pass and a sort per release, and a release frees half
    /// the limit, so the cost per packet stays constant. Deterministic: the order depends on
    /// the file only.
    fn release_buffers(&mut self) {
        let mut order: Vec<(bool, i64, u64, u32)> = self
            .units
            .iter()
            .filter(|(_, u)| u.windower.capacity() > 0)
            .map(|(r, u)| {
                let last = u.last_ts.unwrap_or(i64::MIN);
                (u.windower.held() > 0, last, r.id, r.slot)
            })
            .collect();
        order.sort_unstable();
        let target = self.held_limit / 2;
        for (_, _, id, slot) in order {
            if self.held <= target {
                break;
            }
            let Some(u) = self.units.get_mut(UnitRef { id, slot }) else {
                continue;
            };
            let held = u.windower.held() as u64;
            if held > 0 {
                self.stats.state.dropped_windows += 1;
                self.stats.state.dropped_packets += held;
            }
            self.held -= u.windower.capacity();
            u.windower.release();
        }
    }

    fn end_unit(&mut self, unit: UnitRef) -> Result<(), DatasetError> {
        if let Some(ended) = self.units.remove(unit) {
            self.held -= ended.capacity;
            (self.f)(UnitEvent::UnitEnd {
                unit: unit.id,
                packets: ended.packets,
            })?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<ReadStats, DatasetError> {
        let mut live: Vec<UnitRef> = self.units.iter().map(|(r, _)| r).collect();
        live.sort_unstable_by_key(|r| r.id);
        for r in live {
            self.end_unit(r)?;
        }
        Ok(self.stats)
    }

    fn skip(&mut self, why: impl FnOnce() -> String) {
        self.stats.skipped += 1;
        if self.stats.first_skip.is_none() {
            self.stats.first_skip = Some(why());
        }
    }
}

/// Streams one capture or trace file through the unit assembler and windower, calling `f` for
/// every window and every unit end. Memory: one window buffer per live unit.
///
/// A capture that stops being readable part-way (a cut record, a bad block) keeps what came
/// before and reports the fault in [`ReadStats::warnings`]; with `strict` it is an error. Bad
/// trace lines are skipped and reported the same way. Frames that are not IP are counted.
pub fn visit_windows(
    path: &Path,
    settings: &ExtractSettings,
    f: &mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    visit(path, settings, false, f)
}

/// [`visit_windows`], with an [`UnitEvent::Packet`] for every packet as well (before the window it
/// completes, if any): to write traces out, or to look at packets as units see them.
pub fn visit_packets(
    path: &Path,
    settings: &ExtractSettings,
    f: &mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    visit(path, settings, true, f)
}

fn visit(
    path: &Path,
    settings: &ExtractSettings,
    packets: bool,
    f: &mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    let cerr = |e| DatasetError::capture(path, e);
    // One open, one look at the first bytes: standard input and pipes are read once.
    let mut stream = Stream::open(path).map_err(|e| match e.kind {
        // Not there, not readable: the OS's words, not a byte offset.
        CaptureErrorKind::Io(io) => DatasetError::io(path, io),
        _ => cerr(e),
    })?;
    let kind = stream.kind().map_err(cerr)?;
    let mut v = Visitor {
        settings,
        units: UnitStore::default(),
        stats: ReadStats::default(),
        f,
        stopped: false,
        packets,
        held: 0,
        held_limit: settings
            .max_held_packets
            .max(settings.window.window().saturating_mul(4)),
    };
    match kind {
        FileKind::Trace => read_trace(path, stream.into_trace(), &mut v)?,
        FileKind::Pcap | FileKind::PcapNg => read_capture(path, stream, &mut v)?,
    }
    v.finish()
}

/// One feature row as [`stream_file`] hands it over. `features` is valid for the call only
/// (the buffer is reused for the next row).
pub struct RowRef<'a> {
    /// The unit within the file (0 for a whole capture).
    pub unit: u64,
    /// The unit's description (`capture`, `trace`, `tcp a:1 > b:2`, …).
    pub unit_desc: &'a str,
    /// Index of the window within its unit.
    pub index: u32,
    /// 0 for the window as read; 1..=copies for its augmented copies.
    pub copy: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub features: &'a [f32],
}

/// One file's windows → the features of each and of its augmented copies, with the buffers
/// reused from window to window. Used by every path that turns windows into rows, so that a
/// window's rows are the same whichever made them.
pub(crate) struct CopyFeatures<'a> {
    settings: &'a ExtractSettings,
    extractor: &'a Extractor,
    /// The file's name, not its position in a list, seeds its augmented copies.
    name: String,
    augmented: Vec<TracePacket>,
    features: Vec<f32>,
}

impl<'a> CopyFeatures<'a> {
    pub(crate) fn new(
        path: &Path,
        settings: &'a ExtractSettings,
        extractor: &'a Extractor,
    ) -> Self {
        CopyFeatures {
            settings,
            extractor,
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            augmented: Vec::new(),
            features: vec![0.0; extractor.dim(settings.space)],
        }
    }

    /// Calls `f(copy, features)` for the window of `unit` numbered `index` (copy 0) and then
    /// for each of its augmented copies, in order.
    pub(crate) fn each(
        &mut self,
        unit: u64,
        index: u32,
        window: &[TracePacket],
        mut f: impl FnMut(u32, &[f32]) -> Result<(), DatasetError>,
    ) -> Result<(), DatasetError> {
        let copies = self.settings.augment.as_ref().map_or(0, |a| a.copies);
        for copy in 0..=copies {
            let packets = match &self.settings.augment {
                Some(a) if copy > 0 => {
                    let seed = window_seed(a.seed, self.name.as_bytes(), unit, index, copy);
                    a.spec.apply(window, seed, &mut self.augmented);
                    &self.augmented[..]
                }
                _ => window,
            };
            self.extractor
                .extract_into(self.settings.space, packets, &mut self.features)
                .map_err(DatasetError::Features)?;
            f(copy, &self.features)?;
        }
        Ok(())
    }
}

/// Reads one capture or trace file into rows of features and hands each to `f` as soon as it
/// is made; memory does not grow with the rows (see [`visit_windows`] for what it holds).
///
/// **Order**: a window's row (then its augmented copies) comes when the packet that completes
/// the window is read, so rows are in the order their windows end in the file; units of a
/// whole capture or a trace have one unit, so there that is (unit, index) order. The windows
/// of a unit still short of `min_packets` are held until the unit gets there (then they come
/// first, in order) or ends (then they are dropped). The order depends on the file only.
///
/// `f` may return [`Visit::Stop`] to end the file early.
pub fn stream_file(
    path: &Path,
    settings: &ExtractSettings,
    extractor: &Extractor,
    f: &mut dyn FnMut(RowRef<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    stream_rows(
        path,
        settings,
        extractor,
        |v| visit_windows(path, settings, v),
        f,
    )
}

/// [`stream_file`] over any [`PacketSource`] (a live interface), read as [`visit_source`]
/// reads it: each row is handed to `f` as soon as its window is complete.
pub fn stream_source<S: PacketSource + ?Sized>(
    name: &Path,
    source: &mut S,
    host: Option<IpAddr>,
    settings: &ExtractSettings,
    extractor: &Extractor,
    f: &mut dyn FnMut(RowRef<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    stream_rows(
        name,
        settings,
        extractor,
        |v| visit_source(name, source, host, settings, v),
        f,
    )
}

/// The rows of [`stream_file`] from the events that `visit` hands over.
fn stream_rows(
    path: &Path,
    settings: &ExtractSettings,
    extractor: &Extractor,
    visit: impl FnOnce(
        &mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, DatasetError>,
    ) -> Result<ReadStats, DatasetError>,
    f: &mut dyn FnMut(RowRef<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    let min = settings.min_packets;
    // Rows of a unit still short of `min_packets`, with its description.
    let mut pending: HashMap<u64, (Box<str>, Vec<WindowRow>)> = HashMap::new();
    let mut copies = CopyFeatures::new(path, settings, extractor);
    let emit_pending = |f: &mut dyn FnMut(RowRef<'_>) -> Result<Visit, DatasetError>,
                        desc: &str,
                        rows: Vec<WindowRow>|
     -> Result<Visit, DatasetError> {
        let mut next = Visit::Continue;
        for r in &rows {
            if f(RowRef {
                unit: r.unit,
                unit_desc: desc,
                index: r.index,
                copy: r.copy,
                start: r.start,
                end: r.end,
                features: &r.features,
            })? == Visit::Stop
            {
                next = Visit::Stop;
            }
        }
        Ok(next)
    };
    visit(&mut |ev| {
        let mut next = Visit::Continue;
        match ev {
            UnitEvent::Window(w) => {
                let ready = w.unit_packets >= min;
                if ready {
                    if let Some((desc, rows)) = pending.remove(&w.unit) {
                        next = emit_pending(&mut *f, &desc, rows)?;
                    }
                }
                let start = w.packets[0].ts;
                let end = w.packets[w.packets.len() - 1].ts;
                copies.each(w.unit, w.index, w.packets, |copy, features| {
                    if ready {
                        let row = RowRef {
                            unit: w.unit,
                            unit_desc: w.unit_desc,
                            index: w.index,
                            copy,
                            start,
                            end,
                            features,
                        };
                        if f(row)? == Visit::Stop {
                            next = Visit::Stop;
                        }
                    } else {
                        pending
                            .entry(w.unit)
                            .or_insert_with(|| (w.unit_desc.into(), Vec::new()))
                            .1
                            .push(WindowRow {
                                source: 0,
                                unit: w.unit,
                                index: w.index,
                                start,
                                end,
                                copy,
                                features: features.to_vec(),
                            });
                    }
                    Ok(())
                })?;
            }
            UnitEvent::Packet { .. } => {}
            UnitEvent::UnitEnd { unit, packets } => {
                if let Some((desc, rows)) = pending.remove(&unit) {
                    if packets >= min {
                        next = emit_pending(&mut *f, &desc, rows)?;
                    }
                }
            }
        }
        Ok(next)
    })
}

/// Reads one capture or trace file into windows of features (see [`stream_file`]), sorted by
/// unit, window and copy. Units with fewer than `min_packets` packets in all give no rows.
///
/// At most [`ExtractSettings::max_windows`] windows are held; more is
/// [`DatasetError::TooManyWindows`].
pub fn extract_file(
    path: &Path,
    source: usize,
    settings: &ExtractSettings,
    extractor: &Extractor,
) -> Result<FileWindows, DatasetError> {
    extract_counted(path, source, settings, extractor, &AtomicUsize::new(0))
}

/// [`extract_file`], counting the windows it holds in `held`, which files read at the same
/// time share.
fn extract_counted(
    path: &Path,
    source: usize,
    settings: &ExtractSettings,
    extractor: &Extractor,
    held: &AtomicUsize,
) -> Result<FileWindows, DatasetError> {
    let mut rows = Vec::new();
    let mut units = HashMap::new();
    // Windows of this file counted in `held`, given back if the file fails.
    let mut mine = 0usize;
    let stats = stream_file(path, settings, extractor, &mut |r| {
        mine += 1;
        if held.fetch_add(1, Ordering::Relaxed) + 1 > settings.max_windows {
            return Err(DatasetError::TooManyWindows {
                limit: settings.max_windows,
            });
        }
        units
            .entry(r.unit)
            .or_insert_with(|| r.unit_desc.to_string());
        rows.push(WindowRow {
            source,
            unit: r.unit,
            index: r.index,
            start: r.start,
            end: r.end,
            copy: r.copy,
            features: r.features.to_vec(),
        });
        Ok(Visit::Continue)
    })
    .inspect_err(|_| {
        held.fetch_sub(mine, Ordering::Relaxed);
    })?;
    rows.sort_by_key(|r| (r.unit, r.index, r.copy));
    Ok(FileWindows {
        rows,
        units,
        packets: stats.packets,
        skipped: stats.skipped,
        first_skip: stats.first_skip,
        warnings: stats.warnings,
        state: stats.state,
    })
}

fn read_trace(
    path: &Path,
    mut r: TraceReader<Stream>,
    v: &mut Visitor<'_, '_>,
) -> Result<(), DatasetError> {
    while let Some(next) = r.next_packet() {
        if v.stopped {
            break;
        }
        match next {
            Ok(p) => {
                v.stats.packets += 1;
                v.push(UnitRef::ONLY, &|| "trace".to_string(), p)?;
            }
            Err(e) if v.settings.strict => return Err(DatasetError::trace(path, e)),
            // The input itself failed (a cut gzip, a read error): nothing more comes.
            Err(e)
                if matches!(
                    e.kind,
                    TraceErrorKind::Compressed(_) | TraceErrorKind::Io(_)
                ) =>
            {
                v.stats.warnings.push(format!(
                    "{}: {e}; stopped reading this file, kept what came before",
                    path.display()
                ));
            }
            Err(e) => {
                let msg = format!("{}: {e}; line skipped", path.display());
                v.skip(|| msg.clone());
                if v.stats.warnings.len() < MAX_WARNINGS {
                    v.stats.warnings.push(msg);
                }
            }
        }
    }
    Ok(())
}

/// Per file, at most this many skipped lines are listed one by one; the count covers the rest.
const MAX_WARNINGS: usize = 5;

/// How many IP packets [`read_frames`] holds back to find the capture's own host (the
/// address in the most of them) before the first is placed: 65,536 packets of 32 bytes each
/// (time, IP length, source), so 2 MB at most, and one pass over the input whatever it is (a
/// pipe too).
pub const HOST_LOOKAHEAD: usize = 1 << 16;

fn read_capture(path: &Path, stream: Stream, v: &mut Visitor<'_, '_>) -> Result<(), DatasetError> {
    let mut r = stream
        .into_capture()
        .map_err(|e| DatasetError::capture(path, e))?;
    read_frames(path, &mut r, Host::Find, v)
}

/// Streams packets from `source` (a live interface, or any other [`PacketSource`]) through
/// the units and windows of [`visit_windows`]: the same path as a capture file, in one pass.
/// `name` names the source in messages (an interface name). With [`Unit::Capture`] and
/// [`ClientRule::Auto`], `host` is the capture's own host (an interface's address); `None`
/// takes the source of the first packet.
///
/// Returns when `source` ends; every unit still open then ends too.
pub fn visit_source<S: PacketSource + ?Sized>(
    name: &Path,
    source: &mut S,
    host: Option<IpAddr>,
    settings: &ExtractSettings,
    f: &mut dyn FnMut(UnitEvent<'_>) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    let mut v = Visitor {
        settings,
        units: UnitStore::default(),
        stats: ReadStats::default(),
        f,
        stopped: false,
        packets: false,
        held: 0,
        held_limit: settings
            .max_held_packets
            .max(settings.window.window().saturating_mul(4)),
    };
    read_frames(name, source, Host::Given(host), &mut v)?;
    v.finish()
}

/// Where [`read_frames`] gets the capture's own host from.
enum Host {
    /// From the caller ([`visit_source`]: an interface's address); `None` takes the source of
    /// the first packet, so that every packet is placed as it comes.
    Given(Option<IpAddr>),
    /// From the first [`HOST_LOOKAHEAD`] packets, when the settings need it.
    Find,
}

/// The frames of a capture → units → the visitor. Whole captures with [`ClientRule::Auto`]
/// and [`Host::Find`] first hold back up to [`HOST_LOOKAHEAD`] packets to find the capture's
/// own host; every other case places each packet as it is read.
fn read_frames<S: PacketSource + ?Sized>(
    path: &Path,
    r: &mut S,
    host: Host,
    v: &mut Visitor<'_, '_>,
) -> Result<(), DatasetError> {
    let s = v.settings;
    // A whole capture's trace needs the IP layer only (time, length, source): its packets
    // skip the transport header.
    let transport = s.unit != Unit::Capture;
    let mut held = Vec::new();
    let mut ended = false;
    let host = match host {
        Host::Given(h) => h,
        Host::Find if s.unit == Unit::Capture && s.client == ClientRule::Auto => {
            let mut hc = HostCounter::new();
            held.reserve(HOST_LOOKAHEAD.min(4096));
            while held.len() < HOST_LOOKAHEAD {
                let got = next_ip(path, r, v, transport, |ts, ip, _| {
                    hc.add(ip.src, ip.dst);
                    held.push(HeldPacket {
                        ts,
                        ip_len: ip.ip_len,
                        src: ip.src,
                    });
                    Ok(())
                })?;
                match got {
                    Next::Packet => {}
                    // Nothing is placed yet, so nothing can time out.
                    Next::Idle(_) => {}
                    Next::End => {
                        ended = true;
                        break;
                    }
                }
            }
            hc.host()
        }
        Host::Find => None,
    };
    // Flows are the records `tapir flows` writes: the flow table cuts them, with its
    // timeouts and its client rule. Whole captures and host pairs come from the assembler.
    let mut units = match s.unit {
        Unit::Flow => Units::Flows(
            FlowTable::new(FlowTableConfig {
                max_flows: s.max_units,
                ..FlowTableConfig::default()
            })
            .map_err(|e| DatasetError::io(path, std::io::Error::other(e.to_string())))?
            .with_client_rule(s.client.clone()),
        ),
        _ => Units::Assembled(Assembler::new(AssembleConfig {
            unit: s.unit,
            client: s.client.clone(),
            host,
            max_units: s.max_units.max(1),
            ..Default::default()
        })),
    };
    let mut result = Ok(());
    // Packets are held back for whole captures only, which the assembler places.
    debug_assert!(held.is_empty() || matches!(units, Units::Assembled(_)));
    if let Units::Assembled(asm) = &mut units {
        for p in held {
            if v.stopped {
                break;
            }
            v.stats.packets += 1;
            let placed = asm.push_capture(p.ts, p.ip_len, &p.src);
            result = hand_over(placed, asm, v);
            if result.is_err() {
                break;
            }
        }
    }
    if result.is_ok() && !ended {
        result = read_units(path, r, transport, &mut units, v);
    }
    v.stats.state.units_evicted = match &units {
        Units::Flows(t) => t.stats().evicted,
        Units::Assembled(a) => a.evicted(),
    };
    result
}

fn read_units<S: PacketSource + ?Sized>(
    path: &Path,
    r: &mut S,
    transport: bool,
    units: &mut Units,
    v: &mut Visitor<'_, '_>,
) -> Result<(), DatasetError> {
    while !v.stopped {
        match next_ip(path, r, v, transport, |ts, ip, v| place(ts, ip, units, v))? {
            Next::Packet => {}
            Next::Idle(now) => expire(now, units, v)?,
            Next::End => break,
        }
    }
    Ok(())
}

/// What [`next_ip`] read.
enum Next {
    /// An IP packet, given to the callback.
    Packet,
    /// A live source waited with no packet; its clock reads this.
    Idle(Timestamp),
    End,
}

/// Time went on with no packet (a live source): the units idle past their timeout by `now`
/// end now, with their events, instead of at the next packet.
fn expire(now: Timestamp, units: &mut Units, v: &mut Visitor<'_, '_>) -> Result<(), DatasetError> {
    match units {
        Units::Flows(table) => {
            table.sweep(now);
            for (id, slot) in table.drain_ended_slots() {
                v.end_unit(UnitRef { id, slot })?;
            }
        }
        Units::Assembled(asm) => {
            asm.expire(now);
            for (id, slot) in asm.drain_ended_slots() {
                v.end_unit(UnitRef { id, slot })?;
            }
        }
    }
    Ok(())
}

/// The next IP packet of `r`, decoded down to the transport header when `transport`, else
/// the IP header only (given to `on_ip` where it was decoded: moving the header's fields out
/// by value costs a store-forwarding stall per packet), a pause of a live source, or the end.
/// Frames that are not IP are counted, ones that do not decode are skipped with a warning
/// (see [`Visitor::skip`]); a read error ends the input with a warning, or fails the file
/// under `strict`.
#[inline(always)]
fn next_ip<S: PacketSource + ?Sized>(
    path: &Path,
    r: &mut S,
    v: &mut Visitor<'_, '_>,
    transport: bool,
    on_ip: impl FnOnce(
        Timestamp,
        &tapir_capture::IpInfo,
        &mut Visitor<'_, '_>,
    ) -> Result<(), DatasetError>,
) -> Result<Next, DatasetError> {
    loop {
        let offset = r.position();
        let raw = match r.next_item() {
            None => return Ok(Next::End),
            Some(Ok(SourceItem::Idle(now))) => return Ok(Next::Idle(now)),
            Some(Ok(SourceItem::Packet(raw))) => raw,
            Some(Err(e)) => {
                if v.settings.strict {
                    return Err(DatasetError::capture(path, e));
                }
                v.stats.warnings.push(format!(
                    "{}: {e}; stopped reading this file, kept what came before",
                    path.display()
                ));
                return Ok(Next::End);
            }
        };
        let ts = raw.ts;
        let decoded = if transport {
            raw.decode()
        } else {
            raw.decode_ip()
        };
        match &decoded {
            Ok(ip) => {
                on_ip(ts, ip, v)?;
                return Ok(Next::Packet);
            }
            Err(DecodeError::NotIp) => v.stats.skipped += 1,
            Err(e) => v.skip(|| format!("{}: {offset}: {e}", path.display())),
        }
    }
}

/// One IP packet → its unit → the visitor.
#[inline(always)]
fn place(
    ts: Timestamp,
    ip: &tapir_capture::IpInfo,
    units: &mut Units,
    v: &mut Visitor<'_, '_>,
) -> Result<(), DatasetError> {
    v.stats.packets += 1;
    let an = v.settings.anonymize.as_ref();
    match units {
        Units::Flows(table) => {
            let placed = table.push(ts, ip);
            // Units this packet ended (timeouts, eviction) go before it: live state never
            // holds more than the table does.
            for (id, slot) in table.drain_ended_slots() {
                v.end_unit(UnitRef { id, slot })?;
            }
            let packet = TracePacket::new(ts, ip.ip_len, placed.direction());
            let unit = UnitRef {
                id: placed.id,
                slot: placed.slot,
            };
            v.push(
                unit,
                &|| match an {
                    Some(an) => placed.describe_with(|a| an.anonymize_ip(a)),
                    None => placed.describe(),
                },
                packet,
            )
        }
        Units::Assembled(asm) => {
            let placed = asm.push_ip(ts, ip);
            hand_over(placed, asm, v)
        }
    }
}

/// A packet the assembler has placed → the visitor, after the units it ended (as with
/// flows).
#[inline(always)]
fn hand_over(
    placed: Placed,
    asm: &mut Assembler,
    v: &mut Visitor<'_, '_>,
) -> Result<(), DatasetError> {
    for (id, slot) in asm.drain_ended_slots() {
        v.end_unit(UnitRef { id, slot })?;
    }
    let unit = UnitRef {
        id: placed.unit,
        slot: placed.slot,
    };
    let an = v.settings.anonymize.as_ref();
    let asm_ref = &*asm;
    v.push(
        unit,
        // Called during this push only, while the last unit is this packet's.
        &|| {
            asm_ref
                .last_unit()
                .map(|u| match an {
                    Some(an) => u.describe_with(|a| an.anonymize_ip(a)),
                    None => u.describe(),
                })
                .unwrap_or_default()
        },
        placed.packet,
    )
}

/// A packet of a whole capture held back while its host is found: what placing it needs.
struct HeldPacket {
    ts: Timestamp,
    ip_len: u32,
    src: IpAddr,
}

/// Where the units of a capture come from.
enum Units {
    /// `--by flow`: the flow table's records.
    Flows(FlowTable),
    /// Whole captures and host pairs.
    Assembled(Assembler),
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
///
/// The files together hold at most [`ExtractSettings::max_windows`] windows: past it every
/// file stops and the whole call is [`DatasetError::TooManyWindows`] (strict or not), since
/// which windows were kept would depend on the order the threads ran in.
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
    let held = AtomicUsize::new(0);
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
            let result = extract_counted(&src.path, i, settings, &extractor, &held);
            let too_many = matches!(result, Err(DatasetError::TooManyWindows { .. }));
            if (result.is_err() && settings.strict) || too_many {
                stop.store(true, Ordering::Relaxed);
            }
            progress(src, result.as_ref().map(|r| r.packets).unwrap_or(0));
            SourceResult { source: i, result }
        })
        .collect();
    if let Some(pos) = results
        .iter()
        .position(|r| matches!(r.result, Err(DatasetError::TooManyWindows { .. })))
    {
        let mut results = results;
        return Err(results.swap_remove(pos).result.expect_err("checked above"));
    }
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
