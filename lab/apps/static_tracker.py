#!/usr/bin/env python3
"""A minimal HTTP BitTorrent tracker (BEP 3, compact peers per BEP 23) that
answers every announce with a fixed peer list.

Used by p2p.sh under Tor: the leecher reaches each seeder through its own local
SOCKS relay (127.0.0.1:<port>), so the useful peer list is those relay
addresses, not the seeders' real ones that opentracker would return.
Usage: static_tracker.py BIND_ADDR PORT PEER_HOST:PORT...
"""
import http.server
import socket
import struct
import sys


def main():
    bind, port, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    compact = b"".join(
        socket.inet_aton(p.rsplit(":", 1)[0]) + struct.pack("!H", int(p.rsplit(":", 1)[1])) for p in peers
    )
    body = b"d8:completei%de10:incompletei1e8:intervali120e5:peers%d:%se" % (len(peers), len(compact), compact)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer((bind, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
