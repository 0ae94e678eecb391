#!/usr/bin/env python3
"""Generates the seeded random-forest benchmark data shared by rf_bench.py and rf_bench.rs.

Each row imitates one tapir window: 1024 packets counted in a 32 x 64 (size bin x
inter-arrival bin) 2-D histogram, then log(1 + count), so 2,048 columns, values in [0, ~7],
mostly zero. Four classes (web, voip, video, p2p) each have a template made of a few blobs in
the size/timing plane; every window jitters its class's blobs and 30% of windows mix in part of
another class, so the problem is not trivially separable.

Writes to DIR (default /tmp/tapir-rf-bench):
  x.f32      row-major little-endian float32, n_rows x n_features
  y.u32      little-endian uint32 class per row
  meta.json  {"n_rows", "n_features", "n_train", "classes", "seed"}
The first n_train rows are the training set, the rest the test set.

Usage: python make_bench_data.py [DIR] [--seed N]
"""

import argparse
import json
import pathlib

import numpy as np

SIZE_BINS, IAT_BINS, PACKETS = 32, 64, 1024
CLASSES = ["web", "voip", "video", "p2p"]


def templates(rng):
    """Per class: a list of (size centre, iat centre, size width, iat width, weight)."""
    out = []
    for _ in CLASSES:
        blobs = []
        for _ in range(rng.integers(2, 5)):
            blobs.append((rng.uniform(0, SIZE_BINS), rng.uniform(0, IAT_BINS),
                          rng.uniform(0.8, 3.0), rng.uniform(1.5, 6.0), rng.uniform(0.3, 1.0)))
        out.append(blobs)
    return out


def window_probs(rng, blobs):
    s = np.arange(SIZE_BINS)[:, None]
    t = np.arange(IAT_BINS)[None, :]
    grid = np.zeros((SIZE_BINS, IAT_BINS))
    for (cs, ct, ws, wt, w) in blobs:
        cs += rng.normal(0, 1.5)
        ct += rng.normal(0, 3.0)
        grid += w * rng.uniform(0.5, 1.5) * np.exp(-0.5 * (((s - cs) / ws) ** 2 + ((t - ct) / wt) ** 2))
    return grid.ravel()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default="/tmp/tapir-rf-bench")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--test", type=int, default=1000)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    tmpl = templates(rng)
    # Acknowledgement-sized packets appear in every class: a shared background row.
    background = np.zeros(SIZE_BINS * IAT_BINS)
    background[: IAT_BINS] = rng.uniform(0, 0.02, IAT_BINS)
    n = a.train + a.test
    y = np.arange(n) % len(CLASSES)
    rng.shuffle(y)
    x = np.empty((n, SIZE_BINS * IAT_BINS), dtype=np.float32)
    for i in range(n):
        p = window_probs(rng, tmpl[y[i]])
        p /= p.sum()
        if rng.uniform() < 0.3:
            other = rng.integers(len(CLASSES))
            q = window_probs(rng, tmpl[other])
            p = 0.6 * p + 0.4 * q / q.sum()
        p = 0.9 * p + 0.1 * (background + 1e-4) / (background + 1e-4).sum()
        counts = rng.multinomial(PACKETS, p / p.sum())
        x[i] = np.log1p(counts)
    out = pathlib.Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    x.astype("<f4").tofile(out / "x.f32")
    y.astype("<u4").tofile(out / "y.u32")
    (out / "meta.json").write_text(json.dumps({
        "n_rows": n, "n_features": x.shape[1], "n_train": a.train,
        "classes": CLASSES, "seed": a.seed}))
    nz = (x > 0).mean()
    print(f"wrote {out}: {n} x {x.shape[1]}, {nz:.1%} non-zero, max {x.max():.2f}")


if __name__ == "__main__":
    main()
