#!/usr/bin/env bash
# Side-by-side benchmark: tapir-learn vs scikit-learn on the same seeded 5,000 x 2,048
# histogram-like training set (plus 1,000 test rows). Prints fit time and test accuracy of
# the random forest (100 trees, 2 threads), naive Bayes and logistic regression for both.
#
# Usage: scripts/sklearn/rf_bench.sh [DIR]
# Needs a Python with numpy and scikit-learn: set PYTHON, or it creates /tmp/skl-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/tapir-rf-bench}
if [[ -z "${PYTHON:-}" ]]; then
    if [[ ! -x /tmp/skl-venv/bin/python ]]; then
        python3 -m venv /tmp/skl-venv
        /tmp/skl-venv/bin/pip install -q scikit-learn numpy
    fi
    PYTHON=/tmp/skl-venv/bin/python
fi
"$PYTHON" scripts/sklearn/make_bench_data.py "$dir"
cargo build --release -q -p tapir-learn --example rf_bench
target_dir=${CARGO_TARGET_DIR:-target}
"$PYTHON" scripts/sklearn/rf_bench.py "$dir"
"$target_dir/release/examples/rf_bench" "$dir" --threads 2
