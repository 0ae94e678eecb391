pub mod classify;
#[cfg(feature = "live")]
pub mod classify_live;
pub mod defend;
pub mod defend_messages;
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

pub fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}
