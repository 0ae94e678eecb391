//! The heat-map colour scale.

/// An 8-bit RGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub(crate) const WHITE: Rgb = Rgb(255, 255, 255);
    pub(crate) const BLACK: Rgb = Rgb(0, 0, 0);
    pub(crate) const GREY: Rgb = Rgb(90, 90, 90);
    /// Empty bins: light enough that a single packet (the darkest colour) stands out.
    pub(crate) const EMPTY: Rgb = Rgb(236, 236, 236);

    pub(crate) fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Five anchor points of the perceptually uniform "viridis" scale (dark purple to yellow), so
/// that brightness grows with the count and the map reads in grey-scale print too.
const ANCHORS: [(f64, Rgb); 5] = [
    (0.0, Rgb(68, 1, 84)),
    (0.25, Rgb(59, 82, 139)),
    (0.5, Rgb(33, 145, 140)),
    (0.75, Rgb(94, 201, 98)),
    (1.0, Rgb(253, 231, 37)),
];

/// Colour of `t` in [0, 1] (clamped; NaN gives the low end).
pub(crate) fn scale(t: f64) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    for w in ANCHORS.windows(2) {
        let ((t0, a), (t1, b)) = (w[0], w[1]);
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            let mix =
                |x: u8, y: u8| (f64::from(x) + f * (f64::from(y) - f64::from(x))).round() as u8;
            return Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
        }
    }
    ANCHORS[ANCHORS.len() - 1].1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(scale(0.0), Rgb(68, 1, 84));
        assert_eq!(scale(1.0), Rgb(253, 231, 37));
        assert_eq!(scale(7.0), scale(1.0));
        assert_eq!(scale(f64::NAN), scale(0.0));
        assert_eq!(scale(0.5), Rgb(33, 145, 140));
        assert_eq!(Rgb(1, 2, 255).hex(), "#0102ff");
    }
}
