#!/usr/bin/env python3
"""Seeded inputs for bench/extract-scale.sh, written with the standard library only.

    gen_inputs.py flows N OUT.pcap [P]  P packets (default N) over N UDP flows, raw-IP pcap
    gen_inputs.py pairs N OUT.pcap [P]  the same over N host pairs (N < 2^24)
    gen_inputs.py trace N OUT.trace     a trace of N packet lines (`<seconds> <signed size>`)

Flows: packet k belongs to flow f = k % N, from 10.0.x.y:(1024 + f % 60000) (x.y = f // 60000)
to 192.0.2.1:53, so P = N gives N one-packet flows. Packets are 1 µs apart, so with the
default 60 s idle timeout no flow ends by timeout: every flow stays live, the worst case for
the flow table. Pairs: packet k comes from 10.x.y.z = 10.0.0.0 + k % N (port 1024) to
192.0.2.1:53, so N host pairs, one flow each. The same arguments give the same bytes on every
run.
"""
import random
import struct
import sys


def ip_checksum(header: bytes) -> int:
    s = sum(struct.unpack("!10H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def flows(n: int, out: str, packets: int, pairs: bool = False) -> None:
    payload = b"\x00" * 32
    with open(out, "wb") as f:
        # pcap global header: magic, v2.4, zone 0, sigfigs 0, snaplen 65535, LINKTYPE_RAW.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        chunk = []
        for k in range(packets):
            f_ = k % n
            if pairs:
                src, sport = 0x0A000000 | (f_ & 0xFFFFFF), 1024
            else:
                src = 0x0A000000 | ((f_ // 60000) & 0xFFFFFF)
                sport = 1024 + f_ % 60000
            total = 20 + 8 + len(payload)
            hdr = struct.pack("!BBHHHBBHII", 0x45, 0, total, k & 0xFFFF, 0, 64, 17, 0, src, 0xC0000201)
            hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
            udp = struct.pack("!HHHH", sport, 53, 8 + len(payload), 0)
            pkt = hdr + udp + payload
            usec = k  # 1 µs apart
            chunk.append(struct.pack("<IIII", 1_700_000_000 + usec // 1_000_000, usec % 1_000_000, len(pkt), len(pkt)))
            chunk.append(pkt)
            if len(chunk) >= 20000:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))


def trace(n: int, out: str) -> None:
    rng = random.Random(12)
    t = 0.0
    with open(out, "w") as f:
        f.write("# bench/gen_inputs.py trace %d (seed 12)\n" % n)
        lines = []
        for _ in range(n):
            t += rng.expovariate(1000.0)
            if rng.random() < 0.4:
                size = rng.choice((52, 52, 64, 120, 600))
            else:
                size = -rng.choice((1500, 1500, 1500, 800, 200, 90))
            lines.append("%.6f %d\n" % (t, size))
            if len(lines) >= 100000:
                f.write("".join(lines))
                lines.clear()
        f.write("".join(lines))


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("flows", "pairs", "trace"):
        sys.exit(__doc__)
    n, out = int(sys.argv[2]), sys.argv[3]
    if sys.argv[1] in ("flows", "pairs"):
        flows(n, out, int(sys.argv[4]) if len(sys.argv) == 5 else n, sys.argv[1] == "pairs")
    else:
        trace(n, out)
