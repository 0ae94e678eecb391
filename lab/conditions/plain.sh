#!/usr/bin/env bash
# Condition "plain": no tunnel, applications talk to the server directly.
set -euo pipefail
cmd=${1:-}
k=${2:-}
[[ $k =~ ^[0-9]+$ ]] || { echo "usage: $0 up|down <slot>" >&2; exit 2; }
case $cmd in
up)
    ip netns list | grep -qw "tapir-s$k" || { echo "plain: slot $k namespaces do not exist (run slot_up first)" >&2; exit 1; }
    echo "SERVER_ADDR=10.78.$k.2"
    echo "PROXY="
    ;;
down) ;;
*) echo "usage: $0 up|down <slot>" >&2; exit 2 ;;
esac
