#!/bin/sh
# SPDX-License-Identifier: MIT
# Bulk TCP through libusnet: iperf3 under `usnet run` against a kernel
# iperf3, versus usnetd's built-in services doing the same transfer without
# the shim, versus iperf3 between two kernel namespaces over a veth pair,
# in each direction, measured in the same run.
#
#   bench/shim_bulk.sh [-r RUNS] [-s SECONDS] [-d rx|tx] [-m MTU] [-b BUILDDIR]
#                      [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]
#
# tx is usnet -> kernel: `iperf3 -c` under usnet sends to `iperf3 -s` in the
# TAP's namespace (shim); a kernel client reads usnetd's chargen service
# (built-in, bench/tcpperf client recv); iperf3 -c in one namespace sends to
# iperf3 -s in another over veth (kernel). rx is kernel -> usnet: a kernel
# `iperf3 -c` sends to `iperf3 -s` under usnet (shim); a kernel client
# feeds usnetd's discard service (built-in, tcpperf client send); iperf3
# over veth the same way round (kernel). The built-in services are usnet's
# TCP without the shim: shim/built-in is what the shim costs (target: at
# least 0.8). RUNS (3) rounds of SECONDS (5) each, alternating the three so
# that noise from other work hits all of them; a run during which other
# work took over 10% of the CPUs is repeated, twice at most. Prints each
# run (goodput at the receiver; iperf3's sender retransmissions and both
# ends' congestion control) and the medians with their ratios.
#
# Every kernel socket and route uses CUBIC (iperf3 -C cubic, tcpperf -C
# cubic, route congctl), as usnet does by default; iperf3 reads it back
# from both ends. Offloads are off on every kernel-side interface, as in
# bench/tcp_bulk.sh. usnetd on CPU 1 (-c), as in the built-in runs; the
# iperf3 under usnet on CPU 0 (-a) with its kernel peer (-k); over veth,
# the iperf3 in usnet's role on CPU 1 and its peer on CPU 0: each stack has
# both CPUs. -a 1 puts the iperf3 under usnet on usnetd's CPU: they take
# turns, and while iperf3 runs the TAP's queue overflows (rx falls to a
# tenth). Root required; iperf3 (scripts/deps.sh bench).
set -eu

runs=3
secs=5
dirs="rx tx"
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-d rx|tx] [-m MTU] [-b BUILDDIR] [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]" >&2
	exit 2
}
tb_opt() {
	case $2 in
	rx | tx) dirs=$2 ;;
	*) return 1 ;;
	esac
}
# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
tb_shim_opts d: "$@"
services=discard:9,chargen:19
need_cmds=iperf3
tb_shim_start
port=5201

# The iperf3 servers: for tx in the TAP's namespace and, over veth, in the
# kernel client's namespace (the peers' CPU); for rx under usnet and in the
# kernel server's namespace (the programs' CPU).
# shellcheck disable=SC2086 # the pins and $urun are lists
{
	tb_bg iperf-ktx ip netns exec "$NSU" $pin_peer iperf3 -s -B "$KPEER_U" -p $port
	srv_ktx=$bgpid
	tb_bg iperf-vtx ip netns exec "$NSK1" $pin_peer iperf3 -s -B "$KPEER_K" -p $port
	srv_vtx=$bgpid
	tb_bg iperf-urx $urun iperf3 -s -B "$UADDR" -p $port
	srv_urx=$bgpid
	tb_bg iperf-vrx ip netns exec "$NSK2" $pin_ep iperf3 -s -B "$KADDR" -p $port
	srv_vrx=$bgpid
}
tb_kwait "$NSU" $port "iperf3 -s in $NSU"
tb_kwait "$NSK1" $port "iperf3 -s in $NSK1"
tb_kwait "$NSK2" $port "iperf3 -s in $NSK2"
tb_uwait $port "iperf3 -s under usnet"

# One run of $1 (shim, builtin or kernel) in direction $2.
bulk() {
	ip="iperf3 -p $port -t $secs -C cubic"
	# shellcheck disable=SC2086 # the pins, $urun and $ip are lists
	case $1/$2 in
	shim/tx)
		tb_watch="-w $upid -w $srv_ktx"
		tb_iperf tx shim $urun $ip -c "$KPEER_U"
		;;
	shim/rx)
		tb_watch="-w $upid -w $srv_urx"
		tb_iperf rx shim ip netns exec "$NSU" $pin_peer $ip -c "$UADDR"
		;;
	kernel/tx)
		tb_watch="-w $srv_vtx"
		tb_iperf tx kernel ip netns exec "$NSK2" $pin_ep $ip -c "$KPEER_K"
		;;
	kernel/rx)
		tb_watch="-w $srv_vrx"
		tb_iperf rx kernel ip netns exec "$NSK1" $pin_peer $ip -c "$KADDR"
		;;
	builtin/*)
		if [ "$2" = tx ]; then mode="recv $UADDR 19"; else mode="send $UADDR 9"; fi
		# shellcheck disable=SC2086
		tb_client "$NSU" -t "$secs" -T 30 -w "$upid" $mode
		awk -v d="$2" -v res="$res" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			sub(/%/, "", v["other"])
			printf("    %-8s %7.3f Gbit/s  cc kernel %s, usnet cubic (default)  other %s%%\n",
			       "built-in", v["gbps"], v["cc"], v["other"])
			print d, "builtin", v["gbps"], 0, v["other"] >> res
		}' "$tb_tmp/line"
		;;
	esac
}

echo "shim_bulk: $runs runs of ${secs}s per path and direction${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  iperf3 $(iperf3 --version | sed -n '1s/^iperf \([^ ]*\).*/\1/p'), -C cubic on every" \
	"iperf3 and tcpperf socket; usnet's default congestion control is cubic"
r=1
while [ "$r" -le "$runs" ]; do
	for d in $dirs; do
		if [ "$d" = tx ]; then
			echo "  run $r tx, usnet -> kernel (iperf3 -c under usnet; chargen):"
		else
			echo "  run $r rx, kernel -> usnet (iperf3 -s under usnet; discard):"
		fi
		bulk shim "$d"
		bulk builtin "$d"
		bulk kernel "$d"
	done
	r=$((r + 1))
done

for d in $dirs; do
	s=$(tb_median "$d" shim 3 "$res")
	b=$(tb_median "$d" builtin 3 "$res")
	k=$(tb_median "$d" kernel 3 "$res")
	if [ "$d" = tx ]; then
		printf 'tx, usnet -> kernel'
	else
		printf 'rx, kernel -> usnet'
	fi
	echo ", MTU $mtu, medians of the runs other work left alone (shim $(tb_quiet "$d" shim "$res")," \
		"built-in $(tb_quiet "$d" builtin "$res"), kernel $(tb_quiet "$d" kernel "$res"); all runs if none):"
	awk -v s="$s" -v b="$b" -v k="$k" 'BEGIN {
		printf("  iperf3 through the shim %.3f Gbit/s, built-in service %.3f Gbit/s," \
		       " kernel iperf3 over veth %.3f Gbit/s\n", s, b, k)
		printf("  shim/built-in %.2f (target >= 0.8), shim/kernel %.2f, built-in/kernel %.2f\n",
		       s / b, s / k, b / k)
	}'
done
if [ "$disturbed" -gt 0 ]; then
	echo "shim_bulk: warning: other work took over 10% of the CPUs in $disturbed runs even when repeated; the medians leave those out unless no run was left alone" >&2
fi
