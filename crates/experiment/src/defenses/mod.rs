//! The defence matrix: every defence setting of [`DEFENSE_SETTINGS`] against the traffic-type
//! classifier, with its costs and how much defended traffic stands out; and the metadata
//! attacks against the defences that concern them ([`attack_matrix`]): `volume` against
//! constant volume and decoys ([`volume`]), `sequence` against mixes and broadcast
//! ([`sequence`]), `watch` against a tunnel ([`watch`]).
//!
//! Each defence runs over each whole trace (seeded per trace) before windowing, so windows are
//! cut from what an observer of the defended link sees. The traces are split once, grouped and
//! stratified by class; the same split serves every setting, so a test trace is a test trace in
//! every row.

pub mod html;
pub mod sequence;
pub mod volume;
pub mod watch;

use crate::corpus::{Corpus, Role};
use crate::run::Settings;
use crate::{ExperimentError, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use tapir_capture::TracePacket;
use tapir_defense::Costs;
use tapir_features::{Extractor, FeatureSpace};
use tapir_learn::{
    fit_model, metrics::accuracy, predict_rows, split_grouped_stratified, Dataset, ModelKind,
    ModelParams, RfParams,
};

/// The defence settings of the matrix, `none` first. Rates and sizes are class-neutral (the
/// same for every trace), so the defence itself leaks nothing about the class.
pub const DEFENSE_SETTINGS: &[&str] = &[
    "none",
    "pad-mtu",
    "pad-bucket:514",
    "constant:rate=300,size=1500,min=10s",
    "constant:rate=1000,size=1500,min=10s",
    "front:n=1000",
    "front:n=5000",
    "wtfpad:inter=5ms",
    "wtfpad:inter=50ms",
    "decoy:every=20s,bytes=2MB",
    "delay:mean=20ms",
    "mix:timed=100ms",
    "mix:timed=1s",
];

/// One row of the matrix: a defence setting, the attack against it and its costs.
#[derive(Clone, Debug, Serialize)]
pub struct DefenseRow {
    /// The spec (`none` for undefended traffic).
    pub spec: String,
    /// Accuracy of the random forest trained on undefended traffic, tested on defended traffic
    /// (the naive attacker).
    pub naive: f64,
    /// Accuracy of the random forest retrained on defended traffic (the realistic attacker).
    pub retrained: f64,
    /// Accuracy of a random forest telling defended windows from undefended ones (50% = does
    /// not stand out).
    pub stand_out: f64,
    /// Test windows of defended traffic.
    pub test_windows: usize,
    /// Extra bytes / real bytes over all traces.
    pub overhead_total: f64,
    /// Mean over traces of each trace's overhead.
    pub overhead_mean: f64,
    /// Share of bytes out that are padding or dummies, over all traces.
    pub wasted_share: f64,
    /// Median over traces of each trace's median added latency, milliseconds.
    pub latency_median_ms: f64,
    /// 99th percentile over traces of each trace's p99 added latency, milliseconds.
    pub latency_p99_ms: f64,
    /// Defended packets out over real packets in, all traces.
    pub packets_ratio: f64,
}

/// The matrix on one condition.
#[derive(Clone, Debug, Serialize)]
pub struct DefenseMatrix {
    /// The condition (`plain`, `ipsec`, …).
    pub condition: String,
    /// Single-application traces used.
    pub traces: usize,
    /// Trees per forest.
    pub trees: usize,
    /// The split's seed.
    pub seed: u64,
    /// One row per setting of [`DEFENSE_SETTINGS`].
    pub rows: Vec<DefenseRow>,
}

/// A literature figure for a defence, measured on other data with other attacks.
pub struct LiteratureFigure {
    /// Defence.
    pub defense: &'static str,
    /// Attack and accuracy, as the paper states it.
    pub privacy: &'static str,
    /// Bandwidth overhead (fraction) the paper reports, if one number.
    pub overhead: f64,
    /// Latency the paper reports, in words.
    pub latency: &'static str,
    /// Where it was published.
    pub source: &'static str,
}

/// The literature's figures shown beside the matrix.
pub const LITERATURE: &[LiteratureFigure] = &[
    LiteratureFigure {
        defense: "WTF-PAD",
        privacy: "k-NN website fingerprinting 91% → 20%",
        overhead: 0.60,
        latency: "none added",
        source: "Juarez, Imani, Perry, Diaz, Wright: \"Toward an Efficient Website \
                 Fingerprinting Defense\", ESORICS 2016 (bandwidth under 60%)",
    },
    LiteratureFigure {
        defense: "FRONT",
        privacy: "website fingerprinting attacks weakened (no single figure)",
        overhead: 0.33,
        latency: "none added",
        source: "Gong, Wang: \"Zero-delay Lightweight Defenses against Website \
                 Fingerprinting\", USENIX Security 2020",
    },
    LiteratureFigure {
        defense: "Walkie-Talkie",
        privacy: "half-duplex burst molding",
        overhead: 0.31,
        latency: "34% more time",
        source: "Wang, Goldberg: \"Walkie-Talkie: An Efficient Defense Against Passive \
                 Website Fingerprinting Attacks\", USENIX Security 2017",
    },
];

/// The k-NN accuracy WTF-PAD left (Juarez et al. 2016), drawn on the classifier's frontier.
pub const WTFPAD_ACCURACY: f64 = 0.20;

/// One row of the metadata matrix: a metadata attack against one defence setting.
#[derive(Clone, Debug, Serialize)]
pub struct AttackRow {
    /// `volume`, `sequence` or `watch`.
    pub attack: String,
    /// The defence setting (`none`: undefended).
    pub spec: String,
    /// What [`AttackRow::naive`] and [`AttackRow::adaptive`] measure (1 = the attack fully
    /// succeeds, 0 = it learns nothing).
    pub measure: String,
    /// The attack with its documented defaults.
    pub naive: f64,
    /// The attacker who knows the defence and adapts (where one applies).
    pub adaptive: Option<f64>,
    /// What was found, in words.
    pub detail: String,
    /// Extra bytes / real bytes over all trials.
    pub overhead: f64,
    /// Extra units (packets, deliveries) / real units.
    pub extra: f64,
    /// What [`AttackRow::extra`] counts.
    pub extra_unit: String,
    /// Median over trials of each trial's median added latency, milliseconds.
    pub latency_median_ms: f64,
    /// 99th percentile over trials of each trial's p99 added latency, milliseconds.
    pub latency_p99_ms: f64,
}

/// `trials` runs of `trial`, in parallel, each seeded from `seed` and its index.
pub(crate) fn run_trials<O: Send>(
    trials: usize,
    seed: u64,
    trial: impl Fn(u64) -> Result<O> + Sync + Send,
) -> Result<Vec<O>> {
    use rayon::prelude::*;
    (0..trials)
        .into_par_iter()
        .map(|k| trial(seed.wrapping_add(k as u64 * 7919)))
        .collect()
}

/// The mean of `f` over `out` (0 for none).
pub(crate) fn mean_of<O>(out: &[O], f: impl Fn(&O) -> f64) -> f64 {
    out.iter().map(f).sum::<f64>() / out.len().max(1) as f64
}

/// What one row of an attack says, beside its costs.
pub(crate) struct RowText<'a> {
    pub attack: &'a str,
    pub spec: &'a str,
    pub measure: &'a str,
    pub naive: f64,
    pub adaptive: Option<f64>,
    pub detail: String,
    pub extra_unit: &'a str,
}

impl AttackRow {
    /// A row from what it says and the costs of its trials.
    pub(crate) fn from_trials<'c>(t: RowText<'_>, costs: impl Iterator<Item = &'c Costs>) -> Self {
        let costs: Vec<&Costs> = costs.collect();
        let c = costs_summary(&costs);
        AttackRow {
            attack: t.attack.into(),
            spec: t.spec.into(),
            measure: t.measure.into(),
            naive: t.naive,
            adaptive: t.adaptive,
            detail: t.detail,
            overhead: c.overhead,
            extra: c.packets_ratio - 1.0,
            extra_unit: t.extra_unit.into(),
            latency_median_ms: c.latency_median_ms,
            latency_p99_ms: c.latency_p99_ms,
        }
    }

    /// The stronger of the two attackers: what the defence really leaves.
    pub fn best(&self) -> f64 {
        self.adaptive.map_or(self.naive, |a| a.max(self.naive))
    }
}

/// The metadata attacks against the defences.
#[derive(Clone, Debug, Serialize)]
pub struct AttackMatrix {
    /// The condition whose web traces make the volume timelines.
    pub condition: String,
    /// Simulated timelines, communities or offices per row.
    pub trials: usize,
    /// Seed of the first trial.
    pub seed: u64,
    /// Volume rows, then sequence, then watch.
    pub rows: Vec<AttackRow>,
}

/// Costs over several defended traces or trials.
pub(crate) struct CostSummary {
    pub overhead: f64,
    pub wasted_share: f64,
    pub packets_ratio: f64,
    pub latency_median_ms: f64,
    pub latency_p99_ms: f64,
}

/// The costs of several runs together: bytes and packets summed, the latencies' median and p99
/// taken over the runs' own.
pub(crate) fn costs_summary(costs: &[&Costs]) -> CostSummary {
    let real: u64 = costs.iter().map(|c| c.real_bytes).sum();
    let out: u64 = costs.iter().map(|c| c.out_bytes).sum();
    let real_p: u64 = costs.iter().map(|c| c.real_packets).sum();
    let out_p: u64 = costs.iter().map(|c| c.out_packets).sum();
    let mut med: Vec<f64> = costs
        .iter()
        .map(|c| c.latency_median_ns as f64 / 1e6)
        .collect();
    let mut p99: Vec<f64> = costs
        .iter()
        .map(|c| c.latency_p99_ns as f64 / 1e6)
        .collect();
    CostSummary {
        overhead: (out as f64 - real as f64) / real.max(1) as f64,
        wasted_share: 1.0 - real.min(out) as f64 / out.max(1) as f64,
        packets_ratio: out_p as f64 / real_p.max(1) as f64,
        latency_median_ms: quantile(&mut med, 0.5),
        latency_p99_ms: quantile(&mut p99, 0.99),
    }
}

/// The scenarios and settings of [`attack_matrix`].
#[derive(Clone, Debug)]
pub struct AttackSettings {
    /// Trials per row (default 8).
    pub trials: usize,
    /// Seed of the first trial.
    pub seed: u64,
    /// The volume timeline.
    pub volume: volume::VolumeScenario,
    /// The simulated mail community.
    pub mail: sequence::MailScenario,
    /// The simulated office.
    pub flows: watch::FlowScenario,
    /// Volume rows' settings.
    pub volume_specs: Vec<String>,
    /// Sequence rows' settings.
    pub sequence_specs: Vec<String>,
    /// Watch rows' settings.
    pub watch_specs: Vec<String>,
}

impl Default for AttackSettings {
    fn default() -> Self {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        AttackSettings {
            trials: 8,
            seed: 1,
            volume: volume::VolumeScenario::default(),
            mail: sequence::MailScenario::default(),
            flows: watch::FlowScenario::default(),
            volume_specs: own(volume::VOLUME_SETTINGS),
            sequence_specs: own(sequence::SEQUENCE_SETTINGS),
            watch_specs: own(watch::WATCH_SETTINGS),
        }
    }
}

/// The metadata attacks against the defences: volume timelines built from `pool` (whole
/// traces of one session each, e.g. the web traces of a condition), simulated mail and flows.
pub fn attack_matrix(
    condition: &str,
    pool: &[&[TracePacket]],
    a: &AttackSettings,
) -> Result<AttackMatrix> {
    if pool.iter().all(|t| t.is_empty()) || a.trials == 0 {
        return Err(ExperimentError::NoData(format!(
            "{condition}: no traces to build volume timelines from (or no trials)"
        )));
    }
    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let mut rows = volume::volume_rows(pool, &a.volume, &refs(&a.volume_specs), a.trials, a.seed)?;
    rows.extend(sequence::sequence_rows(
        &a.mail,
        &refs(&a.sequence_specs),
        a.trials,
        a.seed,
    )?);
    rows.extend(watch::watch_rows(
        &a.flows,
        &refs(&a.watch_specs),
        a.trials,
        a.seed,
    )?);
    Ok(AttackMatrix {
        condition: condition.to_string(),
        trials: a.trials,
        seed: a.seed,
        rows,
    })
}

/// [`attack_matrix`] on the web traces of `cond` in `corpus` (any single-application traces
/// when it has no web class), with the first seed of `s` and its
/// [`Settings::defense_trials`].
pub fn corpus_attack_matrix(corpus: &Corpus, cond: &str, s: &Settings) -> Result<AttackMatrix> {
    let single = corpus.select(cond, Role::Single);
    let web: Vec<&[TracePacket]> = single
        .iter()
        .map(|&t| &corpus.traces[t])
        .filter(|t| t.labels.iter().any(|l| l == "web"))
        .map(|t| t.packets.as_slice())
        .collect();
    let pool: Vec<&[TracePacket]> = if web.is_empty() {
        single
            .iter()
            .map(|&t| corpus.traces[t].packets.as_slice())
            .collect()
    } else {
        web
    };
    let a = AttackSettings {
        seed: s.seeds.first().copied().unwrap_or(1),
        trials: s.defense_trials,
        ..AttackSettings::default()
    };
    attack_matrix(cond, &pool, &a)
}

fn rows_of(ex: &Extractor, packets: &[TracePacket], window: usize) -> Result<Vec<f32>> {
    let dim = ex.dim(FeatureSpace::Combined);
    let n = packets.len() / window;
    let mut x = vec![0.0f32; n * dim];
    for (w, out) in packets.chunks_exact(window).zip(x.chunks_exact_mut(dim)) {
        ex.extract_into(FeatureSpace::Combined, w, out)?;
    }
    Ok(x)
}

/// The defended trace as an observer sees it, and its costs. `none` is the trace itself.
pub fn defend_trace(
    spec: &str,
    packets: &[TracePacket],
    seed: u64,
) -> Result<(Vec<TracePacket>, Costs)> {
    if spec == "none" {
        let bytes: u64 = packets.iter().map(|p| u64::from(p.size)).sum();
        let costs = Costs {
            real_packets: packets.len() as u64,
            real_bytes: bytes,
            out_packets: packets.len() as u64,
            out_bytes: bytes,
            ..Costs::default()
        };
        return Ok((packets.to_vec(), costs));
    }
    let mut chain = tapir_defense::parse_chain(&[spec], seed)?;
    let (out, costs) = tapir_defense::run(&mut chain, packets.iter().copied());
    Ok((out.iter().map(|p| p.observed()).collect(), costs))
}

struct Rows {
    x: Vec<f32>,
    y: Vec<usize>,
    groups: Vec<u32>,
}

impl Rows {
    fn new() -> Self {
        Rows {
            x: Vec::new(),
            y: Vec::new(),
            groups: Vec::new(),
        }
    }
    fn push(&mut self, r: &[f32], dim: usize, class: usize, group: u32) {
        let n = r.len() / dim;
        self.x.extend_from_slice(r);
        self.y.extend(std::iter::repeat_n(class, n));
        self.groups.extend(std::iter::repeat_n(group, n));
    }
    fn dataset(self, dim: usize, classes: &[String]) -> Result<Dataset> {
        Ok(Dataset::new(
            self.x,
            dim,
            self.y,
            classes.to_vec(),
            self.groups,
        )?)
    }
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Runs the matrix on condition `cond` of `corpus` with `specs` (e.g. [`DEFENSE_SETTINGS`]):
/// the first seed of `s`, its window and trees.
pub fn defense_matrix(
    corpus: &Corpus,
    cond: &str,
    s: &Settings,
    specs: &[&str],
) -> Result<DefenseMatrix> {
    use rayon::prelude::*;
    let seed = s.seeds.first().copied().unwrap_or(1);
    let ex = Extractor::new(&s.features)?;
    let dim = ex.dim(FeatureSpace::Combined);
    let single = corpus.select(cond, Role::Single);
    let classes: Vec<String> = single
        .iter()
        .filter_map(|&t| corpus.traces[t].labels.first().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.len() < 2 {
        return Err(ExperimentError::NoData(format!(
            "{cond}: {} class(es) of single-application traces; the defence matrix needs two",
            classes.len()
        )));
    }
    let class_of = |t: usize| {
        corpus.traces[t]
            .labels
            .first()
            .and_then(|l| classes.iter().position(|c| c == l))
            .unwrap_or(0)
    };
    // Undefended windows, and the one trace split every row uses.
    let clean: Vec<Vec<f32>> = single
        .par_iter()
        .map(|&t| rows_of(&ex, &corpus.traces[t].packets, s.window))
        .collect::<Result<_>>()?;
    let mut all = Rows::new();
    for (i, (&t, r)) in single.iter().zip(&clean).enumerate() {
        all.push(r, dim, class_of(t), i as u32);
    }
    let ds = all.dataset(dim, &classes)?;
    let split = split_grouped_stratified(&ds, s.test_fraction, seed)?;
    let test: BTreeSet<u32> = split.test.iter().map(|&r| ds.groups[r]).collect();
    let params = ModelParams {
        rf: RfParams {
            n_trees: s.trees,
            seed,
            ..RfParams::default()
        },
        ..ModelParams::default()
    };
    let naive_model = fit_model(ModelKind::Rf, &params, &ds.subset(&split.train)?)?;
    let mut rows = Vec::new();
    for spec in specs {
        let defended: Vec<(Vec<f32>, Costs)> = single
            .par_iter()
            .enumerate()
            .map(|(i, &t)| {
                let (p, c) = defend_trace(spec, &corpus.traces[t].packets, seed ^ (i as u64) << 8)?;
                Ok((rows_of(&ex, &p, s.window)?, c))
            })
            .collect::<Result<_>>()?;
        let (mut train, mut held) = (Rows::new(), Rows::new());
        // Stand-out: class 0 undefended, 1 defended; a trace's two versions share a side.
        let (mut so_train, mut so_test) = (Rows::new(), Rows::new());
        for (i, (&t, (r, _))) in single.iter().zip(&defended).enumerate() {
            let g = i as u32;
            let (side, so) = if test.contains(&g) {
                (&mut held, &mut so_test)
            } else {
                (&mut train, &mut so_train)
            };
            side.push(r, dim, class_of(t), g);
            so.push(&clean[i], dim, 0, g);
            so.push(r, dim, 1, g);
        }
        let train = train.dataset(dim, &classes)?;
        let held = held.dataset(dim, &classes)?;
        let naive = accuracy(&held.y, &predict_rows(&naive_model, &held.x, dim));
        let retrained_model = fit_model(ModelKind::Rf, &params, &train)?;
        let retrained = accuracy(&held.y, &predict_rows(&retrained_model, &held.x, dim));
        let sides = ["undefended".to_string(), "defended".to_string()];
        let so_train = so_train.dataset(dim, &sides)?;
        let so_test = so_test.dataset(dim, &sides)?;
        let detector = fit_model(ModelKind::Rf, &params, &so_train)?;
        let stand_out = accuracy(&so_test.y, &predict_rows(&detector, &so_test.x, dim));
        let costs: Vec<&Costs> = defended.iter().map(|(_, c)| c).collect();
        let sum = costs_summary(&costs);
        rows.push(DefenseRow {
            spec: spec.to_string(),
            naive,
            retrained,
            stand_out,
            test_windows: held.n_rows(),
            overhead_total: sum.overhead,
            overhead_mean: costs.iter().map(|c| c.overhead()).sum::<f64>()
                / costs.len().max(1) as f64,
            wasted_share: sum.wasted_share,
            latency_median_ms: sum.latency_median_ms,
            latency_p99_ms: sum.latency_p99_ms,
            packets_ratio: sum.packets_ratio,
        });
    }
    Ok(DefenseMatrix {
        condition: cond.to_string(),
        traces: single.len(),
        trees: s.trees,
        seed,
        rows,
    })
}

/// The metadata matrix of a run: on the first condition of [`Settings::defense_conditions`]
/// the corpus has; none when the run has no defence conditions. A failure is reported through
/// `skip` (condition, reason) and leaves the rest of the run standing.
pub(crate) fn run_attacks(
    corpus: &Corpus,
    s: &Settings,
    skip: &mut dyn FnMut(&str, String),
) -> Option<AttackMatrix> {
    let present = corpus.conditions();
    let cond = s.defense_conditions.iter().find(|c| present.contains(c))?;
    match corpus_attack_matrix(corpus, cond, s) {
        Ok(m) => Some(m),
        Err(e) => {
            skip(cond, e.to_string());
            None
        }
    }
}
