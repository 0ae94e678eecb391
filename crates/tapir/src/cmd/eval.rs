//! `tapir eval`: accuracy of every feature space × model, then the best cell in detail.

use crate::cli::{EvalArgs, Named, Split};
use crate::cmd::pct;
use crate::load::{labelled, load};
use crate::output::write_atomic;
use crate::progress;
use crate::settings::{augmentation, extract_settings, forest_params, usage, value_of};
use serde::Serialize;
use tapir_dataset::{discover, Columns};
use tapir_eval::space_columns;
use tapir_eval::{evaluate_grid, evaluate_hold_out, GridCell, HoldOut};
use tapir_features::FeatureSpace;
use tapir_learn::metrics::{ClassScores, ConfusionMatrix};
use tapir_learn::{
    balance_strata, grouped_kfold, paired_bootstrap, split_grouped_stratified, split_windows,
    ModelKind, ModelParams, PairedDifference, BOOTSTRAP_RESAMPLES,
};
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
    /// Leave-one-value-out results, with `--hold-out`: one entry of `values` per fold.
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_out: Option<&'a HoldOut>,
    /// The paired comparison, with `--compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<CompareJson<'a>>,
}

#[derive(Serialize)]
struct CompareJson<'a> {
    a: &'a str,
    b: &'a str,
    /// `hold-out COLUMN`, `trace`, or `window`: the folds both cells were scored on.
    on: String,
    #[serde(flatten)]
    result: &'a PairedDifference,
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
    let spaces: Vec<FeatureSpace> = a.features.iter().map(|s| s.0).collect();
    let models: Vec<ModelKind> = a.models.iter().map(|m| m.0).collect();
    if !(a.test_fraction > 0.0 && a.test_fraction < 1.0) {
        return Err(usage(format!(
            "--test-fraction {}: must be between 0 and 1",
            a.test_fraction
        )));
    }
    let window_split = a.split == Split::Window;
    if let Some(k) = a.folds {
        if k < 2 {
            return Err(usage(format!("--folds {k}: need at least 2")));
        }
    }
    let rf = forest_params(a.trees, a.seed, &a.forest)?;
    let compare = match a.compare.as_slice() {
        [] => None,
        [x, y] => Some((
            parse_cell(x, &spaces, &models)?,
            parse_cell(y, &spaces, &models)?,
        )),
        _ => return Err(usage("--compare takes two cells, A and B (SPACE:MODEL)")),
    };
    let balance = (a.balance != "none").then_some(a.balance.as_str());
    if a.hold_out.is_some() || balance.is_some() {
        // Checked on the manifest alone, before any capture is read.
        let cols = Columns::new(&discover(&a.inputs)?);
        for (flag, col) in [
            ("--hold-out", a.hold_out.as_deref()),
            ("--balance", balance),
        ] {
            if let Some(col) = col.filter(|c| cols.find(c).is_none()) {
                return Err(usage(format!("{flag}: {}", missing_column(col, &cols))));
            }
        }
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
    // One stratum per row (copies included: a copy has its original's source), for --balance.
    let strata: Option<Vec<Option<u32>>> = match balance {
        None => None,
        Some(col) => {
            let cols = Columns::new(&loaded.sources);
            let c = cols
                .find(col)
                .ok_or_else(|| usage(format!("--balance: {}", missing_column(col, &cols))))?;
            Some(
                all.row_source
                    .iter()
                    .map(|&src| cols.id(src as usize, c))
                    .collect(),
            )
        }
    };
    let folds: Vec<(Vec<usize>, Vec<usize>)> = match &strata {
        None => folds,
        Some(st) => folds
            .into_iter()
            .map(|(train, test)| (balance_strata(&train, &all.dataset.y, st), test))
            .collect(),
    };
    let n_original = ds.n_rows();
    let class_windows = ds.class_counts();
    if !all.original_of.is_empty() {
        ds = all.dataset.clone();
    }
    let params = ModelParams {
        rf,
        ..Default::default()
    };
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

    let hold_out = match &a.hold_out {
        None => None,
        Some(col) => {
            let cols = Columns::new(&loaded.sources);
            let c = cols
                .find(col)
                .ok_or_else(|| usage(missing_column(col, &cols)))?;
            let values: Vec<Option<u32>> = all.row_source[..all.n_original]
                .iter()
                .map(|&s| cols.id(s as usize, c))
                .collect();
            let folds = values
                .iter()
                .flatten()
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let pb = progress::bar((spaces.len() * models.len() * folds) as u64, "holding out");
            let h = evaluate_hold_out(
                &all.dataset,
                &all.original_of,
                strata.as_deref(),
                cols.name(c),
                &values,
                &|id| cols.string(id).to_string(),
                &columns,
                &models,
                &params,
                a.seed,
                &mut |space, kind| {
                    pb.set_message(format!("{space} × {kind}"));
                    pb.inc(1);
                },
            )
            .map_err(|e| anyhow::anyhow!("--hold-out {col}: {e}"))?;
            pb.finish_and_clear();
            Some(h)
        }
    };

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
    if let Some(h) = &hold_out {
        print_hold_out(h, &cells, split_name);
        println!(
            "within-lab {split_name} split, beside it (every {} on both sides of the split):",
            h.column
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
    // With --hold-out the detail is of the best held-out cell: the figure that carries over.
    let held_best = hold_out.as_ref().and_then(|h| h.best());
    let (best_features, best_model, best_conf): (&str, &str, &ConfusionMatrix) = match held_best {
        Some(hb) => (&hb.features, &hb.model, &hb.confusion),
        None => (&best.features, &best.model, &best.confusion),
    };
    println!();
    match (held_best, &hold_out) {
        (Some(hb), Some(h)) => println!(
            "best held-out: {} × {} — held-out {} mean {}, pooled {}, macro F1 {:.3} (confusion pooled over the folds)",
            hb.features,
            hb.model,
            h.column,
            pct(hb.mean),
            pct(hb.pooled),
            hb.macro_f1
        ),
        _ => println!(
            "best: {} × {} — accuracy {}, macro F1 {:.3}",
            best.features,
            best.model,
            pct(best.accuracy),
            best.macro_f1
        ),
    }
    println!();
    let mut ch = vec!["true \\ predicted".to_string()];
    ch.extend(ds.classes.iter().cloned());
    let crow: Vec<Vec<String>> = (0..n_classes)
        .map(|t| {
            let mut r = vec![ds.classes[t].clone()];
            r.extend((0..n_classes).map(|p| best_conf.get(t, p).to_string()));
            r
        })
        .collect();
    let chh: Vec<&str> = ch.iter().map(String::as_str).collect();
    print!("{}", text_table(&chh, &crow));
    println!();
    let per_class = best_conf.per_class();
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

    let compared = match compare {
        None => None,
        Some(((sa, ma), (sb, mb))) => {
            let (on, oa, ob) = match &hold_out {
                Some(h) => (
                    format!("hold-out {}", h.column),
                    h.cell(sa.name(), ma.name()).map(|c| &c.outcomes),
                    h.cell(sb.name(), mb.name()).map(|c| &c.outcomes),
                ),
                None => {
                    let find = |s: FeatureSpace, m: ModelKind| {
                        cells
                            .iter()
                            .find(|c| c.features == s.name() && c.model == m.name())
                            .map(|c| &c.outcomes)
                    };
                    (split_name.to_string(), find(sa, ma), find(sb, mb))
                }
            };
            let (Some(oa), Some(ob)) = (oa, ob) else {
                anyhow::bail!("--compare: a cell did not run");
            };
            let r = paired_bootstrap(oa, ob, BOOTSTRAP_RESAMPLES, a.seed)?;
            let (na, nb) = (
                format!("{}:{}", sa.name(), ma.name()),
                format!("{}:{}", sb.name(), mb.name()),
            );
            println!();
            println!(
                "paired comparison on the {on} folds, {} test traces, {BOOTSTRAP_RESAMPLES} resamples of traces (seed {}):",
                r.traces, a.seed
            );
            println!(
                "  {nb} {} − {na} {} = {:+.1} points, 95% interval [{:+.1}, {:+.1}]; {}",
                pct(r.accuracy_b),
                pct(r.accuracy_a),
                100.0 * r.difference,
                100.0 * r.ci95[0],
                100.0 * r.ci95[1],
                if r.ci95[0] > 0.0 {
                    format!("{nb} is better")
                } else if r.ci95[1] < 0.0 {
                    format!("{na} is better")
                } else {
                    "no measurable difference".to_string()
                }
            );
            Some((na, nb, on, r))
        }
    };

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
            window: settings.window.window(),
            stride: settings.window.stride(),
            unit: settings.unit.to_string(),
            hold_out: hold_out.as_ref(),
            compare: compared.as_ref().map(|(na, nb, on, r)| CompareJson {
                a: na,
                b: nb,
                on: on.clone(),
                result: r,
            }),
            best: BestCell {
                features: best_features,
                model: best_model,
                confusion: (0..n_classes)
                    .map(|t| (0..n_classes).map(|p| best_conf.get(t, p)).collect())
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

/// `SPACE:MODEL` (or `SPACE/MODEL`), among the spaces and models being run.
fn parse_cell(
    s: &str,
    spaces: &[FeatureSpace],
    models: &[ModelKind],
) -> anyhow::Result<(FeatureSpace, ModelKind)> {
    let Some((sp, m)) = s.split_once([':', '/']) else {
        return Err(usage(format!(
            "--compare {s:?}: give a cell as SPACE:MODEL, e.g. combined:rf"
        )));
    };
    let flag = format!("--compare {s:?}");
    let sp = value_of::<Named<FeatureSpace>>(&flag, sp)?.0;
    let m = value_of::<Named<ModelKind>>(&flag, m)?.0;
    if !spaces.contains(&sp) || !models.contains(&m) {
        return Err(usage(format!(
            "--compare {s:?}: that cell is not run (see --features and --models)"
        )));
    }
    Ok((sp, m))
}

fn missing_column(col: &str, cols: &Columns) -> String {
    let have: Vec<&str> = cols.names().iter().map(String::as_str).collect();
    format!(
        "--hold-out {col}: the dataset has no {col} column (it has: {}); holding out needs a \
         manifest CSV (path,label,{col},…) that gives every trace its {col}",
        have.join(", ")
    )
}

/// The hold-out summary (every cell: mean over values, pooled, interval, the within-lab split
/// beside it) and the per-value table of the best held-out cell.
fn print_hold_out(h: &HoldOut, cells: &[GridCell], split_name: &str) {
    let ran = h.values.iter().filter(|v| v.ran).count();
    println!(
        "hold out {}: {} folds ({} run), each tests on every window of one {} value never seen in training; the figure to expect on a {} tapir has not trained on",
        h.column,
        h.values.len(),
        ran,
        h.column,
        tapir_eval::column_kind(&h.column)
    );
    if h.untested_traces > 0 {
        println!(
            "note: {} trace(s) without a {} value train in every fold and are never tested",
            h.untested_traces, h.column
        );
    }
    println!();
    let split_header = format!("{split_name} split");
    let rows: Vec<Vec<String>> = h
        .cells
        .iter()
        .map(|c| {
            let within = cells
                .iter()
                .find(|g| g.features == c.features && g.model == c.model)
                .map(|g| pct(g.accuracy))
                .unwrap_or_else(|| "-".into());
            vec![
                c.features.clone(),
                model_title(c.model.parse().unwrap_or(ModelKind::Rf)).to_string(),
                pct(c.mean),
                format!(
                    "{} [{:.1}, {:.1}]",
                    pct(c.pooled),
                    100.0 * c.pooled_ci95[0],
                    100.0 * c.pooled_ci95[1]
                ),
                within,
            ]
        })
        .collect();
    print!(
        "{}",
        text_table(
            &[
                "features",
                "model",
                "held-out mean",
                "pooled [95% CI over traces]",
                &split_header,
            ],
            &rows
        )
    );
    let Some(best) = h.best() else { return };
    println!();
    println!(
        "per held-out {} ({} × {}):",
        h.column, best.features, best.model
    );
    let rows: Vec<Vec<String>> = h
        .values
        .iter()
        .zip(&best.per_value)
        .map(|(v, acc)| {
            vec![
                v.value.clone(),
                v.traces.to_string(),
                v.windows.to_string(),
                acc.map(pct).unwrap_or_else(|| "-".into()),
                v.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        text_table(
            &[h.column.as_str(), "traces", "windows", "accuracy", "note"],
            &rows
        )
    );
    println!();
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
