//! Any text as a feature configuration (the JSON of `--feature-config` and of model files):
//! parsing and validation report errors, never panic; a valid one builds an extractor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_features::FeatureConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = serde_json::from_str::<FeatureConfig>(text) else {
        return;
    };
    if cfg.validate().is_ok() {
        let _ = cfg.fingerprint();
        let _ = cfg.ensure_same(&cfg);
    }
});
