//! Volume analysis (M3AAWG, `seeds/000`, "Volume Analysis"): counts per entity per interval,
//! a robust baseline, and the two events the seed names — a surge ("increased chatter") and a
//! silence ("radio silence").
//!
//! The baseline of an interval is the median and the median absolute deviation (MAD) of the
//! entity's earlier intervals: the last `window` of them, or, when the data spans at least two
//! seasons (days or weeks), the same interval of the previous `season_depth` seasons, so a
//! quiet night is compared with earlier nights. Median and MAD ignore up to half of their
//! samples being outliers (Hampel 1974), so an earlier surge does not raise the bar for the next.

use crate::entity::Grouping;
use crate::event::{Event, EventKind};
use crate::time::{DAY, WEEK};
use crate::AnalysisError;
use serde::Serialize;
use std::collections::HashMap;
use std::str::FromStr;
use tapir_capture::Timestamp;

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Metric {
    Packets,
    Bytes,
    /// Flow records (mail events are not counted).
    Flows,
    /// Mail message copies, one per recipient (flows are not counted).
    Messages,
}

impl FromStr for Metric {
    type Err = AnalysisError;

    /// Accepts the names of [`Metric::name`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                AnalysisError::invalid(
                    "metric",
                    format!("{s:?}: use packets, bytes, flows or messages"),
                )
            })
    }
}

impl Metric {
    /// Every metric, in the order `tapir volume --help` lists them.
    pub const ALL: [Metric; 4] = [
        Metric::Packets,
        Metric::Bytes,
        Metric::Flows,
        Metric::Messages,
    ];

    /// The name on the command line (`--metric`) and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Packets => "packets",
            Metric::Bytes => "bytes",
            Metric::Flows => "flows",
            Metric::Messages => "messages",
        }
    }

    fn value(self, e: &Event) -> u64 {
        match (self, e.kind) {
            (Metric::Packets, _) => e.packets,
            (Metric::Bytes, _) => e.bytes(),
            (Metric::Flows, EventKind::Flow) | (Metric::Messages, EventKind::Mail) => 1,
            _ => 0,
        }
    }
}

/// Which seasonal baseline to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Season {
    /// Weekly when the data spans two weeks, else daily when it spans two days, else none.
    Auto,
    None,
    /// A season of this many nanoseconds (a multiple of the interval).
    Fixed(i64),
}

impl FromStr for Season {
    type Err = AnalysisError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Season::Auto),
            "none" => Ok(Season::None),
            "day" => Ok(Season::Fixed(DAY)),
            "week" => Ok(Season::Fixed(WEEK)),
            d => crate::time::parse_duration(d).map(Season::Fixed),
        }
    }
}

/// Settings of the volume analysis. [`VolumeConfig::new`] gives the documented defaults.
#[derive(Clone, Debug)]
pub struct VolumeConfig {
    pub grouping: Grouping,
    pub metric: Metric,
    /// Length of one interval, ns.
    pub interval_ns: i64,
    /// Earlier intervals in the rolling baseline (default 24: a day of hours, two hours of
    /// five-minute bins).
    pub window: usize,
    /// Intervals an entity must have been seen for before it has a baseline (default 6):
    /// a median of fewer points says little.
    pub min_history: usize,
    /// Surge when the count exceeds median + `k`·scale (default 4)…
    pub k: f64,
    /// …and is at least `ratio` × the median (default 3: "×3 chatter").
    pub ratio: f64,
    /// Silence when an active entity has this many empty intervals in a row (default 3) and
    /// the silence scores at least `k`.
    pub silence: usize,
    /// An entity is active when its baseline median is at least this (default 1).
    pub min_active: f64,
    pub season: Season,
    /// Earlier seasons in a seasonal baseline (default 4).
    pub season_depth: usize,
}

impl VolumeConfig {
    pub fn new(grouping: Grouping, metric: Metric, interval_ns: i64) -> Self {
        VolumeConfig {
            grouping,
            metric,
            interval_ns,
            window: 24,
            min_history: 6,
            k: 4.0,
            ratio: 3.0,
            silence: 3,
            min_active: 1.0,
            season: Season::Auto,
            season_depth: 4,
        }
    }

    pub fn validate(&self) -> Result<(), AnalysisError> {
        if self.interval_ns <= 0 {
            return Err(AnalysisError::invalid("interval_ns", "must be positive"));
        }
        if self.window < 2 || self.min_history < 1 || self.min_history > self.window {
            return Err(AnalysisError::invalid(
                "window, min_history",
                format!(
                    "window {} and history {} must satisfy 1 ≤ history ≤ window, window ≥ 2",
                    self.window, self.min_history
                ),
            ));
        }
        if !(self.k.is_finite() && self.k >= 0.0 && self.ratio.is_finite() && self.ratio >= 1.0) {
            return Err(AnalysisError::invalid(
                "k, ratio",
                "k must be ≥ 0 and ratio ≥ 1",
            ));
        }
        if self.min_active.is_nan() || self.min_active <= 0.0 {
            return Err(AnalysisError::invalid(
                "min_active",
                "must be above 0 (an entity with a median of 0 is not active)",
            ));
        }
        if self.silence == 0 || self.season_depth < 2 {
            return Err(AnalysisError::invalid(
                "silence, season_depth",
                "needs at least 1 interval (and a season depth of at least 2)",
            ));
        }
        if let Season::Fixed(s) = self.season {
            if s % self.interval_ns != 0 || s / self.interval_ns < 2 {
                return Err(AnalysisError::invalid(
                    "season",
                    "must be a multiple of the interval, at least two intervals long",
                ));
            }
        }
        Ok(())
    }
}

/// The baseline of one interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Baseline {
    pub median: f64,
    pub mad: f64,
    /// The spread surges are measured in: max(1.4826·MAD, √median, 1). 1.4826·MAD estimates a
    /// normal σ; the √median floor is the Poisson spread of a count, so a perfectly flat
    /// history does not make every +1 a surge.
    pub scale: f64,
    pub seasonal: bool,
}

/// One entity's counts over the whole span of the data, stored sparsely (intervals with a
/// count only) so that memory grows with the events, not with entities × intervals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntitySeries {
    pub entity: String,
    /// First interval (index) the entity was seen in; it has no baseline before.
    pub first: usize,
    /// (interval, count) for every interval with a count above 0, in interval order.
    pub nonzero: Vec<(usize, u64)>,
}

impl EntitySeries {
    /// The dense counts of all `intervals` intervals.
    pub fn counts(&self, intervals: usize) -> Vec<u64> {
        let mut v = vec![0u64; intervals];
        for &(i, c) in &self.nonzero {
            if let Some(slot) = v.get_mut(i) {
                *slot = c;
            }
        }
        v
    }

    pub fn total(&self) -> u64 {
        self.nonzero
            .iter()
            .fold(0u64, |a, &(_, c)| a.saturating_add(c))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VolumeEventKind {
    Surge,
    Silence,
}

/// A surge or a silence of one entity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VolumeEvent {
    pub entity: String,
    pub kind: VolumeEventKind,
    /// Start of the first interval and end of the last one.
    pub start: Timestamp,
    pub end: Timestamp,
    pub intervals: usize,
    /// Peak count (surge) or 0 (silence).
    pub value: u64,
    /// Baseline median at the peak (surge) or where the silence began.
    pub expected: f64,
    /// value / expected; none when expected is 0.
    pub ratio: Option<f64>,
    /// Surge: the peak's robust z, (value − median) / scale. Silence: the empty intervals
    /// times median / scale — a robust z of each missing interval, summed.
    pub score: f64,
}

/// Everything `volume` found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VolumeReport {
    pub metric: Metric,
    /// Start of interval 0.
    pub origin: Timestamp,
    pub interval_ns: i64,
    pub intervals: usize,
    /// Length of the season used, in intervals, if any.
    pub season_intervals: Option<usize>,
    pub series: Vec<EntitySeries>,
    /// Sorted by start time, then entity.
    pub events: Vec<VolumeEvent>,
    #[serde(skip)]
    params: Params,
}

/// The settings a baseline needs, kept so baselines can be recomputed on demand.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct Params {
    window: usize,
    min_history: usize,
    season_depth: usize,
}

impl VolumeReport {
    /// The baseline of every interval of `s` (None before it has enough history).
    pub fn baselines(&self, s: &EntitySeries) -> Vec<Option<Baseline>> {
        let counts = s.counts(self.intervals);
        (0..self.intervals)
            .map(|i| baseline(&self.params, self.season_intervals, &counts, s.first, i))
            .collect()
    }

    pub fn interval_start(&self, i: usize) -> Timestamp {
        Timestamp(
            self.origin
                .0
                .saturating_add((i as i64).saturating_mul(self.interval_ns)),
        )
    }
}

/// Counts events per entity per interval; [`VolumeCounter::finish`] runs the detection.
#[derive(Debug)]
pub struct VolumeCounter {
    cfg: VolumeConfig,
    counts: HashMap<String, HashMap<i64, u64>>,
    span: Option<(i64, i64)>,
}

impl VolumeCounter {
    pub fn new(cfg: VolumeConfig) -> Result<Self, AnalysisError> {
        cfg.validate()?;
        Ok(VolumeCounter {
            cfg,
            counts: HashMap::new(),
            span: None,
        })
    }

    /// Counts one event for the entity of each of its ends (once if both are one entity).
    pub fn add(&mut self, e: &Event) {
        let bin = e.time.0.div_euclid(self.cfg.interval_ns);
        // Every event widens the span, counted or not: an entity that goes quiet while others
        // keep talking is a silence, and the others are what show that time went on.
        self.span = Some(match self.span {
            None => (bin, bin),
            Some((a, b)) => (a.min(bin), b.max(bin)),
        });
        let v = self.cfg.metric.value(e);
        let a = self.cfg.grouping.entity(&e.src, e.src_ip);
        let b = self.cfg.grouping.entity(&e.dst, e.dst_ip);
        if let Some(a) = &a {
            *self
                .counts
                .entry(a.clone())
                .or_default()
                .entry(bin)
                .or_default() += v;
        }
        if let Some(b) = b.filter(|b| Some(b) != a.as_ref()) {
            *self.counts.entry(b).or_default().entry(bin).or_default() += v;
        }
    }

    pub fn finish(self) -> VolumeReport {
        let cfg = &self.cfg;
        let (lo, hi) = self.span.unwrap_or((0, -1));
        let bins = usize::try_from(hi - lo + 1).unwrap_or(0);
        let season = season_intervals(cfg, bins);
        let mut series: Vec<EntitySeries> = self
            .counts
            .into_iter()
            .filter_map(|(entity, m)| {
                // `bin` lies in [lo, hi] by construction of the span; zero counts (mail under
                // --metric flows) are dropped, and an entity with none left is not shown.
                let mut nonzero: Vec<(usize, u64)> = m
                    .into_iter()
                    .filter(|&(_, c)| c > 0)
                    .filter_map(|(bin, c)| Some((usize::try_from(bin - lo).ok()?, c)))
                    .collect();
                nonzero.sort_unstable();
                let first = nonzero.first()?.0;
                Some(EntitySeries {
                    entity,
                    first,
                    nonzero,
                })
            })
            .collect();
        series.sort_by(|a, b| a.entity.cmp(&b.entity));
        let mut report = VolumeReport {
            metric: cfg.metric,
            origin: Timestamp(lo.saturating_mul(cfg.interval_ns)),
            interval_ns: cfg.interval_ns,
            intervals: bins,
            season_intervals: season,
            series: Vec::new(),
            events: Vec::new(),
            params: Params {
                window: cfg.window,
                min_history: cfg.min_history,
                season_depth: cfg.season_depth,
            },
        };
        let mut events = Vec::new();
        let mut counts = Vec::new();
        let mut nz_prefix = Vec::new();
        for s in &series {
            detect(cfg, &report, s, &mut counts, &mut nz_prefix, &mut events);
        }
        events.sort_by(|a, b| (a.start, &a.entity).cmp(&(b.start, &b.entity)));
        report.series = series;
        report.events = events;
        report
    }
}

fn season_intervals(cfg: &VolumeConfig, bins: usize) -> Option<usize> {
    let span = (bins as i64).saturating_mul(cfg.interval_ns);
    let fits = |s: i64| s % cfg.interval_ns == 0 && s / cfg.interval_ns >= 2 && span >= 2 * s;
    let s = match cfg.season {
        Season::None => return None,
        Season::Fixed(s) => s,
        Season::Auto if fits(WEEK) => WEEK,
        Season::Auto => DAY,
    };
    fits(s).then(|| (s / cfg.interval_ns) as usize)
}

fn baseline(
    cfg: &Params,
    season: Option<usize>,
    counts: &[u64],
    first: usize,
    i: usize,
) -> Option<Baseline> {
    let mut samples: Vec<f64>;
    let mut seasonal = false;
    match season {
        // Two whole seasons of this entity before `i`: compare with the same phase.
        Some(p) if i >= first + 2 * p => {
            samples = (1..=cfg.season_depth)
                .map_while(|j| i.checked_sub(j * p).filter(|&k| k >= first))
                .map(|k| counts[k] as f64)
                .collect();
            seasonal = true;
        }
        // With seasons, the first two are the learning period: a rolling baseline there would
        // call every night a silence.
        Some(_) => return None,
        None => {
            let lo = first.max(i.saturating_sub(cfg.window));
            if i < lo + cfg.min_history {
                return None;
            }
            samples = counts[lo..i].iter().map(|&c| c as f64).collect();
        }
    }
    let median = median(&mut samples);
    let mut dev: Vec<f64> = samples.iter().map(|x| (x - median).abs()).collect();
    let mad = median_of(&mut dev);
    Some(Baseline {
        median,
        mad,
        scale: (1.4826 * mad).max(median.sqrt()).max(1.0),
        seasonal,
    })
}

fn median(v: &mut [f64]) -> f64 {
    median_of(v)
}

fn median_of(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn is_surge(cfg: &VolumeConfig, c: u64, b: &Baseline) -> bool {
    let c = c as f64;
    c > b.median + cfg.k * b.scale && c >= cfg.ratio * b.median.max(1.0)
}

fn detect(
    cfg: &VolumeConfig,
    r: &VolumeReport,
    s: &EntitySeries,
    counts: &mut Vec<u64>,
    nz_prefix: &mut Vec<usize>,
    out: &mut Vec<VolumeEvent>,
) {
    let n = r.intervals;
    counts.clear();
    counts.resize(n, 0);
    for &(i, c) in &s.nonzero {
        if let Some(slot) = counts.get_mut(i) {
            *slot = c;
        }
    }
    // nz_prefix[i] = intervals with a count in [0, i): lets most intervals of a sparse entity
    // be ruled out without computing their median.
    nz_prefix.clear();
    nz_prefix.push(0);
    for &c in counts.iter() {
        let last = *nz_prefix.last().unwrap_or(&0);
        nz_prefix.push(last + usize::from(c > 0));
    }
    let p = &r.params;
    let season = r.season_intervals;
    let base = |i: usize| baseline(p, season, counts, s.first, i);
    // Whether interval i can be anything at all; a no here skips the median.
    let may_matter = |i: usize| -> bool {
        let c = counts[i];
        if c > 0 {
            // scale ≥ 1, so a surge needs more than k.
            return c as f64 > cfg.k;
        }
        if season.is_some() {
            return true;
        }
        // A rolling median of 0 (more than half the window empty) is not active.
        let lo = s.first.max(i.saturating_sub(cfg.window));
        let filled = nz_prefix[i] - nz_prefix[lo];
        2 * filled >= i - lo
    };
    let mut i = s.first;
    while i < n {
        if !may_matter(i) {
            i += 1;
            continue;
        }
        let Some(b) = base(i) else {
            i += 1;
            continue;
        };
        let c = counts[i];
        if is_surge(cfg, c, &b) {
            let start = i;
            let (mut peak, mut peak_b, mut peak_z) = (c, b, (c as f64 - b.median) / b.scale);
            i += 1;
            while i < n {
                let Some(bj) = base(i) else { break };
                let cj = counts[i];
                if !is_surge(cfg, cj, &bj) {
                    break;
                }
                let z = (cj as f64 - bj.median) / bj.scale;
                if z > peak_z {
                    (peak, peak_b, peak_z) = (cj, bj, z);
                }
                i += 1;
            }
            out.push(VolumeEvent {
                entity: s.entity.clone(),
                kind: VolumeEventKind::Surge,
                start: r.interval_start(start),
                end: r.interval_start(i),
                intervals: i - start,
                value: peak,
                expected: peak_b.median,
                ratio: (peak_b.median > 0.0).then(|| peak as f64 / peak_b.median),
                score: peak_z,
            });
            continue;
        }
        if c == 0 && b.median >= cfg.min_active {
            // The baseline is frozen where the quiet began: inside the run it decays towards
            // zero and would excuse the silence it is measuring.
            let start = i;
            while i < n && counts[i] == 0 {
                i += 1;
            }
            let len = i - start;
            let score = len as f64 * b.median / b.scale;
            // Long enough, and unlikely enough: an entity that averages one event per interval
            // goes quiet for three intervals by chance one time in twenty (Poisson e^-3).
            if len >= cfg.silence && score >= cfg.k {
                out.push(VolumeEvent {
                    entity: s.entity.clone(),
                    kind: VolumeEventKind::Silence,
                    start: r.interval_start(start),
                    end: r.interval_start(i),
                    intervals: len,
                    value: 0,
                    expected: b.median,
                    ratio: Some(0.0),
                    score,
                });
            }
            continue;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{HOUR, MINUTE};

    fn mail(t: i64, from: &str) -> Event {
        Event::mail(Timestamp(t), from, "list@example.org", 1000)
    }

    fn cfg() -> VolumeConfig {
        VolumeConfig::new(Grouping::Host, Metric::Messages, MINUTE)
    }

    #[test]
    fn median_and_mad() {
        let mut v = vec![3.0, 1.0, 2.0, 100.0];
        assert_eq!(median(&mut v), 2.5);
        let mut d: Vec<f64> = [3.0, 1.0, 2.0, 100.0]
            .iter()
            .map(|x: &f64| (x - 2.5).abs())
            .collect();
        assert_eq!(median_of(&mut d), 1.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn surge_found_at_its_interval() {
        let mut v = VolumeCounter::new(cfg()).unwrap();
        for m in 0..60i64 {
            let n = if (40..42).contains(&m) { 40 } else { 4 + m % 3 };
            for j in 0..n {
                v.add(&mail(m * MINUTE + j * 1_000_000, "alice@example.org"));
            }
        }
        let r = v.finish();
        let surges: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.entity == "alice@example.org")
            .collect();
        assert_eq!(surges.len(), 1, "{surges:?}");
        assert_eq!(surges[0].kind, VolumeEventKind::Surge);
        assert_eq!(surges[0].start, Timestamp(40 * MINUTE));
        assert_eq!(surges[0].intervals, 2);
        assert_eq!(surges[0].value, 40);
        assert!(surges[0].score > 10.0);
    }

    #[test]
    fn silence_then_nothing_else() {
        let mut v = VolumeCounter::new(cfg()).unwrap();
        for m in 0..30i64 {
            v.add(&mail(m * MINUTE, "bob@example.org"));
            if !(15..20).contains(&m) {
                v.add(&mail(m * MINUTE, "alice@example.org"));
                v.add(&mail(m * MINUTE + 1, "alice@example.org"));
            }
        }
        let r = v.finish();
        let a: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.entity == "alice@example.org")
            .collect();
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].kind, VolumeEventKind::Silence);
        assert_eq!((a[0].start, a[0].intervals), (Timestamp(15 * MINUTE), 5));
        assert!(r.events.iter().all(|e| e.entity != "bob@example.org"));
    }

    #[test]
    fn seasonal_baseline_excuses_quiet_nights() {
        let mut c = VolumeConfig::new(Grouping::Host, Metric::Messages, HOUR);
        c.season = Season::Auto;
        let mut v = VolumeCounter::new(c.clone()).unwrap();
        // Five days: busy 08–18 h, nothing at night; a surge at 03 h on day 4.
        for d in 0..5i64 {
            for h in 0..24i64 {
                let n = if (8..18).contains(&h) { 20 } else { 0 };
                let n = if d == 4 && h == 3 { 30 } else { n };
                for j in 0..n {
                    v.add(&mail(d * DAY + h * HOUR + j, "ops@example.org"));
                }
            }
        }
        let r = v.finish();
        assert_eq!(r.season_intervals, Some(24));
        let ops: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.entity == "ops@example.org")
            .collect();
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert_eq!(ops[0].kind, VolumeEventKind::Surge);
        assert_eq!(ops[0].start, Timestamp(4 * DAY + 3 * HOUR));
        let ops = r
            .series
            .iter()
            .find(|s| s.entity == "ops@example.org")
            .unwrap();
        assert!(r.baselines(ops)[4 * 24 + 3].is_some_and(|b| b.seasonal));
        assert_eq!(ops.total(), 5 * 10 * 20 + 30);
        c.season = Season::None;
        let mut v = VolumeCounter::new(c).unwrap();
        for d in 0..5i64 {
            for h in 8..18i64 {
                for j in 0..20 {
                    v.add(&mail(d * DAY + h * HOUR + j, "ops@example.org"));
                }
            }
        }
        let r = v.finish();
        assert!(
            r.events.iter().any(|e| e.kind == VolumeEventKind::Silence),
            "without seasons every night is a silence"
        );
    }

    #[test]
    fn bad_settings_are_errors() {
        let mut c = cfg();
        c.interval_ns = 0;
        assert!(VolumeCounter::new(c).is_err());
        let mut c = cfg();
        c.season = Season::Fixed(90 * 1_000_000_000);
        assert!(c.validate().is_err());
        assert!("sometimes".parse::<Season>().is_err());
        assert!("bits".parse::<Metric>().is_err());
    }
}
