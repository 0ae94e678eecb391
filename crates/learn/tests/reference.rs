//! Compares tapir-learn with scikit-learn on the fixed data of
//! `scripts/sklearn/make_reference.py` (outputs committed in `tests/data/reference_small.json`).

use serde::Deserialize;
use tapir_learn::{Classifier, Dataset, LrParams, NbParams, RfParams};

#[derive(Deserialize)]
struct Reference {
    classes: Vec<String>,
    n_features: usize,
    x_train: Vec<Vec<f32>>,
    y_train: Vec<usize>,
    x_test: Vec<Vec<f32>>,
    y_test: Vec<usize>,
    nb_proba: Vec<Vec<f64>>,
    nb_epsilon: f64,
    lr_coef: Vec<Vec<f64>>,
    lr_intercept: Vec<f64>,
    lr_proba: Vec<Vec<f64>>,
    rf_accuracy_mean: f64,
    rf_importances_mean: Vec<f64>,
}

fn load() -> (Reference, Dataset) {
    let text = include_str!("data/reference_small.json");
    let r: Reference = serde_json::from_str(text).expect("reference JSON parses");
    let n = r.y_train.len();
    let ds = Dataset::new(
        r.x_train.concat(),
        r.n_features,
        r.y_train.clone(),
        r.classes.clone(),
        (0..n as u32).collect(),
    )
    .unwrap();
    (r, ds)
}

fn max_abs_diff(model: &dyn Classifier, rows: &[Vec<f32>], want: &[Vec<f64>]) -> f64 {
    let mut p = vec![0.0; model.n_classes()];
    let mut worst = 0.0f64;
    for (row, w) in rows.iter().zip(want) {
        model.predict_proba_into(row, &mut p);
        for (a, b) in p.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

#[test]
fn naive_bayes_probabilities_match_sklearn_to_1e6() {
    let (r, ds) = load();
    let nb = NbParams::default().fit(&ds).unwrap();
    assert!((nb.epsilon() - r.nb_epsilon).abs() <= 1e-15 * r.nb_epsilon.max(1.0));
    let diff = max_abs_diff(&nb, &r.x_test, &r.nb_proba);
    eprintln!("naive Bayes: max |p - p_sklearn| = {diff:.2e}");
    assert!(diff < 1e-6, "max |p - p_sklearn| = {diff}");
}

#[test]
fn logistic_regression_matches_sklearn_to_1e3() {
    let (r, ds) = load();
    let lr = LrParams {
        tol: 1e-9,
        max_iter: 5000,
        ..Default::default()
    }
    .fit(&ds)
    .unwrap();
    assert!(lr.converged(), "after {} iterations", lr.iterations());
    let diff = max_abs_diff(&lr, &r.x_test, &r.lr_proba);
    eprintln!(
        "logistic regression: max |p - p_sklearn| = {diff:.2e}, {} iterations",
        lr.iterations()
    );
    assert!(diff < 1e-3, "max |p - p_sklearn| = {diff}");
    // The optimum is unique for the weights (strictly convex in W), so they must agree too;
    // intercepts are only defined up to a common shift, so compare them centred.
    let d = r.n_features;
    for (c, want) in r.lr_coef.iter().enumerate() {
        for (j, w) in want.iter().enumerate() {
            let got = lr.coef()[c * d + j];
            assert!((got - w).abs() < 1e-3, "coef[{c}][{j}] {got} vs {w}");
        }
    }
    let centre = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| x - m).collect::<Vec<_>>()
    };
    for (a, b) in centre(lr.intercept()).iter().zip(centre(&r.lr_intercept)) {
        assert!((a - b).abs() < 1e-3, "intercept {a} vs {b}");
    }
}

#[test]
fn random_forest_accuracy_within_five_points_of_sklearn() {
    // Forests differ in their random draws, so only accuracy is comparable. Over 100 test rows
    // one forest's accuracy varies by about 2 points from seed to seed; the mean over 5 seeds
    // must land within 5 points of sklearn's mean over its 5 seeds.
    let (r, ds) = load();
    let mut total = 0.0;
    let mut importances = vec![0.0; r.n_features];
    for seed in 0..5 {
        let rf = RfParams {
            seed,
            ..Default::default()
        }
        .fit(&ds)
        .unwrap();
        for (a, b) in importances.iter_mut().zip(rf.feature_importances()) {
            *a += b / 5.0;
        }
        let correct = r
            .x_test
            .iter()
            .zip(&r.y_test)
            .filter(|(row, &y)| rf.predict(row) == y)
            .count();
        total += correct as f64 / r.y_test.len() as f64;
    }
    let mean = total / 5.0;
    eprintln!(
        "random forest: accuracy {mean:.3}, sklearn {:.3}",
        r.rf_accuracy_mean
    );
    assert!(
        (mean - r.rf_accuracy_mean).abs() <= 0.05,
        "tapir {mean:.3} vs sklearn {:.3}",
        r.rf_accuracy_mean
    );
    // Importances are noisy per forest but their 5-seed means should rank columns alike.
    let corr = pearson(&importances, &r.rf_importances_mean);
    eprintln!("random forest: importance correlation with sklearn {corr:.3}");
    assert!(corr > 0.9, "importance correlation {corr}");
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}
