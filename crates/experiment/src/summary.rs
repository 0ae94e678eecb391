//! The results as text tables for the terminal, the paper's figures beside ours.

use crate::run::{Results, Stat};
use std::fmt::Write;
use tapir_eval::column_kind;
use tapir_report::text_table;

pub(crate) fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", 100.0 * x)
    } else {
        "-".to_string()
    }
}

pub(crate) fn pct_ci(s: &Stat) -> String {
    if s.runs.len() > 1 && s.ci95.is_finite() {
        format!("{} ±{:.1}", pct(s.mean), 100.0 * s.ci95)
    } else {
        pct(s.mean)
    }
}

pub(crate) fn model_title(m: &str) -> &str {
    match m {
        "nb" => "naive Bayes",
        "lr" => "logistic regression",
        "rf" => "random forest",
        other => other,
    }
}

/// One sentence per held-out column saying which figure to expect on new traffic, with the
/// numbers: each condition's best held-out cell beside the trace split of the same cell.
pub(crate) fn expectation(r: &Results, column: &str) -> Option<String> {
    let mut held = Vec::new();
    let mut within = Vec::new();
    for c in &r.conditions {
        let Some(h) = c.hold_out.iter().find(|h| h.column == column) else {
            continue;
        };
        let Some(best) = h.best() else { continue };
        held.push(format!(
            "{} {} ({} × {})",
            c.condition,
            pct(best.mean),
            best.features,
            model_title(&best.model)
        ));
        if let Some(cell) = c.table.as_ref().and_then(|t| {
            t.cells
                .iter()
                .find(|x| x.features == best.features && x.model == best.model)
        }) {
            within.push(format!("{} {}", c.condition, pct(cell.trace_split.mean)));
        }
    }
    if held.is_empty() {
        return None;
    }
    let kind = column_kind(column);
    Some(format!(
        "On a {kind} tapir has not trained on, expect the held-out figure, not the within-lab \
         one: with each {column} held out in turn, the best cell scores {} (mean over the \
         {column} values), where the same cell reads {} on the within-lab trace split, whose \
         test traces share their {kind} with the training traces.",
        held.join(", "),
        if within.is_empty() {
            "-".to_string()
        } else {
            within.join(", ")
        }
    ))
}

fn hold_out_text(o: &mut String, r: &Results) {
    let seeds = r.settings.seeds.len();
    for column in &r.hold_out_columns {
        if !r
            .conditions
            .iter()
            .any(|c| c.hold_out.iter().any(|h| &h.column == column))
        {
            continue;
        }
        let _ = writeln!(
            o,
            "== what to expect on a {} tapir has not trained on: hold out each {column} ==\n",
            column_kind(column)
        );
        let _ = writeln!(
            o,
            "accuracy with one {column} held out per fold (mean over values; pooled windows [95% CI over traces]) / trace split (mean ±95% CI over {seeds} seed(s)) / window split / paper"
        );
        let mut rows = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for c in &r.conditions {
            let Some(h) = c.hold_out.iter().find(|h| &h.column == column) else {
                continue;
            };
            for v in &h.values {
                if !values.contains(&v.value) {
                    values.push(v.value.clone());
                }
            }
            for cell in &h.cells {
                let t = c.table.as_ref().and_then(|t| {
                    t.cells
                        .iter()
                        .find(|x| x.features == cell.features && x.model == cell.model)
                });
                rows.push(vec![
                    c.condition.clone(),
                    cell.features.clone(),
                    model_title(&cell.model).to_string(),
                    pct(cell.mean),
                    format!(
                        "{} [{:.1}, {:.1}]",
                        pct(cell.pooled),
                        100.0 * cell.pooled_ci95[0],
                        100.0 * cell.pooled_ci95[1]
                    ),
                    t.map(|t| pct_ci(&t.trace_split))
                        .unwrap_or_else(|| "-".into()),
                    t.map(|t| pct_ci(&t.window_split))
                        .unwrap_or_else(|| "-".into()),
                    t.and_then(|t| t.paper)
                        .map(pct)
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
        }
        table(
            o,
            &[
                "condition",
                "features",
                "model",
                "held out",
                "pooled [95% CI]",
                "trace split",
                "window split",
                "paper",
            ],
            &rows,
        );
        values.sort();
        let _ = writeln!(
            o,
            "per held-out {column}: each condition's best held-out cell"
        );
        let mut headers = vec!["condition".to_string(), "cell".to_string()];
        headers.extend(values.iter().cloned());
        let mut rows = Vec::new();
        let mut notes = Vec::new();
        for c in &r.conditions {
            let Some(h) = c.hold_out.iter().find(|h| &h.column == column) else {
                continue;
            };
            let Some(best) = h.best() else { continue };
            let mut row = vec![
                c.condition.clone(),
                format!("{} {}", best.features, best.model),
            ];
            for v in &values {
                row.push(
                    h.values
                        .iter()
                        .position(|x| &x.value == v)
                        .and_then(|i| best.per_value[i])
                        .map(pct)
                        .unwrap_or_else(|| "-".into()),
                );
            }
            rows.push(row);
            for v in &h.values {
                if let Some(n) = &v.note {
                    notes.push(format!("{} / {}: {n}", c.condition, v.value));
                }
            }
        }
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        table(o, &h, &rows);
        for n in notes {
            let _ = writeln!(o, "note: {n}");
        }
        for c in &r.conditions {
            for cmp in c
                .comparisons
                .iter()
                .filter(|x| x.on.ends_with(column.as_str()))
            {
                let d = &cmp.result;
                let _ = writeln!(
                    o,
                    "paired, {}: {} − {} = {:+.1} points, 95% CI [{:+.1}, {:+.1}] over {} traces",
                    c.condition,
                    cmp.b,
                    cmp.a,
                    100.0 * d.difference,
                    100.0 * d.ci95[0],
                    100.0 * d.ci95[1],
                    d.traces
                );
            }
        }
        if let Some(sentence) = expectation(r, column) {
            let _ = writeln!(o, "\n{sentence}\n");
        }
    }
}

fn table(o: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    o.push_str(&text_table(headers, rows));
    o.push('\n');
}

/// Every table of the report as aligned text: first the held-out tables (one column of the
/// manifest held out per fold, the figure to expect on new traffic), then per condition the
/// accuracy table (trace split, window split, paper), the background sweep, the multi-label table and the window-size sweep;
/// then the transfer matrix and what was skipped.
pub fn summary(r: &Results) -> String {
    let mut o = String::new();
    let seeds = r.settings.seeds.len();
    hold_out_text(&mut o, r);
    for c in &r.conditions {
        let _ = writeln!(
            o,
            "== {}: {} traces, {} background, {} concurrent; classes {} ==\n",
            c.condition,
            c.traces,
            c.background_traces,
            c.multi_traces,
            c.classes.join(", ")
        );
        if let Some(t) = &c.table {
            let _ = writeln!(
                o,
                "accuracy, mean ±95% CI over {seeds} seed(s); trace split / window split (paper's) / paper{}",
                t.paper_table.map(|p| format!(" {p}")).unwrap_or_default()
            );
            let rows: Vec<Vec<String>> = t
                .cells
                .iter()
                .map(|cell| {
                    vec![
                        cell.features.clone(),
                        model_title(&cell.model).to_string(),
                        pct_ci(&cell.trace_split),
                        pct_ci(&cell.window_split),
                        cell.paper.map(pct).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            table(
                &mut o,
                &["features", "model", "trace split", "window split", "paper"],
                &rows,
            );
        }
        if let Some(b) = &c.background {
            let _ = writeln!(
                o,
                "background traffic (combined features): accuracy against background packets/s"
            );
            let mut headers = vec!["model".to_string(), "training".to_string()];
            headers.extend(b.rates.iter().map(|r| format!("{r:.0}")));
            let rows: Vec<Vec<String>> = b
                .series
                .iter()
                .map(|s| {
                    let mut row = vec![s.model.clone(), s.training.clone()];
                    row.extend(s.accuracy.iter().map(|a| pct(*a)));
                    row
                })
                .collect();
            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
            table(&mut o, &h, &rows);
            if c.condition == "ipsec" {
                let _ = writeln!(
                    o,
                    "paper (Figure 3): random forest 87.50% at 300 packets/s\n"
                );
            }
        }
        if let Some(m) = &c.multi_label {
            let _ = writeln!(
                o,
                "multi-label random forest ({} train windows; test windows by labels 1..: {:?})",
                m.train_windows, m.test_by_cardinality
            );
            let rows: Vec<Vec<String>> = m
                .rows
                .iter()
                .map(|row| {
                    let origin = |k: &str| {
                        row.by_origin
                            .get(k)
                            .map(|s| pct(s.subset_accuracy))
                            .unwrap_or_else(|| "-".into())
                    };
                    vec![
                        row.features.clone(),
                        pct(row.all.subset_accuracy),
                        pct(row.all.hamming_loss),
                        origin("single"),
                        origin("synthetic"),
                        origin("lab"),
                        row.paper
                            .map(|(a, h)| format!("{} / {}", pct(a), pct(h)))
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            table(
                &mut o,
                &[
                    "features",
                    "subset acc.",
                    "Hamming loss",
                    "single",
                    "interleaved",
                    "concurrent",
                    "paper (Tor)",
                ],
                &rows,
            );
        }
        if let Some(w) = &c.window_sweep {
            let _ = writeln!(o, "random forest, combined features, against window size");
            let rows: Vec<Vec<String>> = w
                .sizes
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    vec![
                        s.to_string(),
                        w.windows[i].to_string(),
                        format!("{:.2}", w.seconds[i]),
                        w.accuracy[i]
                            .as_ref()
                            .map(pct_ci)
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            table(
                &mut o,
                &["window", "windows", "median s", "accuracy"],
                &rows,
            );
        }
    }
    if let Some(t) = &r.transfer {
        let _ = writeln!(
            o,
            "transfer: random forest trained on the row's condition, tested on the column's"
        );
        let mut headers = vec!["trained on \\ tested on".to_string()];
        headers.extend(t.conditions.iter().cloned());
        let rows: Vec<Vec<String>> = t
            .conditions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut row = vec![c.clone()];
                row.extend(
                    t.accuracy[i]
                        .iter()
                        .map(|a| a.map(pct).unwrap_or_else(|| "-".into())),
                );
                row
            })
            .collect();
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        table(&mut o, &h, &rows);
    }
    for m in &r.defenses {
        defense_text(&mut o, m);
    }
    if let Some(a) = &r.defense_attacks {
        attack_text(&mut o, a);
    }
    for s in &r.skipped {
        let _ = writeln!(
            o,
            "skipped: {} / {}: {}",
            s.condition, s.experiment, s.reason
        );
    }
    o
}

/// The rows of a defence matrix as table cells: spec, naive, retrained, stand-out, overhead
/// (total, mean per trace), wasted share, latency median and p99.
pub(crate) fn defense_cells(m: &crate::DefenseMatrix) -> Vec<Vec<String>> {
    m.rows
        .iter()
        .map(|d| {
            vec![
                d.spec.clone(),
                pct(d.naive),
                pct(d.retrained),
                pct(d.stand_out),
                format!("{:.0}%", 100.0 * d.overhead_total),
                format!("{:.0}%", 100.0 * d.overhead_mean),
                format!("{:.0}%", 100.0 * d.wasted_share),
                format!("{:.1} ms", d.latency_median_ms),
                format!("{:.1} ms", d.latency_p99_ms),
            ]
        })
        .collect()
}

/// Headers of [`defense_cells`].
pub(crate) const DEFENSE_HEADERS: [&str; 9] = [
    "defence",
    "naive",
    "retrained",
    "stand-out",
    "overhead",
    "per trace",
    "wasted",
    "latency median",
    "latency p99",
];

fn defense_text(o: &mut String, m: &crate::DefenseMatrix) {
    let _ = writeln!(
        o,
        "defences on {} ({} traces, random forests of {} trees, seed {}): accuracy of the \
         classifier trained on undefended traffic (naive) and retrained on defended traffic; \
         stand-out = accuracy telling defended from undefended windows (50% = blends in)",
        m.condition, m.traces, m.trees, m.seed
    );
    table(o, &DEFENSE_HEADERS, &defense_cells(m));
    let _ = writeln!(o, "the literature's figures (other data, other attacks):");
    for l in crate::LITERATURE {
        let _ = writeln!(
            o,
            "  {}: {}; bandwidth {:.0}%, latency {} ({})",
            l.defense,
            l.privacy,
            100.0 * l.overhead,
            l.latency,
            l.source
        );
    }
    let _ = writeln!(o);
}

/// The metadata matrix as text: one line per attack and setting.
fn attack_text(o: &mut String, a: &crate::AttackMatrix) {
    let _ = writeln!(
        o,
        "metadata attacks against defences ({} trials per row, seed {}; volume timelines from \
         the {} web traces): success of the attack with its defaults (naive) and of one that \
         knows the defence (adaptive); 100% = the attack fully succeeds",
        a.trials, a.seed, a.condition
    );
    let rows: Vec<Vec<String>> = a
        .rows
        .iter()
        .map(|r| {
            vec![
                r.attack.clone(),
                r.spec.clone(),
                pct(r.naive),
                r.adaptive.map_or_else(|| "-".into(), pct),
                format!("{:.0}%", 100.0 * r.overhead),
                format!("{:.0}% {}", 100.0 * r.extra, r.extra_unit),
                format!("{:.1} ms", r.latency_median_ms),
                format!("{:.1} ms", r.latency_p99_ms),
                r.detail.clone(),
            ]
        })
        .collect();
    table(
        o,
        &[
            "attack",
            "defence",
            "naive",
            "adaptive",
            "overhead",
            "extra",
            "latency median",
            "latency p99",
            "found",
        ],
        &rows,
    );
    let _ = writeln!(o);
}
