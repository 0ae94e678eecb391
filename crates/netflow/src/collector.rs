//! A UDP collector: binds a socket, decodes each datagram with one [`Decoder`].

use crate::{Decoder, NetflowError};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;
use tapir_flow::FlowRecord;

/// The largest UDP payload; export packets never exceed it.
const MAX_DATAGRAM: usize = 65_535;

/// Receives export packets on a UDP socket.
///
/// ```no_run
/// use tapir_netflow::Collector;
/// let mut c = Collector::bind("127.0.0.1:2055".parse().unwrap(), 4096).unwrap();
/// while let Some(batch) = c.recv(std::time::Duration::from_secs(1)).unwrap() {
///     for r in batch { println!("{}", r.describe()); }
/// }
/// ```
pub struct Collector {
    socket: UdpSocket,
    addr: SocketAddr,
    decoder: Decoder,
    buf: Vec<u8>,
    /// Datagrams that could not be decoded, with the reason, since the last call to
    /// [`Collector::take_errors`].
    errors: Vec<(SocketAddr, NetflowError)>,
}

impl Collector {
    /// Bind to `addr` (port 0 picks a free port; see [`Collector::local_addr`]).
    pub fn bind(addr: SocketAddr, max_templates: usize) -> Result<Self, NetflowError> {
        Self::bind_with_limits(addr, max_templates, crate::DEFAULT_TEMPLATES_PER_EXPORTER)
    }

    /// [`Collector::bind`] with a limit on the templates of one exporter as well.
    pub fn bind_with_limits(
        addr: SocketAddr,
        max_templates: usize,
        per_exporter: usize,
    ) -> Result<Self, NetflowError> {
        let socket =
            UdpSocket::bind(addr).map_err(|source| NetflowError::Socket { addr, source })?;
        let addr = socket.local_addr().unwrap_or(addr);
        Ok(Collector {
            socket,
            addr,
            decoder: Decoder::with_limits(max_templates, per_exporter),
            buf: vec![0; MAX_DATAGRAM],
            errors: Vec::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Wait up to `timeout` for one datagram and decode it. `Ok(None)` when nothing arrived;
    /// `Ok(Some(records))` otherwise (empty for a template-only or undecodable packet, whose
    /// error is kept for [`Collector::take_errors`]).
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Vec<FlowRecord>>, NetflowError> {
        let addr = self.addr;
        let sock_err = |source| NetflowError::Socket { addr, source };
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(sock_err)?;
        let (n, from) = match self.socket.recv_from(&mut self.buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(sock_err(e)),
        };
        match self.decoder.decode(from.ip(), &self.buf[..n]) {
            Ok(recs) => Ok(Some(recs)),
            Err(e) => {
                self.errors.push((from, e));
                Ok(Some(Vec::new()))
            }
        }
    }

    /// Errors of undecodable datagrams since the last call.
    pub fn take_errors(&mut self) -> Vec<(SocketAddr, NetflowError)> {
        std::mem::take(&mut self.errors)
    }
}
