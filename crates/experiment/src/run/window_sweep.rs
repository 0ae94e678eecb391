//! Accuracy against window size.

use super::*;

pub(super) fn window_sweep(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    single: &[usize],
    classes: &[String],
) -> Result<WindowSweep> {
    let s = ctx.s;
    let what = format!("{cond}: window sizes");
    let mut out = WindowSweep {
        sizes: s.window_sizes.clone(),
        accuracy: Vec::new(),
        windows: Vec::new(),
        seconds: Vec::new(),
    };
    for &w in &s.window_sizes {
        let built = build(&ctx.ex, corpus, single, classes, w)?;
        out.windows.push(built.ds.n_rows());
        out.seconds.push(median_window_seconds(corpus, single, w));
        let mut runs = Vec::new();
        let mut failed = None;
        for &seed in &s.seeds {
            match split_grouped_stratified(&built.ds, s.test_fraction, seed) {
                Ok(split) => {
                    let train = built.ds.subset(&split.train)?;
                    let test = built.ds.subset(&split.test)?;
                    if train.class_counts().iter().filter(|c| **c > 0).count() < 2 {
                        failed = Some("fewer than two classes left to train on".to_string());
                    } else {
                        let m = fit_model(ModelKind::Rf, &ctx.params(seed), &train)?;
                        let pred = predict_rows(&m, &test.x, test.n_features);
                        runs.push(tapir_learn::metrics::accuracy(&test.y, &pred));
                    }
                }
                Err(e) => failed = Some(e.to_string()),
            }
            ctx.progress.step(&what);
        }
        if runs.is_empty() {
            ctx.skip(
                cond,
                "window sizes",
                format!(
                    "window {w}: {}",
                    failed.unwrap_or_else(|| "no run".to_string())
                ),
            );
            out.accuracy.push(None);
        } else {
            out.accuracy.push(Some(Stat::of(runs)));
        }
    }
    let _ = &ctx.combined;
    Ok(out)
}

/// Median time one window of `w` packets spans over the traces `idx`, in seconds.
fn median_window_seconds(corpus: &Corpus, idx: &[usize], w: usize) -> f64 {
    let mut spans: Vec<f64> = idx
        .iter()
        .flat_map(|&t| corpus.traces[t].packets.chunks_exact(w))
        .filter_map(|c| Some(c.last()?.ts.nanos_since(c.first()?.ts) as f64 / 1e9))
        .collect();
    if spans.is_empty() {
        return f64::NAN;
    }
    spans.sort_by(f64::total_cmp);
    spans[spans.len() / 2]
}
