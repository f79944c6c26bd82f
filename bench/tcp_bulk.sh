#!/bin/sh
# SPDX-License-Identifier: MIT
# Single-flow bulk TCP throughput: usnet versus the Linux kernel over a veth
# pair versus the raw TAP limit, in each direction, measured in the same run.
#
#   bench/tcp_bulk.sh [-r RUNS] [-s SECONDS] [-l LOSS] [-m MTU] [-d rx|tx]
#                     [-b BUILDDIR] [-c CPU] [-k CPU] [-u] [-R] [-- USNETD-OPTIONS]
#
# rx is kernel -> usnet: a kernel client (bench/tcpperf) sends to usnetd's
# discard service, and, alternately, to tcpperf's discard server over veth;
# bench/taplimit rx is the TAP limit. tx is usnet -> kernel: the client
# reads usnetd's chargen service, and tcpperf's chargen server over veth;
# bench/taplimit tx is the limit. Every run is SECONDS (5) long; RUNS (3)
# rounds of usnet, kernel and TAP limit for each direction, alternating so
# that noise from other work on the machine hits all three. A run during
# which other work took over 10% of the CPUs is repeated, twice at most.
# Prints each run and the medians: goodput (TCP payload) in Gbit/s, the
# ratios, and the sender's retransmissions per 10,000 segments it sent
# (RetransSegs / OutSegs: usnet's from its status, the kernel's from nstat
# in its namespace).
#
# -l LOSS puts both stacks behind a bridge that drops LOSS percent of the
# frames each way (see tcp_lib.sh) and compares goodput only (no TAP
# limit). -m sets the MTU of every link. usnetd and the kernel's server run
# on CPU 1 (-c), the kernel-side client and the TAP limit's peer on CPU 0
# (-k); -u leaves them to the scheduler. Root required.
set -eu

runs=3
secs=5
mtu=1500
loss=0
dirs="rx tx"
build=""
cpu=1
kcpu=0
rps=""
[ "$(nproc)" -ge 2 ] || { cpu=""; kcpu=""; }
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-r RUNS] [-s SECONDS] [-l LOSS] [-m MTU] [-d rx|tx] [-b BUILDDIR] [-c CPU] [-k CPU] [-u] [-R] [-- USNETD-OPTIONS]" >&2
	exit 2
}
while getopts r:s:l:m:d:b:c:k:uR opt; do
	case $opt in
	r) runs=$OPTARG ;;
	s) secs=$OPTARG ;;
	l) loss=$OPTARG ;;
	m) mtu=$OPTARG ;;
	d) dirs=$OPTARG ;;
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
for v in "$runs" "$secs" "$loss" "$mtu"; do
	case $v in
	'' | *[!0-9]*) usage ;;
	esac
done
case $dirs in
rx | tx | "rx tx") ;;
*) usage ;;
esac
[ "$loss" -lt 100 ] || usage
services=discard:9,chargen:19

# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
trap tb_cleanup EXIT
trap 'exit 130' INT TERM
need_taplimit=""
[ "$loss" != 0 ] || need_taplimit=1
tb_tools
tb_setup
tb_kserver discard 9
kpid_discard=$kpid
tb_kserver chargen 19
kpid_chargen=$kpid
if [ "$loss" = 0 ]; then
	ip netns add "$NST"
	ip -n "$NST" link set lo up
fi
res=$tb_tmp/results
: >"$res"
disturbed=0

# One bulk run of $1 (usnet or kernel) in direction $2; appends
# "dir who gbps sender_segs_per_s retrans outsegs other" to the results.
bulk() {
	who=$1
	dir=$2
	if [ "$who" = usnet ]; then
		ns=$NSU addr=$UADDR watch=$upid
		if [ "$dir" = rx ]; then sender=$NSU; else sender=usnet; fi
	else
		ns=$NSK1 addr=$KADDR
		if [ "$dir" = rx ]; then sender=$NSK1; else sender=$NSK2; fi
		if [ "$dir" = rx ]; then watch=$kpid_discard; else watch=$kpid_chargen; fi
	fi
	if [ "$dir" = rx ]; then mode="send $addr 9"; else mode="recv $addr 19"; fi
	tb_sender=$sender
	# shellcheck disable=SC2086 # $mode is three words
	tb_client "$ns" -t "$secs" -T 60 -w "$watch" $mode
	line=$tb_tmp/line
	g=$(tb_key gbps "$line")
	t=$(tb_key secs "$line")
	echo "$tb_c0 $tb_c1" | awk -v dir="$dir" -v who="$who" -v g="$g" -v t="$t" -v res="$res" \
		-v cc="$(tb_key cc "$line")" -v o="$(tb_key other "$line")" '{
		out = $6 - $1; re = $7 - $2; ds = $8 - $3; tapd = $9 - $4; bld = $10 - $5
		more = ds ? sprintf(", %d DSACKs", ds) : ""
		if (who == "usnet" && dir == "rx")
			more = more sprintf(", TAP dropped %d", tapd)
		if (bld)
			more = more sprintf(", backlogs dropped %d", bld)
		printf("    %-6s %7.3f Gbit/s  sender %6.0f segs/s, %d retransmitted of %d" \
		       " (%.2f per 10k)%s  cc %s  other %s%%\n", who, g, out / t, re, out,
		       out ? re * 1e4 / out : 0, more, cc, o)
		print dir, who, g, out / t, re, out, o >> res
	}'
}

# One TAP limit run in direction $1: "dir tap gbps frames_per_s - - other".
taplimit() {
	pin=""
	[ -z "$cpu" ] || pin="-c $cpu"
	[ -z "$kcpu" ] || pin="$pin -k $kcpu"
	try=1
	while :; do
		# shellcheck disable=SC2086 # $pin is a list of options
		"$TAPLIMIT" "$1" -i tbt$tag -n "$NST" -m "$mtu" -s "$secs" $pin \
			>"$tb_tmp/tap" &
		cpid=$!
		tb_pids="$tb_pids $cpid"
		wait "$cpid" || { echo "$0: taplimit $1 failed" >&2; exit 1; }
		o=$(sed -n 's/.*other work \([0-9]*\)% CPU$/\1/p' "$tb_tmp/tap")
		[ "${o:-0}" -gt 10 ] || break
		if [ "$try" -ge 3 ]; then
			disturbed=$((disturbed + 1))
			break
		fi
		echo "      (other work ${o}% of the CPUs: repeating)"
		try=$((try + 1))
	done
	awk -v dir="$1:" -v o="${o:-0}" -v res="$res" -v fl=$((mtu + 14)) '$1 == dir && $3 == "frames/s," {
		printf("    %-6s %7.3f Gbit/s  %.0f frames/s of %d bytes  other %s%%\n", "TAP", $4,
		       $2, fl, o)
		print substr(dir, 1, 2), "tap", $4, $2, 0, 0, o >> res
		found = 1
	} END { exit !found }' "$tb_tmp/tap" || { echo "$0: no result from taplimit $1" >&2; exit 1; }
}

echo "tcp_bulk: $runs runs of ${secs}s per stack and direction${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  congestion control: usnet cubic (usnetd's default, RFC 9438 + HyStart++), kernel cubic on" \
	"every route and socket (TCP_CONGESTION)"
r=1
while [ "$r" -le "$runs" ]; do
	for d in $dirs; do
		if [ "$d" = rx ]; then
			echo "  run $r rx, kernel -> usnet (discard):"
		else
			echo "  run $r tx, usnet -> kernel (chargen):"
		fi
		bulk usnet "$d"
		bulk kernel "$d"
		[ "$loss" != 0 ] || taplimit "$d"
	done
	r=$((r + 1))
done
echo "  kernel servers: $(cat "$tb_tmp"/server-*.log | sort -u | sed 's/tcpperf server: //' | paste -sd ';')"

for d in $dirs; do
	ug=$(tb_median "$d" usnet 3 "$res")
	kg=$(tb_median "$d" kernel 3 "$res")
	if [ "$d" = rx ]; then
		printf 'rx, kernel -> usnet discard'
	else
		printf 'tx, usnet chargen -> kernel'
	fi
	[ "$loss" = 0 ] || printf ', %s%% loss' "$loss"
	printf ', MTU %s, medians of the runs other work left alone (usnet %s, kernel %s' "$mtu" \
		"$(tb_quiet "$d" usnet "$res")" "$(tb_quiet "$d" kernel "$res")"
	[ "$loss" != 0 ] || printf ', TAP %s' "$(tb_quiet "$d" tap "$res")"
	echo "; all runs if none):"
	# Retransmissions over all runs together: they are rare events.
	awk -v d="$d" -v loss="$loss" '$1 == d && $2 != "tap" { re[$2] += $5; out[$2] += $6 }
		END {
			for (w in re)
				printf("  %-6s retransmitted %d of %d segments: %.2f per 10,000%s\n",
				       w, re[w], out[w], out[w] ? re[w] * 1e4 / out[w] : 0,
				       loss ? "" : " (target < 1)")
		}' "$res" | sort -r
	if [ "$loss" = 0 ]; then
		tg=$(tb_median "$d" tap 3 "$res")
		uf=$(tb_median "$d" usnet 4 "$res")
		tf=$(tb_median "$d" tap 4 "$res")
		awk -v ug="$ug" -v kg="$kg" -v tg="$tg" -v uf="$uf" -v tf="$tf" 'BEGIN {
			printf("  usnet %.2f Gbit/s, kernel %.2f Gbit/s, TAP limit %.2f Gbit/s (%.0f frames/s)\n",
			       ug, kg, tg, tf)
			printf("  usnet/kernel %.2f; usnet/TAP %.2f of Gbit/s, %.2f of frames/s (target >= 0.6)\n",
			       ug / kg, ug / tg, uf / tf)
		}'
	else
		awk -v ug="$ug" -v kg="$kg" 'BEGIN {
			printf("  usnet %.3f Gbit/s, kernel %.3f Gbit/s, usnet/kernel %.2f (target >= 0.7)\n",
			       ug, kg, ug / kg)
		}'
	fi
done
if [ "$disturbed" -gt 0 ]; then
	echo "tcp_bulk: warning: other work took over 10% of the CPUs in $disturbed runs even when repeated; the medians leave those out unless no run was left alone" >&2
fi
