//! Named WAN profiles: what one direction of the emulated access link does.

use crate::LinkemError;

/// One direction of the link.
///
/// | field | meaning | range |
/// |---|---|---|
/// | `delay_ms` | one-way propagation delay | ≥ 0 |
/// | `jitter_ms` | standard deviation of a normal delay variation, cut at ±3σ | ≥ 0 |
/// | `rate_mbit` | serialisation rate (token bucket rate) | > 0 |
/// | `loss` | independent loss probability per frame | 0 ..= 1 |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DirectionParams {
    /// One-way delay in milliseconds.
    pub delay_ms: f64,
    /// Jitter (standard deviation) in milliseconds.
    pub jitter_ms: f64,
    /// Rate in Mbit/s.
    pub rate_mbit: f64,
    /// Loss probability per frame.
    pub loss: f64,
}

impl DirectionParams {
    /// Checks the ranges in the table above.
    pub fn validate(&self) -> Result<(), LinkemError> {
        let bad = |name, value, why| Err(LinkemError::InvalidParameter { name, value, why });
        if !(self.delay_ms >= 0.0 && self.delay_ms.is_finite()) {
            return bad("delay_ms", self.delay_ms, "must be a finite number >= 0");
        }
        if !(self.jitter_ms >= 0.0 && self.jitter_ms.is_finite()) {
            return bad("jitter_ms", self.jitter_ms, "must be a finite number >= 0");
        }
        if !(self.rate_mbit > 0.0 && self.rate_mbit.is_finite()) {
            return bad("rate_mbit", self.rate_mbit, "must be a finite number > 0");
        }
        if !(0.0..=1.0).contains(&self.loss) {
            return bad("loss", self.loss, "must lie in 0..=1");
        }
        Ok(())
    }
}

/// Both directions of an access link, as seen from the client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Client to network (upstream).
    pub up: DirectionParams,
    /// Network to client (downstream).
    pub down: DirectionParams,
    /// Whether jitter may reorder frames. `false` holds a frame back until the
    /// one before it has left, as a single FIFO link does; `true` lets every
    /// frame take its own delay, as netem does by default.
    pub reorder: bool,
}

impl Profile {
    /// The named profiles, in the order lab/run draws them.
    pub const NAMES: [&'static str; 4] = ["lan", "broadband", "mobile", "intercontinental"];

    /// A named profile. Figures are typical, not measured: a switched LAN; a
    /// DSL/cable line (20 ms ±2 ms, 50 Mbit/s down, 10 up); a 4G phone (60 ms
    /// ±15 ms, 20/5 Mbit/s, 0.5 % loss); a long-haul path (150 ms ±5 ms, 100 Mbit/s).
    pub fn named(name: &str) -> Result<Self, LinkemError> {
        let d = |delay_ms, jitter_ms, rate_mbit, loss| DirectionParams {
            delay_ms,
            jitter_ms,
            rate_mbit,
            loss,
        };
        let p = match name {
            "lan" => (d(0.1, 0.02, 1000.0, 0.0), d(0.1, 0.02, 1000.0, 0.0)),
            "broadband" => (d(20.0, 2.0, 10.0, 0.0), d(20.0, 2.0, 50.0, 0.0)),
            "mobile" => (d(60.0, 15.0, 5.0, 0.005), d(60.0, 15.0, 20.0, 0.005)),
            "intercontinental" => (d(150.0, 5.0, 100.0, 0.0), d(150.0, 5.0, 100.0, 0.0)),
            other => return Err(LinkemError::UnknownProfile(other.to_string())),
        };
        Ok(Profile {
            up: p.0,
            down: p.1,
            reorder: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_profile_is_valid() {
        for n in Profile::NAMES {
            let p = Profile::named(n).unwrap();
            p.up.validate().unwrap();
            p.down.validate().unwrap();
        }
        let b = Profile::named("broadband").unwrap();
        assert_eq!(b.down.rate_mbit, 50.0);
        assert_eq!(b.up.rate_mbit, 10.0);
        assert_eq!(Profile::named("mobile").unwrap().up.loss, 0.005);
    }

    #[test]
    fn unknown_profile_and_bad_parameters_are_errors() {
        assert!(matches!(
            Profile::named("dialup"),
            Err(LinkemError::UnknownProfile(_))
        ));
        let mut p = Profile::named("lan").unwrap().up;
        p.loss = 1.5;
        assert!(p.validate().is_err());
        p.loss = 0.0;
        p.rate_mbit = 0.0;
        assert!(p.validate().is_err());
        p.rate_mbit = 1.0;
        p.delay_ms = f64::NAN;
        assert!(p.validate().is_err());
    }
}
