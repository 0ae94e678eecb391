//! What one direction of the emulated access link does: named presets and
//! `key=value` specifications.

use crate::LinkemError;

/// One direction of the link.
///
/// | field | meaning | range | default in a spec |
/// |---|---|---|---|
/// | `delay_ms` | one-way propagation delay | ≥ 0 | 0 |
/// | `jitter_ms` | standard deviation of the path's delay variation (correlated, cut at ±3σ) | ≥ 0 | 0 |
/// | `rate_mbit` | serialisation rate of the access link; `None`: not serialised here (the kernel's `tbf` does it) | > 0 | none |
/// | `loss` | independent loss probability per frame | 0 ..= 1 | 0 |
/// | `queue_ms` | tail-drop queue in front of the serialiser, in transmission time | > 0 | 50 |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DirectionParams {
    /// One-way delay in milliseconds.
    pub delay_ms: f64,
    /// Jitter (standard deviation) in milliseconds.
    pub jitter_ms: f64,
    /// Rate in Mbit/s, if linkem serialises.
    pub rate_mbit: Option<f64>,
    /// Loss probability per frame.
    pub loss: f64,
    /// Queue in milliseconds of transmission time.
    pub queue_ms: f64,
}

impl Default for DirectionParams {
    fn default() -> Self {
        DirectionParams {
            delay_ms: 0.0,
            jitter_ms: 0.0,
            rate_mbit: None,
            loss: 0.0,
            // 50 ms: a common rule of thumb for access-link buffers.
            queue_ms: 50.0,
        }
    }
}

impl DirectionParams {
    /// Checks the ranges in the table above.
    pub fn validate(&self) -> Result<(), LinkemError> {
        let bad = |name, value, why| Err(LinkemError::InvalidParameter { name, value, why });
        if !(self.delay_ms >= 0.0 && self.delay_ms.is_finite()) {
            return bad("delay", self.delay_ms, "must be a finite number >= 0");
        }
        if !(self.jitter_ms >= 0.0 && self.jitter_ms.is_finite()) {
            return bad("jitter", self.jitter_ms, "must be a finite number >= 0");
        }
        if let Some(r) = self.rate_mbit {
            if !(r > 0.0 && r.is_finite()) {
                return bad("rate", r, "must be a finite number > 0");
            }
        }
        if !(0.0..=1.0).contains(&self.loss) {
            return bad("loss", self.loss, "must lie in 0..=1");
        }
        if !(self.queue_ms > 0.0 && self.queue_ms.is_finite()) {
            return bad("queue", self.queue_ms, "must be a finite number > 0");
        }
        Ok(())
    }

    /// Parses `delay=MS,jitter=MS,loss=P,rate=MBIT,queue=MS` (any subset, any
    /// order; omitted keys take the defaults above) and validates it.
    pub fn parse(spec: &str) -> Result<Self, LinkemError> {
        let mut p = DirectionParams::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| LinkemError::BadSpec(format!("'{item}' is not key=value")))?;
            let v: f64 = value.trim().parse().map_err(|_| {
                LinkemError::BadSpec(format!("'{item}': '{value}' is not a number"))
            })?;
            match key.trim() {
                "delay" => p.delay_ms = v,
                "jitter" => p.jitter_ms = v,
                "loss" => p.loss = v,
                "rate" => p.rate_mbit = Some(v),
                "queue" => p.queue_ms = v,
                other => {
                    return Err(LinkemError::BadSpec(format!(
                        "unknown key '{other}' (keys: delay, jitter, loss, rate, queue)"
                    )))
                }
            }
        }
        p.validate()?;
        Ok(p)
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
    /// one before it is ready, as a single FIFO path does; `true` lets every
    /// frame take its own delay, as netem does by default.
    pub reorder: bool,
}

impl Profile {
    /// The named presets.
    pub const NAMES: [&'static str; 4] = ["lan", "broadband", "mobile", "intercontinental"];

    /// A named preset. Figures are typical, not measured: a switched LAN; a
    /// DSL/cable line (20 ms ±2 ms, 50 Mbit/s down, 10 up); a 4G phone (60 ms
    /// ±15 ms, 20/5 Mbit/s, 0.5 % loss); a long-haul path (150 ms ±5 ms,
    /// 100 Mbit/s). lab/run draws its own parameters per trace and passes them
    /// as specs; the presets are for trying linkem by hand.
    pub fn named(name: &str) -> Result<Self, LinkemError> {
        let d = |delay_ms, jitter_ms, rate_mbit, loss| DirectionParams {
            delay_ms,
            jitter_ms,
            rate_mbit: Some(rate_mbit),
            loss,
            ..DirectionParams::default()
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
        assert_eq!(b.down.rate_mbit, Some(50.0));
        assert_eq!(b.up.rate_mbit, Some(10.0));
        assert_eq!(Profile::named("mobile").unwrap().up.loss, 0.005);
    }

    #[test]
    fn specs_parse_with_defaults() {
        let p = DirectionParams::parse("delay=12.5, jitter=1,loss=0.01").unwrap();
        assert_eq!(p.delay_ms, 12.5);
        assert_eq!(p.jitter_ms, 1.0);
        assert_eq!(p.loss, 0.01);
        assert_eq!(p.rate_mbit, None);
        assert_eq!(p.queue_ms, 50.0);
        let q = DirectionParams::parse("rate=7,queue=200").unwrap();
        assert_eq!(q.rate_mbit, Some(7.0));
        assert_eq!(q.queue_ms, 200.0);
        assert_eq!(
            DirectionParams::parse("").unwrap(),
            DirectionParams::default()
        );
    }

    #[test]
    fn bad_specs_and_parameters_are_errors() {
        for bad in [
            "delay", "delay=x", "speed=3", "loss=1.5", "rate=0", "delay=-1", "queue=0",
        ] {
            assert!(DirectionParams::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(matches!(
            Profile::named("dialup"),
            Err(LinkemError::UnknownProfile(_))
        ));
        let mut p = Profile::named("lan").unwrap().up;
        p.delay_ms = f64::NAN;
        assert!(p.validate().is_err());
    }
}
