//! The multi-label table: traces of several applications at once.

use super::*;

/// Where a multi-label window came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Single,
    Synthetic,
    Lab,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Single => "single",
            Origin::Synthetic => "synthetic",
            Origin::Lab => "lab",
        }
    }
}

struct MultiRows {
    x: Vec<f32>,
    y: Vec<Vec<bool>>,
    origin: Vec<Origin>,
}

impl MultiRows {
    fn push(&mut self, rows: Vec<f32>, dim: usize, flags: &[bool], origin: Origin) {
        let n = rows.len() / dim;
        self.x.extend(rows);
        for _ in 0..n {
            self.y.push(flags.to_vec());
            self.origin.push(origin);
        }
    }
}

/// Windows for the multi-label model on one side of the split: the single traces, synthetic
/// mixes of 2..=4 of them (distinct labels, random start offsets), and the lab's captures.
fn multi_side(
    ctx: &Ctx<'_>,
    corpus: &Corpus,
    labels: &[String],
    singles: &[usize],
    lab: &[usize],
    seed: u64,
) -> Result<MultiRows> {
    let dim = ctx.ex.dim(FeatureSpace::Combined);
    let window = ctx.s.window;
    let flags_of = |ls: &[String]| -> Vec<bool> { labels.iter().map(|l| ls.contains(l)).collect() };
    let mut out = MultiRows {
        x: Vec::new(),
        y: Vec::new(),
        origin: Vec::new(),
    };
    for &t in singles {
        let tr = &corpus.traces[t];
        out.push(
            trace_rows(&ctx.ex, &tr.packets, window)?,
            dim,
            &flags_of(&tr.labels),
            Origin::Single,
        );
    }
    for &t in lab {
        let tr = &corpus.traces[t];
        out.push(
            trace_rows(&ctx.ex, &tr.packets, window)?,
            dim,
            &flags_of(&tr.labels),
            Origin::Lab,
        );
    }
    let mut by_label: BTreeMap<&str, Vec<&Trace>> = BTreeMap::new();
    for &t in singles {
        if let Some(l) = corpus.traces[t].labels.first() {
            by_label
                .entry(l.as_str())
                .or_default()
                .push(&corpus.traces[t]);
        }
    }
    let present: Vec<&str> = by_label.keys().copied().collect();
    let mut rng = SplitMix::new(seed);
    for k in 2..=present.len().min(4) {
        for _ in 0..ctx.s.mixes {
            let mut pick = present.clone();
            rng.shuffle(&mut pick);
            pick.truncate(k);
            let chosen: Vec<&Trace> = pick
                .iter()
                .map(|l| {
                    let v = &by_label[l];
                    v[rng.below(v.len())]
                })
                .collect();
            let streams: Vec<&[TracePacket]> =
                chosen.iter().map(|t| t.packets.as_slice()).collect();
            // Applications start up to two seconds apart, as a user opens one after another.
            let offsets: Vec<i64> = (0..k).map(|_| rng.below(2_000_000_000) as i64).collect();
            let mixed = play_together(&streams, &offsets);
            let ls: Vec<String> = pick.iter().map(|l| l.to_string()).collect();
            out.push(
                trace_rows(&ctx.ex, &mixed, window)?,
                dim,
                &flags_of(&ls),
                Origin::Synthetic,
            );
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn multi_label(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    cond: &str,
    classes: &[String],
    train_t: &[usize],
    test_t: &[usize],
    lab: &[usize],
) -> Result<MultiLabelTable> {
    let s = ctx.s;
    let mut labels: BTreeSet<String> = classes.iter().cloned().collect();
    for &t in lab {
        labels.extend(corpus.traces[t].labels.iter().cloned());
    }
    let labels: Vec<String> = labels.into_iter().collect();
    // The lab's concurrent captures are few (four per condition) and long: each is tested
    // once, by a model trained on the single traces of the training side, their synthetic
    // mixes and the *other* lab captures (leave one capture out), and the predictions are
    // pooled, so every lab window is a test window and none is ever trained on by the model
    // that labels it. Single and synthetic test windows are labelled by the first fold's model.
    let mut groups: Vec<&str> = lab
        .iter()
        .map(|&t| corpus.traces[t].group.as_str())
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut rng = SplitMix::new(s.seeds[0]);
    rng.shuffle(&mut groups);
    // With one lab capture there is nothing to train on when it is held out: it trains.
    let folds: Vec<Option<&str>> = if groups.len() >= 2 {
        groups.iter().map(|g| Some(*g)).collect()
    } else {
        vec![None]
    };
    let base_train = multi_side(ctx, corpus, &labels, train_t, &[], s.seeds[0])?;
    let base_test = multi_side(ctx, corpus, &labels, test_t, &[], s.seeds[0] ^ 0x7e57)?;
    let dim = ctx.ex.dim(FeatureSpace::Combined);
    let lab_of = |g: Option<&str>| -> Vec<usize> {
        lab.iter()
            .copied()
            .filter(|&t| Some(corpus.traces[t].group.as_str()) == g)
            .collect()
    };
    // Lab windows of each fold's held-out capture, and of the captures that train beside it.
    let mut fold_data = Vec::with_capacity(folds.len());
    for &g in &folds {
        let held = lab_of(g);
        let others: Vec<usize> = lab.iter().copied().filter(|t| !held.contains(t)).collect();
        let tested = multi_side(ctx, corpus, &labels, &[], &held, 0)?;
        let trained = multi_side(ctx, corpus, &labels, &[], &others, 0)?;
        fold_data.push((trained, tested));
    }
    let mut test = MultiRows {
        x: base_test.x.clone(),
        y: base_test.y.clone(),
        origin: base_test.origin.clone(),
    };
    for (_, tested) in &fold_data {
        test.x.extend_from_slice(&tested.x);
        test.y.extend(tested.y.iter().cloned());
        test.origin.extend_from_slice(&tested.origin);
    }
    let train_windows = base_train.y.len() + fold_data.first().map_or(0, |(t, _)| t.y.len());
    if train_windows == 0 || test.y.is_empty() {
        return Err(ExperimentError::NoData(
            "no multi-label windows on one side of the split".into(),
        ));
    }
    let mut card = vec![0usize; labels.len().max(1)];
    for f in &test.y {
        let c = f.iter().filter(|b| **b).count();
        if let Some(slot) = card.get_mut(c.saturating_sub(1)) {
            *slot += 1;
        }
    }
    let what = format!("{cond}: multi-label");
    let params = RfParams {
        n_trees: s.trees,
        seed: s.seeds[0],
        ..RfParams::default()
    };
    let mut rows = Vec::new();
    for (space, cols) in ctx.spaces.clone() {
        let mut pred: Vec<Vec<bool>> = Vec::with_capacity(test.y.len());
        for (f, (trained, tested)) in fold_data.iter().enumerate() {
            let mut x = base_train.x.clone();
            x.extend_from_slice(&trained.x);
            let mut y = base_train.y.clone();
            y.extend(trained.y.iter().cloned());
            let n = y.len();
            let train_ds = MultiLabelDataset::new(x, dim, y, labels.clone(), vec![0; n])?;
            let model = params.fit_multi_label(&select_multi(&train_ds, cols.clone()))?;
            let label = |rows: &[f32]| -> Vec<Vec<bool>> {
                rows.chunks_exact(dim)
                    .map(|r| model.predict(&r[cols.clone()]))
                    .collect()
            };
            if f == 0 {
                pred.extend(label(&base_test.x));
            }
            pred.extend(label(&tested.x));
        }
        ctx.progress.step(&what);
        let score = |keep: &dyn Fn(Origin) -> bool| {
            let (t, p): (Vec<Vec<bool>>, Vec<Vec<bool>>) = test
                .y
                .iter()
                .zip(&pred)
                .zip(&test.origin)
                .filter(|(_, o)| keep(**o))
                .map(|((t, p), _)| (t.clone(), p.clone()))
                .unzip();
            MultiScore {
                windows: t.len(),
                subset_accuracy: subset_accuracy(&t, &p),
                hamming_loss: hamming_loss(&t, &p),
            }
        };
        let mut by_origin = BTreeMap::new();
        for o in [Origin::Single, Origin::Synthetic, Origin::Lab] {
            let sc = score(&|x| x == o);
            if sc.windows > 0 {
                by_origin.insert(o.name().to_string(), sc);
            }
        }
        let per_label = per_label_scores(&test.y, &pred, labels.len())
            .into_iter()
            .zip(&labels)
            .map(|(c, l)| LabelScore {
                label: l.clone(),
                precision: c.precision,
                recall: c.recall,
                f1: c.f1,
                support: c.support,
            })
            .collect();
        rows.push(MultiRow {
            features: space.name().to_string(),
            all: score(&|_| true),
            per_label,
            by_origin,
            paper: paper::multi_label(space.name()),
        });
    }
    Ok(MultiLabelTable {
        labels,
        train_windows,
        test_by_cardinality: card,
        rows,
    })
}

fn select_multi(ds: &MultiLabelDataset, cols: std::ops::Range<usize>) -> MultiLabelDataset {
    let mut x = Vec::with_capacity(ds.n_rows() * cols.len());
    for i in 0..ds.n_rows() {
        x.extend_from_slice(ds.row(i).get(cols.clone()).unwrap_or(&[]));
    }
    MultiLabelDataset {
        x,
        n_features: cols.len(),
        y: ds.y.clone(),
        labels: ds.labels.clone(),
        groups: ds.groups.clone(),
    }
}
