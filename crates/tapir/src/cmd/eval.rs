//! `tapir eval`: accuracy of every feature space × model, then the best cell in detail.

use crate::cli::EvalArgs;
use crate::cmd::pct;
use crate::load::{labelled, load};
use crate::output::write_atomic;
use crate::progress;
use crate::settings::{augmentation, extract_settings, parse_space, usage};
use serde::Serialize;
use tapir_experiment::space_columns;
use tapir_experiment::{evaluate_grid, GridCell};
use tapir_features::FeatureSpace;
use tapir_learn::metrics::ClassScores;
use tapir_learn::{grouped_kfold, split_grouped_stratified, split_windows, ModelKind, ModelParams};
use tapir_report::text_table;

#[derive(Serialize)]
struct Report<'a> {
    results: &'a [GridCell],
    windows: usize,
    traces: usize,
    files: usize,
    classes: &'a [String],
    class_windows: Vec<usize>,
    split: &'a str,
    folds: usize,
    test_fraction: f64,
    seed: u64,
    window: usize,
    stride: usize,
    unit: String,
    best: BestCell<'a>,
}

#[derive(Serialize)]
struct BestCell<'a> {
    features: &'a str,
    model: &'a str,
    confusion: Vec<Vec<u64>>,
    per_class: Vec<ClassJson<'a>>,
}

#[derive(Serialize)]
struct ClassJson<'a> {
    class: &'a str,
    precision: f64,
    recall: f64,
    f1: f64,
    support: u64,
}

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let spaces = a
        .features
        .iter()
        .map(|s| parse_space(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let models = a
        .models
        .iter()
        .map(|m| {
            m.parse::<ModelKind>()
                .map_err(|e| usage(format!("--models: {e}")))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !(a.test_fraction > 0.0 && a.test_fraction < 1.0) {
        return Err(usage(format!(
            "--test-fraction {}: must be between 0 and 1",
            a.test_fraction
        )));
    }
    let window_split = match a.split.as_str() {
        "trace" => false,
        "window" => true,
        other => return Err(usage(format!("--split {other:?}: use trace or window"))),
    };
    if let Some(k) = a.folds {
        if k < 2 {
            return Err(usage(format!("--folds {k}: need at least 2")));
        }
    }
    if a.trees == 0 {
        return Err(usage("--trees: need at least one tree"));
    }
    let mut settings = extract_settings(&a.traffic, &a.window, FeatureSpace::Combined)?;
    settings.augment = augmentation(&a.augment, a.augment_copies, a.seed)?;
    let loaded = load(&a.inputs, &settings)?;
    let all = labelled(
        &loaded,
        space_columns(&settings.features, FeatureSpace::Combined)?,
    )?;
    // Folds are drawn on the windows as read, so that they are the same with and without
    // augmentation; augmented copies then join the training side of their window.
    let mut ds = all.originals()?;
    if window_split {
        // Every window its own group: folds and splits then ignore traces, as the paper did.
        ds.groups = (0..ds.n_rows() as u32).collect();
    }
    let folds: Vec<(Vec<usize>, Vec<usize>)> = match a.folds {
        Some(k) => grouped_kfold(&ds, k, a.seed)?,
        None => {
            let s = if window_split {
                split_windows(&ds, a.test_fraction, a.seed)?
            } else {
                split_grouped_stratified(&ds, a.test_fraction, a.seed)?
            };
            vec![(s.train, s.test)]
        }
    };
    let folds = all.with_copies(folds);
    let n_original = ds.n_rows();
    let class_windows = ds.class_counts();
    if !all.original_of.is_empty() {
        ds = all.dataset.clone();
    }
    let mut params = ModelParams::default();
    params.rf.seed = a.seed;
    params.rf.n_trees = a.trees;
    let n_classes = ds.classes.len();
    let pb = progress::bar(
        (spaces.len() * models.len() * folds.len()) as u64,
        "fitting",
    );
    let columns = spaces
        .iter()
        .map(|&s| Ok((s, space_columns(&settings.features, s)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cells = evaluate_grid(
        &ds,
        &columns,
        &models,
        &folds,
        &params,
        &mut |space, kind| {
            pb.set_message(format!("{space} × {kind}"));
            pb.inc(1);
        },
    )?;
    pb.finish_and_clear();

    let test_rows: usize = folds.iter().map(|f| f.1.len()).sum();
    let split_name = if window_split { "window" } else { "trace" };
    println!(
        "{} windows from {} traces ({} files), {} classes; {} split{}, {} test windows, seed {}",
        n_original,
        all.traces,
        loaded.files.iter().flatten().count(),
        n_classes,
        split_name,
        a.folds.map(|k| format!(", {k} folds")).unwrap_or_default(),
        test_rows,
        a.seed
    );
    if let Some(aug) = &settings.augment {
        println!(
            "augmentation: {} copies of each training window ({}); test windows as read",
            aug.copies, aug.spec
        );
    }
    if window_split {
        println!(
            "note: a window split puts windows of one trace on both sides; accuracy is optimistic"
        );
    }
    println!();
    let mut headers = vec!["accuracy".to_string()];
    headers.extend(models.iter().map(|m| model_title(*m).to_string()));
    let rows: Vec<Vec<String>> = spaces
        .iter()
        .map(|s| {
            let mut r = vec![s.name().to_string()];
            for m in &models {
                let c = cells
                    .iter()
                    .find(|c| c.features == s.name() && c.model == m.name())
                    .expect("every cell ran");
                r.push(match a.folds {
                    Some(_) => format!(
                        "{} ±{:.1}",
                        pct(c.accuracy),
                        100.0 * std_dev(&c.fold_accuracy)
                    ),
                    None => pct(c.accuracy),
                });
            }
            r
        })
        .collect();
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    print!("{}", text_table(&h, &rows));

    let best = cells
        .iter()
        .max_by(|a, b| {
            a.accuracy
                .total_cmp(&b.accuracy)
                .then(a.macro_f1.total_cmp(&b.macro_f1))
        })
        .expect("at least one cell");
    println!();
    println!(
        "best: {} × {} — accuracy {}, macro F1 {:.3}",
        best.features,
        best.model,
        pct(best.accuracy),
        best.macro_f1
    );
    println!();
    let mut ch = vec!["true \\ predicted".to_string()];
    ch.extend(ds.classes.iter().cloned());
    let crow: Vec<Vec<String>> = (0..n_classes)
        .map(|t| {
            let mut r = vec![ds.classes[t].clone()];
            r.extend((0..n_classes).map(|p| best.confusion.get(t, p).to_string()));
            r
        })
        .collect();
    let chh: Vec<&str> = ch.iter().map(String::as_str).collect();
    print!("{}", text_table(&chh, &crow));
    println!();
    let per_class = best.confusion.per_class();
    let prow: Vec<Vec<String>> = per_class
        .iter()
        .zip(&ds.classes)
        .map(|(s, c)| {
            vec![
                c.clone(),
                format!("{:.3}", s.precision),
                format!("{:.3}", s.recall),
                format!("{:.3}", s.f1),
                s.support.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        text_table(&["class", "precision", "recall", "F1", "support"], &prow)
    );

    if let Some(path) = &a.json {
        let report = Report {
            results: &cells,
            windows: n_original,
            traces: all.traces,
            files: loaded.files.iter().flatten().count(),
            classes: &ds.classes,
            class_windows,
            split: split_name,
            folds: folds.len(),
            test_fraction: a.test_fraction,
            seed: a.seed,
            window: settings.window,
            stride: settings.stride,
            unit: settings.unit.to_string(),
            best: BestCell {
                features: &best.features,
                model: &best.model,
                confusion: (0..n_classes)
                    .map(|t| (0..n_classes).map(|p| best.confusion.get(t, p)).collect())
                    .collect(),
                per_class: per_class
                    .iter()
                    .zip(&ds.classes)
                    .map(|(s, c)| class_json(c, s))
                    .collect(),
            },
        };
        let mut bytes = serde_json::to_vec_pretty(&report)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)?;
    }
    Ok(())
}

fn class_json<'a>(class: &'a str, s: &ClassScores) -> ClassJson<'a> {
    ClassJson {
        class,
        precision: s.precision,
        recall: s.recall,
        f1: s.f1,
        support: s.support,
    }
}

fn model_title(m: ModelKind) -> &'static str {
    match m {
        ModelKind::Nb => "naive Bayes",
        ModelKind::Lr => "logistic regression",
        ModelKind::Rf => "random forest",
    }
}

fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}
