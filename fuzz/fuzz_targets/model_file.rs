//! Any bytes as a model file: every malformation is an error naming the file, never a panic or
//! an allocation sized by an unchecked length field.
//!
//! The input is read as it is, and again re-wrapped with a correct length and checksum (its
//! header and trailer stripped when it has them), so that mutations reach the payload decoder
//! and the model checks instead of stopping at the checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tapir_features::{Extractor, TrainedFeatures};
use tapir_learn::{crc32, from_bytes, Classifier, Model, MultiLabelForest, FORMAT_VERSION, MAGIC};

const HEADER: usize = 20;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.model");
    check(data, path);
    let payload = if data.starts_with(&MAGIC) && data.len() >= HEADER + 4 {
        &data[HEADER..data.len() - 4]
    } else {
        data
    };
    let mut file = Vec::with_capacity(payload.len() + HEADER + 4);
    file.extend_from_slice(&MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(payload);
    file.extend_from_slice(&crc32(payload).to_le_bytes());
    check(&file, path);
});

/// Read as `tapir classify` reads a model file (typed feature settings, then their check), and
/// with untyped settings as a multi-label forest.
fn check(bytes: &[u8], path: &Path) {
    match from_bytes::<Model, TrainedFeatures>(bytes, path) {
        // A model that passed its checks predicts without panicking.
        Ok(mf) if mf.model.n_features() <= 1 << 16 => {
            let x = vec![0.5; mf.model.n_features()];
            let mut p = vec![0.0; mf.model.n_classes()];
            mf.model.predict_proba_into(&x, &mut p);
            // Feature settings that pass their check give an extractor.
            if mf.feature_config.check(None).is_ok() {
                Extractor::new(&mf.feature_config.features).expect("checked settings");
            }
        }
        Ok(_) => {}
        Err(e) => assert!(e.to_string().contains("fuzz.model"), "{e}"),
    }
    let _ = from_bytes::<MultiLabelForest, serde_json::Value>(bytes, path);
}
