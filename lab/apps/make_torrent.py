#!/usr/bin/env python3
"""Write a random-content file and a .torrent for it (BEP 3), print the info-hash.

Usage: make_torrent.py FILE TORRENT ANNOUNCE_URL SIZE_BYTES PIECE_BYTES SEED
The content is pseudo-random (seeded) so that encryption at the BitTorrent layer
is not needed for it to look incompressible; an observer sees only sizes.
"""
import hashlib
import random
import sys


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, str):
        return bencode(v.encode())
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(type(v))


def main():
    path, torrent, announce, size, piece, seed = sys.argv[1:7]
    size, piece = int(size), int(piece)
    rng = random.Random(int(seed))
    pieces = []
    with open(path, "wb") as f:
        left = size
        while left > 0:
            chunk = rng.randbytes(min(piece, left))
            f.write(chunk)
            pieces.append(hashlib.sha1(chunk).digest())
            left -= len(chunk)
    info = {"name": path.rsplit("/", 1)[-1], "length": size, "piece length": piece, "pieces": b"".join(pieces)}
    with open(torrent, "wb") as f:
        f.write(bencode({"announce": announce, "info": info}))
    print(hashlib.sha1(bencode(info)).hexdigest())


if __name__ == "__main__":
    main()
