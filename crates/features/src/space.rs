//! The feature spaces of the paper (§III) and their command-line names.

use crate::FeatureError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which histogram(s) make up a feature vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureSpace {
    /// Signed packet size × inter-arrival time (§III.A).
    SizeIat,
    /// Burst size × surge period (§III.B).
    Burst,
    /// `size-iat` followed by `burst`.
    Combined,
}

impl FeatureSpace {
    /// All spaces, in the order of the paper's tables.
    pub const ALL: [FeatureSpace; 3] = [
        FeatureSpace::SizeIat,
        FeatureSpace::Burst,
        FeatureSpace::Combined,
    ];

    /// The name used on the command line, in model files and in feature names.
    pub const fn name(self) -> &'static str {
        match self {
            FeatureSpace::SizeIat => "size-iat",
            FeatureSpace::Burst => "burst",
            FeatureSpace::Combined => "combined",
        }
    }
}

impl fmt::Display for FeatureSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeatureSpace {
    type Err = FeatureError;

    /// Accepts the names of [`FeatureSpace::name`], case-insensitively, and `size_iat`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "size-iat" | "size_iat" => Ok(FeatureSpace::SizeIat),
            "burst" => Ok(FeatureSpace::Burst),
            "combined" => Ok(FeatureSpace::Combined),
            _ => Err(FeatureError::UnknownSpace(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in FeatureSpace::ALL {
            assert_eq!(s.to_string().parse::<FeatureSpace>().unwrap(), s);
            let j = serde_json::to_string(&s).unwrap();
            assert_eq!(j, format!("\"{s}\""));
        }
        assert_eq!(
            "Size_IAT".parse::<FeatureSpace>().unwrap(),
            FeatureSpace::SizeIat
        );
        assert!(matches!(
            "bursts".parse::<FeatureSpace>(),
            Err(FeatureError::UnknownSpace(_))
        ));
    }
}
