//! Random forest (Breiman, "Random Forests", Machine Learning 45, 2001) of CART trees with Gini
//! splits, grown in parallel on pre-binned features.

mod binning;
mod tree;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{param, LearnError, Result};
use crate::{Classifier, Dataset, MultiLabelDataset};
use binning::Binned;
use tree::{grow, Tree, TreeConfig};

/// How many features each split looks at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MaxFeatures {
    /// `max(1, floor(sqrt(n_features)))`, sklearn's classifier default.
    Sqrt,
    /// `max(1, floor(log2(n_features)))`.
    Log2,
    /// Every feature (bagged trees).
    All,
    /// A fixed count, capped at `n_features`.
    Count(usize),
    /// A fraction of `n_features`, at least one.
    Fraction(f64),
}

impl MaxFeatures {
    fn resolve(self, n_features: usize) -> usize {
        let n = n_features as f64;
        let m = match self {
            Self::Sqrt => n.sqrt().floor() as usize,
            Self::Log2 => n.log2().floor() as usize,
            Self::All => n_features,
            Self::Count(c) => c,
            Self::Fraction(f) => (f * n).floor() as usize,
        };
        m.clamp(1, n_features.max(1))
    }
}

/// Hyper-parameters of [`RandomForest`].
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `n_trees` | `100` | trees averaged; more = smoother probabilities, linear cost | `1..=100_000` |
/// | `max_depth` | `None` | depth cap; `None` grows until leaves are pure | `Some(1..)` or `None` |
/// | `min_samples_leaf` | `1` | fewest distinct training rows in a leaf | `>= 1` |
/// | `max_features` | [`MaxFeatures::Sqrt`] | features tried per split (decorrelates trees) | see [`MaxFeatures`] |
/// | `bootstrap` | `true` | each tree sees a bootstrap sample of the rows | `true`/`false` |
/// | `seed` | `0` | the forest depends on the seed alone, not on thread count | any `u64` |
/// | `n_threads` | `0` | threads for fitting; `0` = rayon's global pool (all cores) | `>= 0` |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RfParams {
    /// Number of trees.
    pub n_trees: usize,
    /// Maximum depth, `None` for unlimited.
    pub max_depth: Option<usize>,
    /// Minimum distinct rows per leaf.
    pub min_samples_leaf: usize,
    /// Features considered per split.
    pub max_features: MaxFeatures,
    /// Bootstrap rows per tree.
    pub bootstrap: bool,
    /// Random seed.
    pub seed: u64,
    /// Worker threads, 0 for all.
    pub n_threads: usize,
}

impl Default for RfParams {
    fn default() -> Self {
        Self {
            n_trees: 100,
            max_depth: None,
            min_samples_leaf: 1,
            max_features: MaxFeatures::Sqrt,
            bootstrap: true,
            seed: 0,
            n_threads: 0,
        }
    }
}

impl RfParams {
    /// Checks the ranges in the table above.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100_000).contains(&self.n_trees) {
            return Err(param(
                "n_trees",
                format!("{} is not in 1..=100000", self.n_trees),
            ));
        }
        if self.max_depth == Some(0) {
            return Err(param("max_depth", "must be at least 1 (or None)"));
        }
        if self.min_samples_leaf == 0 {
            return Err(param("min_samples_leaf", "must be at least 1"));
        }
        match self.max_features {
            MaxFeatures::Count(0) => return Err(param("max_features", "count must be >= 1")),
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(param(
                    "max_features",
                    format!("fraction {f} is not in (0, 1]"),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// Fits a forest on `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<RandomForest> {
        self.validate()?;
        ds.validate()?;
        check_shape(ds.n_rows(), ds.n_features)?;
        self.in_pool(|| {
            let binned = Binned::new(&ds.x, ds.n_rows(), ds.n_features);
            self.fit_binned(&binned, &ds.y, ds.n_classes(), ds.n_features, self.seed)
        })
    }

    /// Runs `f` in a pool of `n_threads` threads (or the global pool for 0).
    fn in_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        if self.n_threads == 0 {
            return Ok(f());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.n_threads)
            .build()
            .map_err(|e| {
                param(
                    "n_threads",
                    format!("cannot start {} threads: {e}", self.n_threads),
                )
            })?;
        Ok(pool.install(f))
    }

    fn fit_binned(
        &self,
        binned: &Binned,
        y: &[usize],
        k: usize,
        n_features: usize,
        seed: u64,
    ) -> RandomForest {
        let cfg = TreeConfig {
            max_depth: self.max_depth.unwrap_or(usize::MAX),
            min_samples_leaf: self.min_samples_leaf,
            max_features: self.max_features.resolve(n_features),
            bootstrap: self.bootstrap,
        };
        // Each tree draws from its own stream derived from (seed, tree index), and collect()
        // keeps tree order, so the forest is the same whatever the thread count.
        let grown: Vec<(Tree, Vec<f64>)> = (0..self.n_trees)
            .into_par_iter()
            .map(|t| {
                let tree_seed = crate::rng::Rng::derive(seed, t as u64).next_u64();
                grow(binned, y, k, cfg, tree_seed)
            })
            .collect();
        // Forest importance: mean over trees of each tree's normalised importances (sklearn).
        let mut importances = vec![0.0f64; n_features];
        for (_, imp) in &grown {
            for (&col, &v) in binned.active.iter().zip(imp) {
                importances[col as usize] += v;
            }
        }
        let sum: f64 = importances.iter().sum();
        if sum > 0.0 {
            importances.iter_mut().for_each(|v| *v /= sum);
        }
        RandomForest {
            n_features,
            n_classes: k,
            trees: grown.into_iter().map(|(t, _)| t).collect(),
            importances,
            flat: Default::default(),
        }
    }

    /// Fits one binary forest per label (binary relevance), binning the features once. The
    /// paper's multi-label random forest (Table IV) is trained this way.
    pub fn fit_multi_label(&self, ds: &MultiLabelDataset) -> Result<MultiLabelForest> {
        self.validate()?;
        ds.validate()?;
        check_shape(ds.n_rows(), ds.n_features)?;
        self.in_pool(|| {
            let binned = Binned::new(&ds.x, ds.n_rows(), ds.n_features);
            let forests = (0..ds.labels.len())
                .map(|l| {
                    let y: Vec<usize> = ds.y.iter().map(|f| usize::from(f[l])).collect();
                    let seed = crate::rng::Rng::derive(self.seed, 1_000_003 + l as u64).next_u64();
                    self.fit_binned(&binned, &y, 2, ds.n_features, seed)
                })
                .collect();
            MultiLabelForest {
                labels: ds.labels.clone(),
                forests,
            }
        })
    }
}

/// Trees index rows and features with `u32` to halve their memory traffic.
fn check_shape(n_rows: usize, n_features: usize) -> Result<()> {
    if n_features == 0 {
        return Err(LearnError::InvalidDataset("zero features per row".into()));
    }
    if n_rows > u32::MAX as usize || n_features >= u32::MAX as usize {
        return Err(LearnError::InvalidDataset(format!(
            "{n_rows} rows x {n_features} features is more than a forest can index (2^32 - 1)"
        )));
    }
    Ok(())
}

/// A fitted random forest; probabilities are the mean of the trees' leaf class frequencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    n_features: usize,
    n_classes: usize,
    trees: Vec<Tree>,
    importances: Vec<f64>,
    /// The trees laid out for prediction, made on the first one (not stored in model files).
    #[serde(skip)]
    flat: crate::Cache<Option<tree::Flat>>,
}

impl RandomForest {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Number of features the model was trained on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Total nodes over all trees (a size measure).
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.nodes.len()).sum()
    }

    /// Impurity-based importance of each feature (mean decrease in Gini, summing to 1; all zero
    /// when no tree split). Shows which histogram bins the forest relies on; like any
    /// impurity-based measure it favours features with many distinct values.
    pub fn feature_importances(&self) -> &[f64] {
        &self.importances
    }

    /// Class probabilities of `row`, the same as [`Classifier::predict_proba_into`] gives, found
    /// the plain way: each tree walked from its root one node at a time, one tree after another.
    /// This is what the faster layout prediction uses is checked against; it is several times
    /// slower.
    pub fn predict_proba_tree_by_tree_into(&self, row: &[f32], out: &mut [f64]) {
        let k = self.n_classes.min(out.len());
        out[..k].iter_mut().for_each(|o| *o = 0.0);
        self.add_leaves_tree_by_tree(row, &mut out[..k]);
        normalise(&mut out[..k]);
    }

    fn add_leaves_tree_by_tree(&self, row: &[f32], out: &mut [f64]) {
        for t in &self.trees {
            for (o, &v) in out.iter_mut().zip(t.leaf(row, self.n_classes)) {
                *o += f64::from(v);
            }
        }
    }

    /// Structural check of a deserialised forest, so prediction cannot misbehave.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        if self.trees.is_empty() || self.n_classes == 0 {
            return Err("forest with no trees or no classes".into());
        }
        if self.importances.len() != self.n_features {
            return Err("feature importances do not match the feature count".into());
        }
        self.trees.iter().try_for_each(|t| t.check(self.n_classes))
    }
}

impl Classifier for RandomForest {
    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn predict_proba_into(&self, row: &[f32], out: &mut [f64]) {
        let k = self.n_classes.min(out.len());
        out[..k].iter_mut().for_each(|o| *o = 0.0);
        let flat = self
            .flat
            .get_or_init(|| tree::Flat::new(&self.trees, self.n_classes));
        match flat {
            Some(flat) => flat.add_leaves(row, &mut out[..k]),
            None => self.add_leaves_tree_by_tree(row, &mut out[..k]),
        }
        normalise(&mut out[..k]);
    }
}

/// Sums of leaf distributions to probabilities; uniform if every sum is 0.
fn normalise(out: &mut [f64]) {
    let s: f64 = out.iter().sum();
    if s > 0.0 {
        out.iter_mut().for_each(|o| *o /= s);
    } else if !out.is_empty() {
        let k = out.len() as f64;
        out.iter_mut().for_each(|o| *o = 1.0 / k);
    }
}

/// Binary-relevance multi-label forest: one two-class forest per label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelForest {
    labels: Vec<String>,
    forests: Vec<RandomForest>,
}

impl MultiLabelForest {
    /// Label names.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Probability of each label being present, written into `out` (one per label).
    pub fn predict_proba_into(&self, row: &[f32], out: &mut [f64]) {
        let mut p = [0.0; 2];
        for (o, f) in out.iter_mut().zip(&self.forests) {
            f.predict_proba_into(row, &mut p);
            *o = p[1];
        }
    }

    /// Labels with probability above one half.
    pub fn predict(&self, row: &[f32]) -> Vec<bool> {
        let mut p = vec![0.0; self.forests.len()];
        self.predict_proba_into(row, &mut p);
        p.iter().map(|&v| v > 0.5).collect()
    }

    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        if self.labels.len() != self.forests.len() {
            return Err("label count differs from forest count".into());
        }
        self.forests.iter().try_for_each(RandomForest::check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xor() -> Dataset {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let (a, b) = ((i & 1) as f32, ((i >> 1) & 1) as f32);
            x.extend([a, b]);
            y.push(usize::from((a != b) as u8));
        }
        Dataset::new(
            x,
            2,
            y,
            vec!["same".into(), "diff".into()],
            (0..40).collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_tree_learns_xor() {
        // No single axis split reduces Gini on XOR; the tree must still split and then separate.
        let ds = xor();
        let rf = RfParams {
            n_trees: 1,
            bootstrap: false,
            max_features: MaxFeatures::All,
            ..Default::default()
        }
        .fit(&ds)
        .unwrap();
        for (a, b) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
            let want = usize::from(a != b);
            assert_eq!(rf.predict(&[a, b]), want, "({a}, {b})");
        }
        let mut p = [0.0; 2];
        rf.predict_proba_into(&[1.0, 0.0], &mut p);
        assert_eq!(p, [0.0, 1.0]);
    }

    /// Asserts that the fast walk gives exactly (bit for bit) the one-tree walks' result.
    fn same_as_tree_by_tree(rf: &RandomForest, row: &[f32]) {
        let k = rf.n_classes();
        let mut want = vec![0.0f64; k];
        rf.predict_proba_tree_by_tree_into(row, &mut want);
        let mut got = vec![0.0f64; k];
        rf.predict_proba_into(row, &mut got);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "row {row:?}");
    }

    /// Every threshold of the forest, the f32 values either side of it, and values no
    /// comparison orders as usual (NaN, both zeros, infinities).
    fn edge_values(rf: &RandomForest) -> Vec<f32> {
        let mut v = vec![
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -1.0,
            1e30,
        ];
        for t in &rf.trees {
            for n in t.nodes.iter().filter(|n| n.feature != tree::LEAF) {
                let t = n.threshold;
                let bits = t.to_bits();
                v.extend([
                    t,
                    f32::from_bits(bits.wrapping_add(1)),
                    f32::from_bits(bits.wrapping_sub(1)),
                ]);
            }
        }
        v
    }

    #[test]
    fn the_fast_walk_gives_the_one_tree_walks_sums() {
        // 21 trees: two full groups of eight lanes and a short one; rows from the training
        // distribution and beyond it (and one with features missing). Half the columns are
        // shifted below zero so that zero is not below every threshold.
        let mut ds = noisy(200, 12, 3);
        for (i, x) in ds.x.iter_mut().enumerate() {
            if i % 2 == 0 {
                *x -= 1.5;
            }
        }
        let rf = RfParams {
            n_trees: 21,
            seed: 9,
            ..Default::default()
        }
        .fit(&ds)
        .unwrap();
        let mut rows: Vec<Vec<f32>> = (0..ds.n_rows()).map(|i| ds.row(i).to_vec()).collect();
        rows.push(vec![9.0; 12]);
        rows.push(vec![-1.0; 12]);
        rows.push(vec![1.0; 5]);
        rows.push(vec![]);
        rows.push(vec![0.5; 20]);
        let edges = edge_values(&rf);
        for (i, &e) in edges.iter().enumerate() {
            rows.push(vec![e; 12]);
            // Each edge value in one column of an otherwise training row.
            let mut r = ds.row(i % ds.n_rows()).to_vec();
            r[i % 12] = e;
            rows.push(r);
        }
        for row in rows {
            same_as_tree_by_tree(&rf, &row);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn the_fast_walk_gives_the_one_tree_walks_sums_on_any_row(
            seed in 0u64..1000,
            picks in proptest::collection::vec(0usize..10_000, 0..16),
            zeros in proptest::collection::vec(proptest::bool::ANY, 16),
        ) {
            let mut ds = noisy(120, 16, seed);
            for (i, x) in ds.x.iter_mut().enumerate() {
                if (i + seed as usize) % 3 == 0 {
                    *x = -*x;
                }
            }
            let rf = RfParams { n_trees: 9, seed, ..Default::default() }.fit(&ds).unwrap();
            let edges = edge_values(&rf);
            // Mostly zeros, like histogram windows, the rest thresholds and their neighbours.
            let row: Vec<f32> = picks
                .iter()
                .zip(&zeros)
                .map(|(&p, &z)| if z { 0.0 } else { edges[p % edges.len()] })
                .collect();
            same_as_tree_by_tree(&rf, &row);
        }
    }

    fn noisy(n: usize, d: usize, seed: u64) -> Dataset {
        let mut rng = crate::rng::Rng::new(seed);
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % 3;
            for j in 0..d {
                let signal = if j % 3 == c { 2 } else { 0 };
                x.push((rng.below(4) + signal * rng.below(2)) as f32);
            }
            y.push(c);
        }
        Dataset::new(
            x,
            d,
            y,
            vec!["a".into(), "b".into(), "c".into()],
            (0..n as u32).collect(),
        )
        .unwrap()
    }

    #[test]
    fn same_seed_same_forest_with_one_or_two_threads() {
        let ds = noisy(300, 30, 1);
        let p = |threads| RfParams {
            n_trees: 12,
            seed: 99,
            n_threads: threads,
            ..Default::default()
        };
        let one = p(1).fit(&ds).unwrap();
        let two = p(2).fit(&ds).unwrap();
        assert_eq!(one, two);
        let other = RfParams { seed: 100, ..p(2) }.fit(&ds).unwrap();
        assert_ne!(one, other);
    }

    #[test]
    fn forest_generalises_and_respects_limits() {
        let train = noisy(600, 30, 2);
        let test = noisy(300, 30, 3);
        let rf = RfParams {
            n_trees: 50,
            ..Default::default()
        }
        .fit(&train)
        .unwrap();
        let acc = (0..test.n_rows())
            .filter(|&i| rf.predict(test.row(i)) == test.y[i])
            .count() as f64
            / test.n_rows() as f64;
        assert!(acc > 0.8, "accuracy {acc}");
        let stump = RfParams {
            n_trees: 3,
            max_depth: Some(1),
            ..Default::default()
        }
        .fit(&train)
        .unwrap();
        assert_eq!(stump.n_nodes(), 9);
        let big_leaves = RfParams {
            n_trees: 3,
            min_samples_leaf: 50,
            ..Default::default()
        }
        .fit(&train)
        .unwrap();
        assert!(big_leaves.n_nodes() < rf.n_nodes() / 50 * 3);
        assert!(rf.check().is_ok());
        let imp = rf.feature_importances();
        assert_eq!(imp.len(), 30);
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn importances_find_the_informative_column() {
        // Column 1 decides the class; columns 0 and 2 are noise.
        let mut rng = crate::rng::Rng::new(8);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..400 {
            let c = i % 2;
            x.extend([
                rng.below(5) as f32,
                (c * 3 + rng.below(3)) as f32,
                rng.below(5) as f32,
            ]);
            y.push(c);
        }
        let ds = Dataset::new(x, 3, y, vec!["a".into(), "b".into()], (0..400).collect()).unwrap();
        let rf = RfParams {
            n_trees: 20,
            ..Default::default()
        }
        .fit(&ds)
        .unwrap();
        let imp = rf.feature_importances();
        assert!(imp[1] > 0.9, "{imp:?}");
    }

    #[test]
    fn multi_label_forest_learns_each_label() {
        let base = noisy(300, 12, 4);
        let y: Vec<Vec<bool>> = base.y.iter().map(|&c| vec![c == 0, c != 1]).collect();
        let ds = MultiLabelDataset::new(
            base.x.clone(),
            12,
            y.clone(),
            vec!["web".into(), "video".into()],
            base.groups.clone(),
        )
        .unwrap();
        let m = RfParams {
            n_trees: 20,
            ..Default::default()
        }
        .fit_multi_label(&ds)
        .unwrap();
        let hits = (0..ds.n_rows())
            .filter(|&i| m.predict(ds.row(i)) == y[i])
            .count();
        assert!(hits > 290, "{hits}");
        assert!(m.check().is_ok());
    }

    #[test]
    fn rejects_bad_params() {
        assert!(RfParams {
            n_trees: 0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(RfParams {
            max_depth: Some(0),
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(RfParams {
            max_features: MaxFeatures::Fraction(1.5),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
