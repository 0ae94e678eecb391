//! `tapir train`: fit one model on a labelled dataset and write it with its feature settings.

use crate::cli::TrainArgs;
use crate::load::{labelled, load};
use crate::progress;
use crate::settings::{extract_settings, parse_space, usage, WindowFeatures};
use tapir_learn::{fit_model, write_model_file, ModelFile, ModelKind, ModelParams, FORMAT_VERSION};

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    let space = parse_space(&a.features)?;
    let kind: ModelKind = a
        .model
        .parse()
        .map_err(|e| usage(format!("--model: {e}")))?;
    if a.trees == 0 {
        return Err(usage("--trees: need at least one tree"));
    }
    let settings = extract_settings(&a.traffic, &a.window, space)?;
    let loaded = load(&a.inputs, &settings)?;
    let dim = tapir_features::dim(space, &settings.features);
    let lab = labelled(&loaded, 0..dim)?;
    let mut params = ModelParams::default();
    params.rf.seed = a.seed;
    params.rf.n_trees = a.trees;
    let sp = progress::spinner(&format!(
        "fitting {kind} on {} windows",
        lab.dataset.n_rows()
    ));
    let model = fit_model(kind, &params, &lab.dataset)?;
    sp.finish_and_clear();
    let wf = WindowFeatures {
        space,
        window: settings.window,
        features: settings.features,
    };
    let file = ModelFile {
        format_version: FORMAT_VERSION,
        tapir_version: env!("CARGO_PKG_VERSION").to_string(),
        feature_config: serde_json::to_value(&wf)?,
        classes: lab.dataset.classes.clone(),
        model,
    };
    write_model_file(&a.output, &file)?;
    let counts = lab.dataset.class_counts();
    let per_class: Vec<String> = lab
        .dataset
        .classes
        .iter()
        .zip(&counts)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    println!(
        "trained {kind} on {} windows of {space} features from {} traces ({}); wrote {}",
        lab.dataset.n_rows(),
        lab.traces,
        per_class.join(", "),
        a.output.display()
    );
    Ok(())
}
