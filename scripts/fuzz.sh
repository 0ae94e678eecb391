#!/bin/sh
# Builds and runs one cargo-fuzz target for SECONDS, its corpus seeded from the test data.
#
#   scripts/fuzz.sh TARGET SECONDS      e.g. scripts/fuzz.sh pcapng 600
#   scripts/fuzz.sh --list              the targets
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain through
# RUSTC_BOOTSTRAP=1. The corpus grows in fuzz/corpus/TARGET, crashing inputs land in
# fuzz/artifacts/TARGET; each one found belongs in a regression test of the normal suite.
# The last lines of libFuzzer's output (executions, coverage) are printed at the end.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--list" ]; then
    sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^tapir-fuzz$'
    exit 0
fi
if [ $# -ne 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS (scripts/fuzz.sh --list for the targets)" >&2
    exit 2
fi
target=$1
seconds=$2
if ! scripts/fuzz.sh --list | grep -qx "$target"; then
    echo "scripts/fuzz.sh: no fuzz target $target; targets: $(scripts/fuzz.sh --list | tr '\n' ' ')" >&2
    exit 2
fi
corpus=fuzz/corpus/$target
mkdir -p "$corpus"

# Seeds: copied once (the corpus keeps what the fuzzer adds), smallest first.
seed() {
    for f in "$@"; do
        [ -f "$f" ] && cp -n "$f" "$corpus/seed-$(basename "$f")"
    done
    return 0
}
captures="crates/capture/tests/data/*.pcap crates/capture/tests/data/*.pcapng crates/netflow/tests/data/*.pcap"
case $target in
    capture_reader | decode | stream) seed $captures crates/capture/tests/data/*.trace ;;
    pcapng) seed crates/capture/tests/data/*.pcapng ;;
    trace_reader) seed crates/capture/tests/data/*.trace $(ls data/sample/plain/*/*.trace | head -n 4) ;;
    netflow) seed fuzz/seeds/netflow/* ;;
    mail) seed crates/mail/tests/data/*.mbox crates/mail/tests/data/eml/* crates/analysis/tests/data/list.mbox ;;
    model_file) seed fuzz/seeds/model_file/* ;;
    feature_config) seed docs/feature-config-paper.json fuzz/seeds/feature_config/* ;;
    defense_spec) seed fuzz/seeds/defense_spec/* ;;
    watchlist) seed crates/analysis/tests/data/watchlist.txt crates/analysis/tests/data/sites.txt ;;
esac

cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz build "$target"
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
