#!/bin/sh
# SPDX-License-Identifier: MIT
# Two programs under libusnet talking to each other through the same
# usnetd, on usnet's address, versus the same pair over the kernel's
# loopback, measured in the same run: bulk throughput (iperf3) and
# request/response latency (sockperf ping-pong).
#
#   bench/shim_local.sh [-r RUNS] [-s SECONDS] [-l LEN] [-b BUILDDIR]
#                       [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]
#
# usnet: `iperf3 -s` and `sockperf sr` under usnet listen on usnet's address
# (10.201.0.2), `iperf3 -c` and `sockperf pp` under usnet connect to it.
# kernel: the same programs in a namespace of their own, on 127.0.0.1
# (lo: MTU 65536, the kernel's loopback offloads, as a local program
# meets them). The sockperf servers use poll() (-F p, which sockperf takes
# only with a feed file), which libusnet serves. RUNS (3) rounds of SECONDS (5) of each, alternating usnet and
# kernel; a run during which other work took over 10% of the CPUs is
# repeated, twice at most. Prints each run and the medians with their
# ratios: goodput, and the round trip's p50 and p99 for LEN-byte (64)
# messages.
#
# Before measuring, a program under usnet connects to usnetd's own echo
# service on usnet's address: if that fails (usnetd without a loopback
# path to its own addresses), the usnet figures are left out, the kernel's
# are still measured, and the script says why and exits with status 1.
# usnetd on CPU 1 (-c), the servers under usnet (-a) and the clients under
# usnet (-k) on CPU 0; the kernel's servers on CPU 1 and its clients on CPU
# 0. CUBIC for every iperf3 socket (-C cubic); usnet's default is cubic.
# Root required; iperf3 and sockperf (scripts/deps.sh bench).
set -eu

runs=3
secs=5
len=64
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-l LEN] [-b BUILDDIR] [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]" >&2
	exit 2
}
tb_opt() {
	tb_opt_len "$2"
}
# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
tb_shim_opts l: "$@"
services=echo:7
need_cmds="iperf3 sockperf"
tb_shim_start
iport=5201
sport=11111
LO=127.0.0.1
# Clients under usnet on the clients' CPU.
urun_cl="$pin_peer $USNET --control $SOCK run --"

# sockperf's server takes -F (poll) only with a feed file of addresses.
echo "T:$UADDR:$sport" >"$tb_tmp/feed-usnet"
echo "T:$LO:$sport" >"$tb_tmp/feed-kernel"
# shellcheck disable=SC2086 # the pins and $urun are lists
{
	tb_bg iperf-u $urun iperf3 -s -B "$UADDR" -p $iport
	srv_ui=$bgpid
	tb_bg sockperf-u $urun sockperf sr -F p -f "$tb_tmp/feed-usnet"
	srv_us=$bgpid
	tb_bg iperf-k ip netns exec "$NSK2" $pin_ep iperf3 -s -B $LO -p $iport
	srv_ki=$bgpid
	tb_bg sockperf-k ip netns exec "$NSK2" $pin_ep sockperf sr -F p -f "$tb_tmp/feed-kernel"
	srv_ks=$bgpid
}
tb_uwait $iport "iperf3 -s under usnet"
tb_uwait $sport "sockperf sr under usnet"
tb_kwait "$NSK2" $iport "iperf3 -s in $NSK2"
tb_kwait "$NSK2" $sport "sockperf sr in $NSK2"

echo "shim_local: $runs runs of ${secs}s per stack and test, $len-byte messages for latency${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  usnet: both programs under usnet on $UADDR; kernel: both in $NSK2 on $LO" \
	"(lo, MTU $(cat /sys/class/net/lo/mtu 2>/dev/null || echo 65536)); iperf3 -C cubic," \
	"usnet's default cubic"

usnet_ok=1
# shellcheck disable=SC2086
if ! $urun_cl "$TCPPERF" client -T 3 -n 1 conns "$UADDR" 7 >"$tb_tmp/probe" 2>&1; then
	usnet_ok=""
	echo "  usnet: a program under usnet cannot connect to usnetd's echo on its own address" \
		"$UADDR ($(tail -n 1 "$tb_tmp/probe")); usnet figures left out"
	echo "      (usnet sends nothing to its own addresses: IpOutNoRoutes went to" \
		"$("$USNET" -j --control "$SOCK" status | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["counters"]["Ip"]["OutNoRoutes"])'))"
fi

ip="iperf3 -p $iport -t $secs -C cubic"
pp="sockperf pp --tcp -p $sport -m $len -t $secs"
r=1
while [ "$r" -le "$runs" ]; do
	echo "  run $r:"
	# shellcheck disable=SC2086 # the pins, $urun_cl, $ip and $pp are lists
	{
		if [ -n "$usnet_ok" ]; then
			tb_watch="-w $upid -w $srv_ui"
			tb_iperf bulk usnet $urun_cl $ip -c "$UADDR"
		fi
		tb_watch="-w $srv_ki"
		tb_iperf bulk kernel ip netns exec "$NSK2" $pin_peer $ip -c $LO
		if [ -n "$usnet_ok" ]; then
			tb_watch="-w $upid -w $srv_us"
			tb_sockperf rr usnet $urun_cl $pp -i "$UADDR"
		fi
		tb_watch="-w $srv_ks"
		tb_sockperf rr kernel ip netns exec "$NSK2" $pin_peer $pp -i $LO
	}
	r=$((r + 1))
done

echo "medians of the runs other work left alone (usnet bulk $(tb_quiet bulk usnet "$res")," \
	"rr $(tb_quiet rr usnet "$res"); kernel bulk $(tb_quiet bulk kernel "$res")," \
	"rr $(tb_quiet rr kernel "$res"); all runs if none):"
ub=$(tb_median bulk usnet 3 "$res")
kb=$(tb_median bulk kernel 3 "$res")
u50=$(tb_median rr usnet 3 "$res")
k50=$(tb_median rr kernel 3 "$res")
u99=$(tb_median rr usnet 4 "$res")
k99=$(tb_median rr kernel 4 "$res")
awk -v ok="$usnet_ok" -v ub="$ub" -v kb="$kb" -v u50="$u50" -v k50="$k50" -v u99="$u99" \
	-v k99="$k99" -v len="$len" 'BEGIN {
	if (ok) {
		printf("  bulk: usnet %.3f Gbit/s, kernel loopback %.3f Gbit/s, usnet/kernel %.2f\n",
		       ub, kb, ub / kb)
		printf("  %d-byte round trip p50: usnet %.1f us, kernel %.1f us, usnet/kernel %.2f\n",
		       len, u50, k50, u50 / k50)
		printf("  %d-byte round trip p99: usnet %.1f us, kernel %.1f us, usnet/kernel %.2f\n",
		       len, u99, k99, u99 / k99)
	} else {
		printf("  bulk: usnet -, kernel loopback %.3f Gbit/s\n", kb)
		printf("  %d-byte round trip: usnet -, kernel p50 %.1f us, p99 %.1f us\n", len, k50, k99)
	}
}'
if [ "$disturbed" -gt 0 ]; then
	echo "shim_local: warning: other work took over 10% of the CPUs in $disturbed runs even when repeated; the medians leave those out unless no run was left alone" >&2
fi
if [ -z "$usnet_ok" ]; then
	echo "shim_local: usnet figures missing: usnet cannot reach its own address" >&2
	exit 1
fi
