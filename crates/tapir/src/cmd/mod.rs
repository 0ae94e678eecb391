pub mod classify;
#[cfg(feature = "live")]
pub mod classify_live;
pub mod defend;
pub mod defend_messages;
pub mod eval;
pub mod experiment;
pub mod extract;
#[cfg(feature = "live")]
pub mod extract_live;
pub mod flows;
#[cfg(feature = "live")]
pub mod flows_live;
#[cfg(feature = "parquet")]
pub mod flows_parquet;
pub mod inspect;
#[cfg(feature = "live")]
pub mod live;
pub mod mail;
pub mod sequence;
pub mod timeline;
pub mod train;
pub mod volume;
pub mod watch;

pub fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// Refuses the flags of a live capture without `--live`, and `--live` in a build without the
/// `live` feature.
pub fn check_live(live: Option<&str>, capture: &crate::cli::LiveArgs) -> anyhow::Result<()> {
    if let (None, Some(flag)) = (live, capture.first_given()) {
        return Err(crate::settings::usage(format!(
            "{flag} is a flag of live capture: give --live IFACE"
        )));
    }
    #[cfg(not(feature = "live"))]
    if let Some(iface) = live {
        anyhow::bail!(
            "--live {iface}: this tapir was built without live capture; build it with \
             `cargo build --release --features live` (needs libpcap, e.g. Debian's libpcap-dev)"
        );
    }
    Ok(())
}
