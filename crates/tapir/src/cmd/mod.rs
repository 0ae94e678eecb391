pub mod classify;
pub mod eval;
pub mod experiment;
pub mod extract;
pub mod flows;
#[cfg(feature = "parquet")]
pub mod flows_parquet;
pub mod inspect;
pub mod mail;
pub mod sequence;
pub mod timeline;
pub mod train;
pub mod volume;
pub mod watch;

use tapir_features::{Extractor, FeatureConfig, FeatureSpace};

/// Columns of each feature space inside a `combined` row (combined = size-iat then burst).
pub fn space_columns(
    cfg: &FeatureConfig,
    space: FeatureSpace,
) -> anyhow::Result<std::ops::Range<usize>> {
    let ex = Extractor::new(cfg)?;
    let si = ex.dim(FeatureSpace::SizeIat);
    let total = ex.dim(FeatureSpace::Combined);
    Ok(match space {
        FeatureSpace::SizeIat => 0..si,
        FeatureSpace::Burst => si..total,
        FeatureSpace::Combined => 0..total,
    })
}

pub fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}
