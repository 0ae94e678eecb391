//! An owned view of one window's histogram, for plots and reports.

use serde::{Deserialize, Serialize};

/// The unit of an axis, so that a plot can label ticks ("1ms", "-1440").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeUnit {
    /// Bytes (packet or burst size, signed by direction).
    Bytes,
    /// Seconds.
    Seconds,
}

/// A 2-D histogram of raw packet (or burst) counts with its bin edges.
///
/// `counts[x * ny + y]` is the count of bin `x` of the x axis and bin `y` of the y axis, the
/// same order as the features (before their `ln(1 + count)` transform). Edges ascend; there are
/// `nx + 1` x edges and `ny + 1` y edges. Bins are drawn with equal width whatever their scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hist2D {
    /// Feature-space name of this histogram (`size-iat` or `burst`).
    pub name: String,
    /// `nx + 1` ascending x edges, in `x_unit`.
    pub x_edges: Vec<f64>,
    /// `ny + 1` ascending y edges, in `y_unit`.
    pub y_edges: Vec<f64>,
    /// EdgeUnit of the x edges.
    pub x_unit: EdgeUnit,
    /// EdgeUnit of the y edges.
    pub y_unit: EdgeUnit,
    /// `nx * ny` counts, x-major.
    pub counts: Vec<u32>,
}

impl Hist2D {
    /// Number of x bins.
    pub fn nx(&self) -> usize {
        self.x_edges.len().saturating_sub(1)
    }

    /// Number of y bins.
    pub fn ny(&self) -> usize {
        self.y_edges.len().saturating_sub(1)
    }

    /// Count of bin (`x`, `y`); 0 outside the histogram.
    pub fn count(&self, x: usize, y: usize) -> u32 {
        if x >= self.nx() || y >= self.ny() {
            return 0;
        }
        self.counts.get(x * self.ny() + y).copied().unwrap_or(0)
    }

    /// Sum of all counts.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Largest count of any bin.
    pub fn max_count(&self) -> u32 {
        self.counts.iter().copied().max().unwrap_or(0)
    }
}
