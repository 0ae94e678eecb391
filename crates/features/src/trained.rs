//! The feature part of a model file: everything that must be the same when the model is used as
//! when it was trained.

use crate::{FeatureConfig, FeatureError, FeatureSpace, WindowSpec};
use serde::{Deserialize, Serialize};

/// The features a model was trained on: feature space, window size, configuration and the
/// configuration's [`FeatureConfig::fingerprint`] at training time.
///
/// A model file carries one (as JSON text inside its payload). [`TrainedFeatures::check`]
/// refuses it when the stored fingerprint is not the one this build computes for the same
/// configuration: the feature definitions changed since the model was trained (a new
/// definition version), so its features would be computed differently and the model must be
/// trained again.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainedFeatures {
    /// Feature space of the model's inputs.
    pub space: FeatureSpace,
    /// Packets per window the model was trained on (the stride is the user's choice).
    pub window: usize,
    /// Bins and thresholds.
    pub features: FeatureConfig,
    /// [`FeatureConfig::fingerprint`] when the model was trained, as 16 hex digits. Model files
    /// written before it was stored here carry it in their training record instead; `None`
    /// then, until the reader fills it in from there.
    #[serde(default, with = "hex_opt", skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<u64>,
}

impl TrainedFeatures {
    /// The features of a model about to be trained: the fingerprint is this build's.
    pub fn new(space: FeatureSpace, window: WindowSpec, features: FeatureConfig) -> Self {
        TrainedFeatures {
            space,
            window: window.window(),
            features,
            fingerprint: Some(features.fingerprint()),
        }
    }

    /// Checks what a model file says about its features: a valid window and configuration,
    /// and a fingerprint equal to the one this build computes. Returns the window cut with
    /// `stride` (`None`: disjoint windows).
    pub fn check(&self, stride: Option<usize>) -> Result<WindowSpec, FeatureError> {
        self.features.validate()?;
        let current = self.features.fingerprint();
        match self.fingerprint {
            None => return Err(FeatureError::NoFingerprint),
            Some(stored) if stored != current => {
                return Err(FeatureError::DefinitionChanged { stored, current })
            }
            Some(_) => {}
        }
        WindowSpec::new(self.window, stride)
    }
}

/// `Option<u64>` as a string of 16 hex digits, as the training record has always written it.
mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => s.serialize_str(&format!("{x:016x}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        super::parse_fingerprint(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("fingerprint {text:?} is not 16 hex digits"))
        })
    }
}

/// A fingerprint written as 16 hex digits, as [`TrainedFeatures`] and training records store it.
pub fn parse_fingerprint(text: &str) -> Option<u64> {
    if text.len() != 16 {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_check() {
        let t = TrainedFeatures::new(
            FeatureSpace::Combined,
            WindowSpec::DEFAULT,
            FeatureConfig::default(),
        );
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            json.contains("\"fingerprint\":\"e6cd1222ee3a095b\""),
            "{json}"
        );
        let back: TrainedFeatures = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.check(None).unwrap(), WindowSpec::DEFAULT);
        assert_eq!(back.check(Some(512)).unwrap().stride(), 512);
        assert!(matches!(
            back.check(Some(2048)),
            Err(FeatureError::InvalidStride(_))
        ));
    }

    #[test]
    fn a_changed_definition_is_refused() {
        let mut t = TrainedFeatures::new(
            FeatureSpace::SizeIat,
            WindowSpec::DEFAULT,
            FeatureConfig::paper(),
        );
        // What a model trained under an older definition version carries.
        t.fingerprint = Some(0x0123_4567_89ab_cdef);
        let e = t.check(None).unwrap_err();
        assert!(matches!(e, FeatureError::DefinitionChanged { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains("0123456789abcdef") && msg.contains("retrain"),
            "{msg}"
        );
        t.fingerprint = None;
        assert!(matches!(t.check(None), Err(FeatureError::NoFingerprint)));
    }

    #[test]
    fn files_without_a_fingerprint_still_parse() {
        // The layout written before the fingerprint was stored with the configuration.
        let cfg = serde_json::to_string(&FeatureConfig::default()).unwrap();
        let old = format!("{{\"space\":\"combined\",\"window\":1024,\"features\":{cfg}}}");
        let t: TrainedFeatures = serde_json::from_str(&old).unwrap();
        assert_eq!(t.fingerprint, None);
        assert_eq!(t.window, 1024);
        let bad = old.replace("\"window\"", "\"fingerprint\":\"xyz\",\"window\"");
        assert!(serde_json::from_str::<TrainedFeatures>(&bad).is_err());
        assert_eq!(
            parse_fingerprint("e6cd1222ee3a095b"),
            Some(0xe6cd_1222_ee3a_095b)
        );
        assert_eq!(parse_fingerprint("e6cd"), None);
    }
}
