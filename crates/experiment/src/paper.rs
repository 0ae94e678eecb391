//! The paper's published numbers (`seeds/001`, §IV), so every table can show them beside ours.

/// Accuracy (fraction) of Tables I–III: condition, feature space, model.
const TABLES: &[(&str, &str, &str, f64)] = &[
    // Table I: unencrypted.
    ("plain", "size-iat", "nb", 0.9455),
    ("plain", "size-iat", "lr", 0.9909),
    ("plain", "size-iat", "rf", 0.9727),
    ("plain", "burst", "nb", 0.9636),
    ("plain", "burst", "lr", 0.9909),
    ("plain", "burst", "rf", 0.9727),
    ("plain", "combined", "nb", 0.9727),
    ("plain", "combined", "lr", 1.0),
    ("plain", "combined", "rf", 0.9909),
    // Table II: IPsec.
    ("ipsec", "size-iat", "nb", 0.9355),
    ("ipsec", "size-iat", "lr", 0.9570),
    ("ipsec", "size-iat", "rf", 0.9677),
    ("ipsec", "burst", "nb", 0.8710),
    ("ipsec", "burst", "lr", 0.9462),
    ("ipsec", "burst", "rf", 0.9355),
    ("ipsec", "combined", "nb", 0.9462),
    ("ipsec", "combined", "lr", 0.9570),
    ("ipsec", "combined", "rf", 0.9677),
    // Table III: Tor.
    ("tor", "size-iat", "nb", 0.8056),
    ("tor", "size-iat", "lr", 0.7778),
    ("tor", "size-iat", "rf", 0.8472),
    ("tor", "burst", "nb", 0.8611),
    ("tor", "burst", "lr", 0.8056),
    ("tor", "burst", "rf", 0.8611),
    ("tor", "combined", "nb", 0.8333),
    ("tor", "combined", "lr", 0.8056),
    ("tor", "combined", "rf", 0.8056),
];

/// Table IV (Tor, random forest): feature space, subset accuracy, Hamming loss.
const TABLE_IV: &[(&str, f64, f64)] = &[
    ("size-iat", 0.8387, 0.0462),
    ("burst", 0.7683, 0.0689),
    ("combined", 0.8358, 0.0462),
];

/// The paper's accuracy for one cell of Tables I–III, if it reported that condition.
pub fn table_accuracy(condition: &str, features: &str, model: &str) -> Option<f64> {
    TABLES
        .iter()
        .find(|(c, f, m, _)| *c == condition && *f == features && *m == model)
        .map(|t| t.3)
}

/// Which of the paper's tables covers a condition.
pub fn table_name(condition: &str) -> Option<&'static str> {
    match condition {
        "plain" => Some("Table I"),
        "ipsec" => Some("Table II"),
        "tor" => Some("Table III"),
        _ => None,
    }
}

/// Table IV's subset accuracy and Hamming loss for a feature space (Tor only in the paper).
pub fn multi_label(features: &str) -> Option<(f64, f64)> {
    TABLE_IV
        .iter()
        .find(|(f, _, _)| *f == features)
        .map(|t| (t.1, t.2))
}

/// Figure 3's one quoted point: random forest on IPsec at 300 background packets/s.
pub const FIGURE_3: (f64, f64) = (300.0, 0.875);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(table_accuracy("ipsec", "burst", "nb"), Some(0.8710));
        assert_eq!(table_accuracy("wireguard", "burst", "nb"), None);
        assert_eq!(multi_label("burst"), Some((0.7683, 0.0689)));
        assert_eq!(table_name("tor"), Some("Table III"));
        assert_eq!(TABLES.len(), 27);
    }
}
