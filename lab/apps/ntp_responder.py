#!/usr/bin/env python3
"""A minimal SNTP server (RFC 4330): answers each client request with the
current time, so that the background application produces real NTP exchanges.
Usage: ntp_responder.py BIND_ADDR PORT
"""
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800  # seconds from 1900 to 1970 (RFC 4330 section 3)


def ntp_ts(t):
    sec = int(t) + NTP_EPOCH
    return struct.pack("!II", sec & 0xFFFFFFFF, int((t % 1) * (1 << 32)) & 0xFFFFFFFF)


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    while True:
        data, addr = s.recvfrom(512)
        if len(data) < 48:
            continue
        recv = time.time()
        # LI 0, version 4, mode 4 (server), stratum 2, poll 6, precision -20.
        head = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 2, 6, -20)
        head += struct.pack("!II", 0, 0) + b"TAPR"
        pkt = head + ntp_ts(recv - 30) + data[40:48] + ntp_ts(recv) + ntp_ts(time.time())
        s.sendto(pkt, addr)


if __name__ == "__main__":
    main()
