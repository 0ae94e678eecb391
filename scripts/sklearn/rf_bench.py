#!/usr/bin/env python3
"""scikit-learn side of the benchmark: fit time, test accuracy and prediction rate of
RandomForestClassifier(n_estimators=100, n_jobs=2), GaussianNB and LogisticRegression on the
data written by make_bench_data.py. Run through rf_bench.sh to see both sides in one run.

Usage: python rf_bench.py [DIR]
"""

import json
import pathlib
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main():
    d = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tapir-rf-bench")
    meta = json.loads((d / "meta.json").read_text())
    x = np.fromfile(d / "x.f32", dtype="<f4").reshape(meta["n_rows"], meta["n_features"])
    y = np.fromfile(d / "y.u32", dtype="<u4").astype(np.int64)
    n = meta["n_train"]
    xtr, ytr, xte, yte = x[:n], y[:n], x[n:], y[n:]
    models = [
        ("rf", RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0)),
        ("nb", GaussianNB()),
        ("lr", make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))),
    ]
    for name, m in models:
        t0 = time.perf_counter()
        m.fit(xtr, ytr)
        fit = time.perf_counter() - t0
        acc = (m.predict(xte) == yte).mean()
        # Prediction rate: all test rows in one predict_proba call (a batch, scikit-learn's
        # fastest way), repeated for at least half a second.
        rows, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.5:
            m.predict_proba(xte)
            rows += xte.shape[0]
        rate = rows / (time.perf_counter() - t0)
        print(f"sklearn {name}: fit {fit:7.3f} s  test accuracy {acc:.4f}  "
              f"({xtr.shape[0]} x {xtr.shape[1]})  predict {rate:.0f} windows/s "
              f"(batches of {xte.shape[0]})", flush=True)


if __name__ == "__main__":
    main()
