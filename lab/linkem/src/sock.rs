//! AF_PACKET raw sockets: the only unsafe code of the crate, kept here.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::LinkemError;

/// A raw socket bound to one interface that sees every frame arriving on it.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    iface: String,
}

/// Outcome of one non-blocking receive.
#[derive(Debug, PartialEq, Eq)]
pub enum Recv {
    /// A frame of this many bytes arrived on the interface.
    Frame(usize),
    /// A frame this host sent out of the interface: not ours to forward.
    Outgoing,
    /// Nothing waiting.
    Empty,
}

impl PacketSocket {
    /// Opens a socket on `iface` for all protocols.
    pub fn open(iface: &str) -> Result<Self, LinkemError> {
        Self::open_with(iface, false)
    }

    /// Opens a socket on `iface` for all protocols; with `vnet_hdr`, every frame
    /// received and sent carries a `virtio_net_hdr` first ([`crate::vnet`]), so
    /// that frames of segmentation offloads keep what the kernel needs to cut
    /// them up and checksum them later.
    pub fn open_with(iface: &str, vnet_hdr: bool) -> Result<Self, LinkemError> {
        let name = CString::new(iface).map_err(|_| LinkemError::NoInterface(iface.to_string()))?;
        // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(LinkemError::NoInterface(iface.to_string()));
        }
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(proto),
            )
        };
        if raw < 0 {
            return Err(sock_err("socket", iface));
        }
        // SAFETY: `raw` is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        if vnet_hdr {
            let on: libc::c_int = 1;
            // SAFETY: `on` is a valid c_int that outlives the call; the length matches it.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_VNET_HDR,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as u32,
                )
            };
            if rc < 0 {
                return Err(sock_err("setsockopt(PACKET_VNET_HDR)", iface));
            }
        }
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = proto;
        addr.sll_ifindex = index as i32;
        // SAFETY: `addr` is a valid sockaddr_ll and the length matches it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc < 0 {
            return Err(sock_err("bind", iface));
        }
        Ok(PacketSocket {
            fd,
            iface: iface.to_string(),
        })
    }

    /// The interface name.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Receives one frame into `buf` without blocking.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Recv> {
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `buf` and `from` are valid for writes of the lengths passed.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(Recv::Empty),
                _ => Err(e),
            };
        }
        // The other direction's frames, sent out of this interface, show up here too.
        if from.sll_pkttype == libc::PACKET_OUTGOING {
            return Ok(Recv::Outgoing);
        }
        Ok(Recv::Frame(n as usize))
    }

    /// Sends one complete Ethernet frame out of the interface.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: `frame` is valid for reads of its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits until a frame can be read or `timeout` passes (nanosecond precision).
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        wait_readable(self.fd.as_raw_fd(), timeout)
    }
}

fn wait_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: one valid pollfd, a valid timespec and no signal mask.
    let rc = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(rc > 0 && pfd.revents & libc::POLLIN != 0)
}

/// Sets this thread's timer slack (how late the kernel may fire its timers to
/// batch wake-ups); threads spawned afterwards inherit it. Best effort.
pub fn set_timer_slack_ns(ns: u64) {
    // SAFETY: PR_SET_TIMERSLACK takes one unsigned long and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong, 0, 0, 0);
    }
}

fn sock_err(op: &'static str, iface: &str) -> LinkemError {
    LinkemError::Socket {
        op,
        iface: iface.to_string(),
        source: io::Error::last_os_error(),
    }
}
