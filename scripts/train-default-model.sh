#!/bin/sh
# Regenerates the model `tapir classify` uses when no -m is given, bit for bit from its seed:
# a random forest of 80 trees on the combined features of every condition of the bundled sample
# (plain, IPsec, WireGuard, Tor), training windows augmented, background captures as a class of
# their own (reported as `unknown`), the unknown threshold calibrated on held-out traces.
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

train() {
    "$tapir" train data/sample \
        --model rf --trees 80 --features combined --seed 1 \
        --augment default --augment-copies 4 \
        --background-class --unknown-share 0.95 \
        -o "$1.tapir" --report "$1.json"
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
