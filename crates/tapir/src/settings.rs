//! Raw flags → validated settings. A value that does not make sense is a [`Usage`] error
//! (exit code 2), named by its flag.

use crate::cli::{ForestArgs, Named, TrafficArgs, WindowArgs};
use clap::ValueEnum;
use std::fmt;
use tapir_dataset::{Augmentation, ExtractSettings};
use tapir_features::{AugmentSpec, FeatureConfig, FeatureError, FeatureSpace, WindowSpec};
use tapir_flow::{Cidr, ClientRule};

/// A bad flag value: exit code 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(msg.into()))
}

/// The random forest's settings from `--trees`, `--seed`, `--min-leaf` and `--max-depth`; a
/// count of 0 is a usage error.
pub fn forest_params(
    trees: usize,
    seed: u64,
    f: &ForestArgs,
) -> anyhow::Result<tapir_learn::RfParams> {
    if trees == 0 {
        return Err(usage("--trees: need at least one tree"));
    }
    if f.min_leaf == Some(0) {
        return Err(usage("--min-leaf: need at least one window in a leaf"));
    }
    if f.max_depth == Some(0) {
        return Err(usage("--max-depth: need at least one level"));
    }
    let mut p = tapir_learn::RfParams {
        n_trees: trees,
        seed,
        max_depth: f.max_depth,
        ..Default::default()
    };
    if let Some(n) = f.min_leaf {
        p.min_samples_leaf = n;
    }
    Ok(p)
}

/// An invalid setting found by tapir-analysis as a usage error that names the flag the user
/// typed: `flags` maps the library's setting names (`min_fanout`) to the command's flags
/// (`--fanout`); other errors keep their text.
pub fn analysis_usage(e: tapir_analysis::AnalysisError, flags: &[(&str, &str)]) -> anyhow::Error {
    match e {
        tapir_analysis::AnalysisError::Invalid { what, why } => {
            let flag = flags
                .iter()
                .find(|(name, _)| *name == what)
                .map_or(what, |(_, flag)| flag);
            usage(format!("{flag}: {why}"))
        }
        other => usage(other.to_string()),
    }
}

/// `value` as one of `T`'s flag values (case ignored), for a value inside a longer argument
/// (`--compare SPACE:MODEL`, `--graph FORMAT FILE`) that clap cannot check by itself; the error
/// lists the possible values as clap's own do.
pub fn value_of<T: ValueEnum>(flag: &str, value: &str) -> anyhow::Result<T> {
    T::from_str(value, true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .map(|p| p.get_name().to_string())
            .collect();
        usage(format!(
            "{flag}: invalid value {value:?} [possible values: {}]",
            names.join(", ")
        ))
    })
}

pub fn client_rule(t: &TrafficArgs) -> anyhow::Result<ClientRule> {
    if t.client.is_empty() {
        return Ok(ClientRule::Auto);
    }
    let mut v = Vec::new();
    for c in &t.client {
        v.push(
            c.parse::<Cidr>()
                .map_err(|e| usage(format!("--client: {e}")))?,
        );
    }
    Ok(ClientRule::Prefixes(v))
}

/// `--anonymize KEY` (64 hex digits or a passphrase) as the Crypto-PAn anonymizer every command
/// shares, so that one key gives one pseudonym per address in every output.
pub fn anonymizer(key: Option<&str>) -> anyhow::Result<Option<tapir_anon::Anonymizer>> {
    key.map(|k| {
        tapir_anon::Anonymizer::from_passphrase(k).map_err(|e| usage(format!("--anonymize: {e}")))
    })
    .transpose()
}

/// `--window` and `--stride` as a [`WindowSpec`]; the error names the flag that is out of range.
pub fn window_spec(window: usize, stride: Option<usize>) -> anyhow::Result<WindowSpec> {
    WindowSpec::new(window, stride).map_err(|e| match e {
        FeatureError::InvalidStride(_) => usage(format!("--stride: {e}")),
        _ => usage(format!("--window: {e}")),
    })
}

pub fn extract_settings(
    t: &TrafficArgs,
    w: &WindowArgs,
    space: FeatureSpace,
) -> anyhow::Result<ExtractSettings> {
    Ok(ExtractSettings {
        unit: t.by.0,
        client: client_rule(t)?,
        window: window_spec(w.window, w.stride)?,
        min_packets: t.min_packets,
        space,
        features: feature_config(w.feature_config.as_deref())?,
        strict: t.strict,
        augment: None,
        max_windows: match w.max_windows {
            0 => return Err(usage("--max-windows 0: need at least 1")),
            n => n,
        },
        max_units: match w.max_units {
            0 => return Err(usage("--max-units 0: need at least 1")),
            n => n,
        },
        max_held_packets: w.max_held_packets,
        anonymize: None,
    })
}

/// `--augment SPEC` and `--augment-copies K`: `None` for `none` or zero copies.
pub fn augmentation(spec: &str, copies: u32, seed: u64) -> anyhow::Result<Option<Augmentation>> {
    let spec: AugmentSpec = spec
        .parse()
        .map_err(|e| usage(format!("--augment {spec:?}: {e}")))?;
    if copies > 64 {
        return Err(usage(format!(
            "--augment-copies {copies}: at most 64 copies per window"
        )));
    }
    if spec.is_none() || copies == 0 {
        return Ok(None);
    }
    Ok(Some(Augmentation { spec, copies, seed }))
}

/// The default feature configuration, or the one in a JSON file (every field required).
pub fn feature_config(path: Option<&std::path::Path>) -> anyhow::Result<FeatureConfig> {
    let Some(path) = path else {
        return Ok(FeatureConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--feature-config {}: {e}", path.display())))?;
    let cfg: FeatureConfig = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "--feature-config {}: {e}; docs/features.md lists its fields \
             (docs/feature-config-paper.json is a whole example)",
            path.display()
        ))
    })?;
    cfg.validate()
        .map_err(|e| usage(format!("--feature-config {}: {e}", path.display())))?;
    Ok(cfg)
}

/// `--graph FORMAT FILE` of `watch` and `mail`: the format and where to write the graph.
pub fn graph_flag(
    values: &[String],
) -> anyhow::Result<Option<(tapir_analysis::GraphFormat, std::path::PathBuf)>> {
    match values {
        [] => Ok(None),
        [f, path] => {
            let format = value_of::<Named<tapir_analysis::GraphFormat>>("--graph FORMAT", f)?.0;
            Ok(Some((format, std::path::PathBuf::from(path))))
        }
        _ => Err(usage(
            "--graph takes a format and a file: --graph dot talk.dot",
        )),
    }
}
