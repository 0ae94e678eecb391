//! Any bytes as a model file: every malformation is an error naming the file, never a panic or
//! an allocation sized by an unchecked length field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tapir_learn::{from_bytes, Model, MultiLabelForest};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.model");
    if let Err(e) = from_bytes::<Model>(data, path) {
        assert!(e.to_string().contains("fuzz.model"), "{e}");
    }
    let _ = from_bytes::<MultiLabelForest>(data, path);
});
