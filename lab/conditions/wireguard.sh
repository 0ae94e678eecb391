#!/usr/bin/env bash
# wireguard.sh up|down <k> — WireGuard tunnel (wireguard-go, user space) for lab slot k.
#
# This kernel has no WireGuard module, so wireguard-go runs in each of
# tapir-c$k (interface wgc$k) and tapir-s$k (interface wgs$k). Its control
# socket lives in /var/run/wireguard/<ifname>.sock, a directory that every
# namespace shares, hence a distinct interface name per side and per slot.
# Keys are generated per run with `wg genkey`; configuration goes in with
# `wg setconf`. The server listens on 10.78.$k.2:51820; the observer on c$k
# sees only UDP to port 51820.
#
# Inner addresses: 10.79.$k.1/30 on wgc$k, 10.79.$k.2/30 on wgs$k.
# stdout: KEY=VALUE lines only (SERVER_ADDR, PROXY, TUNNEL, TUNNEL_MTU). Diagnostics: stderr.
# Environment: TAPIR_TUNNEL_MTU (both interfaces, 1280..1440, default 1420 as wg-quick
# sets; above 1440 the 60 bytes of outer headers no longer fit a 1500-byte link).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_ROOT=/run/tapir-lab/wireguard
SOCK_DIR=/var/run/wireguard

usage() {
	echo "usage: $0 up|down <slot 1..99>" >&2
	exit 2
}

COND=wireguard.sh
# shellcheck source=lab/conditions/lib.sh
. "$HERE/lib.sh"

start_wg() { # ns ifname dir
	local ns=$1 ifname=$2 dir=$3 pid i
	[[ -S $SOCK_DIR/$ifname.sock ]] && {
		# A socket with no live process behind it is left from a crash.
		if wg show "$ifname" >/dev/null 2>&1; then
			die "$ifname is already running (socket $SOCK_DIR/$ifname.sock): is slot ${ifname#wg?} in use?"
		fi
		rm -f "$SOCK_DIR/$ifname.sock"
	}
	# Foreground mode keeps the pid we record the daemon's own pid.
	ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
		WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		wireguard-go "$ifname" >"$dir/$ifname.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/$ifname.pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || {
			cat "$dir/$ifname.log" >&2
			die "wireguard-go $ifname in $ns exited at start; log: $dir/$ifname.log"
		}
		[[ -S $SOCK_DIR/$ifname.sock ]] && ip -n "$ns" link show "$ifname" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "wireguard-go $ifname in $ns did not create its interface and socket within 10 s"
}

cmd_down() {
	local k=$1 st=$STATE_ROOT/$1
	# Without state this slot was never brought up by this script: leave the
	# namespaces alone (another condition may be using them).
	if [[ ! -d $st ]]; then
		log "slot $k is not up; nothing to do"
		return 0
	fi
	stop_pid "$st/wgc$k.pid"
	stop_pid "$st/wgs$k.pid"
	# wireguard-go removes its tun and socket on SIGTERM; after a KILL they may remain.
	ip netns list | grep -qw "tapir-c$k" && ip -n "tapir-c$k" link del "wgc$k" 2>/dev/null || true
	ip netns list | grep -qw "tapir-s$k" && ip -n "tapir-s$k" link del "wgs$k" 2>/dev/null || true
	rm -f "$SOCK_DIR/wgc$k.sock" "$SOCK_DIR/wgs$k.sock"
	rm -rf "$st"
	rmdir "$STATE_ROOT" 2>/dev/null || true
}

cmd_up() {
	local k=$1 st=$STATE_ROOT/$1 ns
	for ns in tapir-c$k tapir-w$k tapir-s$k; do
		ip netns list | grep -qw "$ns" || die "namespace $ns does not exist: create slot $k's namespaces first"
	done
	ensure_pkgs wireguard-go wireguard-tools iputils-ping
	local mtu=${TAPIR_TUNNEL_MTU:-1420}
	[[ $mtu =~ ^[0-9]+$ ]] && ((mtu >= 1280 && mtu <= 1440)) ||
		die "TAPIR_TUNNEL_MTU='$mtu': the WireGuard MTU must be 1280..1440"
	[[ -c /dev/net/tun ]] || die "/dev/net/tun missing: wireguard-go needs a tun device"
	[[ -d $st ]] && {
		log "slot $k was up; tearing it down first"
		cmd_down "$k"
	}
	mkdir -p "$st"
	chmod 700 "$st"
	# A failed `up` must not leave half a tunnel behind.
	# shellcheck disable=SC2064 # k is expanded now on purpose: it is local.
	trap "cmd_down $k >/dev/null 2>&1" EXIT

	local cpriv spriv cpub spub
	cpriv=$(wg genkey)
	spriv=$(wg genkey)
	cpub=$(wg pubkey <<<"$cpriv")
	spub=$(wg pubkey <<<"$spriv")
	(
		umask 077
		sed -e "s|@K@|$k|g" -e "s|@CLIENT_PRIVATE@|$cpriv|" -e "s|@SERVER_PUBLIC@|$spub|" \
			"$HERE/wireguard/client.conf.in" >"$st/client.conf"
		sed -e "s|@K@|$k|g" -e "s|@SERVER_PRIVATE@|$spriv|" -e "s|@CLIENT_PUBLIC@|$cpub|" \
			"$HERE/wireguard/server.conf.in" >"$st/server.conf"
	)

	start_wg tapir-s"$k" wgs"$k" "$st"
	start_wg tapir-c"$k" wgc"$k" "$st"
	wg setconf wgs"$k" "$st/server.conf" || die "wg setconf wgs$k failed"
	wg setconf wgc"$k" "$st/client.conf" || die "wg setconf wgc$k failed"
	ip -n tapir-s"$k" addr add 10.79."$k".2/30 dev wgs"$k"
	ip -n tapir-c"$k" addr add 10.79."$k".1/30 dev wgc"$k"
	ip -n tapir-s"$k" link set wgs"$k" mtu "$mtu" up
	ip -n tapir-c"$k" link set wgc"$k" mtu "$mtu" up

	# The first packet triggers the handshake; wait for it so that `up`
	# returns a working tunnel and the capture starts after the handshake.
	local i hs=0
	for ((i = 0; i < 50; i++)); do
		ip netns exec tapir-c"$k" ping -c1 -W1 -q 10.79."$k".2 >/dev/null 2>&1 && break
	done
	hs=$(wg show wgc"$k" latest-handshakes | awk '{print $2}')
	[[ ${hs:-0} -gt 0 ]] || die "no WireGuard handshake between wgc$k and wgs$k (logs: $st/*.log)"
	log "slot $k: WireGuard UDP 10.77.$k.1 -> 10.78.$k.2:51820, inner 10.79.$k.1 <-> 10.79.$k.2, MTU $mtu"
	trap - EXIT
	tunnel_env "10.79.$k.2" "wireguard" "$mtu"
}

condition_main "$@"
