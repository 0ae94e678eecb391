//! The report folder: `results.json`, a self-contained `index.html` (inline SVG figures, no
//! network requests) and `figures/*.png` copies of every figure.

use crate::paper;
use crate::run::{ConditionResults, Results};
use crate::summary::{expectation, model_title, pct, pct_ci};
use crate::{ExperimentError, Result};
use std::path::{Path, PathBuf};
use tapir_eval::column_kind;
use tapir_features::{Extractor, FeatureSpace};
use tapir_report::chart::{BarChart, LineChart, Mark, MatrixChart, Series};
use tapir_report::html::{render, Block, Cell, Figure, Page, Section, Table};

/// Collects figures: the SVG goes inline, the PNG is written to `figures/`.
pub(crate) struct Figs<'a> {
    dir: &'a Path,
    written: usize,
}

impl Figs<'_> {
    fn add(&mut self, id: &str, caption: String, svg: String, png: Vec<u8>) -> Result<Figure> {
        let rel = format!("figures/{id}.png");
        let path = self.dir.join(&rel);
        std::fs::write(&path, png).map_err(|e| ExperimentError::io(&path, e))?;
        self.written += 1;
        Ok(Figure {
            id: id.to_string(),
            svg,
            caption,
            png: Some(rel),
        })
    }

    pub(crate) fn line(&mut self, id: &str, caption: String, c: &LineChart) -> Result<Figure> {
        self.add(id, caption, c.svg(), c.png()?)
    }

    fn bar(&mut self, id: &str, caption: String, c: &BarChart) -> Result<Figure> {
        self.add(id, caption, c.svg(), c.png()?)
    }

    fn matrix(&mut self, id: &str, caption: String, c: &MatrixChart) -> Result<Figure> {
        self.add(id, caption, c.svg(), c.png()?)
    }
}

/// Writes `dir/results.json`, `dir/index.html` and `dir/figures/*.png` (creating the folders);
/// returns the path of `index.html`.
pub fn write_report(results: &Results, dir: &Path) -> Result<PathBuf> {
    let figdir = dir.join("figures");
    std::fs::create_dir_all(&figdir).map_err(|e| ExperimentError::io(&figdir, e))?;
    let mut json = serde_json::to_vec_pretty(results)
        .map_err(|e| ExperimentError::io(dir.join("results.json"), e.into()))?;
    json.push(b'\n');
    write_atomic(&dir.join("results.json"), &json)?;
    let mut figs = Figs { dir, written: 0 };
    let page = page(results, &mut figs)?;
    let index = dir.join("index.html");
    write_atomic(&index, render(&page).as_bytes())?;
    Ok(index)
}

/// Writes through a temporary file and a rename, so a reader never sees half a report.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    tapir_capture::write_atomic(path, bytes).map_err(|e| ExperimentError::io(path, e))
}

fn page(r: &Results, figs: &mut Figs<'_>) -> Result<Page> {
    let s = &r.settings;
    let mut intro = vec![
        Block::Text(format!(
            "Reproduction of the experiments of the paper on classifying the traffic type inside \
             IPsec and Tor tunnels from packet sizes and timing (seeds/001, §III–IV) on the \
             dataset {}: \
             {} condition(s), windows of {} packets, {}% of traces held out, {} seed(s) ({}), \
             random forests of {} trees. Run time {:.0} s. The paper's figures are shown in \
             grey italics beside ours wherever it reported the same measurement.",
            r.root,
            r.conditions.len(),
            s.window,
            (s.test_fraction * 100.0).round(),
            s.seeds.len(),
            s.seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            s.trees,
            r.seconds
        )),
        Block::Text(
            "Two differences from the paper run through every table. Our main split holds out \
             whole traces (no window of a test trace is seen in training); the paper held out \
             random windows, which puts neighbouring windows of one trace on both sides and \
             measures recognition of seen traces as much as of traffic types. Both are shown. \
             And our numbers are means over several seeds with a 95% confidence interval \
             (Student's t), where the paper reports one split."
                .into(),
        ),
    ];
    if !r.skipped.is_empty() {
        intro.push(Block::Note("Some experiments could not run:".into()));
        intro.push(Block::List(
            r.skipped
                .iter()
                .map(|k| format!("{} / {}: {}", k.condition, k.experiment, k.reason))
                .collect(),
        ));
    }
    if r.hold_out_columns.is_empty() {
        intro.push(Block::Note(
            "The dataset has no manifest column to hold out (program, wan_profile): every figure \
             below is measured on networks and programs that are also in the training data, and \
             overstates what to expect elsewhere. Give the lab's manifest.csv, or name a column \
             with --hold-out."
                .into(),
        ));
    }
    if !r.warnings.is_empty() {
        intro.push(Block::Note(format!(
            "{} file(s) left out: {}",
            r.warnings.len(),
            r.warnings.join("; ")
        )));
    }
    let mut sections = Vec::new();
    for column in &r.hold_out_columns {
        // A column with one value per condition (the condition itself) ran nowhere; the skip
        // list says why.
        if r.conditions
            .iter()
            .any(|c| c.hold_out.iter().any(|h| &h.column == column))
        {
            sections.push(hold_out_section(r, column, figs)?);
        }
    }
    sections.push(dataset_section(r));
    sections.push(examples_section(r, figs)?);
    for c in &r.conditions {
        if c.table.is_some() {
            sections.push(table_section(c, s.seeds.len(), figs)?);
        }
    }
    sections.push(split_section(r, figs)?);
    if r.conditions.iter().any(|c| c.background.is_some()) {
        sections.push(background_section(r, figs)?);
    }
    if r.conditions.iter().any(|c| c.multi_label.is_some()) {
        sections.push(multi_section(r, figs)?);
    }
    if r.conditions.iter().any(|c| c.window_sweep.is_some()) {
        sections.push(window_section(r, figs)?);
    }
    if let Some(t) = &r.transfer {
        sections.push(transfer_section(t, figs)?);
    }
    if !r.defenses.is_empty() || r.defense_attacks.is_some() {
        sections.push(crate::defenses::html::section(r, figs)?);
    }
    Ok(Page {
        title: "tapir experiment: traffic type inside encrypted tunnels".into(),
        intro,
        sections,
    })
}

/// The report's first section: accuracy with one value of `column` held out per fold, beside
/// the within-lab trace split, the paper's window split and the paper, and which to expect.
fn hold_out_section(r: &Results, column: &str, figs: &mut Figs<'_>) -> Result<Section> {
    let kind = column_kind(column);
    // Column names come from a CSV header; keep file names and ids plain.
    let slug: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut blocks = vec![Block::Text(format!(
        "Each fold tests on every window of one {column} value and trains on all the others, \
         so no test trace shares its {kind} with any training trace. That is the situation of \
         a user running tapir on their own traffic. Held out: mean accuracy over the {column} \
         values (each counts the same) and the pooled, window-weighted accuracy with a 95% \
         bootstrap interval over test traces (2,000 resamples of traces, not windows; forests \
         of the first seed). Beside it the within-lab trace split (test traces unseen, but \
         their {kind}s are in training), the paper's window split and the paper's figures."
    ))];
    if let Some(sentence) = expectation(r, column) {
        blocks.push(Block::Note(sentence));
    }
    let mut rows = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let mut conds = Vec::new();
    for c in &r.conditions {
        let Some(h) = c.hold_out.iter().find(|h| h.column == column) else {
            continue;
        };
        conds.push((c, h));
        for v in &h.values {
            if !values.contains(&v.value) {
                values.push(v.value.clone());
            }
        }
        let best = h.best().map(|b| (b.features.clone(), b.model.clone()));
        for cell in &h.cells {
            let t = c.table.as_ref().and_then(|t| {
                t.cells
                    .iter()
                    .find(|x| x.features == cell.features && x.model == cell.model)
            });
            let held = format!(
                "{} (pooled {} [{:.1}, {:.1}])",
                pct(cell.mean),
                pct(cell.pooled),
                100.0 * cell.pooled_ci95[0],
                100.0 * cell.pooled_ci95[1]
            );
            let is_best = best.as_ref() == Some(&(cell.features.clone(), cell.model.clone()));
            rows.push(vec![
                Cell::new(c.condition.clone()),
                Cell::new(cell.features.clone()),
                Cell::new(model_title(&cell.model)),
                if is_best {
                    Cell::strong(held)
                } else {
                    Cell::new(held)
                },
                Cell::new(
                    t.map(|t| pct_ci(&t.trace_split))
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::new(
                    t.map(|t| pct_ci(&t.window_split))
                        .unwrap_or_else(|| "-".into()),
                ),
                t.and_then(|t| t.paper)
                    .map(|p| Cell::reference(pct(p)))
                    .unwrap_or_else(|| Cell::reference("-")),
            ]);
        }
    }
    blocks.push(Block::Table(Table {
        caption: format!(
            "Accuracy with each {column} held out, beside the within-lab trace split and the paper"
        ),
        headers: vec![
            "condition".into(),
            "features".into(),
            "model".into(),
            format!("{column} held out (ours)"),
            "trace split (within lab)".into(),
            "window split (paper's)".into(),
            "paper".into(),
        ],
        rows,
    }));
    values.sort();
    let mut headers = vec!["condition".to_string(), "best held-out cell".to_string()];
    headers.extend(values.iter().cloned());
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (c, h) in &conds {
        let Some(best) = h.best() else { continue };
        let mut row = vec![
            Cell::new(c.condition.clone()),
            Cell::new(format!("{} {}", best.features, model_title(&best.model))),
        ];
        for v in &values {
            let i = h.values.iter().position(|x| &x.value == v);
            row.push(Cell::new(
                i.and_then(|i| best.per_value[i].map(|a| (a, &h.values[i])))
                    .map(|(a, x)| format!("{} ({} traces)", pct(a), x.traces))
                    .unwrap_or_else(|| "-".into()),
            ));
        }
        rows.push(row);
        for v in &h.values {
            if let Some(n) = &v.note {
                notes.push(format!("{} / {}: {n}", c.condition, v.value));
            }
        }
    }
    blocks.push(Block::Table(Table {
        caption: format!("Accuracy on each held-out {column}"),
        headers,
        rows,
    }));
    if !notes.is_empty() {
        blocks.push(Block::List(notes));
    }
    let cmp: Vec<String> = conds
        .iter()
        .flat_map(|(c, _)| {
            c.comparisons
                .iter()
                .filter(|x| x.on.ends_with(column))
                .map(|x| {
                    let d = &x.result;
                    format!(
                        "{}: {} − {} = {:+.1} points, 95% interval [{:+.1}, {:+.1}] over {} test \
                         traces ({})",
                        c.condition,
                        x.b,
                        x.a,
                        100.0 * d.difference,
                        100.0 * d.ci95[0],
                        100.0 * d.ci95[1],
                        d.traces,
                        if d.ci95[0] > 0.0 || d.ci95[1] < 0.0 {
                            "a measured difference"
                        } else {
                            "no measurable difference"
                        }
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if !cmp.is_empty() {
        blocks.push(Block::Text(format!(
            "Paired comparisons on the same {column} folds (random forest; bootstrap over test \
             traces): does combining the two feature spaces gain over each half?"
        )));
        blocks.push(Block::List(cmp));
    }
    let pick = |c: &ConditionResults, f: &dyn Fn(&crate::run::TableCell) -> Option<f64>| {
        c.table
            .as_ref()
            .and_then(|t| {
                t.cells
                    .iter()
                    .find(|x| x.features == "combined" && x.model == "rf")
            })
            .and_then(f)
    };
    let chart = BarChart {
        title: format!("Random forest, combined: {column} held out against within-lab"),
        y_label: "accuracy".into(),
        categories: conds.iter().map(|(c, _)| c.condition.clone()).collect(),
        series: vec![
            (
                format!("{column} held out"),
                conds
                    .iter()
                    .map(|(_, h)| h.cell("combined", "rf").map(|x| x.mean))
                    .collect(),
            ),
            (
                "trace split".into(),
                conds
                    .iter()
                    .map(|(c, _)| pick(c, &|x| Some(x.trace_split.mean)))
                    .collect(),
            ),
            (
                "paper".into(),
                conds.iter().map(|(c, _)| pick(c, &|x| x.paper)).collect(),
            ),
        ],
        y_range: None,
        y_percent: true,
    };
    blocks.push(Block::Figures(vec![figs.bar(
        &format!("hold-out-{slug}"),
        format!(
            "Random forest on combined features: mean accuracy with each {column} held out, the \
             within-lab trace split and the paper."
        ),
        &chart,
    )?]));
    Ok(Section {
        id: format!("hold-out-{slug}"),
        title: format!("What to expect on a new {kind}: {column} held out"),
        blocks,
    })
}

fn dataset_section(r: &Results) -> Section {
    let rows = r
        .conditions
        .iter()
        .map(|c| {
            let mut row = vec![
                Cell::new(c.condition.clone()),
                Cell::new(c.traces.to_string()),
                Cell::new(c.background_traces.to_string()),
                Cell::new(c.multi_traces.to_string()),
            ];
            row.push(Cell::new(
                c.classes
                    .iter()
                    .zip(c.class_windows.iter().chain(std::iter::repeat(&0)))
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            row
        })
        .collect();
    Section {
        id: "dataset".into(),
        title: "Dataset".into(),
        blocks: vec![
            Block::Text(
                "Traces per condition. Single-application traces train and test the models; \
                 background captures are mixed into them for the background experiment; \
                 concurrent captures (several applications at once) join the multi-label \
                 experiment. The paper used 40 traces per condition, ten per application, about \
                 500 windows."
                    .into(),
            ),
            Block::Table(Table {
                caption: format!("Windows of {} packets per class", r.settings.window),
                headers: vec![
                    "condition".into(),
                    "traces".into(),
                    "background".into(),
                    "concurrent".into(),
                    "windows per class".into(),
                ],
                rows,
            }),
        ],
    }
}

fn examples_section(r: &Results, figs: &mut Figs<'_>) -> Result<Section> {
    let ex = Extractor::new(&r.settings.features)?;
    let mut blocks = vec![Block::Text(
        "One window per class and condition as the models see it (the paper's Figures 1–2): \
         the size–inter-arrival-time histogram (signed packet size, upstream positive, against \
         the gap to the previous packet) and the burst histogram (bytes per burst against the \
         surge period). Colour is ln(1 + count)."
            .into(),
    )];
    for c in &r.conditions {
        let mut list = Vec::new();
        for e in &c.examples {
            for (space, name, xl, yl) in [
                (
                    FeatureSpace::SizeIat,
                    "size-iat",
                    "packet size (bytes, + up)",
                    "inter-arrival time",
                ),
                (
                    FeatureSpace::Burst,
                    "burst",
                    "burst size (bytes)",
                    "surge period",
                ),
            ] {
                let Some(h) = ex.histograms(space, &e.packets).into_iter().next() else {
                    continue;
                };
                let title = format!("{} {} ({})", c.condition, e.label, name);
                let id = format!("hist-{}-{}-{}", c.condition, e.label, name);
                let svg = tapir_report::histogram_svg(&h, &title, xl, yl);
                let png = tapir_report::histogram_png(&h, &title, xl, yl)?;
                list.push(figs.add(
                    &id,
                    format!(
                        "{}: first window of a {} trace, {name} features",
                        c.condition, e.label
                    ),
                    svg,
                    png,
                )?);
            }
        }
        if !list.is_empty() {
            blocks.push(Block::Figures(list));
        }
    }
    Ok(Section {
        id: "examples".into(),
        title: "Example histograms (Figures 1–2)".into(),
        blocks,
    })
}

fn table_section(c: &ConditionResults, seeds: usize, figs: &mut Figs<'_>) -> Result<Section> {
    let Some(t) = &c.table else {
        return Ok(Section::default());
    };
    let paper_name = t.paper_table.unwrap_or("no table in the paper");
    let mut rows = Vec::new();
    let best = t
        .cells
        .iter()
        .map(|c| c.trace_split.mean)
        .fold(f64::NEG_INFINITY, f64::max);
    for cell in &t.cells {
        let ours = pct_ci(&cell.trace_split);
        rows.push(vec![
            Cell::new(cell.features.clone()),
            Cell::new(model_title(&cell.model)),
            if cell.trace_split.mean == best {
                Cell::strong(ours)
            } else {
                Cell::new(ours)
            },
            Cell::new(pct_ci(&cell.window_split)),
            cell.paper
                .map(|p| Cell::reference(pct(p)))
                .unwrap_or_else(|| Cell::reference("-")),
        ]);
    }
    let mut blocks = vec![
        Block::Text(format!(
            "Accuracy of naive Bayes, logistic regression and random forest on each feature \
             space for {} traffic ({paper_name}). Mean ±95% confidence interval over {seeds} \
             seed(s); each seed draws a new split and a new forest. Bold: our best cell.",
            c.condition
        )),
        Block::Table(Table {
            caption: format!("{}: accuracy ({paper_name})", c.condition),
            headers: vec![
                "features".into(),
                "model".into(),
                "trace split (ours)".into(),
                "window split (paper's)".into(),
                "paper".into(),
            ],
            rows,
        }),
    ];
    if let Some(cell) = t
        .cells
        .iter()
        .find(|x| x.features == "combined" && x.model == "rf")
    {
        let m = confusion_chart(
            &format!("{}: random forest, combined", c.condition),
            &c.classes,
            &cell.confusion,
        );
        blocks.push(Block::Figures(vec![figs.matrix(
            &format!("confusion-{}", c.condition),
            format!(
                "Confusion matrix of the random forest on combined features, {}, trace split, \
                 summed over seeds. Shade: fraction of the true class's windows.",
                c.condition
            ),
            &m,
        )?]));
    }
    Ok(Section {
        id: format!("table-{}", c.condition),
        title: format!("Accuracy tables: {} ({paper_name})", c.condition),
        blocks,
    })
}

fn confusion_chart(title: &str, classes: &[String], counts: &[Vec<u64>]) -> MatrixChart {
    let values = counts
        .iter()
        .map(|row| {
            let total: u64 = row.iter().sum();
            row.iter()
                .map(|&v| (total > 0).then(|| v as f64 / total as f64))
                .collect()
        })
        .collect();
    MatrixChart {
        title: title.to_string(),
        x_label: "predicted".into(),
        y_label: "true".into(),
        rows: classes.to_vec(),
        cols: classes.to_vec(),
        values,
        text: counts
            .iter()
            .map(|r| r.iter().map(u64::to_string).collect())
            .collect(),
    }
}

fn split_section(r: &Results, figs: &mut Figs<'_>) -> Result<Section> {
    let conds: Vec<&ConditionResults> = r.conditions.iter().filter(|c| c.table.is_some()).collect();
    let pick = |c: &ConditionResults, f: &dyn Fn(&crate::run::TableCell) -> Option<f64>| {
        c.table
            .as_ref()
            .and_then(|t| {
                t.cells
                    .iter()
                    .find(|x| x.features == "combined" && x.model == "rf")
            })
            .and_then(f)
    };
    let chart = BarChart {
        title: "Random forest, combined: split matters".into(),
        y_label: "accuracy".into(),
        categories: conds.iter().map(|c| c.condition.clone()).collect(),
        series: vec![
            (
                "trace split".into(),
                conds
                    .iter()
                    .map(|c| pick(c, &|x| Some(x.trace_split.mean)))
                    .collect(),
            ),
            (
                "window split".into(),
                conds
                    .iter()
                    .map(|c| pick(c, &|x| Some(x.window_split.mean)))
                    .collect(),
            ),
            (
                "paper".into(),
                conds.iter().map(|c| pick(c, &|x| x.paper)).collect(),
            ),
        ],
        y_range: None,
        y_percent: true,
    };
    let mut rows = Vec::new();
    for c in &conds {
        if let Some(t) = &c.table {
            for cell in &t.cells {
                let gap = cell.window_split.mean - cell.trace_split.mean;
                rows.push(vec![
                    Cell::new(c.condition.clone()),
                    Cell::new(format!("{} {}", cell.features, cell.model)),
                    Cell::new(pct_ci(&cell.trace_split)),
                    Cell::new(pct_ci(&cell.window_split)),
                    Cell::new(format!("{:+.1} points", 100.0 * gap)),
                ]);
            }
        }
    }
    Ok(Section {
        id: "splits".into(),
        title: "Trace split against window split".into(),
        blocks: vec![
            Block::Text(
                "The paper drew its 20% test set from windows. Windows of one trace share its \
                 server, codec, network path and moment, so a random window split lets a model \
                 recognise traces it has already seen. Holding out whole traces removes that \
                 leak; the difference between the two columns is how much of the paper-style \
                 accuracy came from it."
                    .into(),
            ),
            Block::Figures(vec![figs.bar(
                "splits",
                "Random forest on combined features: trace split, window split and the paper."
                    .into(),
                &chart,
            )?]),
            Block::Table(Table {
                caption: "Window split minus trace split".into(),
                headers: vec![
                    "condition".into(),
                    "cell".into(),
                    "trace split".into(),
                    "window split".into(),
                    "leak".into(),
                ],
                rows,
            }),
        ],
    })
}

fn background_section(r: &Results, figs: &mut Figs<'_>) -> Result<Section> {
    let mut blocks = vec![Block::Text(
        "Packets of the condition's background captures are interleaved by time into every \
         test trace at a fixed rate, re-timed so that the rate is exact over the trace while \
         the background's own bursts keep their shape; windows are then cut from the mixed \
         stream, as an observer of the tunnel would cut them. Solid lines: models trained on \
         clean traces (the paper's setting); dashed: trained on traces mixed at the same rate \
         with other background captures than those used for testing. Combined features. The \
         paper reports only the random forest on IPsec: 87.5% at 300 packets/s (Figure 3)."
            .into(),
    )];
    for c in &r.conditions {
        let Some(b) = &c.background else { continue };
        let series = b
            .series
            .iter()
            .map(|s| Series {
                // Short names keep the legend inside the picture.
                name: format!("{}, {}", s.model.to_uppercase(), s.training),
                points: b
                    .rates
                    .iter()
                    .copied()
                    .zip(s.accuracy.iter().copied())
                    .collect(),
                dashed: s.training == "mixed",
                colour: match s.model.as_str() {
                    "nb" => 0,
                    "lr" => 1,
                    _ => 2,
                },
            })
            .collect();
        let marks = if c.condition == "ipsec" {
            vec![Mark {
                label: "paper RF 87.5%".into(),
                x: paper::FIGURE_3.0,
                y: paper::FIGURE_3.1,
            }]
        } else {
            Vec::new()
        };
        let chart = LineChart {
            title: format!("{}: accuracy against background rate", c.condition),
            x_label: "background packets/s".into(),
            y_label: "accuracy".into(),
            series,
            marks,
            y_range: None,
            x_log2: false,
            y_percent: true,
        };
        blocks.push(Block::Figures(vec![figs.line(
            &format!("background-{}", c.condition),
            format!(
                "{}: {} background captures ({} packets); test windows per rate {:?}.",
                c.condition, b.background_traces, b.background_packets, b.test_windows
            ),
            &chart,
        )?]));
        let mut headers = vec!["model".to_string()];
        headers.extend(b.rates.iter().map(|r| format!("{r:.0}/s")));
        let mut rows: Vec<Vec<Cell>> = b
            .series
            .iter()
            .map(|s| {
                let mut row = vec![Cell::new(format!(
                    "{} ({})",
                    model_title(&s.model),
                    s.training
                ))];
                row.extend(s.accuracy.iter().map(|a| Cell::new(pct(*a))));
                row
            })
            .collect();
        if c.condition == "ipsec" {
            let mut row = vec![Cell::reference("paper, random forest")];
            row.extend(b.rates.iter().map(|&x| {
                if x == paper::FIGURE_3.0 {
                    Cell::reference(pct(paper::FIGURE_3.1))
                } else {
                    Cell::reference("")
                }
            }));
            rows.push(row);
        }
        blocks.push(Block::Table(Table {
            caption: format!("{}: accuracy against background rate", c.condition),
            headers,
            rows,
        }));
    }
    Ok(Section {
        id: "background".into(),
        title: "Background traffic (Figure 3)".into(),
        blocks,
    })
}

fn multi_section(r: &Results, figs: &mut Figs<'_>) -> Result<Section> {
    let mut blocks = vec![Block::Text(format!(
        "Windows holding one to four applications, labelled with the set of applications. \
             Interleaved windows are built by playing {} single-application traces of distinct \
             types together from a common start (up to 2 s apart) and merging them by \
             timestamp, each side of the split from its own traces. Concurrent windows come \
             from the lab's captures of several applications at once. They differ: \
             interleaving keeps each application's own timing, while truly concurrent \
             applications share the link and the tunnel, so packets queue behind each other \
             and TCP flows slow each other down. In both, inter-arrival times shrink and \
             bursts break where packets of another application come between, so a \
             multi-application histogram is not the sum of its parts (the paper's §IV-E). One \
             random forest per label (binary relevance); subset accuracy counts a window right \
             only when its whole label set is right, Hamming loss is the fraction of wrong label \
             flags.",
        "2, 3 or 4"
    ))];
    for c in &r.conditions {
        let Some(m) = &c.multi_label else { continue };
        let rows: Vec<Vec<Cell>> = m
            .rows
            .iter()
            .map(|row| {
                let origin = |k: &str| {
                    Cell::new(
                        row.by_origin
                            .get(k)
                            .map(|s| format!("{} ({})", pct(s.subset_accuracy), s.windows))
                            .unwrap_or_else(|| "-".into()),
                    )
                };
                vec![
                    Cell::new(row.features.clone()),
                    Cell::new(pct(row.all.subset_accuracy)),
                    Cell::new(pct(row.all.hamming_loss)),
                    origin("single"),
                    origin("synthetic"),
                    origin("lab"),
                    row.paper
                        .map(|(a, h)| Cell::reference(format!("{} / {}", pct(a), pct(h))))
                        .unwrap_or_else(|| Cell::reference("-")),
                ]
            })
            .collect();
        blocks.push(Block::Table(Table {
            caption: format!(
                "{}: multi-label random forest ({} training windows; test windows with 1, 2, … \
                 labels: {:?})",
                c.condition, m.train_windows, m.test_by_cardinality
            ),
            headers: vec![
                "features".into(),
                "subset accuracy".into(),
                "Hamming loss".into(),
                "single (windows)".into(),
                "interleaved".into(),
                "concurrent".into(),
                "paper, Tor (acc. / loss)".into(),
            ],
            rows,
        }));
        let mut headers = vec!["features".to_string()];
        headers.extend(m.labels.iter().map(|l| format!("F1 {l}")));
        let rows = m
            .rows
            .iter()
            .map(|row| {
                let mut r = vec![Cell::new(row.features.clone())];
                r.extend(
                    row.per_label
                        .iter()
                        .map(|l| Cell::new(format!("{:.3} ({})", l.f1, l.support))),
                );
                r
            })
            .collect();
        blocks.push(Block::Table(Table {
            caption: format!(
                "{}: per-label F1 (test windows carrying the label)",
                c.condition
            ),
            headers,
            rows,
        }));
        let chart = BarChart {
            title: format!("{}: per-label F1", c.condition),
            y_label: "F1".into(),
            categories: m.labels.clone(),
            series: m
                .rows
                .iter()
                .map(|row| {
                    (
                        row.features.clone(),
                        row.per_label.iter().map(|l| Some(l.f1)).collect(),
                    )
                })
                .collect(),
            y_range: Some((0.0, 1.0)),
            y_percent: false,
        };
        blocks.push(Block::Figures(vec![figs.bar(
            &format!("multi-f1-{}", c.condition),
            format!("{}: F1 of each label by feature space.", c.condition),
            &chart,
        )?]));
    }
    Ok(Section {
        id: "multi-label".into(),
        title: "Multi-label windows (Table IV)".into(),
        blocks,
    })
}

fn window_section(r: &Results, figs: &mut Figs<'_>) -> Result<Section> {
    let mut series = Vec::new();
    let mut rows = Vec::new();
    for (i, c) in r.conditions.iter().enumerate() {
        let Some(w) = &c.window_sweep else { continue };
        series.push(Series {
            name: c.condition.clone(),
            points: w
                .sizes
                .iter()
                .zip(&w.accuracy)
                .map(|(&s, a)| (s as f64, a.as_ref().map_or(f64::NAN, |a| a.mean)))
                .collect(),
            dashed: false,
            colour: i,
        });
        for (k, s) in w.sizes.iter().enumerate() {
            rows.push(vec![
                Cell::new(c.condition.clone()),
                Cell::new(s.to_string()),
                Cell::new(w.windows[k].to_string()),
                Cell::new(format!("{:.2} s", w.seconds[k])),
                Cell::new(
                    w.accuracy[k]
                        .as_ref()
                        .map(pct_ci)
                        .unwrap_or_else(|| "-".into()),
                ),
            ]);
        }
    }
    let chart = LineChart {
        title: "Accuracy against window size".into(),
        x_label: "packets per window".into(),
        y_label: "accuracy".into(),
        series,
        marks: Vec::new(),
        y_range: None,
        x_log2: true,
        y_percent: true,
    };
    Ok(Section {
        id: "window-size".into(),
        title: "How soon can a QoS system decide? Accuracy against window size".into(),
        blocks: vec![
            Block::Text(
                "The paper fixed windows at 1024 packets. A QoS system wants to decide early: \
                 here the random forest (combined features, trace split, mean over seeds) is \
                 trained and tested at each window size. The median time a window spans is the \
                 wait before the first decision."
                    .into(),
            ),
            Block::Figures(vec![figs.line(
                "window-size",
                "Random forest accuracy against window size, one line per condition.".into(),
                &chart,
            )?]),
            Block::Table(Table {
                caption: "Accuracy against window size".into(),
                headers: vec![
                    "condition".into(),
                    "window".into(),
                    "windows".into(),
                    "median span".into(),
                    "accuracy".into(),
                ],
                rows,
            }),
        ],
    })
}

fn transfer_section(t: &crate::run::Transfer, figs: &mut Figs<'_>) -> Result<Section> {
    let m = MatrixChart {
        title: "Train on one condition, test on another".into(),
        x_label: "tested on".into(),
        y_label: "trained on".into(),
        rows: t.conditions.clone(),
        cols: t.conditions.clone(),
        values: t.accuracy.clone(),
        text: t
            .accuracy
            .iter()
            .map(|r| r.iter().map(|a| a.map(pct).unwrap_or_default()).collect())
            .collect(),
    };
    let mut headers = vec!["trained on \\ tested on".to_string()];
    headers.extend(t.conditions.iter().cloned());
    let rows = t
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut r = vec![Cell::new(c.clone())];
            r.extend(
                t.accuracy[i]
                    .iter()
                    .map(|a| Cell::new(a.map(pct).unwrap_or_else(|| "-".into()))),
            );
            r
        })
        .collect();
    Ok(Section {
        id: "transfer".into(),
        title: "Cross-condition transfer".into(),
        blocks: vec![
            Block::Text(
                "A random forest trained on every window of one condition and tested on every \
                 window of another: does a model of plain traffic recognise the same \
                 applications inside IPsec or Tor? Off the diagonal, nothing of the test \
                 condition was seen in training; the diagonal repeats the trace-split accuracy \
                 of the condition's own table."
                    .into(),
            ),
            Block::Figures(vec![figs.matrix(
                "transfer",
                "Accuracy, rows trained on, columns tested on.".into(),
                &m,
            )?]),
            Block::Table(Table {
                caption: "Transfer accuracy".into(),
                headers,
                rows,
            }),
        ],
    })
}
