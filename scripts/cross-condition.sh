#!/bin/sh
# Train on one condition of the sample, test on every other: accuracy of each train → test
# pair, over the windows of the four single-label classes (background and multi-label captures
# are left out). Usage:
#   scripts/cross-condition.sh [MODEL] [AUGMENT] [FEATURE_CONFIG] [FEATURES]
# e.g. scripts/cross-condition.sh rf default '' combined
#      scripts/cross-condition.sh lr none fixed-ack.json combined
set -eu
model=${1:-rf}
augment=${2:-none}
config=${3:-}
features=${4:-combined}
tapir=${TAPIR:-target/release/tapir}
seed=${SEED:-1}
data=${DATA:-data/sample}
conditions=${CONDITIONS:-plain ipsec wireguard tor}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=""
if [ -n "$config" ]; then cfg="--feature-config $config"; fi
printf '%-10s' "train\\test"
for b in $conditions; do printf ' %9s' "$b"; done
printf ' %9s\n' "mean off-diagonal"
total=0; n=0
for a in $conditions; do
    # shellcheck disable=SC2086
    "$tapir" train "$data/$a" --model "$model" --features "$features" --augment "$augment" \
        --unknown-share 0 --seed "$seed" $cfg -o "$tmp/$a.tapir" >/dev/null 2>&1
    printf '%-10s' "$a"
    row=0; rn=0
    for b in $conditions; do
        if [ "$a" = "$b" ]; then printf ' %9s' "-"; continue; fi
        acc=$("$tapir" classify -m "$tmp/$a.tapir" --unknown-threshold 0 "$data/$b" 2>/dev/null |
            jq -rs '[.[] | select(.true_label == "web" or .true_label == "voip" or
                                  .true_label == "video" or .true_label == "p2p")]
                    | (map(select(.label == .true_label)) | length) / length * 100')
        printf ' %8.1f%%' "$acc"
        row=$(echo "$row + $acc" | bc -l); rn=$((rn + 1))
    done
    m=$(echo "$row / $rn" | bc -l)
    printf ' %8.1f%%\n' "$m"
    total=$(echo "$total + $m" | bc -l); n=$((n + 1))
done
printf 'mean over all train → test pairs: %.1f%%\n' "$(echo "$total / $n" | bc -l)"
