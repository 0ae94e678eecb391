#!/bin/sh
# Regenerates the model `tapir classify` uses when no -m is given, bit for bit from its seed,
# from every condition of the bundled sample with the recipe in scripts/default-model-recipe.sh
# (a random forest on burst features, training windows augmented, background captures as a class of
# their own, reported as `unknown`; the unknown threshold calibrated on held-out traces).
#
#   scripts/train-default-model.sh            # writes crates/tapir/models/default.{tapir,json}
#   scripts/train-default-model.sh --check    # trains twice into a temporary folder, compares
#
# Afterwards rebuild tapir (the model is embedded with include_bytes!). The figures of the
# model are in crates/tapir/models/default.md.
set -eu
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p tapir >&2
tapir="$target/release/tapir"

. scripts/default-model-recipe.sh
train() {
    # shellcheck disable=SC2086
    "$tapir" train data/sample $DEFAULT_MODEL_RECIPE -o "$1.tapir" --report "$1.json"
}

if [ "${1:-}" = "--check" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    train "$tmp/a" >/dev/null 2>&1
    train "$tmp/b" >/dev/null 2>&1
    sha256sum "$tmp/a.tapir" "$tmp/b.tapir" crates/tapir/models/default.tapir | sed "s|$tmp/||"
    a=$(sha256sum <"$tmp/a.tapir")
    b=$(sha256sum <"$tmp/b.tapir")
    shipped=$(sha256sum <crates/tapir/models/default.tapir)
    [ "$a" = "$b" ] || { echo "two runs differ" >&2; exit 1; }
    [ "$a" = "$shipped" ] || { echo "the shipped model differs from a fresh run" >&2; exit 1; }
    echo "reproducible: both runs and the shipped model are identical"
    exit 0
fi

train crates/tapir/models/default
ls -l crates/tapir/models/default.tapir
