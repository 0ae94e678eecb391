//! What every `--live IFACE` run shares (`classify`, `flows`, `extract`): its flags checked,
//! the interface opened, the stop conditions (Ctrl-C, `--count`, `--duration`), and the
//! kernel's counts for the summary.

use crate::cli::LiveArgs;
use crate::settings::usage;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tapir_capture::{LiveCapture, LiveOptions, LiveStats, Timestamp};

/// Checked flags of a live capture.
pub(crate) struct LiveConfig {
    pub opts: LiveOptions,
    pub buffer_mib: u32,
    pub duration: Option<Duration>,
    /// Time between two `stats` reports; zero for none.
    pub stats_every: Duration,
    pub count: Option<u64>,
    pub user: Option<String>,
}

pub(crate) fn config(c: &LiveArgs) -> anyhow::Result<LiveConfig> {
    let duration = match c.duration {
        Some(d) if !(d > 0.0 && d.is_finite()) => {
            return Err(usage(format!(
                "--duration {d}: a number of seconds above 0"
            )))
        }
        Some(d) => Some(Duration::from_secs_f64(d)),
        None => None,
    };
    let stats_every = c.stats_every.unwrap_or(10.0);
    if !(stats_every >= 0.0 && stats_every.is_finite()) {
        return Err(usage(format!(
            "--stats-every {stats_every}: a number of seconds, 0 for none"
        )));
    }
    let buffer_mib = c.buffer_size.unwrap_or(64);
    let buffer_bytes = buffer_mib
        .checked_mul(1 << 20)
        .filter(|&b| b > 0 && b <= i32::MAX as u32)
        .ok_or_else(|| usage(format!("--buffer-size {buffer_mib}: 1 to 2047 MiB")))?;
    let snaplen = c.snaplen.unwrap_or(256);
    if !(64..=262_144).contains(&snaplen) {
        return Err(usage(format!(
            "--snaplen {snaplen}: 64 to 262144 bytes (headers need about 100)"
        )));
    }
    Ok(LiveConfig {
        opts: LiveOptions {
            snaplen,
            buffer_bytes,
            immediate: c.immediate,
            promiscuous: !c.no_promisc,
            filter: c.filter.clone(),
            ..LiveOptions::default()
        },
        buffer_mib,
        duration,
        stats_every: Duration::from_secs_f64(stats_every),
        count: c.count,
        user: c.user.clone(),
    })
}

/// Opens `iface`, refusing a link type tapir does not decode.
pub(crate) fn open(iface: &str, cfg: &LiveConfig) -> anyhow::Result<LiveCapture> {
    let cap = LiveCapture::open(iface, &cfg.opts)?;
    let link = cap.link_type();
    if !link.is_supported() {
        anyhow::bail!(
            "interface {iface}: link type {link} is not one tapir decodes (Ethernet, raw IP, \
             Linux cooked, loopback)"
        );
    }
    Ok(cap)
}

/// The interface's own address, IPv4 first as most tunnels use it: the client of a whole
/// interface taken as one unit (there is no first pass over a live capture to find the
/// busiest address).
pub(crate) fn own_address(iface: &str) -> Option<IpAddr> {
    let mut addrs = LiveCapture::addresses(iface);
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs.first().copied()
}

/// `capturing on eth0 (EN10MB, snaplen 256, buffer 64 MiB)`, for the first line on stderr.
pub(crate) fn describe(cap: &LiveCapture, cfg: &LiveConfig) -> String {
    format!(
        "capturing on {} ({}, snaplen {}, buffer {} MiB{})",
        cap.interface(),
        cap.link_type(),
        cfg.opts.snaplen,
        cfg.buffer_mib,
        if cfg.opts.immediate {
            ", immediate"
        } else {
            ""
        },
    )
}

/// Sets the capture's stop conditions: `--count`, `--duration`, and the first SIGINT or
/// SIGTERM (the caller holds [`crate::interrupt::cooperate`]). Returns when it started.
pub(crate) fn arm(cap: &mut LiveCapture, cfg: &LiveConfig) -> Instant {
    let started = Instant::now();
    let deadline = cfg.duration.map(|d| started + d);
    cap.set_limit(cfg.count);
    cap.stop_when(move || {
        crate::interrupt::requested().is_some() || deadline.is_some_and(|d| Instant::now() >= d)
    });
    started
}

/// What ended the capture: `signal`, `error`, `count`, `duration`, or `None` (it ended by
/// itself).
pub(crate) fn stopped_by(cfg: &LiveConfig, s: &LiveStats, failed: bool) -> Option<&'static str> {
    match crate::interrupt::requested() {
        Some(_) => Some("signal"),
        None if failed => Some("error"),
        None if cfg.count.is_some_and(|n| s.read >= n) => Some("count"),
        None if cfg.duration.is_some() => Some("duration"),
        None => None,
    }
}

/// The end of a run whose outputs are complete: the read error that ended it, if one did;
/// [`crate::interrupt::Interrupted`] after a signal (exit 130 or 143); otherwise `said` on
/// stderr and success.
pub(crate) fn conclude(cap: &mut LiveCapture, said: String) -> anyhow::Result<()> {
    if let Some(e) = cap.take_error() {
        return Err(anyhow::Error::new(e).context(said));
    }
    if let Some(signal) = crate::interrupt::requested() {
        return Err(crate::interrupt::Interrupted {
            signal,
            summary: said,
        }
        .into());
    }
    eprintln!("tapir: {said}");
    Ok(())
}

/// `stats` reports at most every `every`, on stderr, for commands whose output has room for
/// nothing but their rows.
pub(crate) struct StatsTicker {
    every: Duration,
    last: Instant,
}

impl StatsTicker {
    pub fn new(every: Duration) -> Self {
        StatsTicker {
            every,
            last: Instant::now(),
        }
    }

    /// Whether a report is due now (and if so, the next one is `every` away).
    pub fn due(&mut self) -> bool {
        if self.every.is_zero() || self.last.elapsed() < self.every {
            return false;
        }
        self.last = Instant::now();
        true
    }
}

/// Capture time while no packet comes: the latest packet's timestamp plus the time that has
/// passed since it was read. Packets reach tapir some time after the kernel stamped them
/// (in blocks, up to 100 ms late without `--immediate`), so this runs behind the capture's
/// clock, never ahead: a flow ended on it ends a little late, never early. Packet
/// timestamps and this clock may come from different clocks (a NIC's, the system's); only
/// the time passed is taken from the system.
#[derive(Default)]
pub(crate) struct CaptureClock {
    last: Option<(Timestamp, Instant)>,
}

impl CaptureClock {
    /// A packet stamped `ts` was read at `at`.
    pub fn saw(&mut self, ts: Timestamp, at: Instant) {
        let ts = match self.last {
            Some((prev, _)) => ts.max(prev),
            None => ts,
        };
        self.last = Some((ts, at));
    }

    /// Capture time at `at`; `None` before the first packet.
    pub fn at(&self, at: Instant) -> Option<Timestamp> {
        self.last.map(|(ts, read)| {
            let passed = at.saturating_duration_since(read).as_nanos();
            Timestamp(ts.0.saturating_add(i64::try_from(passed).unwrap_or(i64::MAX)))
        })
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// The start of a run that reads units from the interface (`classify`, `extract`): the
/// interface opened, the capture's own host when the whole interface is one unit, the output
/// opened (in place, line by line, for readers that follow it; before privileges go, so that
/// the path is the one root was asked to write), privileges dropped, and the opening line on
/// stderr.
pub(crate) fn start_units(
    iface: &str,
    cfg: &LiveConfig,
    settings: &tapir_dataset::ExtractSettings,
    output: Option<&std::path::Path>,
) -> anyhow::Result<(LiveCapture, Option<IpAddr>, crate::output::Output)> {
    use tapir_flow::{ClientRule, Unit};
    let cap = open(iface, cfg)?;
    let host = (settings.unit == Unit::Capture && settings.client == ClientRule::Auto)
        .then(|| own_address(iface))
        .flatten();
    let out = match output {
        Some(path) => crate::output::Output::in_place(path)?,
        None => crate::output::Output::create(None)?,
    };
    let who = crate::privileges::drop_to(cfg.user.as_deref())?;
    eprintln!(
        "tapir: {}, by {}, client {}; {who}; Ctrl-C ends with a summary",
        describe(&cap, cfg),
        settings.unit,
        match (&host, &settings.client) {
            (Some(h), _) => match &settings.anonymize {
                Some(an) => an.anonymize_ip(*h).to_string(),
                None => h.to_string(),
            },
            (None, ClientRule::Prefixes(_)) => "--client".to_string(),
            (None, ClientRule::Auto) if settings.unit == Unit::Capture =>
                "the source of the first packet".to_string(),
            (None, ClientRule::Auto) => "each unit's initiator".to_string(),
        }
    );
    Ok((cap, host, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_time_runs_on_from_the_latest_packet() {
        let mut c = CaptureClock::default();
        let t0 = Instant::now();
        assert_eq!(c.at(t0), None, "no packet, no time");
        c.saw(Timestamp(5_000_000_000), t0);
        assert_eq!(c.at(t0), Some(Timestamp(5_000_000_000)));
        let later = t0 + Duration::from_millis(1500);
        assert_eq!(c.at(later), Some(Timestamp(6_500_000_000)));
        // A packet stamped earlier than the latest (merged clocks) does not take time back.
        c.saw(Timestamp(4_000_000_000), later);
        assert_eq!(c.at(later), Some(Timestamp(5_000_000_000)));
        // An instant before the packet was read does not either.
        assert_eq!(c.at(t0), Some(Timestamp(5_000_000_000)));
    }

    #[test]
    fn flags_are_checked_before_any_capture() {
        let base = LiveArgs {
            filter: None,
            buffer_size: None,
            snaplen: None,
            immediate: false,
            no_promisc: false,
            count: None,
            duration: None,
            user: None,
            stats_every: None,
        };
        let c = config(&base).unwrap();
        assert_eq!(c.opts.snaplen, 256);
        assert_eq!(c.opts.buffer_bytes, 64 << 20);
        assert_eq!(c.stats_every, Duration::from_secs(10));
        for bad in [
            LiveArgs {
                snaplen: Some(20),
                ..base.clone()
            },
            LiveArgs {
                buffer_size: Some(4096),
                ..base.clone()
            },
            LiveArgs {
                duration: Some(0.0),
                ..base.clone()
            },
            LiveArgs {
                stats_every: Some(-1.0),
                ..base.clone()
            },
        ] {
            let e = config(&bad).err().expect("refused");
            assert!(e.downcast_ref::<crate::settings::Usage>().is_some(), "{e}");
        }
    }
}
