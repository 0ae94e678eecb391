//! One CART classification tree grown on binned features with per-node class histograms.

use serde::{Deserialize, Serialize};

use super::binning::{Binned, MAX_BINS};
use crate::rng::Rng;

/// Marks a leaf in [`Node::feature`].
pub(crate) const LEAF: u32 = u32::MAX;

/// A node of a fitted tree. For a split, rows with `x[feature] <= threshold` go to `left`; for a
/// leaf (`feature == LEAF`), `left` is the offset of its class distribution in the tree's values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    pub feature: u32,
    pub threshold: f32,
    pub left: u32,
    pub right: u32,
}

/// How many trees [`Flat::add_leaves`] walks at once.
pub(crate) const LOCKSTEP: usize = 8;

/// How many nodes of a left-child chain one step of [`Flat::add_leaves`] tests.
const RUN: usize = 8;

/// Marks a leaf in the right-child word of [`Flat::nodes`]; the bits below are its
/// distribution's offset.
const FLAT_LEAF: u32 = 1 << 31;

/// A forest's trees laid out for prediction in twelve bytes a node.
///
/// Each tree is stored depth first with every left child right after its parent, so a walk
/// that goes left reads the next node. Histogram rows are mostly zeros and nearly all steps go
/// left (95% on the bundled model's sample windows), so one step tests the next [`RUN`] nodes
/// at once, with no branch between them, and moves to the first that sends the row right (to
/// its right child) or is a leaf (a NaN threshold: sends every row right). A node's right child
/// is beside its test, in the cache line the run read; a right child that is a leaf is only
/// that word (no node of its own: the default model's walks end there half the time, and that
/// last step to another cache line is saved). Leaf distributions are stored once per
/// distinct value (the bundled model's 352,404 leaves have 2,164), small enough to stay in
/// cache. Eight trees are walked at once (a lane that reaches its leaf takes the next tree, and
/// asks for the lines of its next run ahead) so that their memory accesses overlap. Built from
/// trees that passed [`Tree::check`], whose children come after their parents, so every walk
/// ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Flat {
    /// Each node's feature (0 for leaves and the [`RUN`] padding entries at the end), the bits
    /// of its threshold (NaN for those), and its right child (or [`FLAT_LEAF`] and the offset
    /// of a leaf's distribution).
    nodes: Vec<[u32; 3]>,
    /// Distinct leaf class distributions, `n_classes` values each.
    values: Vec<f32>,
    roots: Vec<u32>,
    /// One more than the largest feature tested.
    width: usize,
    n_classes: usize,
}

impl Flat {
    /// `None` if a tree fails [`Tree::check`], a node has two parents, or the forest tests
    /// feature 65,536 or beyond or has more than 2^31 nodes or values.
    pub(crate) fn new(trees: &[Tree], n_classes: usize) -> Option<Flat> {
        let mut f = Flat {
            nodes: Vec::new(),
            values: Vec::new(),
            roots: Vec::with_capacity(trees.len()),
            width: 1,
            n_classes,
        };
        // Distribution (as bits, so equal means identical) -> its offset in `values`.
        let mut seen: std::collections::HashMap<Vec<u32>, u32> = Default::default();
        // (node of the tree, flat index of the parent whose right child it is)
        let mut stack: Vec<(u32, Option<usize>)> = Vec::new();
        for t in trees {
            t.check(n_classes).ok()?;
            let base = f.nodes.len();
            f.roots.push(u32::try_from(base).ok()?);
            stack.push((0, None));
            while let Some((old, parent)) = stack.pop() {
                let me = f.nodes.len();
                // Each node once: a hand-made "tree" sharing subtrees would otherwise grow.
                if me - base >= t.nodes.len() || me >= FLAT_LEAF as usize {
                    return None;
                }
                let n = t.nodes[old as usize];
                if n.feature == LEAF {
                    let start = n.left as usize;
                    let dist = &t.values[start..start + n_classes];
                    let bits: Vec<u32> = dist.iter().map(|v| v.to_bits()).collect();
                    let offset = match seen.get(&bits) {
                        Some(&o) => o,
                        None => {
                            let o = u32::try_from(f.values.len()).ok()?;
                            if o >= FLAT_LEAF {
                                return None;
                            }
                            f.values.extend_from_slice(dist);
                            seen.insert(bits, o);
                            o
                        }
                    };
                    match parent {
                        // A right child that is a leaf lives in its parent's right word only:
                        // the walk ends there, with no step to a node of its own.
                        Some(p) => f.nodes[p][2] = FLAT_LEAF | offset,
                        None => f.nodes.push([0, f32::NAN.to_bits(), FLAT_LEAF | offset]),
                    }
                } else {
                    if let Some(p) = parent {
                        f.nodes[p][2] = me as u32;
                    }
                    if n.feature > u32::from(u16::MAX) {
                        return None;
                    }
                    f.width = f.width.max(n.feature as usize + 1);
                    f.nodes.push([n.feature, n.threshold.to_bits(), 0]);
                    stack.push((n.right, Some(me)));
                    stack.push((n.left, None));
                }
            }
        }
        // A run starting at the last node reads past it (every tree ends with a leaf, which
        // stops the walk first).
        f.nodes.extend([[0, f32::NAN.to_bits(), 0]; RUN]);
        Some(f)
    }

    /// Adds each tree's leaf distribution for `row` to `out`, tree after tree (the order the
    /// sums are made in, so results do not depend on the walk). Missing features count as 0.
    pub(crate) fn add_leaves(&self, row: &[f32], out: &mut [f64]) {
        ROW.with_borrow_mut(|padded| {
            let n = self.width.min(row.len());
            padded[..n].copy_from_slice(&row[..n]);
            padded[n..self.width].iter_mut().for_each(|x| *x = 0.0);
            self.add_leaves_padded(padded, out)
        });
    }

    /// Asks for the cache lines of the run that starts at node `i` (its 96 bytes span two or
    /// three lines) without waiting for them: the lane that will read them comes back only
    /// after the other lanes' steps.
    #[inline(always)]
    fn prefetch_run(&self, i: usize) {
        let p = self.nodes.as_ptr().wrapping_add(i).cast::<u8>();
        for offset in [0, RUN * 12 / 2, RUN * 12 - 1] {
            prefetch(p.wrapping_add(offset));
        }
    }

    fn add_leaves_padded(&self, row: &[f32; 1 << 16], out: &mut [f64]) {
        let k = self.n_classes.min(out.len());
        const GROUP: usize = 256;
        const NONE: usize = usize::MAX;
        let n = self.roots.len();
        let mut base = 0;
        while base < n {
            let end = (base + GROUP).min(n);
            // Each lane walks one tree; a lane whose tree reached its leaf takes the next tree
            // of the group, so the lanes stay busy until the group's last tree. Leaves are
            // noted per tree and added in tree order afterwards.
            let mut leaf_of = [0u32; GROUP];
            let mut tree = [NONE; LOCKSTEP];
            let mut node = [0u32; LOCKSTEP];
            let mut next = base;
            let mut busy = 0;
            for (t, a) in tree.iter_mut().zip(node.iter_mut()) {
                if next < end {
                    *t = next;
                    *a = self.roots[next];
                    next += 1;
                    busy += 1;
                }
            }
            while busy > 0 {
                for l in 0..LOCKSTEP {
                    let t = tree[l];
                    if t == NONE {
                        continue;
                    }
                    let i = node[l] as usize;
                    let run: &[[u32; 3]; RUN] = self.nodes[i..i + RUN].try_into().unwrap();
                    // Bit j: node i + j sends the row right or is a leaf; nodes i..i+j-1 all
                    // send it left, each to the next.
                    let mut right = 0u32;
                    for (j, &[feature, threshold, _]) in run.iter().enumerate() {
                        // Left when x <= threshold, right otherwise (NaN included), as in
                        // Tree::leaf.
                        let x = row[(feature & 0xffff) as usize];
                        let left = x <= f32::from_bits(threshold);
                        right |= u32::from(!left) << j;
                    }
                    if right == 0 {
                        node[l] += RUN as u32;
                        self.prefetch_run(i + RUN);
                        continue;
                    }
                    let r = run[right.trailing_zeros() as usize][2];
                    if r & FLAT_LEAF == 0 {
                        node[l] = r;
                        self.prefetch_run(r as usize);
                        continue;
                    }
                    leaf_of[t - base] = r & !FLAT_LEAF;
                    if next < end {
                        tree[l] = next;
                        node[l] = self.roots[next];
                        self.prefetch_run(node[l] as usize);
                        next += 1;
                    } else {
                        tree[l] = NONE;
                        busy -= 1;
                    }
                }
            }
            for &start in &leaf_of[..end - base] {
                let start = start as usize;
                for (o, &v) in out[..k]
                    .iter_mut()
                    .zip(&self.values[start..start + self.n_classes])
                {
                    *o += f64::from(v);
                }
            }
            base = end;
        }
    }
}

/// Asks for the cache line holding `p`.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: a prefetch is a hint: it reads nothing into the program and cannot fault, whatever
    // the address (a run's last lines may lie past the end of the nodes). SSE is part of every
    // x86-64 processor.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

thread_local! {
    /// A row padded with zeros to the forest's width, indexed by a node's 16-bit feature with
    /// no bounds check (only the first `Flat::width` are written and read).
    static ROW: std::cell::RefCell<Box<[f32; 1 << 16]>> =
        std::cell::RefCell::new(Box::new([0.0; 1 << 16]));
}

/// A fitted tree: nodes in pre-order (children after their parent) and leaf class distributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    pub values: Vec<f32>,
}

impl Tree {
    /// The class distribution of the leaf `row` falls in; empty if the tree is malformed.
    /// (Prediction walks eight trees at once with [`Flat`]; this one-tree walk is what it is
    /// checked against, and what a forest that fails its checks falls back to.)
    pub(crate) fn leaf(&self, row: &[f32], n_classes: usize) -> &[f32] {
        let mut i = 0usize;
        // Bounded walk: a corrupt tree cannot loop forever.
        for _ in 0..=self.nodes.len() {
            match self.step(i, row, n_classes) {
                Ok(next) => i = next,
                Err(values) => return values,
            }
        }
        &[]
    }

    /// The node index the walk of `row` moves to from node `i`: `Ok(next)`, or `Err(leaf)`
    /// at a leaf (its class distribution; empty if the tree is malformed).
    #[inline(always)]
    fn step(&self, i: usize, row: &[f32], n_classes: usize) -> Result<usize, &[f32]> {
        let Some(node) = self.nodes.get(i) else {
            return Err(&[]);
        };
        if node.feature == LEAF {
            let start = node.left as usize;
            return Err(self
                .values
                .get(start..start.saturating_add(n_classes))
                .unwrap_or(&[]));
        }
        let x = row.get(node.feature as usize).copied().unwrap_or(0.0);
        Ok(if x <= node.threshold {
            node.left
        } else {
            node.right
        } as usize)
    }

    /// Checks that children follow parents (so walks terminate) and leaves point at values.
    pub(crate) fn check(&self, n_classes: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("tree with no nodes".into());
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.feature == LEAF {
                let start = n.left as usize;
                if start.saturating_add(n_classes) > self.values.len() {
                    return Err(format!("leaf {i} points past the value table"));
                }
            } else {
                let (l, r) = (n.left as usize, n.right as usize);
                if l <= i || r <= i || l >= self.nodes.len() || r >= self.nodes.len() {
                    return Err(format!("node {i} has children {l}, {r} out of order"));
                }
            }
        }
        Ok(())
    }
}

/// Settings a tree needs, resolved from the forest's hyper-parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeConfig {
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    pub max_features: usize,
    pub bootstrap: bool,
}

struct Task {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    counts: Vec<u64>,
    /// Active features not yet known to be constant in this node (constant in a parent means
    /// constant in every descendant, so they are never looked at again).
    candidates: Vec<u32>,
}

struct Best {
    feature: usize,
    bin: usize,
    proxy: f64,
    left_counts: Vec<u64>,
}

/// Grows one tree. `y` holds class indices `< k`; `features_total` is the number of original
/// columns (for the node's feature draws sklearn counts constant columns too).
///
/// Also returns the tree's impurity-based feature importances (Breiman's mean decrease in
/// impurity, normalised like scikit-learn's `feature_importances_`): per active feature, the
/// weighted Gini decrease of its splits, summing to 1 unless the tree is a single leaf.
pub(crate) fn grow(
    binned: &Binned,
    y: &[usize],
    k: usize,
    cfg: TreeConfig,
    seed: u64,
) -> (Tree, Vec<f64>) {
    let n = binned.n_rows;
    let mut rng = Rng::new(seed);
    // Bootstrap as row weights: a row drawn twice counts twice, a row never drawn is left out,
    // so nodes hold the ~63% distinct rows rather than n duplicated indices.
    let mut weight = vec![0u32; n];
    if cfg.bootstrap {
        for _ in 0..n {
            weight[rng.below(n)] += 1;
        }
    } else {
        weight.iter_mut().for_each(|w| *w = 1);
    }
    let mut idx: Vec<u32> = (0..n as u32).filter(|&i| weight[i as usize] > 0).collect();
    let mut root_counts = vec![0u64; k];
    for &i in &idx {
        root_counts[y[i as usize]] += u64::from(weight[i as usize]);
    }
    let mut tree = Tree {
        nodes: vec![Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
        }],
        values: Vec::new(),
    };
    let mut stack = vec![Task {
        node: 0,
        start: 0,
        end: idx.len(),
        depth: 0,
        counts: root_counts,
        candidates: (0..binned.active.len() as u32).collect(),
    }];
    let mut hist = vec![0u64; MAX_BINS * k];
    let mut hist_rows = vec![0u32; MAX_BINS];
    let mut buf: Vec<u8> = Vec::with_capacity(idx.len());
    let mut importance = vec![0.0f64; binned.active.len()];
    while let Some(mut task) = stack.pop() {
        let rows = task.end - task.start;
        let total: u64 = task.counts.iter().sum();
        let pure = task.counts.iter().filter(|&&c| c > 0).count() <= 1;
        let best = if pure || task.depth >= cfg.max_depth || rows < 2 * cfg.min_samples_leaf {
            None
        } else {
            find_split(
                binned,
                y,
                &weight,
                &idx[task.start..task.end],
                &mut task,
                total,
                cfg,
                &mut rng,
                (&mut hist, &mut hist_rows, &mut buf),
            )
        };
        let Some(best) = best else {
            let offset = tree.values.len() as u32;
            let inv = if total > 0 { 1.0 / total as f64 } else { 0.0 };
            tree.values
                .extend(task.counts.iter().map(|&c| (c as f64 * inv) as f32));
            tree.nodes[task.node] = Node {
                feature: LEAF,
                threshold: 0.0,
                left: offset,
                right: 0,
            };
            continue;
        };
        // Weighted Gini decrease W*g - W_L*g_L - W_R*g_R equals the split's proxy minus the
        // parent's sum of squared counts over its weight.
        let parent: f64 = task
            .counts
            .iter()
            .map(|&c| (c as f64) * (c as f64))
            .sum::<f64>()
            / total as f64;
        importance[best.feature] += (best.proxy - parent).max(0.0);
        // Partition the node's rows: bin <= best.bin first.
        let col = binned.column(best.feature);
        let slice = &mut idx[task.start..task.end];
        let mut split = 0;
        for i in 0..slice.len() {
            if usize::from(col[slice[i] as usize]) <= best.bin {
                slice.swap(i, split);
                split += 1;
            }
        }
        let left = tree.nodes.len();
        let right = left + 1;
        let placeholder = Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
        };
        tree.nodes.push(placeholder);
        tree.nodes.push(placeholder);
        tree.nodes[task.node] = Node {
            feature: binned.active[best.feature],
            threshold: binned.thresholds[best.feature][best.bin],
            left: left as u32,
            right: right as u32,
        };
        let right_counts: Vec<u64> = task
            .counts
            .iter()
            .zip(&best.left_counts)
            .map(|(t, l)| t - l)
            .collect();
        stack.push(Task {
            node: right,
            start: task.start + split,
            end: task.end,
            depth: task.depth + 1,
            counts: right_counts,
            candidates: task.candidates.clone(),
        });
        stack.push(Task {
            node: left,
            start: task.start,
            end: task.start + split,
            depth: task.depth + 1,
            counts: best.left_counts,
            candidates: task.candidates,
        });
    }
    let sum: f64 = importance.iter().sum();
    if sum > 0.0 {
        importance.iter_mut().for_each(|v| *v /= sum);
    }
    (tree, importance)
}

/// Best Gini split of one node over up to `max_features` non-constant features, drawn without
/// replacement; features found constant here are dropped from `task.candidates` and do not count
/// towards `max_features` (scikit-learn's rule, which matters for sparse histograms where most
/// columns are zero in a small node).
#[allow(clippy::too_many_arguments)]
fn find_split(
    binned: &Binned,
    y: &[usize],
    weight: &[u32],
    rows: &[u32],
    task: &mut Task,
    total: u64,
    cfg: TreeConfig,
    rng: &mut Rng,
    (hist, hist_rows, buf): (&mut [u64], &mut [u32], &mut Vec<u8>),
) -> Option<Best> {
    let k = task.counts.len();
    let n_rows = rows.len();
    let min_leaf = cfg.min_samples_leaf;
    let mut best: Option<Best> = None;
    let mut best_proxy = f64::NEG_INFINITY;
    let mut left_counts = vec![0u64; k];
    let cand = &mut task.candidates;
    let mut end = cand.len();
    let mut j = 0;
    let mut visited = 0;
    while visited < cfg.max_features && j < end {
        let r = j + rng.below(end - j);
        cand.swap(j, r);
        let a = cand[j] as usize;
        let col = binned.column(a);
        buf.clear();
        buf.extend(rows.iter().map(|&i| col[i as usize]));
        let (mut lo, mut hi) = (u8::MAX, 0u8);
        for &c in buf.iter() {
            lo = lo.min(c);
            hi = hi.max(c);
        }
        if lo == hi {
            // Constant in this node: move past the live region and draw again.
            end -= 1;
            cand.swap(j, end);
            continue;
        }
        j += 1;
        visited += 1;
        let (lo, hi) = (usize::from(lo), usize::from(hi));
        hist[lo * k..(hi + 1) * k].iter_mut().for_each(|h| *h = 0);
        hist_rows[lo..=hi].iter_mut().for_each(|h| *h = 0);
        for (&c, &i) in buf.iter().zip(rows) {
            let c = usize::from(c);
            let i = i as usize;
            hist[c * k + y[i]] += u64::from(weight[i]);
            hist_rows[c] += 1;
        }
        left_counts.iter_mut().for_each(|v| *v = 0);
        let mut left_w = 0u64;
        let mut left_n = 0usize;
        for bin in lo..hi {
            let h = &hist[bin * k..(bin + 1) * k];
            if hist_rows[bin] == 0 {
                continue;
            }
            for (l, &v) in left_counts.iter_mut().zip(h) {
                *l += v;
                left_w += v;
            }
            left_n += hist_rows[bin] as usize;
            if left_n < min_leaf || n_rows - left_n < min_leaf {
                continue;
            }
            let right_w = total - left_w;
            // Gini proxy (what sklearn maximises): sum_c L_c^2 / |L| + sum_c R_c^2 / |R|.
            let mut sl = 0.0;
            let mut sr = 0.0;
            for (&l, &t) in left_counts.iter().zip(&task.counts) {
                let l = l as f64;
                let r = (t as f64) - l;
                sl += l * l;
                sr += r * r;
            }
            let proxy = sl / left_w as f64 + sr / right_w as f64;
            if proxy > best_proxy {
                best_proxy = proxy;
                best = Some(Best {
                    feature: a,
                    bin,
                    proxy,

                    left_counts: left_counts.clone(),
                });
            }
        }
    }
    cand.truncate(end);
    best
}
