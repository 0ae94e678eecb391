#!/usr/bin/env bash
# How `tapir extract` scales: time per packet and peak memory as live flows grow from 10 k to
# 1 M (the same 1 M packets spread over N flows; N = 1 M is a million one-packet flows), the
# same for host pairs (`--by pair`, 10 k and 1 M pairs), and on a long trace cut into many
# small windows, whose output is far larger than its input.
#
#   bench/extract-scale.sh [TAPIR]     TAPIR: a tapir binary (default: build this checkout)
#
# Environment: BENCH_DIR (inputs and outputs, default /tmp/tapir-bench-extract; inputs are made
# once by bench/gen_inputs.py and reused), RUNS (runs per case, default 3), FLOWS (default
# "10000 100000 1000000"), PAIRS (default "10000 1000000"), PACKETS (per flow or pair input,
# default 1000000), TRACE_LINES (default
# 2000000), THREADS (RAYON_NUM_THREADS; default all cores).
#
# Prints per case the medians of wall time and of CPU time (user + system), CPU time per packet,
# the largest peak resident memory of the runs (ru_maxrss, from /usr/bin/time) and the size of
# the output, which goes to a file in BENCH_DIR so that writing it is part of the time. On a
# busy machine read CPU time: wall time then also counts the time other processes had the CPU.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dir=${BENCH_DIR:-/tmp/tapir-bench-extract}
runs=${RUNS:-3}
flows=${FLOWS:-"10000 100000 1000000"}
pairs=${PAIRS:-"10000 1000000"}
packets=${PACKETS:-1000000}
lines=${TRACE_LINES:-2000000}
mkdir -p "$dir"

if [ $# -ge 1 ]; then
    tapir=$1
else
    (cd "$root" && cargo build --release --locked -p tapir --quiet)
    tapir=${CARGO_TARGET_DIR:-$root/target}/release/tapir
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }

for n in $flows; do
    f="$dir/flows-$n-$packets.pcap"
    [ -s "$f" ] || python3 "$here/gen_inputs.py" flows "$n" "$f" "$packets"
done
for n in $pairs; do
    f="$dir/pairs-$n-$packets.pcap"
    [ -s "$f" ] || python3 "$here/gen_inputs.py" pairs "$n" "$f" "$packets"
done
[ -s "$dir/trace-$lines.trace" ] || python3 "$here/gen_inputs.py" trace "$lines" "$dir/trace-$lines.trace"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run NAME PACKETS ARGS...: RUNS runs of `tapir extract ARGS -o out`, one line of figures.
run() {
    local name=$1 n=$2
    shift 2
    local walls=() cpus=() peak=0
    for _ in $(seq "$runs"); do
        if [ -n "${THREADS:-}" ]; then export RAYON_NUM_THREADS=$THREADS; fi
        /usr/bin/time -f "%e %U %S %M" -o "$dir/time" \
            "$tapir" extract "$@" -o "$dir/out" 2>"$dir/stderr" >/dev/null ||
            { cat "$dir/stderr" >&2; exit 1; }
        read -r wall user sys kb <"$dir/time"
        walls+=("$wall")
        cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
        [ "$kb" -gt "$peak" ] && peak=$kb
    done
    local wall cpu
    wall=$(printf '%s\n' "${walls[@]}" | median)
    cpu=$(printf '%s\n' "${cpus[@]}" | median)
    awk -v name="$name" -v p="$n" -v w="$wall" -v c="$cpu" -v kb="$peak" \
        -v out="$(stat -c %s "$dir/out")" 'BEGIN {
            printf "%-36s %9d %8.2f s %8.2f s %8.0f ns %8.1f MB %8.1f MB\n",
                name, p, w, c, c * 1e9 / p, kb / 1024, out / 1e6 }'
    tail -n 1 "$dir/stderr" | sed 's/^/    /'
}

echo "tapir extract ($("$tapir" --version)): $runs runs per case, $(nproc) cores, threads ${THREADS:-all}, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %9s %10s %10s %11s %11s %11s\n' case packets wall CPU CPU/packet "peak RSS" output
for n in $flows; do
    run "--by flow, $n flows" "$packets" "$dir/flows-$n-$packets.pcap" --by flow
done
for n in $pairs; do
    run "--by pair, $n pairs" "$packets" "$dir/pairs-$n-$packets.pcap" --by pair
done
run "trace, --window 4 --features burst" "$lines" "$dir/trace-$lines.trace" --window 4 --features burst
echo "wall, CPU: medians of the runs (CPU = user + system); peak RSS: the largest of the runs"
