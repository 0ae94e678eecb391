#!/usr/bin/env python3
"""Write a pcap of one RTP stream for SIPp's play_pcap_audio.

Packetisation is 20 ms (RFC 3551 default for the audio codecs below). Payload
sizes per 20 ms frame: G.711 (PCMU/PCMA) 160 B, G.722 160 B (64 kbit/s),
G.729 20 B, and an Opus-like VBR codec whose frame size follows a two-state
talk/silence Markov chain (speech frames larger than comfort-noise frames).
SIPp rewrites addresses and ports when it plays the file; only the UDP
payloads and the timing matter.
Usage: make_rtp_pcap.py OUT CODEC SECONDS SEED
"""
import random
import struct
import sys

CODECS = {"pcmu": (0, 160), "pcma": (8, 160), "g722": (9, 160), "g729": (18, 20), "opus": (111, None)}


def ip_checksum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def main():
    out, codec, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    pt, fixed = CODECS[codec]
    rng = random.Random(seed)
    ssrc = rng.getrandbits(32)
    seq = rng.getrandbits(16)
    ts = rng.getrandbits(32)
    talking = rng.random() < 0.5
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(int(seconds * 50)):
            # Mean talk spurt 1.2 s, mean pause 0.9 s (conversational speech).
            if talking and rng.random() < 0.02 / 1.2:
                talking = False
            elif not talking and rng.random() < 0.02 / 0.9:
                talking = True
            if fixed is not None:
                size = fixed
            elif talking:
                size = int(rng.gauss(95, 15))
                size = max(50, min(160, size))
            else:
                size = rng.randint(8, 25)
            rtp = struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + rng.randbytes(size)
            udp = struct.pack("!HHHH", 16000, 16000, 8 + len(rtp), 0) + rtp
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                              bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
            iph = iph[:10] + struct.pack("!H", ip_checksum(iph)) + iph[12:]
            frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + iph + udp
            t = i * 0.020
            f.write(struct.pack("<IIII", int(t), int(round((t % 1) * 1e6)) % 1000000, len(frame), len(frame)))
            f.write(frame)
            seq += 1
            ts += 160  # 8 kHz RTP clock for these codecs (RFC 3551, also G.722)
            if codec == "opus":
                ts += 960 - 160  # Opus RTP clock is 48 kHz (RFC 7587)


if __name__ == "__main__":
    main()
