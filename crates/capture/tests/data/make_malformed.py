#!/usr/bin/env python3
"""Regenerates the malformed captures in this folder from lo-http.pcap / lo-http.pcapng.

Run from this folder: python3 make_malformed.py. The tests in ../malformed.rs assert the exact
error kind and byte offset each file produces; the offsets printed here are the ones they use.
"""
import struct

pcap = open("lo-http.pcap", "rb").read()
ng = open("lo-http.pcapng", "rb").read()
GLOBAL = 24


def records(data):
    """Yields (offset, caplen) of each classic pcap record (little-endian file)."""
    off = GLOBAL
    while off < len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        yield off, caplen
        off += 16 + caplen


def write(name, data):
    open(name, "wb").write(data)


recs = list(records(pcap))

write("empty.pcap", b"")
write("cut-global-header.pcap", pcap[:10])
write("bad-magic.pcap", b"\xde\xad\xbe\xef" + pcap[4:GLOBAL + 200])

# Header, two whole records, then the third record cut in the middle of its data.
third, third_len = recs[2]
write("cut-record.pcap", pcap[: third + 16 + third_len // 2])
print("cut-record: record at", third, "needs", 16 + third_len, "has", 16 + third_len // 2)

# First record rewritten to claim a 2 GiB caplen.
huge = bytearray(pcap[: GLOBAL + 16 + recs[0][1]])
struct.pack_into("<I", huge, GLOBAL + 8, 0x8000_0000)
write("caplen-2g.pcap", bytes(huge))

# One flipped byte in the trailing length copy of the fourth pcapng block (an EPB).
off, blocks = 0, []
while off < len(ng):
    btype, blen = struct.unpack_from("<II", ng, off)
    blocks.append((off, btype, blen))
    off += blen
epb_off, _, epb_len = blocks[3]
flipped = bytearray(ng)
flipped[epb_off + epb_len - 4] ^= 0xFF
write("flipped-trailer.pcapng", bytes(flipped))
print("flipped-trailer: block at", epb_off, "length", epb_len, "tail", epb_len ^ 0xFF)

# The first three records with the second one's timestamp moved 1 s into the past.
back = bytearray(pcap[: recs[3][0]])
sec = struct.unpack_from("<I", back, recs[1][0])[0]
struct.pack_into("<I", back, recs[1][0], sec - 1)
write("time-backwards.pcap", bytes(back))
