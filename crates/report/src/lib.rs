//! tapir-report: what tapir shows people. Heat maps of a window's histograms like the paper's
//! Figures 1–2 (`seeds/001`, §III), as SVG or as PNG with text drawn from an embedded 8x8 bitmap
//! font (so no system font library is needed), and aligned text tables for the command line.
//!
//! ```
//! use tapir_capture::{Direction, Timestamp, TracePacket};
//! use tapir_features::{Extractor, FeatureConfig, FeatureSpace};
//!
//! let window: Vec<TracePacket> = (0..64i64)
//!     .map(|i| TracePacket::new(Timestamp(i * 20_000_000), 180, Direction::Up))
//!     .collect();
//! let ex = Extractor::new(&FeatureConfig::default())?;
//! let h = &ex.histograms(FeatureSpace::SizeIat, &window)[0];
//! let svg = tapir_report::histogram_svg(h, "VoIP window", "packet size (bytes)", "IAT");
//! assert!(svg.contains("VoIP window"));
//! let png = tapir_report::histogram_png(h, "VoIP window", "packet size (bytes)", "IAT")?;
//! assert_eq!(&png[1..4], b"PNG");
//!
//! let t = tapir_report::text_table(&["model", "accuracy"], &[vec!["rf".into(), "96.77%".into()]]);
//! assert_eq!(t, "model  accuracy\n-----  --------\nrf       96.77%\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod chart;
mod colour;
mod error;
mod heatmap;
pub mod html;
mod raster;
mod scene;
mod svg;
mod table;
mod text;

pub use error::ReportError;
pub use table::text_table;
use tapir_features::Hist2D;
pub use text::{csv_field, xml_escape};

/// The heat map of `h` as a standalone SVG document: bins coloured by `ln(1 + count)`, empty
/// bins light grey, tick labels at bin edges, axis labels, a colour bar and `title`.
pub fn histogram_svg(h: &Hist2D, title: &str, x_label: &str, y_label: &str) -> String {
    svg::render_svg(&heatmap::layout(h, title, x_label, y_label))
}

/// The same heat map as [`histogram_svg`], as an 800 x 580 RGB PNG with all text rasterised
/// from the embedded font (ASCII and Latin-1; other characters show as `?`).
pub fn histogram_png(
    h: &Hist2D,
    title: &str,
    x_label: &str,
    y_label: &str,
) -> Result<Vec<u8>, ReportError> {
    raster::render_png(&heatmap::layout(h, title, x_label, y_label))
}
