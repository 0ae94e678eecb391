//! One file across cores: a reader thread cuts the file into windows, workers compute and
//! format their features, and the caller gets the formatted rows back in the file's order.
//!
//! The reader (file → packets → units → windows) stays on one thread, since which unit and
//! which window a packet belongs to depends on every packet before it. What comes after a window
//! is complete — augmentation, the features, formatting the row — depends on that window only,
//! so batches of windows go round-robin to the workers and come back in the same rotation: the
//! output is the same whatever the number of workers, and memory holds a few batches per
//! worker, never the file's rows.

use crate::extract::{
    stream_file, visit_windows, CopyFeatures, ExtractSettings, ReadStats, RowRef, UnitEvent, Visit,
};
use crate::DatasetError;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use tapir_capture::TracePacket;
use tapir_features::Extractor;

/// Windows per batch handed to a worker: 32 windows of 1,024 packets are 512 KiB of packets
/// in, and a few hundred KiB of formatted rows out.
const BATCH_WINDOWS: usize = 32;
/// Packets a new batch has room for at most (1 MiB): windows may be up to 2^24 packets.
const BATCH_RESERVE: usize = 1 << 16;
/// Batches waiting per worker, in each direction.
const QUEUED_BATCHES: usize = 2;
/// In the one-thread case, formatted rows go to the sink in chunks of about this many bytes.
const CHUNK: usize = 1 << 18;

/// Formats one row into the buffer.
pub type FormatRow<'a> = dyn Fn(&mut Vec<u8>, &RowRef<'_>) -> std::io::Result<()> + Sync + 'a;

/// The rows of one file, formatted by `format` and handed to `sink` in chunks (the bytes and
/// how many rows they hold), in the order [`stream_file`] makes them. With `workers` > 1 the
/// features are computed and formatted on that many threads beside the one that reads the
/// file; with 1, or when rows must wait for their unit to reach
/// [`ExtractSettings::min_packets`], everything runs on the calling thread. Either way the
/// bytes are the same.
///
/// `sink` may return [`Visit::Stop`] to end the file early.
pub fn stream_file_formatted(
    path: &Path,
    settings: &ExtractSettings,
    extractor: &Extractor,
    workers: usize,
    format: &FormatRow<'_>,
    sink: &mut dyn FnMut(Vec<u8>, u64) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    if workers <= 1 || settings.min_packets > 0 {
        return serial(path, settings, extractor, format, sink);
    }
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        // Batches done with go back to the reader to be filled again: no allocation (and no
        // fresh pages to fault in) per batch.
        let (spare_tx, spare_rx) = sync_channel::<Batch>(workers * (QUEUED_BATCHES + 1));
        for _ in 0..workers {
            let (in_tx, in_rx) = sync_channel::<Batch>(QUEUED_BATCHES);
            let (out_tx, out_rx) =
                sync_channel::<Result<(Vec<u8>, u64), DatasetError>>(QUEUED_BATCHES);
            to_workers.push(in_tx);
            from_workers.push(out_rx);
            let spare = spare_tx.clone();
            scope.spawn(move || work(path, settings, extractor, format, in_rx, out_tx, spare));
        }
        drop(spare_tx);
        let reader = scope.spawn(move || read(path, settings, to_workers, spare_rx));
        let mut failed = None;
        for seq in 0.. {
            match from_workers[seq % workers].recv() {
                Ok(Ok((bytes, rows))) => match sink(bytes, rows) {
                    Ok(Visit::Continue) => {}
                    Ok(Visit::Stop) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                },
                Ok(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                // That worker has ended with nothing more: every batch is done.
                Err(_) => break,
            }
        }
        // Workers blocked on a send see the receivers gone and end; the reader then sees its
        // workers gone and stops.
        drop(from_workers);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io(std::io::Error::other("the reader thread panicked"))));
        match failed {
            Some(e) => Err(e),
            None => read,
        }
    })
}

/// Windows on their way to a worker: their packets one after another, and where each starts.
struct Batch {
    windows: Vec<Meta>,
    packets: Vec<TracePacket>,
    /// The units' descriptions, one after another.
    descs: String,
}

struct Meta {
    unit: u64,
    index: u32,
    desc: Range<usize>,
    packets: Range<usize>,
}

impl Batch {
    /// A spare batch emptied, or a new one.
    fn reuse_or_new(spare: &Receiver<Batch>, window: usize) -> Batch {
        match spare.try_recv() {
            Ok(mut b) => {
                b.windows.clear();
                b.packets.clear();
                b.descs.clear();
                b
            }
            Err(_) => Batch::new(window),
        }
    }

    /// Room for a batch of `window`-packet windows (up to [`BATCH_RESERVE`] packets): a
    /// batch of default windows is copied in without the buffer growing, each growth a copy of
    /// what it holds.
    fn new(window: usize) -> Batch {
        Batch {
            windows: Vec::with_capacity(BATCH_WINDOWS),
            packets: Vec::with_capacity(BATCH_WINDOWS.saturating_mul(window).min(BATCH_RESERVE)),
            descs: String::new(),
        }
    }
}

/// The reader thread: windows into batches, batch `i` to worker `i % workers`.
fn read(
    path: &Path,
    settings: &ExtractSettings,
    to_workers: Vec<SyncSender<Batch>>,
    spare: Receiver<Batch>,
) -> Result<ReadStats, DatasetError> {
    let n = to_workers.len();
    let mut seq = 0usize;
    let window = settings.window.window();
    let mut batch = Batch::new(window);
    let mut gone = false;
    let send = |batch: Batch, seq: &mut usize| {
        let ok = to_workers[*seq % n].send(batch).is_ok();
        *seq += 1;
        ok
    };
    let stats = visit_windows(path, settings, &mut |ev| {
        if let UnitEvent::Window(w) = ev {
            let d = batch.descs.len();
            // A unit's windows usually follow each other: its description is kept once.
            let desc = match batch.windows.last() {
                Some(m) if m.unit == w.unit => m.desc.clone(),
                _ => {
                    batch.descs.push_str(w.unit_desc);
                    d..batch.descs.len()
                }
            };
            let p = batch.packets.len();
            batch.packets.extend_from_slice(w.packets);
            batch.windows.push(Meta {
                unit: w.unit,
                index: w.index,
                desc,
                packets: p..batch.packets.len(),
            });
            if batch.windows.len() == BATCH_WINDOWS
                && !send(
                    std::mem::replace(&mut batch, Batch::reuse_or_new(&spare, window)),
                    &mut seq,
                )
            {
                gone = true;
                return Ok(Visit::Stop);
            }
        }
        Ok(Visit::Continue)
    });
    if !gone && !batch.windows.is_empty() {
        send(batch, &mut seq);
    }
    stats
}

/// A worker: each batch's windows (and their augmented copies) → features → formatted rows.
fn work(
    path: &Path,
    settings: &ExtractSettings,
    extractor: &Extractor,
    format: &FormatRow<'_>,
    rx: Receiver<Batch>,
    tx: SyncSender<Result<(Vec<u8>, u64), DatasetError>>,
    spare: SyncSender<Batch>,
) {
    let mut copies = CopyFeatures::new(path, settings, extractor);
    let mut size_hint = 0;
    for batch in rx {
        let mut out = Vec::with_capacity(size_hint);
        let mut rows = 0u64;
        let mut one = |m: &Meta| -> Result<(), DatasetError> {
            let window = &batch.packets[m.packets.clone()];
            copies.each(m.unit, m.index, window, |copy, features| {
                let row = RowRef {
                    unit: m.unit,
                    unit_desc: &batch.descs[m.desc.clone()],
                    index: m.index,
                    copy,
                    start: window[0].ts,
                    end: window[window.len() - 1].ts,
                    features,
                };
                format(&mut out, &row).map_err(|source| DatasetError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                rows += 1;
                Ok(())
            })
        };
        let r = batch.windows.iter().try_for_each(&mut one);
        // A batch grown past the usual size (windows of millions of packets) is given back to
        // the allocator, as is one the reader has no room for (it holds enough spares).
        if batch.packets.capacity() <= BATCH_RESERVE {
            let _ = spare.try_send(batch);
        }
        size_hint = size_hint.max(out.len());
        let msg = r.map(|()| (out, rows));
        let failed = msg.is_err();
        if tx.send(msg).is_err() || failed {
            return;
        }
    }
}

/// [`stream_file_formatted`] on the calling thread alone.
fn serial(
    path: &Path,
    settings: &ExtractSettings,
    extractor: &Extractor,
    format: &FormatRow<'_>,
    sink: &mut dyn FnMut(Vec<u8>, u64) -> Result<Visit, DatasetError>,
) -> Result<ReadStats, DatasetError> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let mut n = 0u64;
    let mut stopped = false;
    let stats = stream_file(path, settings, extractor, &mut |r| {
        format(&mut buf, &r).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        n += 1;
        if buf.len() >= CHUNK {
            let chunk = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK + 4096));
            if sink(chunk, std::mem::take(&mut n))? == Visit::Stop {
                stopped = true;
                return Ok(Visit::Stop);
            }
        }
        Ok(Visit::Continue)
    })?;
    if !stopped && !buf.is_empty() {
        sink(buf, n)?;
    }
    Ok(stats)
}
