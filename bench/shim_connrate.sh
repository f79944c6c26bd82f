#!/bin/sh
# SPDX-License-Identifier: MIT
# TCP connection rate through libusnet: one client under `usnet run` opening
# connections to a kernel echo server, versus the same client and server
# between two kernel namespaces over a veth pair, measured in the same run.
#
#   bench/shim_connrate.sh [-r RUNS] [-s SECONDS] [-m MTU] [-b BUILDDIR]
#                          [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]
#
# The client is `tcpperf client conns` with one connection at a time:
# nonblocking connect, poll(), send one byte, read it back, close (the
# client closes first, so TIME_WAIT is on its side), the next. The server
# is `tcpperf server echo` (the kernel's, on epoll). A third row, built-in,
# is a kernel client opening connections to usnetd's echo service: usnet's
# TCP without the shim, as bench/tcp_connrate.sh measures it. RUNS (5)
# runs of SECONDS (2), alternating the three; a run during which other work
# took over 10% of the CPUs is repeated, twice at most. Prints each run and
# the medians with their ratios.
#
# The kernel clients' namespaces reuse TIME_WAIT ports (tcp_tw_reuse=1)
# over ports 1024-65535, as in bench/tcp_connrate.sh. usnet has no such
# knob: its client takes a port that no TIME-WAIT holds, out of 28,232,
# for 60 s after each close, so the script waits before a run through the
# shim until enough ports are free (it says so). usnetd on CPU 1 (-c); the
# client under usnet (-a), the kernel echo servers and the built-in row's
# client on CPU 0 (-k); the kernel's client over veth on CPU 1. Every
# kernel socket and route uses CUBIC; usnet's default is cubic. Root
# required.
set -eu

runs=5
secs=2
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-m MTU] [-b BUILDDIR] [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]" >&2
	exit 2
}
tb_opt() {
	return 1
}
# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
tb_shim_opts "" "$@"
services=echo:7
trap tb_cleanup EXIT
trap 'exit 130' INT TERM
tb_tools
tb_setup
res=$tb_tmp/results
: >"$res"
disturbed=0
tb_sender=""

# shellcheck disable=SC2086 # the pins are lists
{
	tb_bg echo-u ip netns exec "$NSU" $pin_peer "$TCPPERF" server -C cubic -a "$KPEER_U" echo
	srv_u=$bgpid
	tb_bg echo-k ip netns exec "$NSK1" $pin_peer "$TCPPERF" server -C cubic -a "$KPEER_K" echo
	srv_k=$bgpid
}
tb_kwait "$NSU" 7 "tcpperf server echo in $NSU"
tb_kwait "$NSK1" 7 "tcpperf server echo in $NSK1"
for ns in $NSU $NSK2; do
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="1024 65535"
done

# usnet has no tcp_tw_reuse: its automatic bind takes only a port that no
# TIME-WAIT holds, out of ip_local_port_range 32768-60999 (28,232 ports),
# for 60 s after each close. Before each attempt through the shim, wait
# (60 s at most) until the ports left cover twice the most a run has taken.
most=0
tw_room() {
	i=0
	while :; do
		tw=$("$USNET" --control "$SOCK" sockets -a state time-wait | grep -c TIME-WAIT || true)
		[ $((28232 - tw)) -lt $((2 * most)) ] || break
		[ $i -gt 0 ] || echo "      (usnet holds $tw ports in TIME-WAIT and has no tcp_tw_reuse: waiting)"
		i=$((i + 1))
		[ $i -le 60 ] || break
		sleep 1
	done
	[ $i -eq 0 ] || echo "      (waited ${i}s)"
}

# One run of $1 (shim, builtin or kernel).
connrate() {
	conns="client -C cubic -t $secs -T 30 -P 1"
	# shellcheck disable=SC2086 # $urun, $conns and the pins are lists
	case $1 in
	shim)
		tb_before=tw_room
		tb_repeat $urun "$TCPPERF" $conns -w "$upid" -w "$srv_u" conns "$KPEER_U" 7
		tb_before=""
		n=$(tb_key conns "$tb_tmp/line")
		[ "$n" -le "$most" ] || most=$n
		;;
	builtin) tb_client "$NSU" -t "$secs" -T 30 -P 1 -w "$upid" conns "$UADDR" 7 ;;
	kernel) tb_repeat ip netns exec "$NSK2" $pin_ep "$TCPPERF" $conns -w "$srv_k" \
		conns "$KPEER_K" 7 ;;
	esac
	awk -v who="$1" -v res="$res" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		sub(/%/, "", v["other"])
		name = who == "builtin" ? "built-in" : who
		printf("    %-8s %7d conn/s  %d connections  cc %s  other %s%%\n", name, v["rate"],
		       v["conns"], v["cc"], v["other"])
		print "conns", who, v["rate"], v["other"] >> res
	}' "$tb_tmp/line"
}

echo "shim_connrate: $runs runs of ${secs}s per path, one connection at a time${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  congestion control: usnet cubic (default), kernel cubic (route and TCP_CONGESTION);" \
	"kernel client namespaces: tcp_tw_reuse=1, ports 1024-65535"
r=1
while [ "$r" -le "$runs" ]; do
	echo "  run $r:"
	connrate shim
	connrate builtin
	connrate kernel
	r=$((r + 1))
done

s=$(tb_median conns shim 3 "$res")
b=$(tb_median conns builtin 3 "$res")
k=$(tb_median conns kernel 3 "$res")
echo "one at a time, medians of the runs other work left alone (shim $(tb_quiet conns shim "$res")," \
	"built-in $(tb_quiet conns builtin "$res"), kernel $(tb_quiet conns kernel "$res"); all runs if none):"
awk -v s="$s" -v b="$b" -v k="$k" 'BEGIN {
	printf("  client under usnet %.0f conn/s, kernel client to usnet'\''s echo %.0f conn/s," \
	       " kernel over veth %.0f conn/s\n", s, b, k)
	printf("  shim/kernel %.2f, shim/built-in %.2f, built-in/kernel %.2f\n", s / k, s / b, b / k)
}'
if [ "$disturbed" -gt 0 ]; then
	echo "shim_connrate: warning: other work took over 10% of the CPUs in $disturbed runs even when repeated; the medians leave those out unless no run was left alone" >&2
fi
