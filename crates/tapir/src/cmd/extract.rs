//! `tapir extract`: one row per window with label and group (CSV or JSON lines), and optional
//! plots of windows' histograms.

use crate::cli::ExtractArgs;
use crate::load::{load, warn};
use crate::output::Output;
use crate::settings::{extract_settings, parse_space, usage};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use tapir_dataset::{discover, visit_windows, Event, ExtractSettings, Source, Visit};
use tapir_features::{Extractor, FeatureSpace};
use tapir_report::csv_field;

pub fn run(a: ExtractArgs) -> anyhow::Result<()> {
    let space = parse_space(&a.features)?;
    let jsonl = match a.format.as_str() {
        "csv" => false,
        "jsonl" | "json" => true,
        other => return Err(usage(format!("--format {other:?}: use csv or jsonl"))),
    };
    let settings = extract_settings(&a.traffic, &a.window, space)?;
    if let Some(dir) = &a.plots {
        let sources = discover(&a.inputs)?;
        let staged = crate::output::StagedDir::new(dir)?;
        let mut n = 0;
        for src in &sources {
            match plot_source(src, &settings, staged.path(), a.limit) {
                Ok(k) => n += k,
                Err(e) => crate::load::skipped(format!("{e:#}; file skipped")),
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
                Err(e) => crate::load::skipped(format!("{e:#}; file skipped")),
            }
        }
        staged.commit()?;
        eprintln!("wrote {n} trace files to {}", dir.display());
        if a.output.is_none() {
            return Ok(());
        }
    }
    let loaded = load(&a.inputs, &settings)?;
    let names = tapir_features::feature_names(space, &settings.features)?;
    let mut out = Output::create(a.output.as_deref())?;
    if !jsonl {
        write!(out, "file,label,group,unit,window,start,end")?;
        for n in &names {
            write!(out, ",{n}")?;
        }
        writeln!(out)?;
    }
    for (src, f) in loaded.sources.iter().zip(&loaded.files) {
        let Some(f) = f else { continue };
        let label = src.labels.join("+");
        let file = src.path.display().to_string();
        for r in &f.rows {
            let unit = f.units.get(&r.unit).map(String::as_str).unwrap_or("");
            if jsonl {
                let v = serde_json::json!({
                    "file": file, "label": label, "group": src.group, "unit": unit, "window": r.index,
                    "start": r.start.as_secs_f64(), "end": r.end.as_secs_f64(), "features": r.features,
                });
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            } else {
                write!(
                    out,
                    "{},{},{},{},{},{},{}",
                    csv_field(&file),
                    csv_field(&label),
                    csv_field(&src.group),
                    csv_field(unit),
                    r.index,
                    r.start,
                    r.end
                )?;
                for v in &r.features {
                    // Features are ln(1 + count): four decimals keep every distinct count apart.
                    if *v == 0.0 {
                        out.write_all(b",0")?;
                    } else {
                        write!(out, ",{v:.4}")?;
                    }
                }
                writeln!(out)?;
            }
        }
    }
    out.finish()?;
    eprintln!(
        "{} windows from {} files ({} packets)",
        loaded.windows(),
        loaded.files.iter().flatten().count(),
        loaded.packets()
    );
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
    let mut step = |ev: Event<'_>| -> anyhow::Result<()> {
        match ev {
            Event::Packet {
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
            Event::UnitEnd { unit, .. } => {
                if let Some(w) = open.remove(&unit) {
                    w.into_inner().finish()?;
                    written += 1;
                }
            }
            Event::Window(_) => {}
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
        let Event::Window(w) = ev else {
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
