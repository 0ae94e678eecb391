#!/usr/bin/env python3
"""Writes the scikit-learn reference outputs that tapir-learn's tests compare against.

The data is small, fixed and histogram-like: 300 rows x 20 nonnegative integer features
(Poisson counts, many zeros), 3 classes, split 200 train / 100 test. For it we record
GaussianNB.predict_proba, LogisticRegression (C=1, multinomial, lbfgs) on StandardScaler'd
data (coefficients, intercepts, probabilities) and RandomForestClassifier test accuracy and
feature importances (each averaged over 5 seeds).

Run (the output is committed, so CI never needs Python):

    python3 -m venv /tmp/skl-venv
    /tmp/skl-venv/bin/pip install scikit-learn numpy
    /tmp/skl-venv/bin/python scripts/sklearn/make_reference.py

It writes crates/learn/tests/data/reference_small.json.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/learn/tests/data/reference_small.json"


def make_data(seed=20240601, n=300, d=20, k=3):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    rng.shuffle(y)
    # Per-class Poisson rates: a shared sparse background plus a few class-specific bins, with
    # overlap so that no model is perfect (accuracy differences then show).
    base = rng.uniform(0.0, 1.5, size=d) * (rng.uniform(size=d) < 0.6)
    rates = np.tile(base, (k, 1))
    for c in range(k):
        bins = rng.choice(d, size=4, replace=False)
        rates[c, bins] += rng.uniform(0.3, 1.0, size=4)
    x = rng.poisson(rates[y]).astype(np.float64)
    return x, y


def main():
    x, y = make_data()
    x_train, y_train, x_test, y_test = x[:200], y[:200], x[200:], y[200:]

    nb = GaussianNB().fit(x_train, y_train)

    scaler = StandardScaler().fit(x_train)
    lr = LogisticRegression(C=1.0, solver="lbfgs", tol=1e-10, max_iter=10000)
    lr.fit(scaler.transform(x_train), y_train)

    rf_acc = []
    rf_imp = np.zeros(x.shape[1])
    for seed in range(5):
        rf = RandomForestClassifier(n_estimators=100, random_state=seed).fit(x_train, y_train)
        rf_acc.append(float((rf.predict(x_test) == y_test).mean()))
        rf_imp += rf.feature_importances_ / 5

    ref = {
        "generator": "scripts/sklearn/make_reference.py",
        "sklearn_version": sklearn.__version__,
        "n_features": x.shape[1],
        "classes": ["a", "b", "c"],
        "x_train": x_train.astype(int).tolist(),
        "y_train": y_train.tolist(),
        "x_test": x_test.astype(int).tolist(),
        "y_test": y_test.tolist(),
        "nb_proba": nb.predict_proba(x_test).tolist(),
        "nb_epsilon": float(nb.epsilon_),
        "lr_coef": lr.coef_.tolist(),
        "lr_intercept": lr.intercept_.tolist(),
        "lr_proba": lr.predict_proba(scaler.transform(x_test)).tolist(),
        "rf_accuracy_per_seed": rf_acc,
        "rf_accuracy_mean": float(np.mean(rf_acc)),
        "rf_importances_mean": rf_imp.tolist(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(ref, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}: NB/LR/RF test accuracy "
          f"{(nb.predict(x_test) == y_test).mean():.3f} / "
          f"{(lr.predict(scaler.transform(x_test)) == y_test).mean():.3f} / "
          f"{np.mean(rf_acc):.3f} (RF per seed {rf_acc})")


if __name__ == "__main__":
    main()
