#!/usr/bin/env bash
# tor.sh up|down <k> | network-up | network-down [force] | status — Tor condition for lab slot k.
#
# One private Tor network serves every slot: 3 directory authorities (a1..a3,
# keys from tor-gencert) and 4 relays (r1, r2 non-exit; e1, e2 exits with
# `ExitPolicy accept *:*` and `ExitPolicyRejectPrivate 0`), ORPort 9001,
# authorities' DirPort 9030, `TestingTorNetwork 1`. Each node has its own
# namespace tapir-tor-<nick> with address 10.81.0.N/32, joined to the hub
# namespace tapir-tor (a router, gateway 10.81.1.1) through a delay line
# (tor/delayline.py, a delay-only layer-2 bridge): node i is d_i ms from the
# hub, so two relays are d_i + d_j apart. d_i is drawn per network between 2.5
# and 40 ms (TAPIR_TOR_SEED), hence 5-80 ms between relays, jitter 5 %.
#
# `up k` attaches tapir-w$k to the hub by a veth (w$k-t 10.80.$k.2/30 <->
# t$k 10.80.$k.1/30) with its own delay line (TAPIR_TOR_SLOT_DELAY_MS, the
# client's distance to the Tor network: crossed client -> guard and exit ->
# server) and routes both ways: the client's tor in tapir-c$k reaches its
# guard at 10.81.0.N:9001 through tapir-w$k, and exits reach the server at
# 10.78.$k.2. The hub forwards between nodes and slots, but a packet from a
# slot may only go to a node (policy rules), so slots cannot reach each other
# through it. The client's tor listens
# on SocksPort 127.0.0.1:9050 in tapir-c$k; `up` returns after it logs
# `Bootstrapped 100%` (90 s timeout). The observer on c$k sees only TLS to the
# guard's ORPort.
#
# stdout of `up`: SERVER_ADDR=10.78.$k.2, PROXY=socks5h://127.0.0.1:9050,
# VOIP_MODE=tcp (Tor carries TCP only; see README.md for RTP over Tor),
# TUNNEL=tor/access-<ms>ms/net-seed-<TAPIR_TOR_SEED of the running network>.
# Environment: TAPIR_TOR_SLOT_DELAY_MS (up, default 20, 0-200); TAPIR_TOR_SEED
# (network-up, default 1: the relays' delays); TAPIR_TOR_CONFLUX (default 0; 1 lets the client split circuits
# over two guards as Tor >= 0.4.8 does by default); TAPIR_TOR_VOTING_INTERVAL
# (network-up, default 60 s: clients refetch the consensus about every two
# intervals, a burst of ~8 packets; 10 starts the network faster but puts
# such a burst in the capture every ~18 s — see README.md).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_ROOT=/run/tapir-lab/tor
NET=$STATE_ROOT/net
TORNS=tapir-tor
# Nickname:role:last octet of 10.81.0.N.
NODES=(a1:authority:1 a2:authority:2 a3:authority:3 r1:relay:11 r2:relay:12 e1:exit:21 e2:exit:22)
BOOTSTRAP_TIMEOUT=90
DELAYLINE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tor/delayline.py
# The hub's address on every node link: each node's default gateway.
HUB_GW=10.81.1.1

usage() {
	echo "usage: $0 up|down <slot 1..99> | network-up | network-down [force] | status" >&2
	exit 2
}

COND=tor.sh
# shellcheck source=lab/conditions/lib.sh
. "$HERE/lib.sh"

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

alive() { [[ -f "$1" ]] && kill -0 "$(<"$1")" 2>/dev/null; }

# Start tor in a namespace; the pid we record is tor's own (ip netns exec execs).
start_tor() { # ns dir
	local ns=$1 dir=$2
	# fd 9 is the network-up lock: the daemon must not inherit (and hold) it.
	ip netns exec "$ns" tor --defaults-torrc "$NET/empty" -f "$dir/torrc" \
		>"$dir/stdout.log" 2>&1 </dev/null 9>&- &
	echo $! >"$dir/tor.pid"
}

# Running = all relays alive and network-up finished (its consensus is usable).
network_running() {
	local n
	ns_exists $TORNS && [[ -f $NET/ready ]] || return 1
	for n in "${NODES[@]}"; do
		alive "$NET/${n%%:*}/tor.pid" && alive "$NET/${n%%:*}/delay.pid" || return 1
	done
}

offloads_off() { # ns ifname: wire-sized frames through the delay lines
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off lro off tx off rx off >/dev/null 2>&1 || true
}

# Start a delay line bridging a and b in ns; its pid goes to pidfile.
start_delayline() { # ns a b delay_ms seed pidfile log
	local jitter
	# Jitter: 5 % of the delay as standard deviation (backbone paths vary little).
	jitter=$(awk -v d="$4" 'BEGIN {printf "%.3f", d * 0.05}')
	ip netns exec "$1" python3 "$DELAYLINE" --a "$2" --b "$3" --delay-ms "$4" \
		--jitter-ms "$jitter" --seed "$5" >"$7" 2>&1 </dev/null 9>&- &
	echo $! >"$6"
}

# A node's namespace: tor's address on n0, whose frames cross the delay line
# (n1 <-> n2) to the hub's h-<nick>.
node_ns_up() { # nick addr delay_ms seed
	local nick=$1 addr=$2 ns=$TORNS-$1 i
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link add n0 type veth peer name n1
	ip -n "$ns" link add n2 type veth peer name h-"$nick" netns $TORNS
	ip -n "$ns" addr add 10.81.0."$addr"/32 dev n0
	ip -n $TORNS addr add $HUB_GW/32 dev h-"$nick"
	for i in n0 n1 n2; do
		ip -n "$ns" link set "$i" up
		offloads_off "$ns" "$i"
	done
	ip -n $TORNS link set h-"$nick" up
	offloads_off $TORNS h-"$nick"
	# The bridged ends must not answer ARP for the node's address themselves.
	for i in n1 n2; do ip -n "$ns" link set "$i" promisc on arp off; done
	ip -n "$ns" route add $HUB_GW dev n0
	ip -n "$ns" route add default via $HUB_GW dev n0
	ip -n $TORNS route add 10.81.0."$addr"/32 dev h-"$nick"
	start_delayline "$ns" n1 n2 "$3" "$4" "$NET/$nick/delay.pid" "$NET/$nick/delay.log"
}

# Count relays in the authorities' latest consensus that are Running and
# Valid, and those with Exit and Guard flags.
consensus_counts() { # prints: relays exits guards
	local f=$NET/a1/data/cached-consensus
	[[ -s $f ]] || {
		echo "0 0 0"
		return
	}
	awk '/^r / {n++} /^s / && / Running/ && / Valid/ {ok++; if (/ Exit/) ex++; if (/ Guard/) gd++}
		END {printf "%d %d %d\n", ok, ex, gd}' "$f"
}

cmd_network_up() {
	ensure_pkgs tor
	command -v tor-gencert >/dev/null || die "tor-gencert missing (package tor)"
	mkdir -p "$STATE_ROOT"
	# Several slots may come up at once: one network-up at a time.
	exec 9>"$STATE_ROOT/.lock"
	flock -w 300 9 || die "timed out waiting for $STATE_ROOT/.lock"
	if network_running; then
		log "private Tor network already running"
		return 0
	fi
	if ns_exists $TORNS || [[ -d $NET ]]; then
		local live
		live=$(live_slots | tr '\n' ' ')
		[[ -z $live ]] || die "the private Tor network is partly down but slot(s) ${live% } still use it: check '$0 status', then '$0 network-down force' and up again"
		log "cleaning up a partial private Tor network"
		network_down_locked
	fi
	local vi=${TAPIR_TOR_VOTING_INTERVAL:-60}
	[[ $vi =~ ^[0-9]+$ ]] && ((vi >= 10 && vi <= 600 && 86400 % vi == 0)) ||
		die "TAPIR_TOR_VOTING_INTERVAL must be 10..600 seconds and divide a day, not '$vi'"
	# The first consensus needs up to two intervals plus start-up; leave room.
	local consensus_timeout=$((vi * 6 > 120 ? vi * 6 : 120))
	mkdir -p "$NET"
	chmod 700 "$NET"
	# A failed network-up stops what it started.
	trap "network_down_locked >/dev/null 2>&1" EXIT
	: >"$NET/empty"
	echo "nameserver 127.0.0.1" >"$NET/resolv.conf"

	local seed=${TAPIR_TOR_SEED:-1}
	[[ $seed =~ ^[0-9]+$ ]] || die "TAPIR_TOR_SEED must be a number, not '$seed'"
	ip netns add $TORNS
	ip -n $TORNS link set lo up
	ip netns exec $TORNS sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1
	local n nick role addr
	# One delay per node, 2.5-40 ms from the hub, so relays are 5-80 ms apart.
	python3 -c 'import random, sys
r = random.Random(int(sys.argv[1]))
for nick in sys.argv[2:]:
    print(nick, f"{r.uniform(2.5, 40.0):.1f}")' "$seed" "${NODES[@]%%:*}" >"$NET/delays"
	echo "$seed" >"$NET/seed"
	for n in "${NODES[@]}"; do
		IFS=: read -r nick role addr <<<"$n"
		mkdir -p "$NET/$nick"
		node_ns_up "$nick" "$addr" "$(awk -v n="$nick" '$1 == n {print $2}' "$NET/delays")" "$seed$addr"
	done

	# Keys: an authority's v3 identity comes from tor-gencert and its RSA
	# identity fingerprint (for the DirAuthority lines) from
	# `tor --list-fingerprint`, which creates its keys in the data directory.
	# Relays create their own keys when they first start.
	local dirauth=$NET/dirauthorities v3 fp
	: >"$dirauth"
	for n in "${NODES[@]}"; do
		IFS=: read -r nick role addr <<<"$n"
		mkdir -p "$NET/$nick/data/keys"
		chmod 700 "$NET/$nick" "$NET/$nick/data" "$NET/$nick/data/keys"
		if [[ $role == authority ]]; then
			(cd "$NET/$nick/data/keys" && echo "" | tor-gencert --create-identity-key -m 12 \
				-a 10.81.0."$addr":9030 -i authority_identity_key -s authority_signing_key \
				-c authority_certificate --passphrase-fd 0 >/dev/null 2>&1) ||
				die "tor-gencert failed for $nick"
			tor --quiet --defaults-torrc "$NET/empty" -f "$NET/empty" --list-fingerprint \
				--DataDirectory "$NET/$nick/data" --ORPort 1 --Nickname "$nick" \
				--DirAuthority "x 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff" >/dev/null 2>&1 ||
				die "tor --list-fingerprint failed for $nick"
			v3=$(awk '$1 == "fingerprint" {print $2}' "$NET/$nick/data/keys/authority_certificate")
			fp=$(awk '{print $2}' "$NET/$nick/data/fingerprint")
			[[ $v3 =~ ^[0-9A-F]{40}$ && $fp =~ ^[0-9A-F]{40}$ ]] || die "could not read $nick's fingerprints"
			echo "DirAuthority $nick orport=9001 no-v2 v3ident=$v3 10.81.0.$addr:9030 $fp" >>"$dirauth"
		fi
	done

	for n in "${NODES[@]}"; do
		IFS=: read -r nick role addr <<<"$n"
		{
			cat "$HERE/tor/torrc-common.in"
			cat "$dirauth"
			cat "$HERE/tor/torrc-$role.in"
			cat "$HERE/tor/relay-dns.in"
		} | sed -e "s|@NICK@|$nick|g" -e "s|@DATA@|$NET/$nick/data|g" \
			-e "s|@ADDR@|10.81.0.$addr|g" -e "s|@RESOLV@|$NET/resolv.conf|g" \
			-e "s|@VOTING_INTERVAL@|$vi|g" >"$NET/$nick/torrc"
		start_tor $TORNS-"$nick" "$NET/$nick"
	done

	local i relays exits guards
	for ((i = 0; i < consensus_timeout * 2; i++)); do
		for n in "${NODES[@]}"; do
			alive "$NET/${n%%:*}/tor.pid" || {
				tail -15 "$NET/${n%%:*}/stdout.log" >&2
				die "tor ${n%%:*} exited during network-up (log: $NET/${n%%:*}/data/notice.log)"
			}
		done
		read -r relays exits guards < <(consensus_counts)
		((relays >= ${#NODES[@]} && exits >= 2 && guards >= 3)) && break
		sleep 0.5
	done
	((relays >= ${#NODES[@]} && exits >= 2 && guards >= 3)) ||
		die "no usable consensus after ${consensus_timeout} s ($relays relays running, $exits exits, $guards guards; logs: $NET/*/data/notice.log)"
	trap - EXIT
	touch "$NET/ready"
	log "private Tor network up in $TORNS after $((i / 2)) s: $relays relays, $exits exits, $guards guards (voting interval $vi s); node delays (ms): $(tr '\n' ' ' <"$NET/delays")"
}

network_down_locked() {
	local n slot
	for n in "${NODES[@]}"; do
		stop_pid "$NET/${n%%:*}/tor.pid"
		stop_pid "$NET/${n%%:*}/delay.pid"
		if ns_exists "$TORNS-${n%%:*}"; then ip netns del "$TORNS-${n%%:*}"; fi
	done
	for slot in "$STATE_ROOT"/[0-9]*; do
		[[ -d $slot ]] && stop_pid "$slot/delay.pid"
	done
	# Deleting the hub also deletes the t$k ends of every slot's veth,
	# which takes their w$k-t peers and the routes through them along.
	if ns_exists $TORNS; then ip netns del $TORNS; fi
	rm -rf "$NET"
}

# Slots whose client tor is alive: the shared network is in use.
live_slots() {
	local slot
	for slot in "$STATE_ROOT"/[0-9]*; do
		[[ -d $slot ]] && alive "$slot/client/tor.pid" && echo "${slot##*/}"
	done
	return 0
}

cmd_network_down() { # [force]
	mkdir -p "$STATE_ROOT"
	exec 9>"$STATE_ROOT/.lock"
	flock -w 300 9 || die "timed out waiting for $STATE_ROOT/.lock"
	local live slot
	live=$(live_slots | tr '\n' ' ')
	# Several lab runs share this network: never pull it from under a capture.
	if [[ -n $live && ${1:-} != force ]]; then
		die "slot(s) ${live% } still use the private Tor network: run '$0 down <k>' for each first, or '$0 network-down force'"
	fi
	for slot in "$STATE_ROOT"/[0-9]*; do
		[[ -d $slot ]] && cmd_down "${slot##*/}"
	done
	network_down_locked
	# Leave nothing behind once no slot uses Tor any more.
	if ! compgen -G "$STATE_ROOT/[0-9]*" >/dev/null; then rm -rf "$STATE_ROOT"; fi
}

# Slot k's link to the hub: w$k-t (tapir-w$k) <-> t$k-x, delay line t$k-x <-> t$k-l
# in the hub, t$k-l <-> t$k (the hub's address). Routes both ways; from t$k only
# the nodes are reachable (slots stay apart).
attach_slot() { # k delay_ms
	local k=$1 i
	detach_slot "$k"
	ip link add t"$k"-x netns $TORNS type veth peer name w"$k"-t netns tapir-w"$k"
	ip -n $TORNS link add t"$k" type veth peer name t"$k"-l
	ip -n $TORNS addr add 10.80."$k".1/30 dev t"$k"
	ip -n tapir-w"$k" addr add 10.80."$k".2/30 dev w"$k"-t
	for i in t"$k" t"$k"-l t"$k"-x; do
		offloads_off $TORNS "$i"
		ip -n $TORNS link set "$i" up
	done
	for i in t"$k"-l t"$k"-x; do ip -n $TORNS link set "$i" promisc on arp off; done
	offloads_off tapir-w"$k" w"$k"-t
	ip -n tapir-w"$k" link set w"$k"-t up
	start_delayline $TORNS t"$k"-l t"$k"-x "$2" "$k" "$STATE_ROOT/$k/delay.pid" "$STATE_ROOT/$k/delay.log"
	ip -n $TORNS route add 10.77."$k".0/30 via 10.80."$k".2 dev t"$k"
	ip -n $TORNS route add 10.78."$k".0/30 via 10.80."$k".2 dev t"$k"
	ip -n $TORNS rule add pref 100 iif t"$k" to 10.81.0.0/24 lookup main
	ip -n $TORNS rule add pref 101 iif t"$k" prohibit
	ip -n tapir-w"$k" route add 10.81.0.0/24 via 10.80."$k".1 dev w"$k"-t
}

detach_slot() { # k
	local k=$1
	stop_pid "$STATE_ROOT/$k/delay.pid"
	if ns_exists $TORNS; then
		ip -n $TORNS link del t"$k" 2>/dev/null || true
		ip -n $TORNS link del t"$k"-x 2>/dev/null || true
		while ip -n $TORNS rule del pref 100 iif t"$k" 2>/dev/null; do :; done
		while ip -n $TORNS rule del pref 101 iif t"$k" 2>/dev/null; do :; done
	fi
	if ns_exists tapir-w"$k"; then ip -n tapir-w"$k" link del w"$k"-t 2>/dev/null || true; fi
}

cmd_down() {
	local k=$1 st=$STATE_ROOT/$1
	# Without state this slot was never brought up by this script: leave the
	# namespaces alone (another condition may be using them).
	if [[ ! -d $st ]]; then
		log "slot $k is not up; nothing to do"
		return 0
	fi
	stop_pid "$st/client/tor.pid"
	detach_slot "$k"
	rm -rf "$st"
}

cmd_up() {
	local k=$1 st=$STATE_ROOT/$1 ns
	for ns in tapir-c$k tapir-w$k tapir-s$k; do
		ns_exists "$ns" || die "namespace $ns does not exist: create slot $k's namespaces first"
	done
	# socat: the VOIP_MODE=tcp relays (README.md) run in the slot's namespaces.
	ensure_pkgs tor socat
	network_running || cmd_network_up
	# Release the network lock taken by network-up; slots come up in parallel.
	exec 9>&-
	[[ -d $st ]] && {
		log "slot $k was up; tearing it down first"
		cmd_down "$k"
	}
	local conflux=${TAPIR_TOR_CONFLUX:-0} vi delay=${TAPIR_TOR_SLOT_DELAY_MS:-20}
	[[ $delay =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v d="$delay" 'BEGIN {exit !(d <= 200)}' ||
		die "TAPIR_TOR_SLOT_DELAY_MS must be 0..200 ms, not '$delay'"
	# The client's copy of the shared lines uses the running network's interval.
	vi=$(awk '$1 == "V3AuthVotingInterval" {print $2}' "$NET/a1/torrc")
	[[ $conflux == 0 || $conflux == 1 ]] || die "TAPIR_TOR_CONFLUX must be 0 or 1, not '$conflux'"
	mkdir -p "$st/client/data"
	# A failed `up` must not leave the client or the veth behind (the
	# shared network stays: other slots may use it).
	# shellcheck disable=SC2064 # k is expanded now on purpose: it is local.
	trap "cmd_down $k >/dev/null 2>&1" EXIT
	chmod 700 "$st" "$st/client" "$st/client/data"
	attach_slot "$k" "$delay"
	ip -n tapir-c"$k" link set lo up

	{
		cat "$HERE/tor/torrc-common.in"
		cat "$NET/dirauthorities"
		cat "$HERE/tor/torrc-client.in"
	} | sed -e "s|@NICK@|client$k|g" -e "s|@DATA@|$st/client/data|g" -e "s|@K@|$k|g" \
		-e "s|@CONFLUX@|$conflux|g" -e "s|@VOTING_INTERVAL@|$vi|g" >"$st/client/torrc"
	start_tor tapir-c"$k" "$st/client"

	local i
	for ((i = 0; i < BOOTSTRAP_TIMEOUT * 5; i++)); do
		grep -q 'Bootstrapped 100%' "$st/client/data/notice.log" 2>/dev/null && break
		alive "$st/client/tor.pid" || {
			tail -15 "$st/client/stdout.log" >&2
			die "the client tor of slot $k exited (log: $st/client/data/notice.log)"
		}
		sleep 0.2
	done
	grep -q 'Bootstrapped 100%' "$st/client/data/notice.log" 2>/dev/null || {
		grep Bootstrapped "$st/client/data/notice.log" 2>/dev/null | tail -3 >&2
		die "the client tor of slot $k did not reach 'Bootstrapped 100%' within ${BOOTSTRAP_TIMEOUT} s (log: $st/client/data/notice.log)"
	}
	log "slot $k: client tor bootstrapped in $((i / 5)) s; SOCKS 127.0.0.1:9050 in tapir-c$k"
	trap - EXIT
	echo "SERVER_ADDR=10.78.$k.2"
	echo "PROXY=socks5h://127.0.0.1:9050"
	echo "VOIP_MODE=tcp"
	echo "TUNNEL=tor/access-${delay}ms/net-seed-$(cat "$NET/seed" 2>/dev/null || echo unknown)"
}

cmd_status() {
	local n slot
	if network_running; then echo "network: running in $TORNS"; else echo "network: not running"; fi
	for n in "${NODES[@]}"; do
		alive "$NET/${n%%:*}/tor.pid" && echo "  ${n%%:*} (${n#*:}) pid $(<"$NET/${n%%:*}/tor.pid")"
	done
	[[ -s $NET/a1/data/cached-consensus ]] && echo "  consensus (relays exits guards): $(consensus_counts)"
	[[ -s $NET/delays ]] && echo "  node delays to the hub (ms): $(tr '\n' ' ' <"$NET/delays")"
	for slot in "$STATE_ROOT"/[0-9]*; do
		[[ -d $slot ]] || continue
		alive "$slot/client/tor.pid" && echo "slot ${slot##*/}: client tor pid $(<"$slot/client/tor.pid")"
	done
	return 0
}

main() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"
	local cmd=${1:-}
	case $cmd in
	up | down)
		check_slot "${2:-}"
		local k=$((10#$2))
		"cmd_$cmd" "$k"
		;;
	network-up) cmd_network_up ;;
	network-down) cmd_network_down "${2:-}" ;;
	status) cmd_status ;;
	*) usage ;;
	esac
}

main "$@"
