//! `tapir extract`: one row per window with label and group (CSV or JSON lines), and optional
//! plots of windows' histograms.

use crate::cli::ExtractArgs;
use crate::cli::ExtractFormat;
use crate::load::{skipped, warn};
use crate::output::Output;
use crate::settings::{anonymizer, extract_settings};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use tapir_dataset::{
    discover, visit_windows, DatasetError, ExtractSettings, ReadStats, RowRef, Source, StateStats,
    UnitEvent, Visit,
};
use tapir_features::{Extractor, FeatureSpace};
use tapir_flow::Unit;
use tapir_report::csv_field;

pub fn run(a: ExtractArgs) -> anyhow::Result<()> {
    let jsonl = a.format == ExtractFormat::Jsonl;
    let mut settings = extract_settings(&a.traffic, &a.window, a.features.0)?;
    settings.anonymize = anonymizer(a.anonymize.as_deref())?;
    super::check_live(a.live.as_deref(), &a.capture)?;
    #[cfg(feature = "live")]
    if let Some(iface) = &a.live {
        return super::extract_live::run(&a, &settings, jsonl, iface);
    }
    if let Some(dir) = &a.plots {
        let sources = discover(&a.inputs)?;
        let staged = crate::output::StagedDir::new(dir)?;
        let mut n = 0;
        for src in &sources {
            match plot_source(src, &settings, staged.path(), a.limit) {
                Ok(k) => n += k,
                Err(e) => skipped(format!("{e:#}; file skipped")),
            }
        }
        staged.commit()?;
        eprintln!("wrote {n} plots (PNG and SVG) to {}", dir.display());
        if a.output.is_none() {
            return Ok(());
        }
    }
    if let Some(dir) = &a.traces {
        let sources = discover(&a.inputs)?;
        let staged = crate::output::StagedDir::new(dir)?;
        let mut n = 0;
        for src in &sources {
            match write_traces(src, &settings, staged.path()) {
                Ok(k) => n += k,
                Err(e) if settings.strict => return Err(e),
                Err(e) => skipped(format!("{e:#}; file skipped")),
            }
        }
        staged.commit()?;
        eprintln!("wrote {n} trace files to {}", dir.display());
        if a.output.is_none() {
            return Ok(());
        }
    }
    let sources = discover(&a.inputs)?;
    let mut out = Output::create(a.output.as_deref())?;
    let keys = header(&mut out, &settings, jsonl)?;
    let done = write_rows(&sources, &settings, keys.as_deref(), &mut out)?;
    out.finish()?;
    let mut summary = format!(
        "{} windows from {} files ({} packets)",
        done.windows, done.files, done.packets
    );
    let s = &done.state;
    let what = match settings.unit {
        Unit::Capture => None,
        Unit::Flow => Some("flows"),
        Unit::Pair => Some("host pairs"),
    };
    if let Some(what) = what {
        summary.push_str(&format!(
            "; {} {what}, at most {} live at once (--max-units {}), {} ended early",
            s.units, s.peak_units, settings.max_units, s.units_evicted
        ));
    }
    if s.dropped_windows > 0 {
        summary.push_str(&format!(
            "; {} partial windows ({} packets) given up with the window buffers full \
             (--max-held-packets {})",
            s.dropped_windows, s.dropped_packets, settings.max_held_packets
        ));
    }
    eprintln!("{summary}");
    Ok(())
}

/// Writes the CSV header (nothing for JSON lines); returns, for JSON lines, the keys of the
/// feature columns (the feature names, JSON-quoted).
pub(super) fn header(
    out: &mut Output,
    settings: &ExtractSettings,
    jsonl: bool,
) -> anyhow::Result<Option<Vec<String>>> {
    let names = tapir_features::feature_names(settings.space, &settings.features)?;
    if !jsonl {
        write!(out, "file,label,group,unit,window,start,end")?;
        for n in &names {
            write!(out, ",{n}")?;
        }
        writeln!(out)?;
    }
    // JSON lines carry the CSV's columns as keys, in the same order: one flat object per row.
    Ok(jsonl.then(|| {
        names
            .iter()
            .map(|n| serde_json::to_string(n).expect("a string serialises"))
            .collect()
    }))
}

/// What [`write_rows`] wrote.
#[derive(Default)]
struct Written {
    windows: u64,
    files: usize,
    packets: u64,
    state: StateStats,
}

/// Streams the rows of every source to `out`, in the order of `sources`, each file's rows in
/// the order [`tapir_dataset::stream_file`] makes them: files in parallel, one per thread, and
/// a file's features on the cores left over when there are fewer files than cores (see
/// [`crate::ordered`]). The output is the same whatever the number of threads.
fn write_rows(
    sources: &[Source],
    settings: &ExtractSettings,
    keys: Option<&[String]>,
    out: &mut Output,
) -> anyhow::Result<Written> {
    settings.features.validate()?;
    let extractor = Extractor::new(&settings.features)?;
    let cores = rayon::current_num_threads().max(1);
    let threads = cores.min(sources.len().max(1));
    // Fewer files than cores: each file's features are computed on the cores left over.
    let workers = cores / threads;
    let pb = crate::progress::bar(sources.len() as u64, "reading");
    let mut w = Written::default();
    let r = crate::ordered::write_in_order(
        sources.len(),
        threads,
        &|i, chunks| format_source(&sources[i], settings, &extractor, keys, workers, chunks),
        out,
        &mut |i, rows, result| {
            pb.inc(1);
            file_done(&sources[i], settings, rows, result, &mut w)
        },
    );
    pb.finish_and_clear();
    r.map(|()| w)
}

/// The writer's side for one source: its report, once its rows are out.
fn file_done(
    src: &Source,
    settings: &ExtractSettings,
    rows: u64,
    result: Result<ReadStats, DatasetError>,
    w: &mut Written,
) -> anyhow::Result<()> {
    w.windows += rows;
    match result {
        Ok(stats) => {
            for m in &stats.warnings {
                warn(m);
            }
            if stats.packets == 0 {
                skipped(format!(
                    "{}: no packets in it; file skipped",
                    src.path.display()
                ));
            }
            if stats.skipped > 0 {
                if let Some(first) = &stats.first_skip {
                    warn(format!("{} frames skipped (first: {first})", stats.skipped));
                }
            }
            if stats.state.units_evicted > 0 {
                warn(format!(
                    "{}: {} units ended early because {} were live at once (--max-units)",
                    src.path.display(),
                    stats.state.units_evicted,
                    settings.max_units
                ));
            }
            if stats.state.dropped_windows > 0 {
                warn(format!(
                    "{}: {} partial windows ({} packets) given up because the window \
                     buffers were full (--max-held-packets {})",
                    src.path.display(),
                    stats.state.dropped_windows,
                    stats.state.dropped_packets,
                    settings.max_held_packets
                ));
            }
            w.files += 1;
            w.packets += stats.packets;
            w.state.add(&stats.state);
        }
        Err(e) if settings.strict => return Err(e.into()),
        // Rows of it are out already: the output cannot be made whole by skipping it.
        Err(e) if rows > 0 => {
            return Err(anyhow::Error::new(e)
                .context(format!("{rows} rows of it were written; no output kept")))
        }
        Err(e) => skipped(format!("{e}; file skipped")),
    }
    Ok(())
}

/// One worker's file: its rows formatted as CSV, or as JSON lines with the feature `keys`
/// (JSON-quoted feature names), sent in chunks on `tx`. With `workers` > 1 the file's features
/// are computed on that many threads beside its reader (the bytes are the same).
fn format_source(
    src: &Source,
    settings: &ExtractSettings,
    extractor: &Extractor,
    keys: Option<&[String]>,
    workers: usize,
    chunks: &crate::ordered::Chunks<'_, Result<ReadStats, DatasetError>>,
) -> Result<ReadStats, DatasetError> {
    let lead = lead(
        &src.path.display().to_string(),
        &src.labels,
        &src.group,
        keys,
    );
    let format = |buf: &mut Vec<u8>, r: &RowRef<'_>| format_row(buf, keys, &lead, r);
    tapir_dataset::stream_file_formatted(
        &src.path,
        settings,
        extractor,
        workers,
        &format,
        &mut |chunk, n| {
            Ok(if chunks.send(chunk, n) {
                Visit::Continue
            } else {
                Visit::Stop
            })
        },
    )
}

/// The fields every row of a file starts with (file, label, group), quoted once: CSV, or the
/// start of a JSON object when there are `keys`.
pub(super) fn lead(file: &str, labels: &[String], group: &str, keys: Option<&[String]>) -> String {
    let label = labels.join("+");
    match keys {
        None => format!(
            "{},{},{},",
            csv_field(file),
            csv_field(&label),
            csv_field(group)
        ),
        Some(_) => {
            let q = |v: &str| serde_json::to_string(v).expect("a string serialises");
            format!(
                "{{\"file\":{},\"label\":{},\"group\":{},",
                q(file),
                q(&label),
                q(group)
            )
        }
    }
}

/// One row after its file's `lead` fields: CSV, or a flat JSON object whose keys are the CSV's
/// columns (`keys`: the feature names, JSON-quoted) with the same values, times included
/// (features at full precision where CSV rounds them to four decimals).
pub(super) fn format_row(
    buf: &mut Vec<u8>,
    keys: Option<&[String]>,
    lead: &str,
    r: &RowRef<'_>,
) -> std::io::Result<()> {
    buf.extend_from_slice(lead.as_bytes());
    match keys {
        Some(keys) => {
            buf.extend_from_slice(b"\"unit\":");
            serde_json::to_writer(&mut *buf, r.unit_desc)?;
            write!(
                buf,
                ",\"window\":{},\"start\":{},\"end\":{}",
                r.index, r.start, r.end
            )?;
            // Full precision here (JSON numbers are cheap to parse back exactly); CSV keeps
            // four decimals.
            for (k, v) in keys.iter().zip(r.features) {
                buf.push(b',');
                buf.extend_from_slice(k.as_bytes());
                buf.push(b':');
                serde_json::to_writer(&mut *buf, v)?;
            }
            buf.extend_from_slice(b"}\n");
        }
        None => {
            write!(
                buf,
                "{},{},{},{}",
                csv_field(r.unit_desc),
                r.index,
                r.start,
                r.end
            )?;
            write_features(buf, r.features)?;
            buf.push(b'\n');
        }
    }
    Ok(())
}

/// `,v` for every feature value. Most bins of a window are empty: a run of zeros goes out as
/// one copy of `,0,0,…` rather than a push per value.
fn write_features(buf: &mut Vec<u8>, features: &[f32]) -> std::io::Result<()> {
    const ZEROS: &[u8; 256] = &{
        let mut z = [b'0'; 256];
        let mut i = 0;
        while i < 256 {
            z[i] = b',';
            i += 2;
        }
        z
    };
    let mut rest = features;
    while !rest.is_empty() {
        let zeros = rest.iter().take_while(|v| **v == 0.0).count();
        for chunk in 0..zeros.div_ceil(ZEROS.len() / 2) {
            let n = (zeros - chunk * (ZEROS.len() / 2)).min(ZEROS.len() / 2);
            buf.extend_from_slice(&ZEROS[..2 * n]);
        }
        rest = &rest[zeros..];
        if let Some((v, tail)) = rest.split_first() {
            buf.push(b',');
            write_feature(buf, *v)?;
            rest = tail;
        }
    }
    Ok(())
}

/// A feature value: ln(1 + count), four decimals keep every distinct count apart.
///
/// The same text as `{v:.4}` (ties to even), without the general float formatter: an `f32`
/// times 10,000 is exact in an `f64` below 2^53, so rounding it to an integer and printing the
/// integer's digits is exact too. Zero is written `0`.
fn write_feature(buf: &mut Vec<u8>, v: f32) -> std::io::Result<()> {
    if v == 0.0 {
        buf.push(b'0');
        return Ok(());
    }
    let scaled = (f64::from(v) * 10_000.0).round_ties_even();
    if !scaled.is_finite() || scaled.abs() >= 1e15 {
        // Infinite, NaN or too large for the integer path.
        return write!(buf, "{v:.4}");
    }
    if v.is_sign_negative() {
        buf.push(b'-');
    }
    let n = scaled.abs() as u64;
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = n;
    // At least five digits: one before the point and four after it.
    while rest > 0 || digits.len() - i < 5 {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let (int, frac) = digits[i..].split_at(digits.len() - i - 4);
    buf.extend_from_slice(int);
    buf.push(b'.');
    buf.extend_from_slice(frac);
    Ok(())
}

/// Writes each unit of `src` as `DIR/<label>/<stem>[-u<unit>].trace`. Each file is written under
/// a temporary name and renamed when its unit ends. At most [`MAX_OPEN_TRACES`] units may be live
/// at once (each holds an open file).
fn write_traces(src: &Source, settings: &ExtractSettings, dir: &Path) -> anyhow::Result<usize> {
    use std::collections::HashMap;
    use tapir_capture::TraceWriter;
    let sub = if src.labels.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(src.labels.join("+"))
    };
    std::fs::create_dir_all(&sub).with_context(|| format!("cannot create {}", sub.display()))?;
    let stem = src
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    let per_unit = settings.unit != tapir_flow::Unit::Capture;
    let mut open: HashMap<u64, TraceWriter<Output>> = HashMap::new();
    let mut written = 0usize;
    let mut err: Option<anyhow::Error> = None;
    let mut step = |ev: UnitEvent<'_>| -> anyhow::Result<()> {
        match ev {
            UnitEvent::Packet {
                unit,
                unit_desc,
                packet,
            } => {
                if !open.contains_key(&unit) {
                    if open.len() >= MAX_OPEN_TRACES {
                        anyhow::bail!(
                            "{}: more than {MAX_OPEN_TRACES} traces live at once; use --by capture or --by pair",
                            src.path.display()
                        );
                    }
                    let name = if per_unit {
                        format!("{stem}-u{unit}.trace")
                    } else {
                        format!("{stem}.trace")
                    };
                    let mut out = Output::create(Some(&sub.join(name)))?;
                    writeln!(out, "# {} {unit_desc}", src.path.display())?;
                    writeln!(
                        out,
                        "# <seconds> <signed IP length>, positive = from the client"
                    )?;
                    open.insert(unit, TraceWriter::new(out));
                }
                open.get_mut(&unit)
                    .expect("inserted above")
                    .write(&packet)?;
            }
            UnitEvent::UnitEnd { unit, .. } => {
                if let Some(w) = open.remove(&unit) {
                    w.into_inner().finish()?;
                    written += 1;
                }
            }
            UnitEvent::Window(_) => {}
        }
        Ok(())
    };
    let stats = tapir_dataset::visit_packets(&src.path, settings, &mut |ev| match err.is_some() {
        // After an error, the files still open are dropped unfinished (and so removed).
        true => Ok(Visit::Stop),
        false => step(ev).map(|()| Visit::Continue).or_else(|e| {
            err = Some(e);
            Ok(Visit::Stop)
        }),
    })?;
    if let Some(e) = err {
        return Err(e);
    }
    for w in &stats.warnings {
        warn(w);
    }
    Ok(written)
}

/// Open trace files at once for `--traces` (file descriptors are limited, often to 1024).
const MAX_OPEN_TRACES: usize = 256;

fn plot_source(
    src: &Source,
    settings: &ExtractSettings,
    dir: &Path,
    limit: usize,
) -> anyhow::Result<usize> {
    let ex = Extractor::new(&settings.features)?;
    let stem = src
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    let label = if src.labels.is_empty() {
        String::new()
    } else {
        format!(" [{}]", src.labels.join("+"))
    };
    let mut written = 0usize;
    let mut err = None;
    visit_windows(&src.path, settings, &mut |ev| {
        let UnitEvent::Window(w) = ev else {
            return Ok(Visit::Continue);
        };
        for h in ex.histograms(settings.space, w.packets) {
            let (kind, x, y) = if h.name == FeatureSpace::SizeIat.name() {
                (
                    "size-iat",
                    "packet size (bytes, negative = downstream)",
                    "inter-arrival time (s)",
                )
            } else {
                (
                    "burst",
                    "burst size (bytes, negative = downstream)",
                    "surge period (s)",
                )
            };
            let title = format!("{stem}{label} unit {} window {} — {kind}", w.unit, w.index);
            let base = dir.join(format!("{stem}-u{}-w{}-{kind}", w.unit, w.index));
            let r = crate::output::write_atomic(
                &base.with_extension("svg"),
                tapir_report::histogram_svg(&h, &title, x, y).as_bytes(),
            )
            .and_then(|_| {
                crate::output::write_atomic(
                    &base.with_extension("png"),
                    &tapir_report::histogram_png(&h, &title, x, y)?,
                )
            });
            if let Err(e) = r {
                err = Some(e);
                return Ok(Visit::Stop);
            }
        }
        written += 1;
        Ok(if written >= limit {
            Visit::Stop
        } else {
            Visit::Continue
        })
    })?;
    match err {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

#[cfg(test)]
mod tests {
    use super::{write_feature, write_features};

    fn fast(v: f32) -> String {
        let mut b = Vec::new();
        write_feature(&mut b, v).unwrap();
        String::from_utf8(b).unwrap()
    }

    fn slow(v: f32) -> String {
        if v == 0.0 {
            "0".into()
        } else {
            format!("{v:.4}")
        }
    }

    #[test]
    fn runs_of_zeros_print_as_single_values_do() {
        let mut rng = tapir_capture::SplitMix64::new(3);
        for len in [0usize, 1, 2, 127, 128, 129, 300, 2048] {
            let values: Vec<f32> = (0..len)
                .map(|_| match rng.below(10) {
                    0 => 1.0986,
                    1 => -0.0,
                    _ => 0.0,
                })
                .collect();
            for v in [values.clone(), vec![0.0; len], vec![0.5; len]] {
                let mut want = Vec::new();
                for x in &v {
                    want.push(b',');
                    write_feature(&mut want, *x).unwrap();
                }
                let mut got = Vec::new();
                write_features(&mut got, &v).unwrap();
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want).unwrap()
                );
            }
        }
    }

    #[test]
    fn features_print_as_the_float_formatter_does() {
        // Ties (v * 10,000 ending in exactly .5), signs, tiny, large and special values.
        let mut cases = vec![
            0.0,
            -0.0,
            1.0 / 32.0,
            3.0 / 32.0,
            -1.0 / 32.0,
            0.00005,
            -0.00004,
            1e-9,
            0.612_34,
            12345.678,
            1e10,
            -1e10,
            3e11,
            1e12,
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ];
        // ln(1 + count) for every count a window can hold, and seeded random bit patterns.
        cases.extend((0..5000).map(|c| (1.0 + c as f32).ln()));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(f32::from_bits(x as u32));
        }
        for v in cases {
            assert_eq!(fast(v), slow(v), "value {v:e} (bits {:#x})", v.to_bits());
        }
    }
}
