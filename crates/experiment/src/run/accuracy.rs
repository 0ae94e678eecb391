//! Tables I–III: accuracy per feature space and model, trace split and window split.

use super::*;

pub(super) fn table(ctx: &mut Ctx<'_>, cond: &str, ds: &Dataset) -> Result<AccuracyTable> {
    let s = ctx.s;
    let mut per_seed: Vec<(Vec<GridCell>, Vec<GridCell>)> = Vec::new();
    for &seed in &s.seeds {
        let params = ctx.params(seed);
        let tsplit = split_grouped_stratified(ds, s.test_fraction, seed)?;
        let what = format!("{cond}: tables");
        let progress = ctx.progress;
        let trace = evaluate_grid(
            ds,
            &ctx.spaces,
            &ModelKind::ALL,
            &[(tsplit.train, tsplit.test)],
            &params,
            &mut |_, _| progress.step(&what),
        )?;
        let mut wds = ds.clone();
        // Every window its own group: the paper's split ignores traces.
        wds.groups = (0..ds.n_rows() as u32).collect();
        let wsplit = split_windows(&wds, s.test_fraction, seed)?;
        let window = evaluate_grid(
            &wds,
            &ctx.spaces,
            &ModelKind::ALL,
            &[(wsplit.train, wsplit.test)],
            &params,
            &mut |_, _| progress.step(&what),
        )?;
        per_seed.push((trace, window));
    }
    let n_classes = ds.classes.len();
    let mut cells = Vec::new();
    for (i, c) in per_seed[0].0.iter().enumerate() {
        let mut confusion = vec![vec![0u64; n_classes]; n_classes];
        for (tr, _) in &per_seed {
            let cm: &ConfusionMatrix = &tr[i].confusion;
            for (t, row) in confusion.iter_mut().enumerate() {
                for (p, v) in row.iter_mut().enumerate() {
                    *v += cm.get(t, p);
                }
            }
        }
        cells.push(TableCell {
            features: c.features.clone(),
            model: c.model.clone(),
            trace_split: Stat::of(per_seed.iter().map(|(t, _)| t[i].accuracy).collect()),
            window_split: Stat::of(per_seed.iter().map(|(_, w)| w[i].accuracy).collect()),
            paper: paper::table_accuracy(cond, &c.features, &c.model),
            confusion,
        });
    }
    Ok(AccuracyTable {
        paper_table: paper::table_name(cond),
        cells,
    })
}
