//! The background sweep: accuracy as background traffic is mixed in at rising rates.

use super::*;

/// Background traces joined end to end into one stream (each shifted to follow the previous
/// after one median gap), so the pool's gaps are the captures' own.
fn pool(corpus: &Corpus, idx: &[usize]) -> Vec<TracePacket> {
    let mut out: Vec<TracePacket> = Vec::new();
    for &i in idx {
        let p = &corpus.traces[i].packets;
        let Some(first) = p.first() else { continue };
        let start = out.last().map(|l| l.ts.0 + 1_000_000).unwrap_or(0);
        out.extend(p.iter().map(|q| {
            TracePacket::new(
                Timestamp(start.saturating_add(q.ts.nanos_since(first.ts))),
                q.size,
                q.dir,
            )
        }));
    }
    out
}

/// Windows of traces mixed with background at `rate`, as one dataset.
fn mixed_dataset(
    ctx: &Ctx<'_>,
    corpus: &Corpus,
    traces: &[usize],
    classes: &[String],
    bg: &[TracePacket],
    rate: f64,
) -> Result<Dataset> {
    use rayon::prelude::*;
    let dim = ctx.ex.dim(FeatureSpace::Combined);
    let rows: Vec<Result<(usize, Vec<f32>)>> = traces
        .par_iter()
        .enumerate()
        .map(|(k, &t)| {
            let tr = &corpus.traces[t];
            // Each trace starts at a different point of the pool, so traces do not all see
            // the same background packets.
            let offset = if bg.is_empty() {
                0
            } else {
                (k * 7919) % bg.len()
            };
            let mixed = mix_background(&tr.packets, bg, rate, offset);
            let class = tr
                .labels
                .first()
                .and_then(|l| classes.iter().position(|c| c == l))
                .unwrap_or(0);
            Ok((class, trace_rows(&ctx.ex, &mixed, ctx.s.window)?))
        })
        .collect();
    let (mut x, mut y, mut g) = (Vec::new(), Vec::new(), Vec::new());
    for (k, r) in rows.into_iter().enumerate() {
        let (class, r) = r?;
        let n = r.len() / dim;
        x.extend(r);
        y.extend(std::iter::repeat_n(class, n));
        g.extend(std::iter::repeat_n(k as u32, n));
    }
    Ok(Dataset::new(x, dim, y, classes.to_vec(), g)?)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn background(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    classes: &[String],
    bg: &[usize],
    train_t: &[usize],
    test_t: &[usize],
) -> Result<BackgroundSweep> {
    let s = ctx.s;
    // Background for training and for testing comes from different captures (or different
    // halves of one), so a mixed-trained model never saw the test background.
    let all = pool(corpus, bg);
    let (bg_train, bg_test) = if bg.len() >= 2 {
        let half = bg.len() / 2;
        (pool(corpus, &bg[..half]), pool(corpus, &bg[half..]))
    } else {
        let h = all.len() / 2;
        (all[..h].to_vec(), all[h..].to_vec())
    };
    let what = format!("{cond}: background");
    let params = ctx.params(s.seeds[0]);
    let clean_train = mixed_dataset(ctx, corpus, train_t, classes, &[], 0.0)?;
    let clean_models = ModelKind::ALL
        .iter()
        .map(|&k| {
            let m = fit_model(k, &params, &clean_train);
            ctx.progress.step(&what);
            m
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut series: Vec<BackgroundSeries> = Vec::new();
    for training in ["clean", "mixed"] {
        for k in ModelKind::ALL {
            series.push(BackgroundSeries {
                model: k.name().to_string(),
                training: training.to_string(),
                accuracy: Vec::new(),
            });
        }
    }
    let mut test_windows = Vec::new();
    for &rate in &s.rates {
        let test = mixed_dataset(ctx, corpus, test_t, classes, &bg_test, rate)?;
        ctx.progress.step(&what);
        test_windows.push(test.n_rows());
        let acc = |m: &tapir_learn::Model| {
            let pred = predict_rows(m, &test.x, test.n_features);
            tapir_learn::metrics::accuracy(&test.y, &pred)
        };
        for (i, m) in clean_models.iter().enumerate() {
            series[i].accuracy.push(acc(m));
        }
        if rate > 0.0 {
            let train = mixed_dataset(ctx, corpus, train_t, classes, &bg_train, rate)?;
            for (i, &k) in ModelKind::ALL.iter().enumerate() {
                let m = fit_model(k, &params, &train)?;
                ctx.progress.step(&what);
                series[3 + i].accuracy.push(acc(&m));
            }
        } else {
            for (i, m) in clean_models.iter().enumerate() {
                series[3 + i].accuracy.push(acc(m));
            }
        }
    }
    Ok(BackgroundSweep {
        rates: s.rates.clone(),
        series,
        background_traces: bg.len(),
        background_packets: all.len(),
        test_windows,
    })
}
