//! Precomputed bin edges and a fast, exact value-to-bin lookup.
//!
//! Every value binned is a whole number (bytes or nanoseconds) and every edge is rounded to one,
//! so lookups compare integers: the result always agrees with the edges reported in
//! [`crate::Hist2D`] and `docs/features.md`. The lookup first guesses the bin (a multiply on
//! linear axes; on log axes a table indexed by the value's highest set bit, which avoids a
//! `log2` call per packet) and then steps to the exact bin.

use crate::config::{Axis, Scale, MAX_BINS};
use crate::FeatureError;

#[derive(Clone, Debug)]
pub(crate) struct Bins {
    scale: Scale,
    /// Number of bins of the whole axis.
    n: usize,
    /// Number of edges searched: `n + 1`, or `n / 2 + 1` magnitude edges for `SignedLog`.
    searched: usize,
    /// Ascending edges in internal units (bytes or nanoseconds).
    edges: [i64; MAX_BINS + 1],
    /// The edges as searched: the top edge and everything after it are `i64::MAX`, so values
    /// above the axis stay in the last bin and the search needs no bounds tests.
    lookup: [i64; MAX_BINS + 2],
    /// Linear axes: guess = (x - origin) * inv_step.
    origin: f64,
    inv_step: f64,
    /// Log axes: `start[4j + q]` is the bin holding (4 + q) * 2^(j-2), the lower end of quarter
    /// `q` of the octave [2^j, 2^(j+1)), so a lower bound for any x in that quarter.
    start: [u8; 256],
    /// Linear axes spanning at most [`DIRECT_SPAN`] units: the bin of every whole value from
    /// the lowest edge up to the top edge, read off the search itself, so that a packet size
    /// is one load (below the lowest edge is bin 0, from the top edge up the last).
    direct: Option<Box<[u8]>>,
}

/// Widest linear axis given a direct table: 64 KiB of it (the default size axis, 3,072 bytes
/// wide, takes 3 KiB).
const DIRECT_SPAN: i64 = 1 << 16;

impl Bins {
    /// `unit` converts the axis' user unit into the internal one (1 for bytes, 1e9 for seconds
    /// to nanoseconds). The axis must already be validated.
    pub(crate) fn new(axis: &Axis, unit: f64, field: &'static str) -> Result<Self, FeatureError> {
        let (lo, hi) = (axis.min * unit, axis.max * unit);
        let searched_bins = match axis.scale {
            Scale::SignedLog => axis.bins / 2,
            Scale::Linear | Scale::Log => axis.bins,
        };
        let mut fedges = [0.0f64; MAX_BINS + 1];
        let (origin, inv_step) = match axis.scale {
            Scale::Linear => {
                let step = (hi - lo) / searched_bins as f64;
                for (k, e) in fedges.iter_mut().take(searched_bins + 1).enumerate() {
                    *e = (lo + step * k as f64).round();
                }
                (lo, 1.0 / step)
            }
            Scale::Log | Scale::SignedLog => {
                // Via log2/exp2 so that power-of-two axes get exact edges.
                let (l0, l1) = (lo.log2(), hi.log2());
                let step = (l1 - l0) / searched_bins as f64;
                for (k, e) in fedges.iter_mut().take(searched_bins + 1).enumerate() {
                    *e = (l0 + step * k as f64).exp2().round();
                }
                (0.0, 0.0)
            }
        };
        let used = &fedges[..=searched_bins];
        let what = if unit == 1.0 { "byte" } else { "nanosecond" };
        // 2^62: far beyond any size or duration, and safely inside i64.
        const LIMIT: f64 = 4.611_686_018_427_388e18;
        if !used.iter().all(|e| e.is_finite() && e.abs() < LIMIT) {
            return Err(FeatureError::InvalidConfig {
                field,
                reason: format!("has edges beyond 2^62 {what}s"),
            });
        }
        if used.windows(2).any(|w| w[0] >= w[1]) {
            return Err(FeatureError::InvalidConfig {
                field,
                reason: format!(
                    "has bins narrower than one {what}: rounded edges {used:?} do not increase"
                ),
            });
        }
        let mut edges = [0i64; MAX_BINS + 1];
        for (e, f) in edges.iter_mut().zip(used) {
            *e = *f as i64;
        }
        let last = searched_bins - 1;
        let mut lookup = [i64::MAX; MAX_BINS + 2];
        lookup[..=last].copy_from_slice(&edges[..=last]);
        let mut start = [0u8; 256];
        for (i, s) in start.iter_mut().enumerate() {
            // Compare 4e with 4L = (4 + q) << j to stay exact for j < 2.
            let four_l = (4 + (i as i128 & 3)) << (i >> 2);
            let k = edges[..=searched_bins]
                .iter()
                .take_while(|&&e| 4 * i128::from(e) <= four_l)
                .count()
                .saturating_sub(1)
                .min(last);
            // k < MAX_BINS = 128 fits in a byte.
            *s = k as u8;
        }
        let mut bins = Bins {
            scale: axis.scale,
            n: axis.bins,
            searched: searched_bins + 1,
            edges,
            lookup,
            origin,
            inv_step,
            start,
            direct: None,
        };
        let (lo, hi) = (edges[0], edges[searched_bins]);
        if axis.scale == Scale::Linear && hi - lo <= DIRECT_SPAN {
            // Bins are at most MAX_BINS = 128: each fits in a byte.
            bins.direct = Some((lo..hi).map(|x| bins.search(x) as u8).collect());
        }
        Ok(bins)
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Bin of `x` among the searched edges; below the first edge gives 0, at or above the last
    /// gives the last bin.
    #[inline(always)]
    fn search(&self, x: i64) -> usize {
        let e = &self.lookup;
        let last = self.searched - 2;
        // i64::MAX is the sentinel; no real value reaches it, but keep the loop finite.
        let x = x.min(i64::MAX - 1);
        if x < e[0] {
            return 0;
        }
        let mut k = match self.scale {
            // `as usize` saturates, so a huge or negative guess is merely clamped.
            Scale::Linear => (((x as f64 - self.origin) * self.inv_step) as usize).min(last),
            Scale::Log | Scale::SignedLog if x > 0 => {
                let j = 63 - x.leading_zeros();
                let q = if j >= 2 { x >> (j - 2) } else { x << (2 - j) } & 3;
                usize::from(self.start[((j << 2) as usize | q as usize) & 255])
            }
            Scale::Log | Scale::SignedLog => 0,
        };
        // The guess is exact or one bin off for any sensible axis (float rounding on linear
        // axes; at most one edge per quarter octave on log ones), so one branch-free step up
        // fixes the common case without a mispredicted branch; the loops handle the rest and
        // are almost never taken. `e[k + 1]` with k <= last < MAX_BINS is in bounds, and
        // `e[last + 1] = i64::MAX` stops the upward loop at the last bin; `x >= e[0]` stops
        // the downward one at bin 0.
        k += usize::from(x >= e[(k + 1).min(MAX_BINS)]);
        while x >= e[(k + 1).min(MAX_BINS)] {
            k += 1;
        }
        while k > 0 && x < e[k.min(MAX_BINS)] {
            k -= 1;
        }
        k
    }

    /// Bin index of `x` on the whole axis.
    #[inline(always)]
    pub(crate) fn bin(&self, x: i64) -> usize {
        if let Some(t) = &self.direct {
            let lo = self.edges[0];
            return match t.get(x.wrapping_sub(lo) as u64 as usize) {
                Some(&k) if x >= lo => usize::from(k),
                _ if x < lo => 0,
                _ => self.searched - 2,
            };
        }
        match self.scale {
            Scale::Linear | Scale::Log => self.search(x),
            Scale::SignedLog => {
                let half = self.n / 2;
                let k = self.search(x.saturating_abs());
                if x < 0 {
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
        let used = self.edges[..self.searched].iter().map(|&e| e as f64);
        match self.scale {
            Scale::Linear | Scale::Log => used.collect(),
            Scale::SignedLog => {
                let mags: Vec<f64> = used.skip(1).collect();
                let mut v: Vec<f64> = mags.iter().rev().map(|e| -e).collect();
                v.push(0.0);
                v.extend_from_slice(&mags);
                v
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FeatureConfig;

    /// The direct table of a linear axis agrees with the search at every value it covers and
    /// on both sides of it, on axes with odd and even spans.
    #[test]
    fn direct_table_matches_search() {
        for axis in [
            Axis::new(Scale::Linear, -1536.0, 1536.0, 32),
            Axis::new(Scale::Linear, 0.0, 1500.0, 7),
            Axis::new(Scale::Linear, -100.0, 413.0, 128),
            Axis::new(Scale::Linear, 40.0, 65_535.0, 3),
        ] {
            let b = Bins::new(&axis, 1.0, "x").unwrap();
            let t = b
                .direct
                .as_ref()
                .expect("a narrow linear axis has a direct table");
            let (lo, hi) = (b.edges[0], b.edges[b.searched - 1]);
            assert_eq!(t.len() as i64, hi - lo);
            let probe = (lo - 3000..hi + 3000).chain([
                i64::MIN,
                i64::MIN + 1,
                -(1 << 62),
                1 << 62,
                i64::MAX - 1,
                i64::MAX,
            ]);
            for x in probe {
                assert_eq!(b.bin(x), b.search(x), "{axis:?} at {x}");
            }
        }
        let wide = Bins::new(&Axis::new(Scale::Linear, 0.0, 1e6, 32), 1.0, "x").unwrap();
        assert!(wide.direct.is_none());
        let log = Bins::new(&Axis::new(Scale::Log, 1e-6, 100.0, 32), 1e9, "t").unwrap();
        assert!(log.direct.is_none());
    }

    #[test]
    fn linear_edges_are_half_open() {
        let b = Bins::new(&Axis::new(Scale::Linear, -1536.0, 1536.0, 32), 1.0, "x").unwrap();
        assert_eq!(b.bin(-1536), 0);
        assert_eq!(b.bin(-1441), 0);
        assert_eq!(b.bin(-1440), 1);
        assert_eq!(b.bin(-1), 15);
        assert_eq!(b.bin(0), 16);
        assert_eq!(b.bin(95), 16);
        assert_eq!(b.bin(96), 17);
        assert_eq!(b.bin(1500), 31);
        assert_eq!(b.bin(9000), 31);
        assert_eq!(b.bin(-9000), 0);
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
        assert_eq!(b.bin(0), 0);
        assert_eq!(b.bin(999), 0);
        assert_eq!(b.bin(1000), 0);
        assert_eq!(b.bin(9_999), 3);
        assert_eq!(b.bin(10_000), 4);
        assert_eq!(b.bin(100_000_000_000), 31);
        assert_eq!(b.bin(1_000_000_000_000_000), 31);
        // Every edge starts its own bin, and the value just below it belongs to the previous.
        for (k, &edge) in e.iter().enumerate().take(32).skip(1) {
            assert_eq!(b.bin(edge as i64), k);
            assert_eq!(b.bin(edge as i64 - 1), k - 1);
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
        assert_eq!(b.bin(1), 16);
        assert_eq!(b.bin(63), 16);
        assert_eq!(b.bin(64), 17);
        assert_eq!(b.bin(-63), 15);
        assert_eq!(b.bin(-64), 14);
        assert_eq!(b.bin(3_000_000), 31);
        assert_eq!(b.bin(-3_000_000), 0);
        let e = b.edges();
        assert_eq!(e.len(), 33);
        assert_eq!(e[16], 0.0);
        assert_eq!(e[17], 64.0);
        assert_eq!(e[15], -64.0);
        assert_eq!(e[32], 2_097_152.0);
        assert_eq!(e[0], -2_097_152.0);
    }

    #[test]
    fn guess_table_never_overshoots() {
        // The default axes and odd ones (fine log bins, a sub-unit minimum, a wide linear one),
        // compared with a scan.
        let default = FeatureConfig::default();
        for axis in [
            default.iat_axis,
            default.surge_axis,
            default.burst_axis,
            Axis::new(Scale::Log, 1e-6, 1e-3, 128),
            Axis::new(Scale::Log, 4e-10, 7e-9, 3),
            Axis::new(Scale::SignedLog, 1e-6, 1.0, 40),
            Axis::new(Scale::Linear, -3e-9, 1e-3, 7),
        ] {
            let b = Bins::new(&axis, 1e9, "t").unwrap();
            let e = &b.edges[..b.searched];
            assert_eq!(b.lookup[b.searched - 1], i64::MAX);
            let scan = |x: i64| e[1..e.len() - 1].iter().take_while(|&&v| v <= x).count();
            let mut rng = 0x9e37_79b9_7f4a_7c15u64;
            let mut random = move || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            // Around every power of two and its quarters, every edge, and seeded values of
            // every magnitude.
            for x in (-5..5000)
                .chain((0..63).flat_map(|j| {
                    let p = 1i64 << j;
                    [p - 1, p, p + 1, p | p >> 1, p | p >> 2, p | p >> 1 | p >> 2]
                }))
                .chain(e.iter().flat_map(|&v| [v - 1, v, v + 1]))
                .chain((0..20_000).map(|_| (random() >> (random() % 64)) as i64))
                .chain([i64::MAX, i64::MAX - 1, i64::MIN])
            {
                let want = scan(x.saturating_abs());
                let got = b.search(x.saturating_abs());
                assert_eq!(got, want, "{axis:?} x={x}");
            }
        }
    }

    #[test]
    fn too_fine_bins_are_rejected() {
        assert!(Bins::new(&Axis::new(Scale::Linear, 0.0, 10.0, 64), 1.0, "x").is_err());
        assert!(Bins::new(&Axis::new(Scale::Log, 1.0, 1e12, 8), 1e9, "x").is_err());
    }
}
