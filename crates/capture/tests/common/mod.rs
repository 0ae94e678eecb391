//! Writes pcap and pcapng bytes for tests, so that every format feature the reader claims can
//! be exercised without shipping a file per case.
#![allow(dead_code)] // each test binary uses a different part

/// One packet to write: timestamp in nanoseconds, captured bytes, original length.
pub struct Pkt<'a> {
    pub ts_ns: i64,
    pub data: &'a [u8],
    pub orig_len: u32,
}

impl<'a> Pkt<'a> {
    pub fn new(ts_ns: i64, data: &'a [u8]) -> Self {
        Pkt {
            ts_ns,
            data,
            orig_len: data.len() as u32,
        }
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put_u32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A classic pcap file. `nanos` picks the 0xa1b23c4d magic, `be` the big-endian byte order.
pub fn pcap(link_type: u32, nanos: bool, be: bool, packets: &[Pkt]) -> Vec<u8> {
    let mut out = Vec::new();
    put_u32(&mut out, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, be);
    put_u16(&mut out, 2, be);
    put_u16(&mut out, 4, be);
    put_u32(&mut out, 0, be); // thiszone
    put_u32(&mut out, 0, be); // sigfigs
    put_u32(&mut out, 262_144, be);
    put_u32(&mut out, link_type, be);
    for p in packets {
        let secs = p.ts_ns.div_euclid(1_000_000_000) as u32;
        let ns = p.ts_ns.rem_euclid(1_000_000_000) as u32;
        put_u32(&mut out, secs, be);
        put_u32(&mut out, if nanos { ns } else { ns / 1000 }, be);
        put_u32(&mut out, p.data.len() as u32, be);
        put_u32(&mut out, p.orig_len, be);
        out.extend_from_slice(p.data);
    }
    out
}

/// pcapng writer: sections, interfaces and blocks in any order the test wants.
pub struct PcapNg {
    pub out: Vec<u8>,
    be: bool,
}

impl PcapNg {
    /// Starts a file with a Section Header Block.
    pub fn new(be: bool) -> Self {
        let mut ng = PcapNg {
            out: Vec::new(),
            be,
        };
        ng.section(be);
        ng
    }

    /// Appends a Section Header Block (a new section, possibly of the other byte order).
    pub fn section(&mut self, be: bool) {
        self.be = be;
        let mut body = Vec::new();
        put_u32(&mut body, 0x1a2b_3c4d, be);
        put_u16(&mut body, 1, be);
        put_u16(&mut body, 0, be);
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
                                                        // A comment option, which the reader must step over.
        let mut opts = Vec::new();
        self.option(&mut opts, 1, b"tapir test");
        body.extend_from_slice(&opts);
        self.block(0x0a0d_0d0a, &body);
    }

    fn option(&self, out: &mut Vec<u8>, code: u16, value: &[u8]) {
        put_u16(out, code, self.be);
        put_u16(out, value.len() as u16, self.be);
        out.extend_from_slice(value);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    /// Interface Description Block with optional `if_tsresol` and `if_tsoffset`.
    pub fn interface(
        &mut self,
        link_type: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) {
        let be = self.be;
        let mut body = Vec::new();
        put_u16(&mut body, link_type, be);
        put_u16(&mut body, 0, be);
        put_u32(&mut body, snaplen, be);
        let mut opts = Vec::new();
        self.option(&mut opts, 2, b"eth0"); // if_name
        if let Some(r) = tsresol {
            self.option(&mut opts, 9, &[r]);
        }
        if let Some(o) = tsoffset {
            let bytes = if be { o.to_be_bytes() } else { o.to_le_bytes() };
            self.option(&mut opts, 14, &bytes);
        }
        if !opts.is_empty() {
            put_u32(&mut opts, 0, be); // opt_endofopt
        }
        body.extend_from_slice(&opts);
        self.block(1, &body);
    }

    /// Enhanced Packet Block; `ts` in the interface's units.
    pub fn enhanced(&mut self, interface: u32, ts: u64, data: &[u8], orig_len: u32) {
        let be = self.be;
        let mut body = Vec::new();
        put_u32(&mut body, interface, be);
        put_u32(&mut body, (ts >> 32) as u32, be);
        put_u32(&mut body, ts as u32, be);
        put_u32(&mut body, data.len() as u32, be);
        put_u32(&mut body, orig_len, be);
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        let mut opts = Vec::new();
        self.option(&mut opts, 2, &[0, 0, 0, 1]); // epb_flags: inbound
        body.extend_from_slice(&opts);
        self.block(6, &body);
    }

    /// Simple Packet Block: interface 0, no timestamp.
    pub fn simple(&mut self, data: &[u8], orig_len: u32) {
        let mut body = Vec::new();
        put_u32(&mut body, orig_len, self.be);
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        self.block(3, &body);
    }

    /// Obsolete Packet Block (16-bit interface id, drops counter).
    pub fn obsolete(&mut self, interface: u16, ts: u64, data: &[u8], orig_len: u32) {
        let be = self.be;
        let mut body = Vec::new();
        put_u16(&mut body, interface, be);
        put_u16(&mut body, 0, be);
        put_u32(&mut body, (ts >> 32) as u32, be);
        put_u32(&mut body, ts as u32, be);
        put_u32(&mut body, data.len() as u32, be);
        put_u32(&mut body, orig_len, be);
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        self.block(2, &body);
    }

    /// Any block: type, length, body (padded by the caller), length again.
    pub fn block(&mut self, block_type: u32, body: &[u8]) {
        let len = 12 + body.len() as u32;
        put_u32(&mut self.out, block_type, self.be);
        put_u32(&mut self.out, len, self.be);
        self.out.extend_from_slice(body);
        put_u32(&mut self.out, len, self.be);
    }
}

/// One packet read back: (timestamp ns, link type, orig_len, bytes, interface).
pub type ReadPacket = (i64, u16, u32, Vec<u8>, u32);

/// Reads every packet of a capture held in memory, and the error that stopped the reader.
pub fn read_all(bytes: &[u8]) -> (Vec<ReadPacket>, Option<tapir_capture::CaptureError>) {
    let mut reader = match tapir_capture::CaptureReader::new(bytes) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut packets = Vec::new();
    while let Some(p) = reader.next_packet() {
        match p {
            Ok(p) => packets.push((
                p.ts.as_nanos(),
                p.link_type.0,
                p.orig_len,
                p.data.to_vec(),
                p.interface,
            )),
            Err(e) => {
                assert!(
                    reader.next_packet().is_none(),
                    "the reader must stop after an error"
                );
                return (packets, Some(e));
            }
        }
    }
    (packets, None)
}
