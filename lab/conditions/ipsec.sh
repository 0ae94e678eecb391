#!/usr/bin/env bash
# ipsec.sh up|down <k> — IKEv2/ESP tunnel (strongSwan, kernel-libipsec) for lab slot k.
#
# The client namespace tapir-c$k and the server namespace tapir-s$k each run
# their own charon under `unshare -m`, with a private tmpfs on /run (so the
# two daemons never share a vici socket or pid file) and a generated
# /etc/swanctl bind-mounted over the real one. This kernel has no ESP/xfrm,
# so kernel-libipsec does ESP in user space on a tun device (ipsec0) and
# `encap = yes` forces UDP encapsulation: the observer on c$k sees IKE on
# UDP 500/4500 and ESP-in-UDP on 4500, never the inner packets.
#
# Inner addresses: 10.79.$k.1 (client) and 10.79.$k.2 (server), both /32 on
# the namespaces' lo; charon routes 10.79.$k.2 through the tunnel (table 220).
# Server services bind 10.79.$k.2 or 0.0.0.0.
#
# stdout: KEY=VALUE lines only (SERVER_ADDR, PROXY, TUNNEL, TUNNEL_MTU). Diagnostics: stderr.
# Environment: TAPIR_IPSEC_ESP (ESP proposal: aes128-sha256 (default), aes256-sha256,
# aes128gcm16 or aes256gcm16); TAPIR_TUNNEL_MTU (MTU of ipsec0 on both sides, 1280..1400,
# default 1400, libipsec's own).
#
# TAPIR_IPSEC_ENCAP: natt (default) or raw. strongSwan 5.9.8 (Debian 12) kernel-libipsec has
# no raw ESP socket (that came with 5.9.11, as an option); it declares that it needs UDP
# encapsulation, so charon encapsulates whether or not a NAT is found. For `raw`, each side
# runs ipsec/espshim.py, which takes charon's ESP-in-UDP off a tun device and sends the same
# ESP bytes as IP protocol 50 (and the reverse), so the wire carries raw ESP as a kernel
# stack without NAT-T would send it. See README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_ROOT=/run/tapir-lab/ipsec
CHARON=/usr/lib/ipsec/charon

usage() {
	echo "usage: $0 up|down <slot 1..99>" >&2
	exit 2
}

COND=ipsec.sh
# shellcheck source=lab/conditions/lib.sh
. "$HERE/lib.sh"

# Run a command inside charon's mount and network namespaces, where
# /etc/swanctl and /run are charon's own.
in_charon() {
	local pid=$1
	shift
	nsenter -t "$pid" -m -n env STRONGSWAN_CONF=/etc/swanctl/strongswan.conf "$@"
}

render() { # template out role k local_addr remote_addr local_id remote_id local_ts remote_ts psk esp
	sed -e "s|@ROLE@|$2|g" -e "s|@K@|$3|g" \
		-e "s|@LOCAL_ADDR@|$4|g" -e "s|@REMOTE_ADDR@|$5|g" \
		-e "s|@LOCAL_ID@|$6|g" -e "s|@REMOTE_ID@|$7|g" \
		-e "s|@LOCAL_TS@|$8|g" -e "s|@REMOTE_TS@|$9|g" \
		-e "s|@PSK@|${10}|g" -e "s|@ESP@|${11}|g" \
		"$HERE/ipsec/swanctl.conf.in" >"$1"
}

start_charon() { # side ns dir
	local side=$1 ns=$2 dir=$3
	# Bind /etc/swanctl first: once the tmpfs covers /run, the state dir
	# under /run/tapir-lab is no longer visible inside this mount namespace.
	ip netns exec "$ns" unshare -m --propagation private sh -c '
		mount --bind "$1" /etc/swanctl &&
		mount -t tmpfs -o mode=0755 tapir-ipsec /run &&
		STRONGSWAN_CONF=/etc/swanctl/strongswan.conf exec "$2"
		' sh "$dir/swanctl" "$CHARON" >"$dir/charon.log" 2>&1 </dev/null &
	echo $! >"$dir/charon.pid"
	local pid=$! i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || {
			tail -20 "$dir/charon.log" >&2
			die "charon ($side, $ns) exited at start; log: $dir/charon.log"
		}
		in_charon "$pid" test -S /run/charon.vici 2>/dev/null && return 0
		sleep 0.1
	done
	die "charon ($side, $ns) did not open its vici socket within 10 s; log: $dir/charon.log"
}

# Raw ESP for one side: charon's UDP from port 4500 to the peer goes into the shim's tun
# device (table 221); the shim's own packets carry fwmark SHIM_MARK and take the main table.
SHIM_MARK=0x7e50
start_shim() { # side ns local peer tun dir
	local side=$1 ns=$2 local=$3 peer=$4 tun=$5 dir=$6 pid i
	ip netns exec "$ns" python3 "$HERE/ipsec/espshim.py" --tun "$tun" --local "$local" \
		--peer "$peer" --mark $((SHIM_MARK)) >"$dir/espshim.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/espshim.pid"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || {
			cat "$dir/espshim.log" >&2
			die "espshim ($side, $ns) exited at start; log: $dir/espshim.log"
		}
		grep -q ready "$dir/espshim.log" && break
		sleep 0.1
	done
	ip -n "$ns" link set "$tun" up || die "espshim's tun $tun did not appear in $ns"
	ip -n "$ns" route add default dev "$tun" table 221
	ip -n "$ns" rule add pref 89 fwmark $SHIM_MARK lookup main
	ip -n "$ns" rule add pref 90 to "$peer"/32 ipproto udp sport 4500 lookup 221
}

stop_shim() { # ns dir
	stop_pid "$2/espshim.pid"
	ip netns list | grep -qw "$1" || return 0
	while ip -n "$1" rule del pref 89 2>/dev/null; do :; done
	while ip -n "$1" rule del pref 90 2>/dev/null; do :; done
	ip -n "$1" route flush table 221 2>/dev/null || true
}

cmd_down() {
	local k=$1 st=$STATE_ROOT/$1 side ns addr
	# Without state this slot was never brought up by this script: leave the
	# namespaces alone (another condition may be using them).
	if [[ ! -d $st ]]; then
		log "slot $k is not up; nothing to do"
		return 0
	fi
	for side in client server; do
		stop_pid "$st/$side/charon.pid"
	done
	stop_shim tapir-c"$k" "$st/client"
	stop_shim tapir-s"$k" "$st/server"
	for side in client server; do
		if [[ $side == client ]]; then ns=tapir-c$k addr=10.79.$k.1/32; else ns=tapir-s$k addr=10.79.$k.2/32; fi
		ip netns list | grep -qw "$ns" || continue
		ip -n "$ns" addr del "$addr" dev lo 2>/dev/null || true
		# charon removes its routes and rule on SIGTERM; after a KILL they may remain.
		ip -n "$ns" route flush table 220 2>/dev/null || true
		while ip -n "$ns" rule del table 220 2>/dev/null; do :; done
		ip -n "$ns" link del ipsec0 2>/dev/null || true
	done
	rm -rf "$st"
	rmdir "$STATE_ROOT" 2>/dev/null || true
}

cmd_up() {
	local k=$1 st=$STATE_ROOT/$1 ns
	for ns in tapir-c$k tapir-w$k tapir-s$k; do
		ip netns list | grep -qw "$ns" || die "namespace $ns does not exist: create slot $k's namespaces first"
	done
	# GCM comes from the gcm (or openssl) plugin in libstrongswan-standard-plugins.
	ensure_pkgs strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
	[[ -x $CHARON ]] || die "$CHARON missing after installing strongswan-charon"
	[[ -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]] ||
		die "kernel-libipsec plugin missing (package libcharon-extra-plugins)"
	[[ -c /dev/net/tun ]] || die "/dev/net/tun missing: kernel-libipsec needs a tun device"

	[[ -d $st ]] && {
		log "slot $k was up; tearing it down first"
		cmd_down "$k"
	}
	mkdir -p "$st/client/swanctl" "$st/server/swanctl"
	# A failed `up` must not leave half a tunnel behind.
	# shellcheck disable=SC2064 # k is expanded now on purpose: it is local.
	trap "cmd_down $k >/dev/null 2>&1" EXIT
	chmod 700 "$st"

	local esp=${TAPIR_IPSEC_ESP:-aes128-sha256} mtu=${TAPIR_TUNNEL_MTU:-1400} encap=${TAPIR_IPSEC_ENCAP:-natt} psk
	[[ $encap == natt || $encap == raw ]] || die "TAPIR_IPSEC_ENCAP='$encap': use natt or raw"
	case $esp in
	aes128-sha256 | aes256-sha256 | aes128gcm16 | aes256gcm16) ;;
	*) die "TAPIR_IPSEC_ESP='$esp': use aes128-sha256, aes256-sha256, aes128gcm16 or aes256gcm16" ;;
	esac
	# libipsec reads at most 1400 bytes from its tun device (TUN_DEFAULT_MTU; its tun object
	# keeps that size when the interface MTU is raised), so a larger MTU would truncate packets.
	[[ $mtu =~ ^[0-9]+$ ]] && ((mtu >= 1280 && mtu <= 1400)) ||
		die "TAPIR_TUNNEL_MTU='$mtu': ipsec0's MTU must be 1280..1400 (libipsec reads 1400-byte packets at most)"
	# A fresh random pre-shared key per slot and run, base64 for swanctl's 0s form.
	psk=$(head -c 32 /dev/urandom | base64 -w0)

	local cid=client.slot$k.tapir.lab sid=server.slot$k.tapir.lab
	render "$st/client/swanctl/swanctl.conf" client "$k" 10.77."$k".1 10.78."$k".2 \
		"$cid" "$sid" 10.79."$k".1/32 10.79."$k".2/32 "$psk" "$esp"
	render "$st/server/swanctl/swanctl.conf" server "$k" 10.78."$k".2 10.77."$k".1 \
		"$sid" "$cid" 10.79."$k".2/32 10.79."$k".1/32 "$psk" "$esp"
	cp "$HERE/ipsec/strongswan.conf.in" "$st/client/swanctl/strongswan.conf"
	cp "$HERE/ipsec/strongswan.conf.in" "$st/server/swanctl/strongswan.conf"
	chmod 600 "$st"/*/swanctl/swanctl.conf

	# Inner addresses before the tunnel: charon picks the route's source
	# address from a local address inside the local traffic selector.
	ip -n tapir-c"$k" link set lo up
	ip -n tapir-s"$k" link set lo up
	ip -n tapir-c"$k" addr replace 10.79."$k".1/32 dev lo
	ip -n tapir-s"$k" addr replace 10.79."$k".2/32 dev lo

	if [[ $encap == raw ]]; then
		start_shim server tapir-s"$k" 10.78."$k".2 10.77."$k".1 esps"$k" "$st/server"
		start_shim client tapir-c"$k" 10.77."$k".1 10.78."$k".2 espc"$k" "$st/client"
	fi
	start_charon server tapir-s"$k" "$st/server"
	start_charon client tapir-c"$k" "$st/client"
	local spid cpid
	spid=$(<"$st/server/charon.pid")
	cpid=$(<"$st/client/charon.pid")
	in_charon "$spid" swanctl --load-all --noprompt >&2 || die "swanctl --load-all failed on the server side"
	in_charon "$cpid" swanctl --load-all --noprompt >&2 || die "swanctl --load-all failed on the client side"

	# Explicit initiation: trap policies (start_action = trap) did not fire
	# with kernel-libipsec on this machine.
	if ! in_charon "$cpid" swanctl --initiate --child tapir --timeout 20 >&2; then
		tail -30 "$st/client/charon.log" >&2
		die "IKE/CHILD_SA for slot $k not established (logs: $st/{client,server}/charon.log)"
	fi
	local i dev=
	for ((i = 0; i < 50; i++)); do
		dev=$(ip -n tapir-c"$k" route get 10.79."$k".2 2>/dev/null | grep -o 'dev [^ ]*' | cut -d' ' -f2 || true)
		[[ $dev == ipsec* ]] && break
		sleep 0.1
	done
	[[ $dev == ipsec* ]] || die "route to 10.79.$k.2 in tapir-c$k goes via '${dev:-nothing}', not the tunnel"
	# Both ends: the client's TCP MSS and the server's follow the interface MTU.
	ip -n tapir-c"$k" link set "$dev" mtu "$mtu" || die "could not set $dev's MTU to $mtu in tapir-c$k"
	local sdev
	sdev=$(ip -n tapir-s"$k" route get 10.79."$k".1 2>/dev/null | grep -o 'dev [^ ]*' | cut -d' ' -f2 || true)
	[[ $sdev == ipsec* ]] || die "route to 10.79.$k.1 in tapir-s$k goes via '${sdev:-nothing}', not the tunnel"
	ip -n tapir-s"$k" link set "$sdev" mtu "$mtu" || die "could not set $sdev's MTU to $mtu in tapir-s$k"
	local how="in UDP 4500"
	[[ $encap == raw ]] && how="as IP protocol 50 (espshim)"
	log "slot $k: ESP ($esp) $how between 10.77.$k.1 and 10.78.$k.2, inner 10.79.$k.1 <-> 10.79.$k.2, MTU $mtu"
	trap - EXIT
	tunnel_env "10.79.$k.2" "ipsec/$esp/$encap" "$mtu"
}

condition_main "$@"
