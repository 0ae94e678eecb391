use thiserror::Error;

/// Errors of the link emulator.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LinkemError {
    /// A profile name that is not one of [`crate::Profile::NAMES`].
    #[error("unknown WAN profile '{0}': use one of lan, broadband, mobile, intercontinental")]
    UnknownProfile(String),
    /// A direction spec that does not parse (`delay=MS,jitter=MS,loss=P,rate=MBIT,queue=MS`).
    #[error("bad link spec: {0}")]
    BadSpec(String),
    /// A profile parameter outside its range (negative delay, loss above 1, zero rate).
    #[error("invalid link parameter {name} = {value}: {why}")]
    InvalidParameter {
        /// Parameter name, as on the command line.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the range is.
        why: &'static str,
    },
    /// No interface of that name in the current network namespace.
    #[error("no interface '{0}' in this network namespace (run linkem inside the WAN namespace)")]
    NoInterface(String),
    /// A socket call failed; `op` names the call.
    #[error("{op} on {iface}: {source} (AF_PACKET needs root or CAP_NET_RAW)")]
    Socket {
        /// The system call that failed.
        op: &'static str,
        /// The interface it was made for.
        iface: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
