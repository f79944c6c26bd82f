#!/bin/sh
# SPDX-License-Identifier: MIT
# Request/response latency through libusnet: a sockperf ping-pong client
# under `usnet run` against a kernel sockperf server, versus the same pair
# between two kernel namespaces over a veth pair, measured in the same run.
#
#   bench/shim_rr.sh [-r RUNS] [-s SECONDS] [-l LEN] [-m MTU] [-b BUILDDIR]
#                    [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]
#
# One TCP connection, one LEN-byte (64) message in flight: the client sends,
# the server sends it back, the client sends the next when the reply has
# arrived (sockperf pp --tcp, TCP_NODELAY, blocking recvfrom(); the server
# is sockperf sr on epoll). Prints the round trip's median (p50), 99th
# percentile (p99) and mean for each run, and the medians over RUNS (3)
# runs of SECONDS (5), alternating usnet and kernel; a run during which
# other work took over 10% of the CPUs is repeated, twice at most. There
# is no built-in-service row: sockperf's client ignores a reply that is
# not flagged as a pong, so usnetd's echo cannot serve it.
#
# usnetd on CPU 1 (-c), the client under usnet (-a) and the kernel server
# on CPU 0 (-k); over veth, the client on CPU 1 and the server on CPU 0.
# Every kernel route says CUBIC (congestion control does not pace one
# small message in flight, but it is named); usnet's default is cubic.
# Root required; sockperf (scripts/deps.sh bench).
set -eu

runs=3
secs=5
len=64
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-l LEN] [-m MTU] [-b BUILDDIR] [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]" >&2
	exit 2
}
tb_opt() {
	tb_opt_len "$2"
}
# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
tb_shim_opts l: "$@"
services=echo:7
need_cmds=sockperf
tb_shim_start
port=11111

# shellcheck disable=SC2086 # the pins are lists
{
	tb_bg sockperf-u ip netns exec "$NSU" $pin_peer sockperf sr --tcp -i "$KPEER_U" -p $port
	srv_u=$bgpid
	tb_bg sockperf-k ip netns exec "$NSK1" $pin_peer sockperf sr --tcp -i "$KPEER_K" -p $port
	srv_k=$bgpid
}
tb_kwait "$NSU" $port "sockperf sr in $NSU"
tb_kwait "$NSK1" $port "sockperf sr in $NSK1"

echo "shim_rr: $runs runs of ${secs}s per stack, $len-byte messages${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  $(sockperf --version 2>&1 | sed -n 1p), ping-pong over TCP; congestion control: usnet" \
	"cubic (default), kernel cubic on every route"
pp="sockperf pp --tcp -p $port -m $len -t $secs"
r=1
while [ "$r" -le "$runs" ]; do
	echo "  run $r, round trips:"
	# shellcheck disable=SC2086 # $urun, $pp and the pins are lists
	{
		tb_watch="-w $upid -w $srv_u"
		tb_sockperf rr shim $urun $pp -i "$KPEER_U"
		tb_watch="-w $srv_k"
		tb_sockperf rr kernel ip netns exec "$NSK2" $pin_ep $pp -i "$KPEER_K"
	}
	r=$((r + 1))
done

echo "round trip of $len bytes, medians of the runs other work left alone (shim" \
	"$(tb_quiet rr shim "$res"), kernel $(tb_quiet rr kernel "$res"); all runs if none):"
for f in 3:p50 4:p99; do
	s=$(tb_median rr shim "${f%:*}" "$res")
	k=$(tb_median rr kernel "${f%:*}" "$res")
	awk -v w="${f#*:}" -v s="$s" -v k="$k" 'BEGIN {
		printf("  %s: usnet through the shim %.1f us, kernel over veth %.1f us, shim/kernel %.2f\n",
		       w, s, k, s / k)
	}'
done
if [ "$disturbed" -gt 0 ]; then
	echo "shim_rr: warning: other work took over 10% of the CPUs in $disturbed runs even when repeated; the medians leave those out unless no run was left alone" >&2
fi
