//! `tapir classify`: label new traffic window by window with a trained model (JSON lines).

use crate::cli::ClassifyArgs;
use crate::load::warn;
use crate::output::Output;
use crate::progress;
use crate::settings::{client_rule, parse_unit, window_and_stride, WindowFeatures};
use anyhow::Context;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use tapir_dataset::{discover, visit_windows, Event, ExtractSettings, Visit};
use tapir_features::Extractor;
use tapir_learn::{read_model_file, Classifier, Model, ModelFile};

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    unit: &'a str,
    window: u32,
    start: f64,
    end: f64,
    label: &'a str,
    probabilities: BTreeMap<&'a str, f64>,
}

pub fn run(a: ClassifyArgs) -> anyhow::Result<()> {
    let mf: ModelFile<Model> = read_model_file(&a.model)
        .with_context(|| format!("cannot use model {}", a.model.display()))?;
    let wf: WindowFeatures =
        serde_json::from_value(mf.feature_config.clone()).with_context(|| {
            format!(
                "{}: feature settings not understood by this version of tapir",
                a.model.display()
            )
        })?;
    let (window, stride) = window_and_stride(wf.window, a.stride)?;
    let extractor = Extractor::new(&wf.features)?;
    let dim = extractor.dim(wf.space);
    if mf.model.n_features() != dim || mf.model.n_classes() != mf.classes.len() {
        anyhow::bail!(
            "{}: model expects {} features and {} classes, its settings give {} features and {} classes",
            a.model.display(),
            mf.model.n_features(),
            mf.model.n_classes(),
            dim,
            mf.classes.len()
        );
    }
    let settings = ExtractSettings {
        unit: parse_unit(&a.traffic.by)?,
        client: client_rule(&a.traffic)?,
        window,
        stride,
        min_packets: a.traffic.min_packets,
        space: wf.space,
        features: wf.features,
        strict: a.traffic.strict,
    };
    let sources = discover(&a.inputs)?;
    let pb = progress::bar(sources.len() as u64, "classifying");
    let model = &mf.model;
    let classes = &mf.classes;
    let results: Vec<anyhow::Result<Vec<u8>>> = sources
        .par_iter()
        .map(|src| {
            let mut buf = Vec::new();
            let mut features = vec![0.0f32; dim];
            let mut proba = vec![0.0f64; classes.len()];
            let file = src.path.display().to_string();
            let stats = visit_windows(&src.path, &settings, &mut |ev| {
                if let Event::Window(w) = ev {
                    if w.unit_packets < settings.min_packets {
                        return Ok(Visit::Continue);
                    }
                    extractor
                        .extract_into(settings.space, w.packets, &mut features)
                        .map_err(tapir_dataset::DatasetError::Features)?;
                    model.predict_proba_into(&features, &mut proba);
                    let best = tapir_learn::argmax(&proba);
                    let line = Line {
                        file: file.clone(),
                        unit: w.unit_desc,
                        window: w.index,
                        start: w.packets[0].ts.as_secs_f64(),
                        end: w.packets[w.packets.len() - 1].ts.as_secs_f64(),
                        label: &classes[best],
                        probabilities: classes
                            .iter()
                            .map(String::as_str)
                            .zip(proba.iter().map(|p| (p * 1e4).round() / 1e4))
                            .collect(),
                    };
                    serde_json::to_writer(&mut buf, &line).map_err(|e| {
                        tapir_dataset::DatasetError::Io {
                            path: src.path.clone(),
                            source: e.into(),
                        }
                    })?;
                    buf.push(b'\n');
                }
                Ok(Visit::Continue)
            });
            pb.inc(1);
            let stats = stats?;
            for w in &stats.warnings {
                warn(w);
            }
            Ok(buf)
        })
        .collect();
    pb.finish_and_clear();
    let mut out = Output::create(a.output.as_deref())?;
    let mut failed = 0;
    for r in results {
        match r {
            Ok(buf) => out.write_all(&buf)?,
            Err(e) if a.traffic.strict => return Err(e),
            Err(e) => {
                failed += 1;
                warn(format!("{e:#}; file skipped"));
            }
        }
    }
    out.finish()?;
    if failed == sources.len() {
        anyhow::bail!("no file could be read");
    }
    Ok(())
}
