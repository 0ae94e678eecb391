//! `--qos web=AF21,voip=EF,…`: a label → DiffServ class map, so that a QoS system can act on
//! `classify`'s decisions without a table of its own.
//!
//! Class names are the DiffServ code points' (RFC 2474 class selectors `CS0`–`CS7`, RFC 2597
//! assured forwarding `AF11`–`AF43`, RFC 3246 expedited forwarding `EF`, RFC 5865 `VOICE-ADMIT`,
//! RFC 8622 lower effort `LE`, default forwarding `DF` or `BE`), or a number 0–63.
//! Labels left out of the map get `DF` (0), best effort.

use crate::cmd::classify::UNKNOWN;
use crate::settings::usage;

/// DiffServ class of every label: index = class index, the last one for `unknown`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosMap {
    classes: Vec<(String, u8)>,
}

impl QosMap {
    /// Parses `label=CLASS,…` against the model's classes (and `unknown`).
    pub fn parse(spec: &str, classes: &[String]) -> anyhow::Result<QosMap> {
        let mut map = vec![("DF".to_string(), 0u8); classes.len() + 1];
        let mut seen = vec![false; classes.len() + 1];
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((label, class)) = item.split_once('=') else {
                return Err(usage(format!(
                    "--qos {spec:?}: {item:?} is not LABEL=CLASS (e.g. voip=EF)"
                )));
            };
            let (label, class) = (label.trim(), class.trim());
            let i = if label == UNKNOWN {
                classes.len()
            } else {
                classes.iter().position(|c| c == label).ok_or_else(|| {
                    usage(format!(
                        "--qos: the model has no class {label:?}; its classes are {} and {UNKNOWN}",
                        classes.join(", ")
                    ))
                })?
            };
            if std::mem::replace(&mut seen[i], true) {
                return Err(usage(format!("--qos: {label} is mapped twice")));
            }
            let dscp = dscp(class).ok_or_else(|| {
                usage(format!(
                    "--qos {label}={class}: not a DiffServ class; use EF, AF11–AF43, CS0–CS7, \
                     DF, LE, VOICE-ADMIT or a number 0–63"
                ))
            })?;
            map[i] = (class.to_ascii_uppercase(), dscp);
        }
        Ok(QosMap { classes: map })
    }

    /// The class name and code point of label index `label`.
    pub fn of(&self, label: usize) -> (&str, u8) {
        let (name, dscp) = &self.classes[label.min(self.classes.len() - 1)];
        (name, *dscp)
    }
}

/// The code point of a DiffServ class name or number.
fn dscp(class: &str) -> Option<u8> {
    if let Ok(n) = class.parse::<u8>() {
        return (n < 64).then_some(n);
    }
    let c = class.to_ascii_uppercase();
    match c.as_str() {
        "EF" => return Some(46),
        "DF" | "BE" => return Some(0),
        "LE" => return Some(1),
        "VOICE-ADMIT" | "VA" => return Some(44),
        _ => {}
    }
    let digits: Vec<u8> = c.bytes().skip(2).map(|b| b.wrapping_sub(b'0')).collect();
    match (c.get(..2).unwrap_or(""), digits.as_slice()) {
        ("CS", [n]) if *n <= 7 => Some(8 * n),
        // AFxy: class x (1–4), drop precedence y (1–3), code point 8x + 2y.
        ("AF", [x, y]) if (1..=4).contains(x) && (1..=3).contains(y) => Some(8 * x + 2 * y),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["p2p", "video", "voip", "web"].map(String::from).to_vec()
    }

    #[test]
    fn code_points_follow_the_rfcs() {
        assert_eq!(dscp("EF"), Some(46));
        assert_eq!(dscp("af21"), Some(18));
        assert_eq!(dscp("AF41"), Some(34));
        assert_eq!(dscp("AF13"), Some(14));
        assert_eq!(dscp("CS1"), Some(8));
        assert_eq!(dscp("CS0"), Some(0));
        assert_eq!(dscp("LE"), Some(1));
        assert_eq!(dscp("63"), Some(63));
        assert_eq!(dscp("64"), None);
        assert_eq!(dscp("AF44"), None);
        assert_eq!(dscp("AF51"), None);
        assert_eq!(dscp("CS8"), None);
        assert_eq!(dscp("A"), None);
        assert_eq!(dscp(""), None);
        assert_eq!(dscp("ÄF21"), None);
        assert_eq!(dscp("€F21"), None);
    }

    #[test]
    fn labels_map_and_the_rest_is_best_effort() {
        let q = QosMap::parse("web=AF21, voip=EF,video=af41,unknown=LE", &classes()).unwrap();
        assert_eq!(q.of(3), ("AF21", 18));
        assert_eq!(q.of(2), ("EF", 46));
        assert_eq!(q.of(1), ("AF41", 34));
        assert_eq!(q.of(0), ("DF", 0));
        assert_eq!(q.of(4), ("LE", 1));
    }

    #[test]
    fn bad_maps_are_usage_errors_naming_the_problem() {
        let e = QosMap::parse("mail=EF", &classes()).unwrap_err();
        assert!(e.to_string().contains("no class \"mail\""), "{e}");
        assert!(e.downcast_ref::<crate::settings::Usage>().is_some());
        let e = QosMap::parse("voip=XX", &classes()).unwrap_err();
        assert!(e.to_string().contains("not a DiffServ class"), "{e}");
        let e = QosMap::parse("voip", &classes()).unwrap_err();
        assert!(e.to_string().contains("LABEL=CLASS"), "{e}");
        let e = QosMap::parse("voip=EF,voip=CS1", &classes()).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }
}
