//! The transfer matrix: trained on one condition, tested on another.

use super::*;

pub(super) fn transfer(
    ctx: &mut Ctx<'_>,
    corpus: &Corpus,
    diag: &BTreeMap<String, f64>,
) -> Result<Option<Transfer>> {
    let conds: Vec<String> = corpus
        .conditions()
        .into_iter()
        .filter(|c| diag.contains_key(c))
        .collect();
    if conds.len() < 2 {
        ctx.skip(
            "all",
            "transfer",
            format!(
                "{} condition(s) with an accuracy table; need two",
                conds.len()
            ),
        );
        return Ok(None);
    }
    let s = ctx.s;
    let mut sets = Vec::new();
    for c in &conds {
        let single = corpus.select(c, Role::Single);
        let classes = classes_of(corpus, &single);
        sets.push(build(&ctx.ex, corpus, &single, &classes, s.window)?.ds);
    }
    let mut acc = vec![vec![None; conds.len()]; conds.len()];
    for (a, train) in sets.iter().enumerate() {
        let m = fit_model(ModelKind::Rf, &ctx.params(s.seeds[0]), train)?;
        ctx.progress.step("transfer");
        for (b, test) in sets.iter().enumerate() {
            if a == b {
                acc[a][b] = diag.get(&conds[a]).copied();
                continue;
            }
            let pred = predict_rows(&m, &test.x, test.n_features);
            // Classes are matched by name; a test class the model never saw counts as wrong.
            let right = pred
                .iter()
                .zip(&test.y)
                .filter(|(p, t)| train.classes.get(**p) == test.classes.get(**t))
                .count();
            acc[a][b] = (!pred.is_empty()).then(|| right as f64 / pred.len() as f64);
        }
    }
    Ok(Some(Transfer {
        conditions: conds,
        accuracy: acc,
    }))
}
