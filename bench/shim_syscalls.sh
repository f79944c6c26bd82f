#!/bin/sh
# SPDX-License-Identifier: MIT
# System calls of send() and recv() through libusnet: a program under
# `usnet run` making many small send() or recv() calls on an established
# connection, counted by `strace -f -c` for N and for 10 N calls. DESIGN.md:
# send() copies into the shared tx fifo and recv() out of the rx fifo with
# no system call while there is space or data, so the count should not
# grow with the number of calls. The kernel's own count for the same
# program (one system call per call) is printed for reference.
#
#   bench/shim_syscalls.sh [-n N] [-l LEN] [-b BUILDDIR] [-c CPU] [-k CPU]
#                          [-a CPU] [-u] [-- USNETD-OPTIONS]
#
# The program is `tcpperf client -b -l LEN` (LEN 64): blocking send() of
# LEN bytes to a kernel discard server, or recv() of LEN bytes from a
# kernel chargen server (bench/tcpperf server, in the TAP's namespace), N
# (10,000) and 10 N times, nothing else in the loop. A second row runs the
# same program without -b: a poll() for the socket before each
# nonblocking call, as event-driven programs do; a third runs the blocking
# program on the kernel's sockets (over veth) for reference. For each,
# the script prints the system calls the whole process made (start-up,
# libusnet's set-up and the connection included), the busiest ones, and
# what each extra call cost: (count at 10 N - count at N) / 9 N, which
# should be near 0 through the shim and is 1 for the kernel. Through the
# shim it also runs each program once more without strace and prints the
# read() and write() calls the kernel counted for it (/proc/PID/io): the
# write()s are doorbells rung for usnetd, the read()s doorbells drained.
#
# strace slows system calls only, not the shared-memory path, but a slow
# system call can leave usnetd idle, and an idle usnetd is asleep: then the
# next send() rings its doorbell. usnetd on CPU 1 (-c), the program under
# usnet and the kernel servers on CPU 0 (-a, -k), so that the program and
# usnetd run in parallel as DESIGN.md has them; the kernel's reference
# program on CPU 1. -a 1 puts the program on usnetd's CPU, where usnetd
# sleeps whenever the program runs and nearly every send() rings it. Root
# required; strace (scripts/deps.sh bench).
set -eu

calls=10000
len=64
runs=1
secs=1
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 [-n N] [-l LEN] [-b BUILDDIR] [-c CPU] [-k CPU] [-a CPU] [-u] [-- USNETD-OPTIONS]" >&2
	exit 2
}
tb_opt() {
	case $2 in
	'' | 0 | *[!0-9]*) return 1 ;;
	esac
	case $1 in
	n) calls=$2 ;;
	l) len=$2 ;;
	*) return 1 ;;
	esac
}
# shellcheck source=bench/tcp_lib.sh
. "$top/bench/tcp_lib.sh"
tb_shim_opts n:l: "$@"
services=echo:7
need_cmds=strace
trap tb_cleanup EXIT
trap 'exit 130' INT TERM
tb_tools
tb_setup

# Discard and chargen servers for usnet (in the TAP's namespace) and for
# the kernel's reference run (in the kernel client's namespace).
# shellcheck disable=SC2086 # the pins are lists
for svc in discard:9 chargen:19; do
	tb_bg "${svc%:*}-u" ip netns exec "$NSU" $pin_peer "$TCPPERF" server -C cubic \
		-a "$KPEER_U" "${svc%:*}"
	tb_bg "${svc%:*}-k" ip netns exec "$NSK1" $pin_peer "$TCPPERF" server -C cubic \
		-a "$KPEER_K" "${svc%:*}"
	tb_kwait "$NSU" "${svc#*:}" "tcpperf server ${svc%:*} in $NSU"
	tb_kwait "$NSK1" "${svc#*:}" "tcpperf server ${svc%:*} in $NSK1"
done

# count WHO MODE HOW N: runs the program (HOW: blocking or poll) under
# strace; prints the total and the busiest system calls, and leaves the
# total in $total. Through the shim, runs it again without strace and adds
# the read() and write() calls the kernel counted (/proc/PID/io, by
# tcpperf watch): strace makes each system call slow, which can keep
# usnetd waiting for the program and so make the doorbell ring more often.
count() {
	if [ "$2" = send ]; then port=9; else port=19; fi
	fl="-l $len -n $(($4 * len))"
	[ "$3" = poll ] || fl="$fl -b"
	out=$tb_tmp/strace-$1-$2-$3-$4
	plain=""
	# shellcheck disable=SC2086 # the pins, $urun and $fl are lists
	if [ "$1" = shim ]; then
		strace -f -c -o "$out" $urun "$TCPPERF" client $fl "$2" "$KPEER_U" $port \
			>"$tb_tmp/line" 2>"$tb_tmp/err" &&
			"$TCPPERF" watch -- $urun "$TCPPERF" client $fl "$2" "$KPEER_U" $port \
				>"$tb_tmp/line" 2>"$tb_tmp/err" &&
			plain="$(tb_key syscr "$tb_tmp/line") $(tb_key syscw "$tb_tmp/line")"
	else
		ip netns exec "$NSK2" strace -f -c -o "$out" $pin_ep "$TCPPERF" client $fl "$2" \
			"$KPEER_K" $port >"$tb_tmp/line" 2>"$tb_tmp/err"
	fi || {
		echo "$0: $1 $2 failed: $(tail -n 3 "$tb_tmp/err")" >&2
		exit 1
	}
	# strace -c: "% time, seconds, usecs/call, calls, [errors,] syscall";
	# errors is blank when there were none.
	total=$(awk '$NF == "total" { print $4 }' "$out")
	awk -v who="$1" -v mode="$2" -v how="$3" -v n="$4" -v plain="$plain" '
		$NF != "total" && $4 ~ /^[0-9]+$/ { c[$NF] = $4 }
		$NF == "total" { t = $4 }
		END {
			top = ""
			for (k = 0; k < 4; k++) {
				best = ""
				for (s in c)
					if (best == "" || c[s] > c[best])
						best = s
				if (best == "")
					break
				top = top sprintf("%s%s %d", top == "" ? "" : ", ", best, c[best])
				delete c[best]
			}
			printf("    %-6s %-4s %-8s %8d calls: %8d system calls (%s)\n", who, mode,
			       how, n, t, top)
			if (plain != "") {
				split(plain, p, " ")
				printf("%43s without strace: read %d, write %d\n", "", p[1], p[2])
			}
		}' "$out"
}

echo "shim_syscalls: $len-byte send() and recv(), $calls and $((calls * 10)) calls, counted by strace -f -c${usnetd_opts:+, usnetd $usnetd_opts}"
tb_describe
echo "  $(strace -V | sed -n 1p); the whole process is counted: start-up, libusnet's set-up," \
	"the connection"
: >"$tb_tmp/results"
for mode in send recv; do
	for row in shim:blocking shim:poll kernel:blocking; do
		count "${row%:*}" "$mode" "${row#*:}" "$calls"
		t1=$total
		count "${row%:*}" "$mode" "${row#*:}" $((calls * 10))
		echo "$mode ${row%:*} ${row#*:} $t1 $total" >>"$tb_tmp/results"
	done
done
echo "system calls per extra call, (count at $((calls * 10)) - count at $calls) / $((calls * 9)):"
awk -v n="$calls" '{
	printf("  %-4s %-6s %-8s %6.3f%s\n", $1, $2, $3, ($5 - $4) / (9 * n),
	       $2 == "shim" && $3 == "blocking" ? "  (target: near 0)" : "")
}' "$tb_tmp/results"
