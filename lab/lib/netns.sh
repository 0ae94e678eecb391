#!/usr/bin/env bash
# Slot namespaces for the tapir lab (see docs/lab.md, "Topology").
#
#   tapir-c$k  c$k   10.77.$k.1/30  --veth--  w$k-c 10.77.$k.2/30  tapir-w$k
#   tapir-w$k  w$k-s 10.78.$k.1/30  --veth--  s$k   10.78.$k.2/30  tapir-s$k
#
# No namespace gets a route to the host: the only default routes point at the
# WAN namespace, which itself has no default route, so nothing can leave.
# Source this file; it defines slot_up, slot_down, linkem_up and helpers.

# Offloads merge TCP segments into 60 kB "packets" on veths; a capture must see
# wire-sized packets, so every veth end gets them turned off.
lab_offloads_off() {
    local ns=$1 ifc=$2
    ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off lro off tx off rx off >/dev/null 2>&1 || true
}

# The other way round, for a trace captured with offloads on (lab/run
# draw_capture): TSO/GSO on the sender and GRO on the receiver, as on most end
# hosts, so that the capture holds segments of up to 64 kB.
lab_offloads_on() {
    local ns=$1 ifc=$2
    ip netns exec "$ns" ethtool -K "$ifc" tso on gso on gro on tx on rx on >/dev/null 2>&1 || true
}

# IPv6 router solicitations and MLD reports would otherwise appear in every trace.
lab_ns_new() {
    local ns=$1
    # A resolver on loopback that nobody answers: stray lookups (browser
    # update checks) fail at once inside the namespace instead of putting
    # DNS packets on the captured link.
    mkdir -p "/etc/netns/$ns"
    echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

slot_up() {
    local k=$1
    if [[ ! $k =~ ^[0-9]+$ ]] || ((k < 1 || k > 99)); then
        echo "slot_up: slot must be 1..99, got '$k'" >&2
        return 2
    fi
    slot_down "$k" 2>/dev/null
    local c=tapir-c$k w=tapir-w$k s=tapir-s$k
    lab_ns_new "$c" && lab_ns_new "$w" && lab_ns_new "$s" || return 1
    ip link add "c$k" netns "$c" type veth peer name "w$k-c" netns "$w" || return 1
    ip link add "w$k-s" netns "$w" type veth peer name "s$k" netns "$s" || return 1
    ip -n "$c" addr add "10.77.$k.1/30" dev "c$k"
    ip -n "$w" addr add "10.77.$k.2/30" dev "w$k-c"
    ip -n "$w" addr add "10.78.$k.1/30" dev "w$k-s"
    ip -n "$s" addr add "10.78.$k.2/30" dev "s$k"
    local pair
    for pair in "$c c$k" "$w w$k-c" "$w w$k-s" "$s s$k"; do
        set -- $pair
        ip -n "$1" link set "$2" up
        lab_offloads_off "$1" "$2"
    done
    ip -n "$c" route add default via "10.77.$k.2"
    ip -n "$s" route add default via "10.78.$k.1"
    ip netns exec "$w" sysctl -qw net.ipv4.ip_forward=1
}

# Kill every process still running inside the slot's namespaces, then delete them.
slot_down() {
    local k=$1 ns pids
    for ns in "tapir-c$k" "tapir-w$k" "tapir-s$k"; do
        if ip netns list | grep -qw "$ns"; then
            pids=$(ip netns pids "$ns" 2>/dev/null)
            [[ -n $pids ]] && kill $pids 2>/dev/null
        fi
    done
    sleep 0.3
    for ns in "tapir-c$k" "tapir-w$k" "tapir-s$k"; do
        if ip netns list | grep -qw "$ns"; then
            pids=$(ip netns pids "$ns" 2>/dev/null)
            [[ -n $pids ]] && kill -9 $pids 2>/dev/null
            ip netns del "$ns"
        fi
        rm -rf "/etc/netns/$ns"
    done
    return 0
}

# Put the user-space link emulator on the client's access link. The router
# address 10.77.$k.2 moves from w$k-c to a new veth end w$k-r inside the WAN
# namespace; linkem bridges w$k-c and its peer w$k-l at layer 2, so every frame
# the client sends or receives (to the server, a tunnel gateway or a Tor guard)
# crosses the emulated link, while routing stays with the kernel.
linkem_up() {
    local k=$1 profile=$2 seed=$3 bin=$4 log=$5
    lab_linkem_start "$k" "$log" "$bin" --profile "$profile" --seed "$seed"
}

# lab_linkem_start k log bin ARGS...: moves the router address 10.77.$k.2 from
# w$k-c to a new veth end w$k-r and starts linkem bridging w$k-c and its peer
# w$k-l with ARGS (a profile or specs).
lab_linkem_start() {
    local k=$1 log=$2 bin=$3
    shift 3
    local w=tapir-w$k
    ip -n "$w" link add "w$k-l" type veth peer name "w$k-r" || return 1
    ip -n "$w" addr del "10.77.$k.2/30" dev "w$k-c"
    ip -n "$w" addr add "10.77.$k.2/30" dev "w$k-r"
    local i offloads=off
    [[ " $* " == *" --offloads "* ]] && offloads=on
    for i in "w$k-l" "w$k-r"; do
        ip -n "$w" link set "$i" up
        "lab_offloads_$offloads" "$w" "$i"
    done
    # The bridged ends must not answer ARP themselves (the kernel would reply
    # for 10.77.$k.2 on any interface), so that the client learns w$k-r's MAC.
    for i in "w$k-c" "w$k-l"; do
        ip -n "$w" link set "$i" promisc on arp off
    done
    # Real-time priority (when the system grants it) keeps release times to
    # microseconds while browsers and compilers load the cores; linkem sleeps
    # between frames, so it takes little CPU.
    local rt=()
    chrt -f 20 true 2>/dev/null && rt=(chrt -f 20)
    ip netns exec "$w" "${rt[@]}" "$bin" --client-side "w$k-c" --router-side "w$k-l" "$@" >"$log" 2>&1 &
    # Give the sockets time to bind before the first frames are sent.
    sleep 0.3
    kill -0 $! 2>/dev/null || { echo "linkem failed to start, see $log" >&2; return 1; }
}

# access_link_up k seed bin log down_mbit up_mbit delay_ms jitter_ms loss queue_ms [offloads]
#
# The client's access link with parameters drawn per trace (lab/run). Rate is
# the kernel's job: a tbf qdisc on each end of the client's veth serialises
# frames at the line rate with hrtimer precision (downstream on w$k-c, the last
# hop before the client; upstream on c$k, the client's own NIC), so two frames
# queued back to back are one transmission time apart in the capture. Its limit
# is queue_ms of transmission time, tail drop. The path (one-way delay_ms each
# way, correlated jitter, loss) is linkem's, inserted as in linkem_up, upstream
# of the downstream tbf. linkem stays in the path even with no delay, jitter or
# loss: frames the kernel forwards keep the sending TCP's departure time
# (EDT) in their timestamp across namespaces, so a capture on c$k would show
# when the server sent a frame, not when it arrived; frames linkem re-sends are
# new and are stamped on arrival. (Measured: a 1 Gbit/s download forwarded by
# the kernel alone showed frames 2-4 us apart behind a 1 Gbit/s tbf, i.e. the
# sender's bursts.)
access_link_up() {
    local k=$1 seed=$2 bin=$3 log=$4 down=$5 up=$6 delay=$7 jitter=$8 loss=$9 queue=${10}
    local offloads=${11:-off}
    local w=tapir-w$k c=tapir-c$k s=tapir-s$k
    local spec="delay=$delay,jitter=$jitter,loss=$loss"
    if [[ $offloads == on ]]; then
        # Offloads on: frames of up to 64 kB cross the veths whole. A tbf would
        # cut them into packets before the capture sees them, as no NIC does, so
        # linkem serialises both directions itself (store and forward at the
        # line rate, charging each frame the wire bytes of the packets it
        # becomes) and forwards the frames with their offload metadata.
        local pair
        for pair in "$c c$k" "$w w$k-c" "$w w$k-s" "$s s$k"; do
            set -- $pair
            lab_offloads_on "$1" "$2"
        done
        lab_linkem_start "$k" "$log" "$bin" --up "$spec,rate=$up,queue=$queue" \
            --down "$spec,rate=$down,queue=$queue" --seed "$seed" --offloads
        return
    fi
    lab_tbf "$w" "w$k-c" "$down" "$queue" || return 1
    lab_tbf "$c" "c$k" "$up" "$queue" || return 1
    lab_linkem_start "$k" "$log" "$bin" --up "$spec" --down "$spec" --seed "$seed"
}

# lab_tbf NS IFACE MBIT QUEUE_MS: serialise IFACE's egress at MBIT with a
# tail-drop queue of QUEUE_MS (at least 16 KiB). The bucket holds one full
# frame and a little (1,600 bytes), so no train leaves faster than the rate.
lab_tbf() {
    local ns=$1 ifc=$2 mbit=$3 queue=$4
    local limit
    limit=$(awk -v r="$mbit" -v q="$queue" 'BEGIN{b = r * 1e6 / 8 * q / 1000; if (b < 16384) b = 16384; printf "%d", b}')
    ip netns exec "$ns" tc qdisc replace dev "$ifc" root tbf rate "${mbit}mbit" burst 1600 limit "$limit"
}
