//! The results as text tables for the terminal, the paper's figures beside ours.

use crate::run::{Results, Stat};
use std::fmt::Write;
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

fn table(o: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    o.push_str(&text_table(headers, rows));
    o.push('\n');
}

/// Every table of the report as aligned text: per condition the accuracy table (trace split,
/// window split, paper), the background sweep, the multi-label table and the window-size sweep;
/// then the transfer matrix and what was skipped.
pub fn summary(r: &Results) -> String {
    let mut o = String::new();
    let seeds = r.settings.seeds.len();
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
    for s in &r.skipped {
        let _ = writeln!(
            o,
            "skipped: {} / {}: {}",
            s.condition, s.experiment, s.reason
        );
    }
    o
}
