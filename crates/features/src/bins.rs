//! Precomputed bin edges and a fast, exact value-to-bin lookup.
//!
//! The lookup first guesses the bin from the axis formula (one `log2` for geometric axes), then
//! corrects the guess against the stored, rounded edges, so the result always agrees with the
//! edges reported in [`crate::Hist2D`] and `docs/features.md`, whatever floating-point rounding
//! did to the guess.

use crate::config::{Axis, Scale, MAX_BINS};
use crate::FeatureError;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Bins {
    scale: Scale,
    /// Number of bins of the whole axis.
    n: usize,
    /// Number of edges searched: `n + 1`, or `n / 2 + 1` magnitude edges for `SignedLog`.
    searched: usize,
    /// Ascending edges in internal units (bytes or nanoseconds), whole numbers.
    edges: [f64; MAX_BINS + 1],
    /// Guess = (t(x) - origin) * inv_step, with t = identity or log2.
    origin: f64,
    inv_step: f64,
}

impl Bins {
    /// `unit` converts the axis' user unit into the internal one (1 for bytes, 1e9 for seconds
    /// to nanoseconds). The axis must already be validated.
    pub(crate) fn new(axis: &Axis, unit: f64, field: &'static str) -> Result<Self, FeatureError> {
        let (lo, hi) = (axis.min * unit, axis.max * unit);
        let searched_bins = match axis.scale {
            Scale::SignedLog => axis.bins / 2,
            Scale::Linear | Scale::Log => axis.bins,
        };
        let mut edges = [0.0; MAX_BINS + 1];
        let (origin, inv_step) = match axis.scale {
            Scale::Linear => {
                let step = (hi - lo) / searched_bins as f64;
                for (k, e) in edges.iter_mut().take(searched_bins + 1).enumerate() {
                    *e = (lo + step * k as f64).round();
                }
                (lo, 1.0 / step)
            }
            Scale::Log | Scale::SignedLog => {
                let (l0, l1) = (lo.log2(), hi.log2());
                let step = (l1 - l0) / searched_bins as f64;
                for (k, e) in edges.iter_mut().take(searched_bins + 1).enumerate() {
                    *e = (l0 + step * k as f64).exp2().round();
                }
                (l0, 1.0 / step)
            }
        };
        let used = &edges[..=searched_bins];
        if used.windows(2).any(|w| w[0] >= w[1]) || !used.iter().all(|e| e.is_finite()) {
            return Err(FeatureError::InvalidConfig {
                field,
                reason: format!(
                    "has bins narrower than one {}: rounded edges {:?} do not increase",
                    if unit == 1.0 { "byte" } else { "nanosecond" },
                    used
                ),
            });
        }
        Ok(Bins {
            scale: axis.scale,
            n: axis.bins,
            searched: searched_bins + 1,
            edges,
            origin,
            inv_step,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Bin of `x` among the searched edges; below the first edge gives 0, at or above the last
    /// gives the last bin. NaN cannot occur (inputs are converted integers) but would give 0.
    #[inline]
    fn search(&self, x: f64) -> usize {
        let last = self.searched - 2;
        let edges = &self.edges[..self.searched];
        // `x < edges[0]` or NaN.
        if x.partial_cmp(&edges[0]).is_none_or(|o| o.is_lt()) {
            return 0;
        }
        let t = match self.scale {
            Scale::Linear => x,
            Scale::Log | Scale::SignedLog => x.log2(),
        };
        // `as usize` saturates, so a huge or negative guess is merely clamped.
        let mut k = (((t - self.origin) * self.inv_step) as usize).min(last);
        while k > 0 && x < edges[k] {
            k -= 1;
        }
        while k < last && x >= edges[k + 1] {
            k += 1;
        }
        k
    }

    /// Bin index of `x` on the whole axis.
    #[inline]
    pub(crate) fn bin(&self, x: f64) -> usize {
        match self.scale {
            Scale::Linear | Scale::Log => self.search(x),
            Scale::SignedLog => {
                let half = self.n / 2;
                let k = self.search(x.abs());
                if x < 0.0 {
                    half - 1 - k
                } else {
                    half + k
                }
            }
        }
    }

    /// The `n + 1` edges of the whole axis in internal units. For `SignedLog` the innermost
    /// magnitude edge is replaced by 0 because values below it fall in the innermost bins.
    pub(crate) fn edges(&self) -> Vec<f64> {
        let used = &self.edges[..self.searched];
        match self.scale {
            Scale::Linear | Scale::Log => used.to_vec(),
            Scale::SignedLog => {
                let mut v: Vec<f64> = used[1..].iter().rev().map(|e| -e).collect();
                v.push(0.0);
                v.extend_from_slice(&used[1..]);
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_edges_are_half_open() {
        let b = Bins::new(&Axis::new(Scale::Linear, -1536.0, 1536.0, 32), 1.0, "x").unwrap();
        assert_eq!(b.bin(-1536.0), 0);
        assert_eq!(b.bin(-1441.0), 0);
        assert_eq!(b.bin(-1440.0), 1);
        assert_eq!(b.bin(-1.0), 15);
        assert_eq!(b.bin(0.0), 16);
        assert_eq!(b.bin(95.0), 16);
        assert_eq!(b.bin(96.0), 17);
        assert_eq!(b.bin(1500.0), 31);
        assert_eq!(b.bin(9000.0), 31);
        assert_eq!(b.bin(-9000.0), 0);
        assert_eq!(b.edges().len(), 33);
        assert_eq!(b.edges()[1], -1440.0);
    }

    #[test]
    fn log_edges_are_exact_decades() {
        // 1 µs .. 100 s in ns, 4 bins per decade: edge 4k is 10^(3+k) ns exactly.
        let b = Bins::new(&Axis::new(Scale::Log, 1e-6, 100.0, 32), 1e9, "t").unwrap();
        let e = b.edges();
        for k in 0..=8 {
            assert_eq!(e[4 * k], 10f64.powi(3 + k as i32), "edge {}", 4 * k);
        }
        assert_eq!(b.bin(0.0), 0);
        assert_eq!(b.bin(999.0), 0);
        assert_eq!(b.bin(1000.0), 0);
        assert_eq!(b.bin(9_999.0), 3);
        assert_eq!(b.bin(10_000.0), 4);
        assert_eq!(b.bin(1e11), 31);
        assert_eq!(b.bin(1e15), 31);
        // Every edge starts its own bin, and the value just below it belongs to the previous.
        for (k, &edge) in e.iter().enumerate().take(32).skip(1) {
            assert_eq!(b.bin(edge), k);
            assert_eq!(b.bin(edge - 1.0), k - 1);
        }
    }

    #[test]
    fn signed_log_mirrors() {
        let b = Bins::new(
            &Axis::new(Scale::SignedLog, 32.0, 2_097_152.0, 32),
            1.0,
            "b",
        )
        .unwrap();
        assert_eq!(b.bin(1.0), 16);
        assert_eq!(b.bin(63.0), 16);
        assert_eq!(b.bin(64.0), 17);
        assert_eq!(b.bin(-63.0), 15);
        assert_eq!(b.bin(-64.0), 14);
        assert_eq!(b.bin(3_000_000.0), 31);
        assert_eq!(b.bin(-3_000_000.0), 0);
        let e = b.edges();
        assert_eq!(e.len(), 33);
        assert_eq!(e[16], 0.0);
        assert_eq!(e[17], 64.0);
        assert_eq!(e[15], -64.0);
        assert_eq!(e[32], 2_097_152.0);
        assert_eq!(e[0], -2_097_152.0);
    }

    #[test]
    fn too_fine_bins_are_rejected() {
        assert!(Bins::new(&Axis::new(Scale::Linear, 0.0, 10.0, 64), 1.0, "x").is_err());
    }
}
