#!/usr/bin/env bash
# openvpn.sh up|down <k> — OpenVPN tunnel (TLS mode, AES-256-GCM) for lab slot k.
#
# One openvpn in tapir-s$k (tun ovpns$k, 10.79.$k.2) and one in tapir-c$k (tun ovpnc$k,
# 10.79.$k.1), point to point (--ifconfig, no server pool or push). A small PKI is made
# with openssl at each `up`: a CA, a server and a client certificate (ECDSA P-256, valid
# two days), so the control channel is a real TLS handshake and the data channel is the
# AES-256-GCM that OpenVPN 2.5+ negotiates. The server listens on 10.78.$k.2:1194, UDP or
# TCP; the observer on c$k sees only OpenVPN packets on port 1194.
#
# stdout: KEY=VALUE lines only (SERVER_ADDR, PROXY, TUNNEL, TUNNEL_MTU). Diagnostics: stderr.
# Environment: TAPIR_OPENVPN_PROTO (udp, default, or tcp); TAPIR_TUNNEL_MTU (tun-mtu of
# both sides, 1280..1500, default 1500 as OpenVPN's own).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_ROOT=/run/tapir-lab/openvpn
UP_TIMEOUT=30

usage() {
	echo "usage: $0 up|down <slot 1..99>" >&2
	exit 2
}

COND=openvpn.sh
# shellcheck source=lab/conditions/lib.sh
. "$HERE/lib.sh"

make_pki() { # dir k
	local dir=$1 k=$2 who
	(
		cd "$dir"
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.crt -days 2 -subj "/CN=tapir lab slot $k CA" 2>/dev/null
		printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >server.ext
		printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >client.ext
		for who in server client; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout "$who.key" -out "$who.csr" -subj "/CN=$who.slot$k.tapir.lab" 2>/dev/null
			openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
				-days 2 -extfile "$who.ext" -out "$who.crt" 2>/dev/null
		done
		rm -f ./*.csr ./*.ext ca.srl ca.key
	) || die "openssl could not make the slot's certificates in $dir"
}

render() { # side k proto mtu dir
	local side=$1 k=$2 proto=$3 mtu=$4 dir=$5 ps pc
	if [[ $proto == tcp ]]; then ps=tcp-server pc=tcp-client; else ps=udp pc=udp; fi
	{
		sed '/^@COMMON@$/,$d' "$HERE/openvpn/$side.conf.in"
		cat "$HERE/openvpn/common.conf.in"
	} | sed -e "s|@K@|$k|g" -e "s|@DIR@|$dir|g" -e "s|@MTU@|$mtu|g" \
		-e "s|@PROTO_SERVER@|$ps|g" -e "s|@PROTO_CLIENT@|$pc|g" >"$dir/$side.conf"
}

start_openvpn() { # ns side dir
	local ns=$1 side=$2 dir=$3
	ip netns exec "$ns" openvpn --config "$dir/$side.conf" >"$dir/$side.log" 2>&1 </dev/null &
	echo $! >"$dir/$side.pid"
}

cmd_down() {
	local k=$1 st=$STATE_ROOT/$1
	# Without state this slot was never brought up by this script: leave the
	# namespaces alone (another condition may be using them).
	if [[ ! -d $st ]]; then
		log "slot $k is not up; nothing to do"
		return 0
	fi
	stop_pid "$st/client.pid"
	stop_pid "$st/server.pid"
	# openvpn removes its tun on exit; after a KILL it may remain.
	ip netns list | grep -qw "tapir-c$k" && ip -n "tapir-c$k" link del "ovpnc$k" 2>/dev/null || true
	ip netns list | grep -qw "tapir-s$k" && ip -n "tapir-s$k" link del "ovpns$k" 2>/dev/null || true
	rm -rf "$st"
	rmdir "$STATE_ROOT" 2>/dev/null || true
}

cmd_up() {
	local k=$1 st=$STATE_ROOT/$1 ns
	for ns in tapir-c$k tapir-w$k tapir-s$k; do
		ip netns list | grep -qw "$ns" || die "namespace $ns does not exist: create slot $k's namespaces first"
	done
	local proto=${TAPIR_OPENVPN_PROTO:-udp} mtu=${TAPIR_TUNNEL_MTU:-1500}
	[[ $proto == udp || $proto == tcp ]] || die "TAPIR_OPENVPN_PROTO='$proto': use udp or tcp"
	[[ $mtu =~ ^[0-9]+$ ]] && ((mtu >= 1280 && mtu <= 1500)) ||
		die "TAPIR_TUNNEL_MTU='$mtu': the OpenVPN tun-mtu must be 1280..1500"
	ensure_pkgs openvpn openssl iputils-ping
	[[ -c /dev/net/tun ]] || die "/dev/net/tun missing: openvpn needs a tun device"
	[[ -d $st ]] && {
		log "slot $k was up; tearing it down first"
		cmd_down "$k"
	}
	mkdir -p "$st"
	chmod 700 "$st"
	# A failed `up` must not leave half a tunnel behind.
	# shellcheck disable=SC2064 # k is expanded now on purpose: it is local.
	trap "cmd_down $k >/dev/null 2>&1" EXIT
	make_pki "$st" "$k"
	render server "$k" "$proto" "$mtu" "$st"
	render client "$k" "$proto" "$mtu" "$st"

	start_openvpn tapir-s"$k" server "$st"
	# A TCP client must find the server listening; UDP retries by itself.
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q 'Initialization Sequence Completed\|UDPv4 link local (bound)\|Listening for incoming TCP connection' "$st/server.log" 2>/dev/null && break
		sleep 0.1
	done
	start_openvpn tapir-c"$k" client "$st"
	for ((i = 0; i < UP_TIMEOUT * 10; i++)); do
		grep -q 'Initialization Sequence Completed' "$st/client.log" 2>/dev/null &&
			grep -q 'Initialization Sequence Completed' "$st/server.log" 2>/dev/null && break
		local side
		for side in server client; do
			kill -0 "$(<"$st/$side.pid")" 2>/dev/null || {
				tail -15 "$st/$side.log" >&2
				die "openvpn ($side) of slot $k exited; log: $st/$side.log"
			}
		done
		sleep 0.1
	done
	grep -q 'Initialization Sequence Completed' "$st/client.log" ||
		die "OpenVPN of slot $k not up within $UP_TIMEOUT s (logs: $st/{client,server}.log)"
	local cipher
	cipher=$(grep -o "Data Channel: cipher '[^']*'" "$st/client.log" | tail -1 | cut -d"'" -f2)
	[[ $cipher == AES-256-GCM ]] || die "data channel cipher is '${cipher:-unknown}', not AES-256-GCM (log: $st/client.log)"
	ip netns exec tapir-c"$k" ping -c1 -W2 -q 10.79."$k".2 >/dev/null 2>&1 ||
		die "no ping through the OpenVPN tunnel of slot $k (logs: $st/*.log)"
	log "slot $k: OpenVPN $proto 10.77.$k.1 -> 10.78.$k.2:1194, $cipher, inner 10.79.$k.1 <-> 10.79.$k.2, tun-mtu $mtu"
	trap - EXIT
	tunnel_env "10.79.$k.2" "openvpn/$proto/aes-256-gcm" "$mtu"
}

condition_main "$@"
