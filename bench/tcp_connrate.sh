#!/bin/sh
# SPDX-License-Identifier: MIT
# TCP connection rate: a kernel client opening connections to usnetd's echo
# service versus to the kernel's (bench/tcpperf's echo server over a veth
# pair), measured in the same run.
#
#   bench/tcp_connrate.sh [-r RUNS] [-s SECONDS] [-P "PAR..."] [-l LOSS]
#                         [-b BUILDDIR] [-c CPU] [-k CPU] [-u] [-R] [-- USNETD-OPTIONS]
#
# Each connection is what `tcpperf client conns` does: connect, send one
# byte, read it back, close (the client closes first, so TIME_WAIT is on
# the client's side, as with most request-response protocols). PAR
# connections are kept open at a time, for each PAR of the list (default
# "1 8": one after another, then 8 in parallel). RUNS (5) runs of SECONDS
# (3) for each PAR, alternating usnet and kernel so that noise from other
# work hits both; a run during which other work took over 10% of the CPUs
# is repeated, twice at most. Prints each run (connections per second and
# the retransmissions of both ends, which cost a connection a whole RTO)
# and the medians with their ratio.
#
# The client namespaces reuse TIME_WAIT ports (net.ipv4.tcp_tw_reuse=1,
# which needs TCP timestamps) over the widest port range, or a few
# seconds at these rates would run out of ports. -l LOSS puts both stacks
# behind a lossy bridge (see tcp_lib.sh). usnetd and the kernel's server on
# CPU 1 (-c), the client on CPU 0 (-k); -u leaves them to the scheduler.
# Root required.
set -eu

runs=5
secs=3
pars="1 8"
loss=0
mtu=1500
build=""
cpu=1
kcpu=0
rps=""
[ "$(nproc)" -ge 2 ] || { cpu=""; kcpu=""; }
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-P \"PAR...\"] [-l LOSS] [-b BUILDDIR] [-c CPU] [-k CPU] [-u] [-R] [-- USNETD-OPTIONS]" >&2
	exit 2
}
while getopts r:s:P:l:b:c:k:uR opt; do
	case $opt in
	r) runs=$OPTARG ;;
	s) secs=$OPTARG ;;
	P) pars=$OPTARG ;;
	l) loss=$OPTARG ;;
	b) build=$OPTARG ;;
	c) cpu=$OPTARG ;;
	k) kcpu=$OPTARG ;;
	u) cpu=""; kcpu="" ;;
	R) rps=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" != "--" ] || shift
usnetd_opts="$*"
for v in "$runs" "$secs" "$loss" $pars; do
	case $v in
	'' | *[!0-9]*) usage ;;
	esac
done
if [ -z "$pars" ] || [ "$loss" -ge 100 ]; then
	usage
fi
services=echo:7

# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
trap tb_cleanup EXIT
trap 'exit 130' INT TERM
tb_tools
tb_setup
tb_kserver echo 7
for ns in $NSU $NSK1; do
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="1024 65535"
done
res=$tb_tmp/results
: >"$res"
disturbed=0

# One run of $1 (usnet or kernel) with $2 connections at a time; appends
# "par who rate retrans other" to the results.
connrate() {
	who=$1
	if [ "$who" = usnet ]; then
		ns=$NSU addr=$UADDR watch=$upid tb_sender="usnet $NSU"
	else
		ns=$NSK1 addr=$KADDR watch=$kpid tb_sender="$NSK1 $NSK2"
	fi
	tb_client "$ns" -t "$secs" -T 30 -P "$2" -w "$watch" conns "$addr" 7
	line=$tb_tmp/line
	echo "$tb_c0 $tb_c1" | awk -v par="$2" -v who="$who" -v res="$res" \
		-v rate="$(tb_key rate "$line")" -v n="$(tb_key conns "$line")" \
		-v cc="$(tb_key cc "$line")" -v o="$(tb_key other "$line")" '{
		re = $7 - $2; bld = $10 - $5
		printf("    %-6s %7d conn/s  %d connections, %d segments retransmitted%s  cc %s  other %s%%\n",
		       who, rate, n, re, bld ? sprintf(", backlogs dropped %d", bld) : "", cc, o)
		print par, who, rate, re, o >> res
	}'
}

echo "tcp_connrate: $runs runs of ${secs}s per stack and parallelism (${pars})${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  congestion control: usnet cubic (usnetd's default), kernel cubic (route and TCP_CONGESTION);" \
	"client namespaces: tcp_tw_reuse=1, ports 1024-65535"
r=1
while [ "$r" -le "$runs" ]; do
	for p in $pars; do
		echo "  run $r, $p at a time:"
		connrate usnet "$p"
		connrate kernel "$p"
	done
	r=$((r + 1))
done

for p in $pars; do
	um=$(tb_median "$p" usnet 3 "$res")
	km=$(tb_median "$p" kernel 3 "$res")
	awk -v p="$p" -v u="$um" -v k="$km" -v uq="$(tb_quiet "$p" usnet "$res")" \
		-v kq="$(tb_quiet "$p" kernel "$res")" 'BEGIN {
		printf("%s at a time, medians of the runs other work left alone (usnet %s, kernel %s;" \
		       " all runs if none):\n  usnet %.0f conn/s, kernel %.0f conn/s," \
		       " usnet/kernel %.2f (target >= 0.5)\n", p == 1 ? "one" : p, uq, kq, u, k, u / k)
	}'
done
if [ "$disturbed" -gt 0 ]; then
	echo "tcp_connrate: warning: other work took over 10% of the CPUs in $disturbed runs even when repeated; the medians leave those out unless no run was left alone" >&2
fi
