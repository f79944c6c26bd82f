#!/bin/sh
# SPDX-License-Identifier: MIT
# ICMP echo flood: usnet answering over a TAP versus the Linux kernel
# answering over a veth pair, measured in the same run.
#
#   bench/icmp_flood.sh [-n COUNT] [-r RUNS] [-b BUILDDIR] [-c CPU] [-- USNETD-OPTIONS]
#
# -c CPU runs usnetd and both pings on that one CPU. On veth the kernel
# answers inside ping's own sendto(), on ping's CPU; a TAP reply comes from
# another thread, and when that thread sits on another CPU every exchange
# costs two cross-CPU wake-ups (IPIs, expensive in a VM). -c shows the
# stack's cost without them.
#
# Each run is `ping -f -c COUNT -q` from a namespace: ping sends the next
# request as soon as the previous reply arrives, so the answered rate is
# 1 / round-trip time of one request in flight. Runs alternate between
# usnet and the kernel so that noise from other work on the machine hits
# both; the medians and their ratio are printed. Root required.
set -eu

count=20000
runs=5
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
cpu=""
while getopts n:r:b:c: opt; do
	case $opt in
	n) count=$OPTARG ;;
	r) runs=$OPTARG ;;
	b) build=$OPTARG ;;
	c) cpu=$OPTARG ;;
	*) echo "usage: $0 [-n COUNT] [-r RUNS] [-b BUILDDIR] [-c CPU] [-- USNETD-OPTIONS]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

USNETD=${USNETD:-$build/daemon/usnetd}
USNET=${USNET:-$build/cli/usnet}
[ "$(id -u)" -eq 0 ] || { echo "icmp_flood: run as root" >&2; exit 1; }
[ -x "$USNETD" ] || { echo "icmp_flood: $USNETD not built (scripts/build.sh build)" >&2; exit 1; }

tag=$$
NSU=bfu-$tag
NSK1=bfk1-$tag
NSK2=bfk2-$tag
TAP=bfu$tag
SOCK=/tmp/usnet-bench-$tag.sock
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for ns in $NSU $NSK1 $NSK2; do ip netns del "$ns" 2>/dev/null || true; done
	rm -f "$SOCK"
}
trap cleanup EXIT INT TERM

pin=""
[ -n "$cpu" ] && pin="taskset -c $cpu"

ip netns add "$NSU"
ip netns add "$NSK1"
ip netns add "$NSK2"
$pin "$USNETD" -f --tap "$TAP" --address 10.77.0.2/24 --host-netns "$NSU" \
	--host-address 10.77.0.1/24 --control "$SOCK" --log-level warn "$@" &
pid=$!
i=0
until "$USNET" --control "$SOCK" status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "icmp_flood: usnetd did not start" >&2; exit 1; }
	sleep 0.05
done

ip link add bfv0-$tag netns "$NSK1" type veth peer name bfv1-$tag netns "$NSK2"
ip -n "$NSK1" addr add 10.78.0.1/24 dev bfv0-$tag
ip -n "$NSK2" addr add 10.78.0.2/24 dev bfv1-$tag
ip -n "$NSK1" link set bfv0-$tag up
ip -n "$NSK2" link set bfv1-$tag up
ip -n "$NSK1" link set lo up
ip -n "$NSK2" link set lo up

# Warm up ARP on both paths.
ip netns exec "$NSU" ping -c 2 -i 0.2 -q 10.77.0.2 >/dev/null
ip netns exec "$NSK1" ping -c 2 -i 0.2 -q 10.78.0.2 >/dev/null

# One flood; prints "rate avg_rtt_us" (answered per second, mean RTT).
flood() {
	ip netns exec "$1" $pin ping -f -c "$count" -q "$2" | awk -v want="$count" '
		/packets transmitted/ {
			for (i = 1; i <= NF; i++) {
				if ($(i + 1) == "received,") recv = $i
				if ($i == "time") { t = $(i + 1); sub("ms", "", t) }
			}
		}
		/^rtt/ { split($4, r, "/"); avg = r[2] * 1000 }
		END {
			if (recv < want) printf("lost %d of %d\n", want - recv, want) > "/dev/stderr"
			printf("%.0f %.1f\n", recv / (t / 1000.0), avg)
		}'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf("%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

u_rates=""; k_rates=""; u_rtts=""; k_rtts=""
echo "icmp_flood: $runs runs of ping -f -c $count (usnet over TAP vs kernel over veth)${cpu:+, all on CPU $cpu}${*:+, usnetd $*}"
r=1
while [ $r -le "$runs" ]; do
	set -- $(flood "$NSU" 10.77.0.2)
	u_rates="$u_rates $1"; u_rtts="$u_rtts $2"
	set -- $(flood "$NSK1" 10.78.0.2)
	k_rates="$k_rates $1"; k_rtts="$k_rtts $2"
	printf '  run %d: usnet %s/s (rtt %s us)  kernel %s/s (rtt %s us)\n' "$r" \
		"$(echo "$u_rates" | awk '{print $NF}')" "$(echo "$u_rtts" | awk '{print $NF}')" \
		"$(echo "$k_rates" | awk '{print $NF}')" "$(echo "$k_rtts" | awk '{print $NF}')"
	r=$((r + 1))
done

um=$(echo "$u_rates" | tr ' ' '\n' | grep . | median)
km=$(echo "$k_rates" | tr ' ' '\n' | grep . | median)
urtt=$(echo "$u_rtts" | tr ' ' '\n' | grep . | median)
krtt=$(echo "$k_rtts" | tr ' ' '\n' | grep . | median)
echo "median answered rate: usnet $um/s (rtt $urtt us), kernel $km/s (rtt $krtt us)"
awk -v u="$um" -v k="$km" 'BEGIN { printf("ratio usnet/kernel: %.2f\n", u / k) }'
