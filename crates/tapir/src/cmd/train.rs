//! `tapir train`: fit one model on a labelled dataset (training windows augmented by default),
//! calibrate its "unknown" threshold on held-out traces, and write it with its feature settings
//! and a record of what it was trained on.

use crate::cli::TrainArgs;
use crate::cmd::pct;
use crate::load::{labelled_with, load, Labelled, Loaded, BACKGROUND};
use crate::output::write_atomic;
use crate::progress;
use crate::settings::{augmentation, extract_settings, forest_params, usage};
use serde_json::json;
use tapir_features::TrainedFeatures;
use tapir_learn::{
    argmax, fit_model, split_grouped_stratified, write_model_file, Classifier, Model, ModelFile,
    ModelKind, ModelParams, FORMAT_VERSION,
};

/// Share of the traces held out to calibrate the "unknown" threshold.
const CALIBRATION_FRACTION: f64 = 0.2;

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    let (space, kind) = (a.features.0, a.model.0);
    let rf = forest_params(a.trees, a.seed, &a.forest)?;
    if !(0.0..1.0).contains(&a.unknown_share) {
        return Err(usage(format!(
            "--unknown-share {}: a share in 0..1 (0 = no threshold)",
            a.unknown_share
        )));
    }
    let mut settings = extract_settings(&a.traffic, &a.window, space)?;
    settings.augment = augmentation(&a.augment, a.augment_copies, a.seed)?;
    let loaded = load(&a.inputs, &settings)?;
    let dim = tapir_features::dim(space, &settings.features);
    let lab = labelled_with(&loaded, 0..dim, a.background_class)?;
    let params = ModelParams {
        rf,
        ..Default::default()
    };

    let calibration = if a.unknown_share > 0.0 {
        let sp = progress::spinner("calibrating the unknown threshold on held-out traces");
        let c = calibrate(&lab, kind, &params, a.unknown_share, a.seed)?;
        sp.finish_and_clear();
        Some(c)
    } else {
        None
    };
    let threshold = calibration.as_ref().map(|c| c.threshold);

    let sp = progress::spinner(&format!(
        "fitting {kind} on {} windows",
        lab.dataset.n_rows()
    ));
    let model = fit_model(kind, &params, &lab.dataset)?;
    sp.finish_and_clear();
    // Background captures the model never saw: all of them when they are not a class, the
    // held-out ones of the calibration split when they are.
    let background = if a.background_class {
        calibration.as_ref().and_then(|c| c.background.clone())
    } else {
        background_rate(&loaded, &model, dim, threshold)
    };

    let trained = TrainedFeatures::new(space, settings.window, settings.features);
    let originals = lab.n_original;
    let counts = lab.originals()?.class_counts();
    let mut training = json!({
        "inputs": a.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "files": loaded.files.iter().flatten().count(),
        "traces": lab.traces,
        "windows": originals,
        "augmented_windows": lab.original_of.len(),
        "classes": lab.dataset.classes.iter().zip(&counts)
            .map(|(c, n)| json!({"class": c, "windows": n})).collect::<Vec<_>>(),
        "model": kind.name(),
        "trees": (kind == ModelKind::Rf).then_some(a.trees),
        "seed": a.seed,
        "unit": settings.unit.to_string(),
        "feature_space": space.name(),
        "window": settings.window.window(),
        "stride": settings.window.stride(),
        "feature_config": settings.features,
        "feature_fingerprint": format!("{:016x}", settings.features.fingerprint()),
        "augment": settings.augment.as_ref().map_or("none".to_string(), |g| g.spec.to_string()),
        "augment_copies": settings.augment.as_ref().map_or(0, |g| g.copies),
        "calibration": calibration.as_ref().map(|c| json!({
            "held_out_fraction": CALIBRATION_FRACTION,
            "held_out_windows": c.windows,
            "held_out_accuracy": c.accuracy,
            "keep_share": a.unknown_share,
            "unknown_threshold": c.threshold,
            "held_out_unknown": c.unknown,
            "held_out_accuracy_of_labelled": c.accuracy_labelled,
        })),
        "background_class": a.background_class,
        "background": background.as_ref().map(|b| json!({
            "windows": b.windows,
            "labelled_as_an_application_class": b.labelled,
            "rate": b.rate(),
            "measured_on": if a.background_class {
                "held-out background traces of the calibration split"
            } else {
                "every background capture of the inputs (not trained on)"
            },
        })),
    });
    // Only when set, so that a forest grown as before keeps the same record (and the same file).
    if kind == ModelKind::Rf {
        if let Some(n) = a.forest.min_leaf {
            training["min_leaf"] = json!(n);
        }
        if let Some(n) = a.forest.max_depth {
            training["max_depth"] = json!(n);
        }
    }
    let file = ModelFile {
        format_version: FORMAT_VERSION,
        tapir_version: env!("CARGO_PKG_VERSION").to_string(),
        feature_config: trained,
        classes: lab.dataset.classes.clone(),
        model,
        unknown_threshold: threshold,
        training: training.clone(),
    };
    write_model_file(&a.output, &file)?;
    if let Some(path) = &a.report {
        let mut bytes = serde_json::to_vec_pretty(&training)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)?;
    }
    let per_class: Vec<String> = lab
        .dataset
        .classes
        .iter()
        .zip(&counts)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    println!(
        "trained {kind} on {originals} windows of {space} features from {} traces ({}){}; wrote {}",
        lab.traces,
        per_class.join(", "),
        match &settings.augment {
            Some(g) => format!(
                ", plus {} augmented copies ({})",
                lab.original_of.len(),
                g.spec
            ),
            None => String::new(),
        },
        a.output.display()
    );
    if let Some(c) = &calibration {
        println!(
            "held-out traces: accuracy {} on {} windows; unknown below p = {:.3} ({} of held-out windows unknown)",
            pct(c.accuracy),
            c.windows,
            c.threshold,
            pct(c.unknown)
        );
    }
    if let Some(b) = &background {
        println!(
            "background captures{}: {} of {} windows labelled as an application class",
            if a.background_class {
                " (held out)"
            } else {
                ""
            },
            pct(b.rate()),
            b.windows
        );
    }
    Ok(())
}

struct Calibration {
    threshold: f64,
    windows: usize,
    accuracy: f64,
    /// Share of held-out windows below the threshold.
    unknown: f64,
    /// Accuracy over the held-out windows that keep a label.
    accuracy_labelled: f64,
    /// Held-out windows of the background class, when it is one.
    background: Option<Background>,
}

/// Fits on 80% of the traces (with their augmented copies), predicts the held-out 20% as read,
/// and takes as threshold the highest-probability value that `share` of the correctly labelled
/// held-out windows reach.
fn calibrate(
    lab: &Labelled,
    kind: ModelKind,
    params: &ModelParams,
    share: f64,
    seed: u64,
) -> anyhow::Result<Calibration> {
    let originals = lab.originals()?;
    let split = split_grouped_stratified(&originals, CALIBRATION_FRACTION, seed)?;
    let folds = lab.with_copies(vec![(split.train, split.test)]);
    let (train, test) = &folds[0];
    let model = fit_model(kind, params, &lab.dataset.subset(train)?)?;
    let mut proba = vec![0.0; lab.dataset.n_classes()];
    let bg = lab.dataset.classes.iter().position(|c| c == BACKGROUND);
    let mut scored: Vec<(f64, bool)> = Vec::with_capacity(test.len());
    let mut bg_windows: Vec<(f64, usize)> = Vec::new();
    for &i in test {
        model.predict_proba_into(lab.dataset.row(i), &mut proba);
        let best = argmax(&proba);
        scored.push((proba[best], best == lab.dataset.y[i]));
        if Some(lab.dataset.y[i]) == bg {
            bg_windows.push((proba[best], best));
        }
    }
    let mut correct: Vec<f64> = scored.iter().filter(|s| s.1).map(|s| s.0).collect();
    correct.sort_by(f64::total_cmp);
    // The (1 - share) quantile of the correct windows' confidence: `share` of them are at or
    // above it. With no correct window there is nothing to calibrate on: no threshold.
    let threshold = if correct.is_empty() {
        0.0
    } else {
        let k = ((1.0 - share) * correct.len() as f64).floor() as usize;
        correct[k.min(correct.len() - 1)]
    };
    let n = scored.len().max(1) as f64;
    let kept: Vec<&(f64, bool)> = scored.iter().filter(|s| s.0 >= threshold).collect();
    Ok(Calibration {
        threshold,
        windows: scored.len(),
        accuracy: scored.iter().filter(|s| s.1).count() as f64 / n,
        unknown: (scored.len() - kept.len()) as f64 / n,
        accuracy_labelled: kept.iter().filter(|s| s.1).count() as f64 / kept.len().max(1) as f64,
        background: bg.map(|b| Background {
            windows: bg_windows.len(),
            labelled: bg_windows
                .iter()
                .filter(|(p, c)| *c != b && *p >= threshold)
                .count(),
        }),
    })
}

#[derive(Clone)]
struct Background {
    windows: usize,
    labelled: usize,
}

impl Background {
    fn rate(&self) -> f64 {
        self.labelled as f64 / self.windows.max(1) as f64
    }
}

/// How many windows of the inputs' background captures the model gives one of its classes
/// rather than `unknown`; `None` without background captures.
fn background_rate(
    loaded: &Loaded,
    model: &Model,
    dim: usize,
    threshold: Option<f64>,
) -> Option<Background> {
    let mut b = Background {
        windows: 0,
        labelled: 0,
    };
    let mut proba = vec![0.0; model.n_classes()];
    for (s, f) in loaded.sources.iter().zip(&loaded.files) {
        let (Some(f), [label]) = (f, s.labels.as_slice()) else {
            continue;
        };
        if label != BACKGROUND {
            continue;
        }
        for r in f.rows.iter().filter(|r| r.copy == 0) {
            model.predict_proba_into(&r.features[..dim], &mut proba);
            b.windows += 1;
            if proba[argmax(&proba)] >= threshold.unwrap_or(0.0) {
                b.labelled += 1;
            }
        }
    }
    (b.windows > 0).then_some(b)
}
