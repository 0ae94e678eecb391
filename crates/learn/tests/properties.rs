//! Property tests: splits partition rows and keep groups whole; model files never panic the
//! reader; models give probability vectors for any row.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use tapir_learn::{
    crc32, fit_model, from_bytes, grouped_kfold, split_grouped_stratified, split_windows, to_bytes,
    Classifier, Dataset, Model, ModelFile, ModelKind, ModelParams, RfParams, FORMAT_VERSION, MAGIC,
};

/// Datasets of 2-60 rows, 1-4 classes, 1-15 groups, each group with one dominant label.
fn dataset() -> impl Strategy<Value = Dataset> {
    (1usize..=4, 1u32..=15, 2usize..=60).prop_flat_map(|(k, n_groups, n)| {
        (
            proptest::collection::vec(0..n_groups, n),
            proptest::collection::vec(0..k, n_groups as usize),
            proptest::collection::vec(0u8..6, n * 3),
        )
            .prop_map(move |(groups, group_label, x)| {
                let y = groups.iter().map(|&g| group_label[g as usize]).collect();
                Dataset::new(
                    x.into_iter().map(f32::from).collect(),
                    3,
                    y,
                    (0..k).map(|c| format!("c{c}")).collect(),
                    groups,
                )
                .unwrap()
            })
    })
}

fn group_set(ds: &Dataset, rows: &[usize]) -> BTreeSet<u32> {
    rows.iter().map(|&i| ds.groups[i]).collect()
}

fn small_file() -> Vec<u8> {
    let ds = Dataset::new(
        vec![0.0, 1.0, 2.0, 3.0, 1.0, 0.0, 3.0, 2.0],
        2,
        vec![0, 0, 1, 1],
        vec!["a".into(), "b".into()],
        vec![0, 1, 2, 3],
    )
    .unwrap();
    let params = ModelParams {
        rf: RfParams {
            n_trees: 3,
            ..Default::default()
        },
        ..Default::default()
    };
    to_bytes(&ModelFile {
        format_version: FORMAT_VERSION,
        tapir_version: "test".into(),
        feature_config: serde_json::json!({"bins": [1, 2, 3]}),
        classes: ds.classes.clone(),
        model: fit_model(ModelKind::Rf, &params, &ds).unwrap(),
        unknown_threshold: None,
        training: serde_json::Value::Null,
    })
    .unwrap()
}

proptest! {
    #[test]
    fn grouped_split_partitions_rows_and_keeps_groups_whole(ds in dataset(), seed in any::<u64>()) {
        if let Ok(s) = split_grouped_stratified(&ds, 0.3, seed) {
            let all: BTreeSet<usize> = s.train.iter().chain(&s.test).copied().collect();
            prop_assert_eq!(all.len(), ds.n_rows());
            prop_assert_eq!(s.train.len() + s.test.len(), ds.n_rows());
            prop_assert!(group_set(&ds, &s.train).is_disjoint(&group_set(&ds, &s.test)));
            prop_assert_eq!(&s, &split_grouped_stratified(&ds, 0.3, seed).unwrap());
            // A class with two or more groups appears on both sides.
            for c in 0..ds.n_classes() {
                let groups: BTreeSet<u32> = (0..ds.n_rows())
                    .filter(|&i| ds.y[i] == c)
                    .map(|i| ds.groups[i])
                    .collect();
                if groups.len() >= 2 {
                    prop_assert!(s.test.iter().any(|&i| ds.y[i] == c));
                    prop_assert!(s.train.iter().any(|&i| ds.y[i] == c));
                }
            }
        }
    }

    #[test]
    fn window_split_and_kfold_partition_rows(ds in dataset(), seed in any::<u64>(), k in 2usize..6) {
        let s = split_windows(&ds, 0.25, seed).unwrap();
        prop_assert_eq!(s.train.len() + s.test.len(), ds.n_rows());
        prop_assert!(!s.train.is_empty() && !s.test.is_empty());
        if let Ok(folds) = grouped_kfold(&ds, k, seed) {
            let mut count = vec![0; ds.n_rows()];
            for (train, test) in &folds {
                prop_assert!(group_set(&ds, train).is_disjoint(&group_set(&ds, test)));
                for &i in test {
                    count[i] += 1;
                }
            }
            prop_assert!(count.iter().all(|&c| c == 1));
        }
    }

    #[test]
    fn reader_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = from_bytes::<Model, serde_json::Value>(&bytes, Path::new("fuzz"));
        // The same bytes behind a valid header and checksum reach the payload decoder.
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        framed.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        framed.extend_from_slice(&bytes);
        framed.extend_from_slice(&crc32(&bytes).to_le_bytes());
        prop_assert!(from_bytes::<Model, serde_json::Value>(&framed, Path::new("fuzz")).is_err());
    }

    #[test]
    fn reader_never_panics_on_damaged_model(pos in any::<prop::sample::Index>(), val in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let good = small_file();
        let mut b = good.clone();
        b[pos.index(good.len())] = val;
        let end = b.len() - 4;
        let crc = crc32(&b[20..end]);
        b[end..].copy_from_slice(&crc.to_le_bytes());
        if let Ok(f) = from_bytes::<Model, serde_json::Value>(&b, Path::new("x")) {
            let mut p = [0.0; 2];
            f.model.predict_proba_into(&[1.0, 2.0], &mut p);
        }
        let _ = from_bytes::<Model, serde_json::Value>(&b[..cut.index(b.len())], Path::new("x"));
    }

    #[test]
    fn probabilities_are_distributions_for_any_row(
        ds in dataset(),
        row in proptest::collection::vec(prop_oneof![any::<f32>(), Just(f32::NAN), -10.0f32..10.0], 0..5),
    ) {
        let params = ModelParams {
            rf: RfParams { n_trees: 5, ..Default::default() },
            ..Default::default()
        };
        for kind in ModelKind::ALL {
            let m = fit_model(kind, &params, &ds).unwrap();
            let mut p = vec![0.0; m.n_classes()];
            m.predict_proba_into(&row, &mut p);
            let finite = row.iter().all(|v| v.is_finite() && v.abs() < 1e3);
            if finite {
                let s: f64 = p.iter().sum();
                prop_assert!((s - 1.0).abs() < 1e-9, "{kind}: {p:?}");
                prop_assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
            }
            prop_assert!(m.predict(&row) < m.n_classes());
        }
    }
}
