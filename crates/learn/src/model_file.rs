//! Versioned model files.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `TAPIRMDL` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | payload length `L` |
//! | `L` | payload: the [`ModelFile`] encoded with `postcard` |
//! | 4 | CRC-32 (IEEE) of the payload |
//!
//! The payload is postcard rather than JSON because a model is mostly numbers: the 100-tree
//! forest of the benchmark (5,000 windows x 2,048 features, 41,000 nodes) takes 0.8 MB as
//! postcard (fixed 4-byte floats, varint integers) and 2.8 MB as JSON, which is also slower to
//! parse. The feature configuration, a free-form JSON value, is stored as JSON text inside the
//! payload because postcard is not self-describing.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::Model;

/// First eight bytes of every model file.
pub const MAGIC: [u8; 8] = *b"TAPIRMDL";
/// Format version this build writes and reads. Version 2 added the "unknown" threshold and the
/// training record; version 1 files are refused with a request to retrain.
pub const FORMAT_VERSION: u32 = 2;
const HEADER: usize = 8 + 4 + 8;

/// Everything needed to classify new traffic: the model, its class names and the feature
/// settings it was trained with, of type `F` (tapir stores `tapir_features::TrainedFeatures`;
/// this crate only needs it to be JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "M: Serialize, F: Serialize",
    deserialize = "M: Deserialize<'de>, F: DeserializeOwned"
))]
pub struct ModelFile<M = Model, F = serde_json::Value> {
    /// Payload format version (the header carries it too).
    pub format_version: u32,
    /// Version of tapir that trained the model.
    pub tapir_version: String,
    /// Feature settings (window size, bins, feature space), owned by the features crate.
    #[serde(with = "json_text")]
    pub feature_config: F,
    /// Class (or label) names, indexed like the model's outputs.
    pub classes: Vec<String>,
    /// The fitted model.
    pub model: M,
    /// A window whose highest class probability is below this is labelled `unknown`; `None`
    /// when the model was not calibrated.
    pub unknown_threshold: Option<f64>,
    /// What the model was trained on and how (data, augmentation, calibration), as JSON.
    #[serde(with = "json_text")]
    pub training: serde_json::Value,
}

/// A fitted model that can say whether its tables are consistent after decoding.
pub trait CheckModel {
    /// `Err(reason)` when sizes or indices are inconsistent (a corrupt or hand-made file).
    fn check_model(&self) -> std::result::Result<(), String>;
}

impl CheckModel for Model {
    fn check_model(&self) -> std::result::Result<(), String> {
        self.check()
    }
}

impl CheckModel for crate::MultiLabelForest {
    fn check_model(&self) -> std::result::Result<(), String> {
        self.check()
    }
}

mod json_text {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        serde_json::to_string(v)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// CRC-32 as in zlib/PNG (reflected polynomial 0xEDB88320), table built at compile time.
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// Encodes a model file to bytes (header, payload, checksum).
pub fn to_bytes<M: Serialize, F: Serialize>(file: &ModelFile<M, F>) -> Result<Vec<u8>> {
    let payload = postcard::to_allocvec(file).map_err(|e| LearnError::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER + payload.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&crc32(&payload).to_le_bytes());
    Ok(out)
}

/// Decodes bytes written by [`to_bytes`]; `path` only labels errors. Every malformation gives its
/// own error and nothing is allocated from a length field before it is checked against the input.
pub fn from_bytes<M: DeserializeOwned + CheckModel, F: DeserializeOwned>(
    bytes: &[u8],
    path: &Path,
) -> Result<ModelFile<M, F>> {
    let path = || path.to_path_buf();
    let available = bytes.len() as u64;
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(LearnError::BadMagic { path: path() });
    }
    if bytes.len() < HEADER {
        return Err(LearnError::Truncated {
            path: path(),
            needed: HEADER as u64,
            available,
        });
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != FORMAT_VERSION {
        return Err(LearnError::UnsupportedVersion {
            path: path(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[12..20]);
    let payload_len = u64::from_le_bytes(len);
    let needed = payload_len.saturating_add(HEADER as u64 + 4);
    if needed > available {
        return Err(LearnError::Truncated {
            path: path(),
            needed,
            available,
        });
    }
    if needed < available {
        return Err(LearnError::TrailingBytes {
            path: path(),
            extra: available - needed,
        });
    }
    // needed == available, so these ranges are in bounds.
    let end = HEADER + payload_len as usize;
    let payload = &bytes[HEADER..end];
    let stored = u32::from_le_bytes([bytes[end], bytes[end + 1], bytes[end + 2], bytes[end + 3]]);
    let computed = crc32(payload);
    if stored != computed {
        return Err(LearnError::BadChecksum {
            path: path(),
            stored,
            computed,
        });
    }
    let bad = |reason: String| LearnError::BadPayload {
        path: path(),
        reason,
    };
    let (file, rest): (ModelFile<M, F>, &[u8]) =
        postcard::take_from_bytes(payload).map_err(|e| bad(e.to_string()))?;
    if !rest.is_empty() {
        return Err(bad(format!("{} undecoded bytes at the end", rest.len())));
    }
    if file.format_version != FORMAT_VERSION {
        return Err(bad(format!(
            "payload says format version {} but the header says {FORMAT_VERSION}",
            file.format_version
        )));
    }
    file.model.check_model().map_err(bad)?;
    Ok(file)
}

/// Writes a model file atomically: to a temporary file in the same directory, flushed to disk,
/// then renamed over `path`, so readers see the old file or the new one, never half of one.
pub fn write_model_file<M: Serialize, F: Serialize>(
    path: &Path,
    file: &ModelFile<M, F>,
) -> Result<()> {
    let bytes = to_bytes(file)?;
    tapir_capture::write_atomic(path, &bytes).map_err(|source| LearnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The default limit of [`read_model_file`] on the size of a model file: 1 GiB, twenty times
/// a random forest of 500 deep trees, so that a genuine model loads and a hostile file cannot
/// exhaust memory.
pub const MAX_MODEL_FILE: u64 = 1 << 30;

/// Reads and checks a model file written by [`write_model_file`], at most [`MAX_MODEL_FILE`]
/// bytes.
pub fn read_model_file<M: DeserializeOwned + CheckModel, F: DeserializeOwned>(
    path: &Path,
) -> Result<ModelFile<M, F>> {
    read_model_file_limited(path, MAX_MODEL_FILE)
}

/// [`read_model_file`] with another size limit: a larger file is refused before it is read.
pub fn read_model_file_limited<M: DeserializeOwned + CheckModel, F: DeserializeOwned>(
    path: &Path,
    limit: u64,
) -> Result<ModelFile<M, F>> {
    let io = |source| LearnError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size > limit {
        return Err(LearnError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    // The buffer is sized by the file, never by the length field inside it; `take` holds the
    // limit even for a file that grows while it is read (or a FIFO, whose size is 0).
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(LearnError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    from_bytes(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fit_model, Classifier, Dataset, ModelKind, ModelParams};
    use std::fs;

    fn tiny_file(kind: ModelKind) -> ModelFile {
        let ds = Dataset::new(
            vec![0.0, 1.0, 1.0, 0.0, 2.0, 2.0, 3.0, 0.0, 0.0, 3.0, 1.0, 1.0],
            2,
            vec![0, 1, 0, 1, 0, 1],
            vec!["web".into(), "voip".into()],
            vec![0, 1, 2, 3, 4, 5],
        )
        .unwrap();
        let params = ModelParams {
            rf: crate::RfParams {
                n_trees: 5,
                ..Default::default()
            },
            ..Default::default()
        };
        ModelFile {
            format_version: FORMAT_VERSION,
            tapir_version: "0.1.0".into(),
            feature_config: serde_json::json!({"window": 1024, "space": "size-iat"}),
            classes: ds.classes.clone(),
            model: fit_model(kind, &params, &ds).unwrap(),
            unknown_threshold: Some(0.5),
            training: serde_json::json!({"data": ["tiny"]}),
        }
    }

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn round_trip_on_disk_for_every_kind() {
        let dir = std::env::temp_dir().join(format!("tapir-learn-mf-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for kind in [ModelKind::Nb, ModelKind::Lr, ModelKind::Rf] {
            let file = tiny_file(kind);
            let path = dir.join(format!("{kind:?}.tapir"));
            write_model_file(&path, &file).unwrap();
            let back: ModelFile = read_model_file(&path).unwrap();
            assert_eq!(back, file);
            let mut a = [0.0; 2];
            let mut b = [0.0; 2];
            file.model.predict_proba_into(&[1.0, 2.0], &mut a);
            back.model.predict_proba_into(&[1.0, 2.0], &mut b);
            assert_eq!(a, b);
        }
        // No temporary files are left behind.
        let leftovers = fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp-")
            })
            .count();
        assert_eq!(leftovers, 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_above_the_size_limit_is_refused_before_it_is_read() {
        let dir = std::env::temp_dir().join(format!("tapir-learn-big-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nb.tapir");
        write_model_file(&path, &tiny_file(ModelKind::Nb)).unwrap();
        let size = fs::metadata(&path).unwrap().len();
        let err = read_model_file_limited::<Model, serde_json::Value>(&path, size - 1).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, LearnError::TooLarge { limit, .. } if limit == size - 1));
        assert!(
            msg.contains("nb.tapir") && msg.contains("--max-model-size"),
            "{msg}"
        );
        let back: ModelFile = read_model_file_limited(&path, size).unwrap();
        assert_eq!(back, tiny_file(ModelKind::Nb));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn multi_label_forest_round_trips() {
        let ds = crate::MultiLabelDataset::new(
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            1,
            vec![
                vec![true, false],
                vec![true, false],
                vec![true, true],
                vec![false, true],
                vec![false, true],
                vec![false, true],
            ],
            vec!["web".into(), "voip".into()],
            vec![0, 1, 2, 3, 4, 5],
        )
        .unwrap();
        let model = crate::RfParams {
            n_trees: 4,
            ..Default::default()
        }
        .fit_multi_label(&ds)
        .unwrap();
        let file = ModelFile {
            format_version: FORMAT_VERSION,
            tapir_version: "0.1.0".into(),
            feature_config: serde_json::Value::Null,
            classes: ds.labels.clone(),
            model,
            unknown_threshold: None,
            training: serde_json::Value::Null,
        };
        let bytes = to_bytes(&file).unwrap();
        let back: ModelFile<crate::MultiLabelForest> = from_bytes(&bytes, Path::new("m")).unwrap();
        assert_eq!(back, file);
        // A single-label reader refuses it instead of misreading it.
        assert!(from_bytes::<Model, serde_json::Value>(&bytes, Path::new("m")).is_err());
    }

    #[test]
    fn corruption_gives_distinct_errors() {
        let good = to_bytes(&tiny_file(ModelKind::Rf)).unwrap();
        let p = Path::new("m.tapir");
        let read = |b: &[u8]| from_bytes::<Model, serde_json::Value>(b, p).unwrap_err();

        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        assert!(matches!(read(&bad_magic), LearnError::BadMagic { .. }));
        assert!(matches!(read(b"PK\x03\x04"), LearnError::BadMagic { .. }));

        let mut version = good.clone();
        version[8] = 9;
        assert!(matches!(
            read(&version),
            LearnError::UnsupportedVersion { found: 9, .. }
        ));
        // A version-1 file (before the unknown threshold): refused by its header, with advice.
        let mut old = good.clone();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        let e = read(&old);
        assert!(matches!(e, LearnError::UnsupportedVersion { found: 1, .. }));
        assert!(e.to_string().contains("retrain"), "{e}");

        for cut in [0, 5, 8, 19, 20, good.len() - 1] {
            assert!(
                matches!(read(&good[..cut]), LearnError::Truncated { .. }),
                "cut at {cut}"
            );
        }

        let mut huge = good.clone();
        huge[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(read(&huge), LearnError::Truncated { .. }));

        let mut flipped = good.clone();
        flipped[HEADER + 3] ^= 0x40;
        assert!(matches!(read(&flipped), LearnError::BadChecksum { .. }));

        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(
            read(&trailing),
            LearnError::TrailingBytes { extra: 1, .. }
        ));

        // A valid frame around a payload that is not a model.
        let junk = [0xFFu8; 16];
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        framed.extend_from_slice(&(junk.len() as u64).to_le_bytes());
        framed.extend_from_slice(&junk);
        framed.extend_from_slice(&crc32(&junk).to_le_bytes());
        assert!(matches!(read(&framed), LearnError::BadPayload { .. }));

        let missing =
            read_model_file::<Model, serde_json::Value>(Path::new("/nonexistent/dir/m.tapir"))
                .unwrap_err();
        assert!(matches!(missing, LearnError::Io { .. }));
    }

    #[test]
    fn never_panics_on_mutated_bytes() {
        let good = to_bytes(&tiny_file(ModelKind::Lr)).unwrap();
        let mut rng = crate::rng::Rng::new(11);
        for _ in 0..2000 {
            let mut b = good.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(b.len());
                b[i] = rng.next_u64() as u8;
            }
            // Fix the checksum so the decoder, not the CRC, sees the damage.
            if b.len() >= HEADER + 4 && b[..8] == MAGIC {
                let end = b.len() - 4;
                let crc = crc32(&b[HEADER..end]);
                b[end..].copy_from_slice(&crc.to_le_bytes());
            }
            if let Ok(f) = from_bytes::<Model, serde_json::Value>(&b, Path::new("x")) {
                let mut out = [0.0; 2];
                f.model.predict_proba_into(&[1.0, 1.0], &mut out);
            }
        }
    }
}
