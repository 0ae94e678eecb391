# Shared by the lab's condition scripts (ipsec.sh, wireguard.sh, tor.sh): logging, slot
# checks, package installs and stopping daemons. Source it after setting COND (the script's
# name in messages) and defining usage().

log() { echo "$COND: $*" >&2; }
die() {
	echo "$COND: error: $*" >&2
	exit 1
}

check_slot() {
	[[ "${1:-}" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 99)) || usage
}

# Install missing Debian packages; `apt-get update` only when an install fails (the lists are
# usually fresh), and wait for another apt run's lock. No recommends: wireguard-tools would
# otherwise pull in a kernel image.
ensure_pkgs() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing ${missing[*]}"
	local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends)
	if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >&2; then
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 &&
			DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >&2 ||
			die "could not install ${missing[*]} (see apt-get output above)"
	fi
}

stop_pid() { # pidfile
	local pid i
	[[ -f "$1" ]] || return 0
	pid=$(<"$1")
	if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$1"
}

# tunnel_env SERVER TUNNEL MTU: what `up` prints for lab/run (no SOCKS proxy).
tunnel_env() {
	echo "SERVER_ADDR=$1"
	echo "PROXY="
	echo "TUNNEL=$2"
	echo "TUNNEL_MTU=$3"
}

# condition_main CMD SLOT: the `up k` / `down k` dispatch every tunnel script shares; it calls
# the script's cmd_up and cmd_down, and usage for anything else.
condition_main() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, tun devices, daemons)"
	local cmd=${1:-}
	check_slot "${2:-}"
	local k=$((10#$2))
	case $cmd in
	up) cmd_up "$k" ;;
	down) cmd_down "$k" ;;
	*) usage ;;
	esac
}
