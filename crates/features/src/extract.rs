//! Turning one window of packets into the paper's histograms (§III).

use crate::bins::Bins;
use crate::config::{AckFilter, FeatureConfig, MAX_BINS};
use crate::hist::{EdgeUnit, Hist2D};
use crate::{FeatureError, FeatureSpace};
use std::sync::OnceLock;
use tapir_capture::{Direction, TracePacket};

/// Nanoseconds per second: time axes are configured in seconds, binned in nanoseconds.
const NS: f64 = 1e9;

/// A validated [`FeatureConfig`] with its bin edges precomputed.
///
/// Build one per configuration and reuse it: [`Extractor::extract_into`] then performs no
/// allocation and takes `&self`, so one extractor can serve many threads.
#[derive(Clone, Debug)]
pub struct Extractor {
    cfg: FeatureConfig,
    size: Bins,
    iat: Bins,
    burst: Bins,
    surge: Bins,
    ack: AckFilter,
    surge_gap: i64,
}

impl Extractor {
    /// Validates `cfg` and precomputes its edges.
    pub fn new(cfg: &FeatureConfig) -> Result<Self, FeatureError> {
        cfg.validate()?;
        Ok(Extractor {
            cfg: *cfg,
            size: Bins::new(&cfg.size_axis, 1.0, "size_axis")?,
            iat: Bins::new(&cfg.iat_axis, NS, "iat_axis")?,
            burst: Bins::new(&cfg.burst_axis, 1.0, "burst_axis")?,
            surge: Bins::new(&cfg.surge_axis, NS, "surge_axis")?,
            ack: cfg.ack,
            // Validated to fit.
            surge_gap: i64::try_from(cfg.surge_gap_ns).unwrap_or(i64::MAX),
        })
    }

    /// The configuration this extractor was built from.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// Length of the feature vector of `space`.
    pub fn dim(&self, space: FeatureSpace) -> usize {
        dim(space, &self.cfg)
    }

    /// Writes the features of `window` into `out`, which must hold exactly
    /// [`Extractor::dim`] values. Each value is `ln(1 + count)` of one histogram bin, in the
    /// order of [`Extractor::feature_names`]. Any window is accepted, empty or with time
    /// going backwards; the values are always finite.
    pub fn extract_into(
        &self,
        space: FeatureSpace,
        window: &[TracePacket],
        out: &mut [f32],
    ) -> Result<(), FeatureError> {
        let need = self.dim(space);
        if out.len() != need {
            return Err(FeatureError::OutputLength {
                space: space.name(),
                need,
                got: out.len(),
            });
        }
        out.fill(0.0);
        let n_size_iat = self.size.len() * self.iat.len();
        match space {
            FeatureSpace::SizeIat => self.count_size_iat(window, out),
            FeatureSpace::Burst => self.count_bursts(window, out),
            FeatureSpace::Combined => {
                let (a, b) = out.split_at_mut(n_size_iat);
                self.count_size_iat(window, a);
                self.count_bursts(window, b);
            }
        }
        // The paper's "logarithmic data representation ... to focus more on the relative
        // magnitude rather than on the actual value" (§III). Counts are exact in f32 (< 2^24).
        // Most bins are empty and ln(1 + 0) = 0; small counts come from a table.
        let lut = ln1p_table();
        for v in out.iter_mut().filter(|v| **v != 0.0) {
            *v = lut.get(*v as usize).copied().unwrap_or_else(|| v.ln_1p());
        }
        Ok(())
    }

    /// Convenience wrapper that allocates the output vector.
    pub fn extract(
        &self,
        space: FeatureSpace,
        window: &[TracePacket],
    ) -> Result<Vec<f32>, FeatureError> {
        let mut out = vec![0.0; self.dim(space)];
        self.extract_into(space, window, &mut out)?;
        Ok(out)
    }

    /// The raw-count histograms of `window` for plotting: one for `size-iat` or `burst`, two
    /// (size-iat, then burst) for `combined`.
    pub fn histograms(&self, space: FeatureSpace, window: &[TracePacket]) -> Vec<Hist2D> {
        let mut v = Vec::with_capacity(2);
        if matches!(space, FeatureSpace::SizeIat | FeatureSpace::Combined) {
            let mut c = vec![0.0f32; self.size.len() * self.iat.len()];
            self.count_size_iat(window, &mut c);
            v.push(self.hist(FeatureSpace::SizeIat, &self.size, &self.iat, &c));
        }
        if matches!(space, FeatureSpace::Burst | FeatureSpace::Combined) {
            let mut c = vec![0.0f32; self.burst.len() * self.surge.len()];
            self.count_bursts(window, &mut c);
            v.push(self.hist(FeatureSpace::Burst, &self.burst, &self.surge, &c));
        }
        v
    }

    /// One name per feature, e.g. `size-iat:size=-1536..-1440:iat_s=1.000e-6..1.778e-6`.
    /// Names contain no commas or spaces, so they can be CSV or Parquet column names.
    pub fn feature_names(&self, space: FeatureSpace) -> Vec<String> {
        let mut v = Vec::with_capacity(self.dim(space));
        if matches!(space, FeatureSpace::SizeIat | FeatureSpace::Combined) {
            names_into(
                &mut v, "size-iat", "size", &self.size, 1.0, "iat_s", &self.iat, NS,
            );
        }
        if matches!(space, FeatureSpace::Burst | FeatureSpace::Combined) {
            names_into(
                &mut v,
                "burst",
                "bytes",
                &self.burst,
                1.0,
                "surge_s",
                &self.surge,
                NS,
            );
        }
        v
    }

    fn hist(&self, space: FeatureSpace, x: &Bins, y: &Bins, counts: &[f32]) -> Hist2D {
        Hist2D {
            name: space.name().to_string(),
            x_edges: x.edges(),
            y_edges: y.edges().iter().map(|e| e / NS).collect(),
            x_unit: EdgeUnit::Bytes,
            y_unit: EdgeUnit::Seconds,
            counts: counts.iter().map(|&c| c as u32).collect(),
        }
    }

    /// Size-IAT counts. The IAT of a packet is the time since the previous packet of the
    /// window in either direction; the first packet has no predecessor inside the window and
    /// is not counted (looking before the window would make windows depend on each other), so
    /// a window of N packets contributes N - 1 counts. Negative gaps (time going backwards in
    /// a capture) are clamped to 0.
    fn count_size_iat(&self, window: &[TracePacket], out: &mut [f32]) {
        let ny = self.iat.len();
        for pair in window.windows(2) {
            let iat = pair[1].ts.0.saturating_sub(pair[0].ts.0).max(0);
            let x = self.size.bin(pair[1].signed_size());
            let y = self.iat.bin(iat);
            if let Some(c) = out.get_mut(x * ny + y) {
                *c += 1.0;
            }
        }
    }

    /// Packets of at most this IP length are ACKs in `window`; `None` when the filter is off.
    pub fn ack_limit(&self, window: &[TracePacket]) -> Option<u32> {
        match self.ack {
            AckFilter::Off => None,
            AckFilter::MaxSize { bytes } => Some(bytes),
            AckFilter::Relative {
                percentile,
                margin,
                max_bytes,
            } => Some(relative_ack_limit(window, percentile, margin, max_bytes)),
        }
    }

    /// Burst × surge counts.
    ///
    /// A surge is a maximal run of packets (ACKs included: they keep the channel busy) whose
    /// consecutive gaps are at most `surge_gap`; its period is the sum of those gaps (its
    /// duration; 0 for a lone packet). A burst is a maximal run of non-ACK packets of one
    /// direction: a non-ACK packet of the other direction ends it, ACKs of either direction
    /// neither end nor extend it, and the end of a surge ends it too, so every burst lies in
    /// exactly one surge. Each burst is counted once at (its signed byte total, the period of
    /// its surge); since the period is known only when the surge ends, the x bins of the
    /// surge's bursts wait in a small per-bin tally until then.
    fn count_bursts(&self, window: &[TracePacket], out: &mut [f32]) {
        let ny = self.surge.len();
        let mut tally = Tally::new();
        let mut surge_ns: i64 = 0;
        let mut prev_ts: Option<i64> = None;
        // Direction (true = up) and byte total of the open burst.
        let mut burst: Option<(bool, u64)> = None;
        let ack = self.ack_limit(window);

        for p in window {
            if let Some(prev) = prev_ts {
                let gap = p.ts.0.saturating_sub(prev).max(0);
                if gap > self.surge_gap {
                    self.close_burst(&mut burst, &mut tally);
                    tally.flush(self.surge.bin(surge_ns), ny, out);
                    surge_ns = 0;
                } else {
                    surge_ns = surge_ns.saturating_add(gap);
                }
            }
            prev_ts = Some(p.ts.0);
            if matches!(ack, Some(m) if p.size <= m) {
                continue;
            }
            let up = p.dir == Direction::Up;
            match burst {
                Some((dir, ref mut bytes)) if dir == up => *bytes += u64::from(p.size),
                _ => {
                    self.close_burst(&mut burst, &mut tally);
                    burst = Some((up, u64::from(p.size)));
                }
            }
        }
        self.close_burst(&mut burst, &mut tally);
        tally.flush(self.surge.bin(surge_ns), ny, out);
    }

    #[inline(always)]
    fn close_burst(&self, burst: &mut Option<(bool, u64)>, tally: &mut Tally) {
        if let Some((up, bytes)) = burst.take() {
            // At most 2^24 packets of 2^32 bytes: fits in i64.
            let b = i64::try_from(bytes).unwrap_or(i64::MAX);
            let signed = if up { b } else { -b };
            tally.add(self.burst.bin(signed));
        }
    }
}

/// The ACK limit of [`AckFilter::Relative`]: the `percentile`-th percentile of the window's
/// sizes plus `margin`, at most `max_bytes`. Only sizes up to `max_bytes` can decide it, so they
/// are counted in a fixed table (no allocation); when fewer than `percentile` % of the packets
/// are that small the window has no ACK-sized packets to speak of and the limit is `max_bytes`.
fn relative_ack_limit(window: &[TracePacket], percentile: u32, margin: u32, max_bytes: u32) -> u32 {
    const N: usize = crate::config::MAX_RELATIVE_ACK_BYTES as usize + 1;
    let mut count = [0u32; N];
    let top = (max_bytes as usize).min(N - 1);
    for p in window {
        if let Some(c) = count
            .get_mut(p.size as usize)
            .filter(|_| p.size as usize <= top)
        {
            *c += 1;
        }
    }
    // Rank of the percentile, at least 1: ceil(n × percentile / 100).
    let rank = (window.len() as u64 * u64::from(percentile))
        .div_ceil(100)
        .max(1);
    let mut seen = 0u64;
    for (size, &c) in count.iter().enumerate().take(top + 1) {
        seen += u64::from(c);
        if seen >= rank {
            return (size as u32).saturating_add(margin).min(max_bytes);
        }
    }
    max_bytes
}

/// `ln(1 + c)` for c = 0..=1024 (a default window's largest count), computed once per process.
fn ln1p_table() -> &'static [f32; 1025] {
    static TABLE: OnceLock<[f32; 1025]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0.0f32; 1025];
        for (c, v) in t.iter_mut().enumerate() {
            *v = (c as f32).ln_1p();
        }
        t
    })
}

/// Per-x-bin burst counts of the current surge, with the list of bins touched so that a flush
/// costs the number of distinct bins used, not the axis length.
struct Tally {
    count: [u32; MAX_BINS],
    touched: [u8; MAX_BINS],
    n_touched: usize,
}

impl Tally {
    fn new() -> Self {
        Tally {
            count: [0; MAX_BINS],
            touched: [0; MAX_BINS],
            n_touched: 0,
        }
    }

    fn add(&mut self, x: usize) {
        let Some(c) = self.count.get_mut(x) else {
            return;
        };
        if *c == 0 {
            if let Some(t) = self.touched.get_mut(self.n_touched) {
                // x < MAX_BINS = 128 fits in a byte.
                *t = x as u8;
                self.n_touched += 1;
            }
        }
        *c += 1;
    }

    fn flush(&mut self, y: usize, ny: usize, out: &mut [f32]) {
        for &x in &self.touched[..self.n_touched] {
            let x = usize::from(x);
            if let Some(o) = out.get_mut(x * ny + y) {
                *o += self.count[x] as f32;
            }
            self.count[x] = 0;
        }
        self.n_touched = 0;
    }
}

#[allow(clippy::too_many_arguments)]
fn names_into(
    v: &mut Vec<String>,
    space: &str,
    xname: &str,
    x: &Bins,
    xunit: f64,
    yname: &str,
    y: &Bins,
    yunit: f64,
) {
    let fmt = |e: f64, unit: f64| {
        if unit == 1.0 {
            format!("{e}")
        } else {
            format!("{:.3e}", e / unit)
        }
    };
    // Each bin's range is formatted once, not once per feature (a name per x and y bin pair:
    // formatting every edge again took most of a small run's start-up).
    let ranges = |edges: &[f64], name: &str, unit: f64| -> Vec<String> {
        edges
            .windows(2)
            .map(|w| format!("{name}={}..{}", fmt(w[0], unit), fmt(w[1], unit)))
            .collect()
    };
    let ys = ranges(&y.edges(), yname, yunit);
    for xr in ranges(&x.edges(), xname, xunit) {
        for yr in &ys {
            let mut name = String::with_capacity(space.len() + xr.len() + yr.len() + 2);
            for part in [space, ":", &xr, ":", yr] {
                name.push_str(part);
            }
            v.push(name);
        }
    }
}

/// Length of the feature vector of `space` under `cfg`: x bins × y bins of each histogram.
/// Needs no validation, so it cannot fail.
pub fn dim(space: FeatureSpace, cfg: &FeatureConfig) -> usize {
    let a = cfg.size_axis.bins.saturating_mul(cfg.iat_axis.bins);
    let b = cfg.burst_axis.bins.saturating_mul(cfg.surge_axis.bins);
    match space {
        FeatureSpace::SizeIat => a,
        FeatureSpace::Burst => b,
        FeatureSpace::Combined => a.saturating_add(b),
    }
}

/// One-shot form of [`Extractor::extract_into`]. It validates `cfg` and computes the edges on
/// every call (on the stack, no allocation); keep an [`Extractor`] when extracting many windows.
pub fn extract_into(
    space: FeatureSpace,
    cfg: &FeatureConfig,
    window: &[TracePacket],
    out: &mut [f32],
) -> Result<(), FeatureError> {
    Extractor::new(cfg)?.extract_into(space, window, out)
}

/// One-shot form of [`Extractor::feature_names`].
pub fn feature_names(
    space: FeatureSpace,
    cfg: &FeatureConfig,
) -> Result<Vec<String>, FeatureError> {
    Ok(Extractor::new(cfg)?.feature_names(space))
}

/// One-shot form of [`Extractor::histograms`].
pub fn histograms(
    space: FeatureSpace,
    cfg: &FeatureConfig,
    window: &[TracePacket],
) -> Result<Vec<Hist2D>, FeatureError> {
    Ok(Extractor::new(cfg)?.histograms(space, window))
}

#[cfg(test)]
mod ack_tests {
    use super::*;
    use crate::config::RELATIVE_ACK;
    use tapir_capture::Timestamp;

    fn window(sizes: &[u32]) -> Vec<TracePacket> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| TracePacket::new(Timestamp(i as i64 * 1000), s, Direction::Down))
            .collect()
    }

    #[test]
    fn relative_ack_limit_follows_the_tunnel_overhead() {
        let ex = Extractor::new(&FeatureConfig::default()).unwrap();
        assert_eq!(FeatureConfig::default().ack, RELATIVE_ACK);
        // A download: a third of the packets are ACKs, the rest full size. Plain ACKs are 52
        // bytes, IPsec's 132 here, WireGuard's 124: the limit is the ACK size + 32 each time.
        for (ack, limit) in [(52, 84), (132, 164), (124, 156), (116, 148)] {
            let sizes: Vec<u32> = (0..300)
                .map(|i| if i % 3 == 0 { ack } else { 1500 })
                .collect();
            assert_eq!(ex.ack_limit(&window(&sizes)), Some(limit), "ACK {ack}");
        }
        // Never above max_bytes; a window without small packets gets max_bytes.
        let sizes: Vec<u32> = (0..100)
            .map(|i| if i % 2 == 0 { 180 } else { 1400 })
            .collect();
        assert_eq!(ex.ack_limit(&window(&sizes)), Some(192));
        assert_eq!(ex.ack_limit(&window(&[1500; 50])), Some(192));
        assert_eq!(ex.ack_limit(&[]), Some(192));
        // The 5th percentile ignores a few stray tiny packets.
        let mut sizes = vec![1500u32; 100];
        sizes[..3].fill(40);
        sizes[3..40].fill(120);
        assert_eq!(ex.ack_limit(&window(&sizes)), Some(152));
        let paper = Extractor::new(&FeatureConfig::paper()).unwrap();
        assert_eq!(paper.ack_limit(&window(&sizes)), Some(128));
    }

    #[test]
    fn relative_rule_counts_the_same_bursts_under_any_overhead() {
        // The same up/down exchange with 0, 72 and 80 bytes of overhead on every packet: the
        // fixed 128-byte rule changes its burst count as ACKs cross 128; the relative does not.
        let base: Vec<(i64, u32, Direction)> = (0..200)
            .map(|i| {
                if i % 4 == 3 {
                    (i * 1000, 52, Direction::Up)
                } else {
                    (i * 1000, 1400, Direction::Down)
                }
            })
            .chain((200..240).map(|i| (i * 1000, 300, Direction::Up)))
            .collect();
        let count = |ex: &Extractor, o: u32| {
            let w: Vec<TracePacket> = base
                .iter()
                .map(|&(t, s, d)| TracePacket::new(Timestamp(t), s + o, d))
                .collect();
            ex.histograms(FeatureSpace::Burst, &w)[0].total()
        };
        let rel = Extractor::new(&FeatureConfig::default()).unwrap();
        let fixed = Extractor::new(&FeatureConfig::paper()).unwrap();
        assert_eq!(count(&rel, 0), count(&rel, 72));
        assert_eq!(count(&rel, 0), count(&rel, 80));
        assert_eq!(count(&fixed, 0), count(&fixed, 72));
        assert_ne!(
            count(&fixed, 0),
            count(&fixed, 80),
            "132-byte ACKs cut bursts"
        );
    }
}
