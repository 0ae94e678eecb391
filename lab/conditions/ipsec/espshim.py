#!/usr/bin/env python3
"""espshim.py: put charon's UDP-encapsulated ESP on the wire as raw ESP (IP protocol 50).

    espshim.py --tun NAME --local ADDR --peer ADDR --mark N

strongSwan 5.9.8's kernel-libipsec always encapsulates ESP in UDP 4500 (RFC 3948); a
tunnel between hosts without a NAT sends raw ESP (RFC 4303) instead. The two differ only
by the 8-byte UDP header in front of the same ESP bytes, so this shim, one per side,
removes it on the way out and adds it back on the way in:

- out: policy routing sends charon's UDP packets from port 4500 to the peer into the
  tun device NAME. A packet whose payload starts with a non-zero SPI is ESP: it leaves as
  IP protocol 50 with the same ESP bytes. A zero non-ESP marker is IKE: it leaves
  unchanged, as UDP. Both through a raw socket marked N, which routing sends out normally.
- in: protocol-50 packets from the peer are read from a raw socket and written into the
  tun device as UDP peer:4500 -> local:4500 (checksum 0, allowed for IPv4), which the
  kernel delivers to charon's socket.

So the observer sees what a kernel IPsec stack without NAT-T would send: the same ESP
header, IV, ciphertext and ICV, in IP protocol 50 instead of UDP.
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SO_MARK = 36
IPPROTO_ESP = 50
NATT_PORT = 4500


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tun", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--mark", type=int, required=True)
    o = ap.parse_args()
    local, peer = socket.inet_aton(o.local), socket.inet_aton(o.peer)
    try:
        tun = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", o.tun.encode(), IFF_TUN | IFF_NO_PI))
        out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        out.setsockopt(socket.SOL_SOCKET, SO_MARK, o.mark)
        inp = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_ESP)
        inp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    except OSError as e:
        sys.exit(f"espshim: cannot open the tun device {o.tun} or raw sockets: {e}")
    print(f"espshim: {o.tun} ready, {o.local} <-> {o.peer}", file=sys.stderr, flush=True)
    while True:
        readable, _, _ = select.select([tun, inp], [], [])
        if tun in readable:
            pkt = os.read(tun, 65535)
            ihl = (pkt[0] & 15) * 4 if pkt else 0
            # Only IPv4 UDP from our 4500 to the peer's 4500 is routed here; anything else
            # (the kernel's own probes on a fresh interface) is dropped.
            if len(pkt) >= ihl + 8 and pkt[0] >> 4 == 4 and pkt[9] == socket.IPPROTO_UDP and pkt[16:20] == peer:
                sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
                payload = pkt[ihl + 8:]
                if sport == NATT_PORT and dport == NATT_PORT and len(payload) >= 8 and payload[:4] != b"\0\0\0\0":
                    pkt = ipv4(local, peer, IPPROTO_ESP, payload)
                try:
                    out.sendto(pkt, (o.peer, 0))
                except OSError as e:  # a full socket buffer drops the packet, as a link would
                    print(f"espshim: send: {e}", file=sys.stderr, flush=True)
        if inp in readable:
            pkt, _ = inp.recvfrom(65535)
            ihl = (pkt[0] & 15) * 4
            if pkt[12:16] != peer or len(pkt) < ihl + 8:
                continue
            esp = pkt[ihl:]
            udp = struct.pack("!HHHH", NATT_PORT, NATT_PORT, 8 + len(esp), 0) + esp
            os.write(tun, ipv4(peer, local, socket.IPPROTO_UDP, udp))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
