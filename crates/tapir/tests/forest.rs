//! The bundled default model (a random forest) gives, on real windows, exactly the
//! probabilities of walking its trees one node at a time: the layout prediction uses (see
//! tapir-learn's forest) changes speed, not results.

mod common;

use common::{repo, tapir, temp_dir};
use std::path::Path;

use tapir_learn::{read_model_file, Classifier, Model, ModelFile};

#[test]
fn the_default_model_on_sample_windows_gives_the_plain_tree_walks_probabilities() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("rows");
    let rows = dir.join("burst.csv");
    let o = tapir(&[
        "extract",
        &repo("data/sample/plain"),
        "--features",
        "burst",
        "-o",
        rows.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mf: ModelFile<Model, serde_json::Value> =
        read_model_file(&root.join("models/default.tapir")).unwrap();
    let Model::Rf(rf) = &mf.model else {
        panic!("the default model is not a random forest")
    };
    let d = rf.n_features();
    let text = std::fs::read_to_string(&rows).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let mut windows = 0;
    let (mut got, mut want) = (vec![0.0; rf.n_classes()], vec![0.0; rf.n_classes()]);
    for line in text.lines().skip(1) {
        // The unit column may be quoted with commas inside; features are the last d fields.
        let mut row: Vec<f32> = line
            .rsplitn(d + 1, ',')
            .take(d)
            .map(|f| f.parse().unwrap())
            .collect();
        row.reverse();
        assert_eq!(row.len(), d);
        rf.predict_proba_into(&row, &mut got);
        rf.predict_proba_tree_by_tree_into(&row, &mut want);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "window {windows}");
        windows += 1;
    }
    // Every window of the sample's plain captures (1,636 at this writing).
    assert!(windows > 1000, "{windows} windows");
}
