//! Defence specs: `NAME[:SETTINGS]`, settings `key=value` separated by commas (padding takes a
//! bare size list). Durations take `s`, `ms` or `us` (bare numbers are seconds), sizes `B`,
//! `kB`, `MB` (bare numbers are bytes), rates `kbit`, `Mbit`, `Gbit` (bare: bit/s).

use crate::constant::ConstantParams;
use crate::mix::MixRule;
use crate::{
    Chain, ConstantVolume, Decoy, Defense, DefenseError, Delay, Front, Mix, Pad, PadMode, WtfPad,
};

/// The defences and their settings, for `--help` and errors.
pub const SPEC_HELP: &str = "defences (several -d chain, applied in order):
  pad-mtu[:MTU]                       every packet to the MTU (1500)
  pad-bucket:N                        up to a multiple of N bytes (514: Tor cells)
  pad-pow2[:MTU]                      up to the next power of two, at most the MTU
  pad-set:S1,S2,...                   up to the smallest listed size that holds it
  pad-random:max=N[,mtu=M]            a random 0..=N bytes more, at most the MTU
  constant:rate=P,size=B,min=T[,pad=L] BuFLO/Tamaraw: P packets/s of B bytes each way for at
                                      least T (up=/down= set the directions apart)
  front:n=N[,wmin=T,wmax=T]           FRONT: up to N dummies each way, Rayleigh-spread (1 s, 14 s)
  wtfpad:inter=T[,stop=P]             WTF-PAD style: a dummy when a gap exceeds a timer of T plus
                                      an exponential of mean T; stops after a dummy with prob. P (0.1)
  decoy:every=T,bytes=B[,rate=R]      simulated surges of B bytes at R (10 Mbit) every T on average
  delay:mean=T                        exponential per-packet delay, order kept
  mix:batch=N | mix:timed=T           threshold or timed mix
  broadcast:group=N                   mail only: every message also to N addresses";

/// Packets a defence may be made to schedule ahead (constant volume before its minimum duration
/// ends, FRONT's dummies): ten million each way (a day at over 100 packets a second), far above
/// any real setting.
const MAX_SCHEDULED_PACKETS: f64 = 1e7;

/// The longest duration a setting may give (a delay, a mix period, a decoy interval): 30 days,
/// far above any real setting (remailer pools hold mail for hours), and small enough that a
/// timestamp plus it never leaves the range of nanosecond times.
const MAX_DURATION_NS: f64 = 30.0 * 86_400e9;

fn bad(spec: &str, why: impl Into<String>) -> DefenseError {
    DefenseError::BadSetting {
        spec: spec.to_string(),
        why: why.into(),
    }
}

fn split_unit(v: &str) -> (f64, &str) {
    let i = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-' || c == '+'))
        .unwrap_or(v.len());
    (v[..i].parse().unwrap_or(f64::NAN), &v[i..])
}

fn duration_ns(spec: &str, key: &str, v: &str) -> Result<f64, DefenseError> {
    let (x, unit) = split_unit(v);
    if x.is_nan() {
        return Err(bad(spec, format!("{key}={v}: not a duration >= 0")));
    }
    let f = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "ns" => 1.0,
        _ => {
            return Err(bad(
                spec,
                format!("{key}={v}: a duration takes s, ms or us"),
            ))
        }
    };
    let ns = x * f;
    if !(ns.is_finite() && ns >= 0.0) {
        return Err(bad(spec, format!("{key}={v}: not a duration >= 0")));
    }
    if ns > MAX_DURATION_NS {
        return Err(bad(spec, format!("{key}={v}: at most 30 days")));
    }
    Ok(ns)
}

fn bytes(spec: &str, key: &str, v: &str) -> Result<u64, DefenseError> {
    let (x, unit) = split_unit(v);
    let f = match unit {
        "" | "B" => 1.0,
        "kB" | "KB" | "k" => 1e3,
        "MB" | "M" => 1e6,
        "GB" | "G" => 1e9,
        _ => return Err(bad(spec, format!("{key}={v}: a size takes B, kB or MB"))),
    };
    let b = x * f;
    if !(1.0..1e15).contains(&b) {
        return Err(bad(
            spec,
            format!("{key}={v}: not a size of at least 1 byte"),
        ));
    }
    Ok(b as u64)
}

fn rate_bps(spec: &str, key: &str, v: &str) -> Result<f64, DefenseError> {
    let (x, unit) = split_unit(v);
    let f = match unit {
        "" | "bit" => 1.0,
        "kbit" => 1e3,
        "Mbit" | "mbit" => 1e6,
        "Gbit" | "gbit" => 1e9,
        _ => {
            return Err(bad(
                spec,
                format!("{key}={v}: a rate takes kbit, Mbit or Gbit"),
            ))
        }
    };
    let r = x * f;
    if !(r.is_finite() && r > 0.0) {
        return Err(bad(spec, format!("{key}={v}: not a rate > 0")));
    }
    Ok(r)
}

fn number(spec: &str, key: &str, v: &str) -> Result<f64, DefenseError> {
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(spec, format!("{key}={v}: not a number")))
}

/// `key=value` pairs, each key at most once and from `allowed`.
fn settings<'a>(
    spec: &str,
    rest: &'a str,
    allowed: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, DefenseError> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| bad(spec, format!("'{item}' is not key=value")))?;
        if !allowed.contains(&k) {
            return Err(bad(
                spec,
                format!("unknown setting '{k}' (settings: {})", allowed.join(", ")),
            ));
        }
        if out.iter().any(|(k2, _)| *k2 == k) {
            return Err(bad(spec, format!("'{k}' given twice")));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn get<'a>(s: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    s.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn require<'a>(spec: &str, s: &[(&str, &'a str)], key: &str) -> Result<&'a str, DefenseError> {
    get(s, key).ok_or_else(|| bad(spec, format!("needs {key}=")))
}

fn size_u32(spec: &str, v: &str, lo: u32) -> Result<u32, DefenseError> {
    v.parse::<u32>()
        .ok()
        .filter(|&n| n >= lo && n <= 65_535)
        .ok_or_else(|| bad(spec, format!("'{v}': a size in {lo}..=65535 bytes")))
}

/// Parses one defence spec; `seed` seeds its random draws.
pub fn parse_spec(spec: &str, seed: u64) -> Result<Box<dyn Defense>, DefenseError> {
    let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let pad = |mode| Ok(Box::new(Pad::new(mode, seed)) as Box<dyn Defense>);
    let mtu = |rest: &str| {
        if rest.is_empty() {
            Ok(1500)
        } else {
            size_u32(spec, rest, 64)
        }
    };
    match name {
        "pad-mtu" => pad(PadMode::Mtu(mtu(rest)?)),
        "pad-pow2" => pad(PadMode::Pow2(mtu(rest)?)),
        "pad-bucket" => pad(PadMode::Bucket(size_u32(spec, rest, 1)?)),
        "pad-set" => {
            let mut set = rest
                .split(',')
                .map(|v| size_u32(spec, v.trim(), 1))
                .collect::<Result<Vec<_>, _>>()?;
            set.sort_unstable();
            set.dedup();
            pad(PadMode::Set(set))
        }
        "pad-random" => {
            let s = settings(spec, rest, &["max", "mtu"])?;
            let max = size_u32(spec, require(spec, &s, "max")?, 1)?;
            let mtu = get(&s, "mtu").map_or(Ok(1500), |v| size_u32(spec, v, 64))?;
            pad(PadMode::Random { max, mtu })
        }
        "constant" => {
            let s = settings(spec, rest, &["rate", "up", "down", "size", "min", "pad"])?;
            let rate = |k: &str| -> Result<Option<f64>, DefenseError> {
                get(&s, k)
                    .map(|v| {
                        number(spec, k, v).and_then(|x| {
                            if x > 0.0 && x <= 1e6 {
                                Ok(x)
                            } else {
                                Err(bad(
                                    spec,
                                    format!("{k}={v}: packets per second in (0, 1e6]"),
                                ))
                            }
                        })
                    })
                    .transpose()
            };
            let both = rate("rate")?;
            let up = rate("up")?
                .or(both)
                .ok_or_else(|| bad(spec, "needs rate= (or up= and down=)"))?;
            let down = rate("down")?
                .or(both)
                .ok_or_else(|| bad(spec, "needs rate= (or up= and down=)"))?;
            let size = get(&s, "size").map_or(Ok(1500), |v| size_u32(spec, v, 40))?;
            let min_ns = get(&s, "min").map_or(Ok(0.0), |v| duration_ns(spec, "min", v))?;
            // What the defence must send before it may stop is bounded, so that no spec makes it
            // produce output without end.
            let scheduled = up.max(down) * min_ns / 1e9;
            if scheduled > MAX_SCHEDULED_PACKETS {
                return Err(bad(
                    spec,
                    format!(
                        "min= at this rate schedules {scheduled:.3e} packets each way; at most \
                         {MAX_SCHEDULED_PACKETS:.0e} (a shorter min= or a lower rate)"
                    ),
                ));
            }
            let min_ns = min_ns as i64;
            let pad = get(&s, "pad").map_or(Ok(1.0), |v| number(spec, "pad", v))?;
            if !(pad >= 1.0 && pad.fract() == 0.0) {
                return Err(bad(spec, "pad= takes a whole number >= 1"));
            }
            if pad > MAX_SCHEDULED_PACKETS {
                return Err(bad(
                    spec,
                    format!("pad={pad:.3e}: at most {MAX_SCHEDULED_PACKETS:.0e} packets"),
                ));
            }
            Ok(Box::new(ConstantVolume::new(ConstantParams {
                rate_up: up,
                rate_down: down,
                size,
                min_ns,
                pad: pad as u64,
            })))
        }
        "front" => {
            let s = settings(spec, rest, &["n", "wmin", "wmax"])?;
            let n = number(spec, "n", require(spec, &s, "n")?)?;
            if !(n >= 1.0 && n.fract() == 0.0) {
                return Err(bad(spec, "n= takes a whole number >= 1"));
            }
            if n > MAX_SCHEDULED_PACKETS {
                return Err(bad(
                    spec,
                    format!("n={n:.3e}: at most {MAX_SCHEDULED_PACKETS:.0e} dummies each way"),
                ));
            }
            let wmin = get(&s, "wmin").map_or(Ok(1e9), |v| duration_ns(spec, "wmin", v))? / 1e9;
            let wmax = get(&s, "wmax").map_or(Ok(14e9), |v| duration_ns(spec, "wmax", v))? / 1e9;
            if !(wmin > 0.0 && wmin <= wmax) {
                return Err(bad(spec, "needs 0 < wmin <= wmax"));
            }
            Ok(Box::new(Front::new(n as u64, wmin, wmax, seed)))
        }
        "wtfpad" => {
            let s = settings(spec, rest, &["inter", "stop"])?;
            let inter = duration_ns(spec, "inter", require(spec, &s, "inter")?)?;
            let stop = get(&s, "stop").map_or(Ok(0.1), |v| number(spec, "stop", v))?;
            if inter <= 0.0 || !(0.0..=1.0).contains(&stop) || stop == 0.0 {
                return Err(bad(spec, "needs inter > 0 and 0 < stop <= 1"));
            }
            Ok(Box::new(WtfPad::new(inter, stop, seed)))
        }
        "decoy" => {
            let s = settings(spec, rest, &["every", "bytes", "rate"])?;
            let every = duration_ns(spec, "every", require(spec, &s, "every")?)?;
            let b = bytes(spec, "bytes", require(spec, &s, "bytes")?)?;
            let rate = get(&s, "rate").map_or(Ok(10e6), |v| rate_bps(spec, "rate", v))?;
            if every <= 0.0 {
                return Err(bad(spec, "every= must be > 0"));
            }
            Ok(Box::new(Decoy::new(every, b, rate, seed)))
        }
        "delay" => {
            let s = settings(spec, rest, &["mean"])?;
            let mean = duration_ns(spec, "mean", require(spec, &s, "mean")?)?;
            Ok(Box::new(Delay::new(mean, seed)))
        }
        "mix" => {
            let s = settings(spec, rest, &["batch", "timed"])?;
            let rule = match (get(&s, "batch"), get(&s, "timed")) {
                (Some(b), None) => {
                    let n = number(spec, "batch", b)?;
                    if !(n >= 1.0 && n.fract() == 0.0 && n <= 1e6) {
                        return Err(bad(spec, "batch= takes a whole number in 1..=1000000"));
                    }
                    MixRule::Threshold(n as usize)
                }
                (None, Some(t)) => {
                    let ns = duration_ns(spec, "timed", t)?;
                    if ns < 1.0 {
                        return Err(bad(spec, "timed= must be > 0"));
                    }
                    MixRule::Timed(ns as i64)
                }
                _ => return Err(bad(spec, "needs one of batch= or timed=")),
            };
            Ok(Box::new(Mix::new(rule)))
        }
        "broadcast" => {
            crate::message::parse_broadcast(spec, rest)?;
            Err(DefenseError::DoesNotApply {
                spec: spec.to_string(),
                kind: "packets (only to mail: an mbox or .eml files, or mail events)",
                help: SPEC_HELP,
            })
        }
        _ => Err(DefenseError::Unknown {
            name: name.to_string(),
            help: SPEC_HELP,
        }),
    }
}

/// Parses several specs into a [`Chain`], each stage seeded apart.
pub fn parse_chain(specs: &[&str], seed: u64) -> Result<Chain, DefenseError> {
    let stages = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            parse_spec(
                s,
                tapir_capture::SplitMix64::derive(seed, i as u64).next_u64(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Chain::new(stages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_spec_parses_and_round_trips_its_name() {
        for (spec, name) in [
            ("pad-mtu", "pad-mtu:1500"),
            ("pad-bucket:514", "pad-bucket:514"),
            ("pad-pow2", "pad-pow2:1500"),
            ("pad-set:1500,128,512", "pad-set:128,512,1500"),
            ("pad-random:max=200", "pad-random:max=200,mtu=1500"),
            (
                "constant:rate=50,size=1500,min=10s",
                "constant:rate=50,size=1500,min=10s",
            ),
            (
                "constant:up=20,down=100,size=1000,pad=100",
                "constant:up=20,down=100,size=1000,min=0s,pad=100",
            ),
            ("front:n=1000", "front:n=1000,wmin=1s,wmax=14s"),
            ("wtfpad:inter=5ms,stop=0.2", "wtfpad:inter=5ms,stop=0.2"),
            (
                "decoy:every=60s,bytes=2MB,rate=10Mbit",
                "decoy:every=60s,bytes=2000000,rate=10Mbit",
            ),
            ("delay:mean=20ms", "delay:mean=20ms"),
            ("mix:batch=10", "mix:batch=10"),
            ("mix:timed=1s", "mix:timed=1000ms"),
        ] {
            let d = parse_spec(spec, 1).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(d.spec(), name);
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let msg = |s: &str| {
            parse_spec(s, 1)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(msg("padding").contains("unknown defence 'padding'"));
        assert!(
            msg("padding").contains("pad-bucket:N"),
            "lists the defences"
        );
        assert!(msg("pad-bucket:0").contains("size in 1..=65535"));
        assert!(msg("constant:size=1500").contains("needs rate="));
        assert!(msg("constant:rate=50,speed=3").contains("unknown setting 'speed'"));
        assert!(msg("delay:mean=fast").contains("not a duration"));
        assert!(msg("delay:mean=20h").contains("takes s, ms or us"));
        assert!(msg("mix:batch=10,timed=1s").contains("one of batch= or timed="));
        assert!(msg("front:n=0").contains("whole number >= 1"));
        assert!(msg("decoy:every=60s,bytes=2TB").contains("a size takes"));
        assert!(msg("delay:mean=1ms,mean=2ms").contains("given twice"));
    }
}
