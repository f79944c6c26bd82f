#!/bin/sh
# SPDX-License-Identifier: MIT
# The raw TAP limit: frames and bytes per second that a trivial io_uring
# endpoint (bench/taplimit) moves through a TAP, kernel -> user (rx) and
# user -> kernel (tx), at one MTU. The yardstick for usnet's throughput.
#
#   bench/taplimit.sh [-r RUNS] [-s SECONDS] [-b BUILDDIR] [-c CPU] [-k CPU] [-u] [MTU] [-- TAPLIMIT-OPTIONS]
#
# RUNS (3) runs of each direction, SECONDS (3) each after a 1 s warm-up,
# MTU 1500 unless given; options after -- go to every bench/taplimit run.
# Each run creates a fresh TAP in a namespace of its own (the tool sets up
# the kernel side itself); runs alternate rx and tx so that noise from other
# work on the machine hits both; a run disturbed by other work (over 10%
# of the CPUs) is repeated, at most twice. Prints every run and the medians.
# The io_uring endpoint runs on CPU 1 (-c) and the kernel-side peer (sender
# or sink) on CPU 0 (-k); -u leaves both to the scheduler. Root required.
set -eu

runs=3
secs=3
mtu=1500
top=$(cd "$(dirname "$0")/.." && pwd)
build=""
# Endpoint and peer each on a CPU of its own: left to the scheduler they
# often share one (the sender wakes the reader onto its own CPU), which
# halves the figures and makes them bimodal.
cpu=1
kcpu=0
[ "$(nproc)" -ge 2 ] || { cpu=""; kcpu=""; }
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-b BUILDDIR] [-c CPU] [-k CPU] [-u] [MTU] [-- TAPLIMIT-OPTIONS]" >&2
	exit 2
}
while getopts r:s:b:c:k:u opt; do
	case $opt in
	r) runs=$OPTARG ;;
	s) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	c) cpu=$OPTARG ;;
	k) kcpu=$OPTARG ;;
	u) cpu=""; kcpu="" ;;
	*) usage ;;
	esac
done
# getopts takes a "--" that comes right after the options.
dashdash=""
[ "$OPTIND" -gt 1 ] && eval "[ \"\${$((OPTIND - 1))}\" = -- ]" && dashdash=1
shift $((OPTIND - 1))
if [ -z "$dashdash" ]; then
	case ${1:-} in
	[0-9]*) mtu=$1; shift ;;
	esac
	[ "${1:-}" = "--" ] && { shift; dashdash=1; }
	[ $# -eq 0 ] || [ -n "$dashdash" ] || usage
fi
case $mtu in
*[!0-9]*) usage ;;
esac

# In-tree build (make bench/taplimit), else an out-of-tree one.
if [ -z "${TAPLIMIT:-}" ]; then
	if [ -n "$build" ]; then
		TAPLIMIT=$build/bench/taplimit
	elif [ -x "$top/bench/taplimit" ]; then
		TAPLIMIT=$top/bench/taplimit
	else
		TAPLIMIT=$top/build/bench/taplimit
	fi
fi
[ "$(id -u)" -eq 0 ] || { echo "taplimit: run as root" >&2; exit 1; }
[ -x "$TAPLIMIT" ] || { echo "taplimit: $TAPLIMIT not built (make bench/taplimit)" >&2; exit 1; }

tag=$$
NS=tapl-$tag
TAP=tapl$tag
out=$(mktemp /tmp/taplimit.XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -f "$out" "$out.line"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up

pin=""
[ -n "$cpu" ] && pin="-c $cpu"
[ -n "$kcpu" ] && pin="$pin -k $kcpu"

# One measurement; prints the tool's line, leaves "frames/s Gbit/s" in $out.
# Both sides are CPU-bound, so a run during which other work took more than
# 10% of the CPUs (the tool says how much) is repeated, twice at most.
measure() {
	dir=$1
	shift
	try=1
	while :; do
		# shellcheck disable=SC2086 # $pin is a list of options
		"$TAPLIMIT" "$dir" -i "$TAP" -n "$NS" -m "$mtu" -s "$secs" $pin "$@" >"$out.line" &
		pid=$!
		wait "$pid"
		pid=""
		sed 's/^/    /' "$out.line"
		o=$(sed -n 's/.*other work \([0-9]*\)% CPU$/\1/p' "$out.line")
		[ "${o:-0}" -gt 10 ] || break
		if [ "$try" -ge 3 ]; then
			disturbed=$((disturbed + 1))
			break
		fi
		echo "    (other work ${o}% of the CPUs: repeating)"
		try=$((try + 1))
	done
	awk -v dir="$dir:" '$1 == dir && $3 == "frames/s," { print $2, $4; exit }' "$out.line" >"$out"
	rm -f "$out.line"
	[ -s "$out" ] || { echo "taplimit: no result from the $dir run" >&2; exit 1; }
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf("%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "taplimit: $runs runs each of rx and tx, ${secs}s each, MTU $mtu, frames of $((mtu + 14)) bytes${pin:+, $pin}${*:+, options $*}"
rx_f=""; rx_g=""; tx_f=""; tx_g=""
disturbed=0
r=1
while [ "$r" -le "$runs" ]; do
	echo "  run $r"
	measure rx "$@"
	rx_f="$rx_f $(cut -d' ' -f1 "$out")"; rx_g="$rx_g $(cut -d' ' -f2 "$out")"
	measure tx "$@"
	tx_f="$tx_f $(cut -d' ' -f1 "$out")"; tx_g="$tx_g $(cut -d' ' -f2 "$out")"
	r=$((r + 1))
done

# Medians of frames/s and of Gbit/s, each over the runs.
report() {
	printf '%s %s\n' "$(echo "$2" | tr ' ' '\n' | grep . | median)" \
		"$(echo "$3" | tr ' ' '\n' | grep . | median)" |
		awk -v what="$1" '{ printf("median %s: %.0f frames/s, %.2f Gbit/s\n", what, $1, $2) }'
}
report "rx (kernel -> user)" "$rx_f" "$rx_g"
report "tx (user -> kernel)" "$tx_f" "$tx_g"
if [ "$disturbed" -gt 0 ]; then
	echo "taplimit: warning: other work took over 10% of the CPUs in $disturbed of $((2 * runs)) runs even when repeated; those figures are low" >&2
fi
