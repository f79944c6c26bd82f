#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bulk TCP between the kernel (tcpclient in the test's namespace) and
# usnetd's built-in services over a loss-free TAP, every byte checked:
#  - discard: 1 GiB kernel -> usnet; chargen: 1 GiB usnet -> kernel, the
#    RFC 864 pattern, ended by FINs both ways (tcpclient -F); echo: 1 GiB
#    each way at once, compared with what was sent;
#  - the goodput of each is logged ("goodput discard: X Gbit/s");
#  - retransmissions, reported per 10,000 segments: usnet's RetransSegs
#    must stay below 1 per 10,000 of its OutSegs (measured: 0); the
#    kernel's, tail loss probes aside (usnetd late with an ACK by a few
#    hundred microseconds), must all be explained by frames its side of
#    the TAP dropped (tx_dropped: usnetd had not read them in time, which a
#    loaded machine can cause), plus at most 1 per 10,000 of its segments;
#  - every connection ends cleanly: no RST from either side, no usnet drop
#    beyond duplicates of the kernel's retransmissions, and afterwards the
#    kernel holds nothing towards 10.77.0.2 but TIME-WAIT.
# Sizes: 1 GiB each; 256 MiB when usnetd runs under sanitizers
# (USNET_SANITIZED=1), unless USNET_TEST_FULL=1.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init tcp_bulk

TCPCLIENT=$(tool tcpclient)
SIZE=$((1 << 30))
sanitized && SIZE=$((256 << 20))

make_netns
start_usnetd --service echo:7,discard:9,chargen:19
ping_ok 1

ktxdrop() { nsexec cat "/sys/class/net/$TAP/statistics/tx_dropped"; }

# run MODE PORT [OPTIONS]: one transfer of $SIZE, logged with its goodput.
run() {
	local mode=$1 port=$2 out

	shift 2
	out=$(nsexec "$TCPCLIENT" -t 30 "$@" "$mode" 10.77.0.2 "$port" "$SIZE" 2>&1) ||
		fail "tcpclient $mode of $SIZE bytes failed: $out"
	ok "$out"
	# "MODE BYTES bytes SECONDS s GBITS Gbit/s ok"
	log "goodput $mode: $(awk '{ print $6 }' <<<"$out") Gbit/s ($(awk '{ print $2 }' <<<"$out") bytes in $(awk '{ print $4 }' <<<"$out") s)"
}

status_json >"$TMPD/before.json"
KSTATS=(TcpOutSegs TcpRetransSegs TcpOutRsts TcpEstabResets TcpExtTCPLossProbes TcpExtTCPTimeouts)
read -r k_out0 k_retr0 k_rst0 k_estrst0 k_tlp0 k_rto0 <<<"$(kstat "${KSTATS[@]}" | xargs)"
kdrop0=$(ktxdrop)

run discard 9
run chargen 19 -F
run echo 7

# The last ACKs and FINs have crossed once the kernel holds nothing but
# TIME-WAIT towards usnet.
for ((i = 0; i < 50; i++)); do
	left=$(nsexec ss -Htan dst 10.77.0.2 | awk '$1 != "TIME-WAIT"' | wc -l)
	[ "$left" -eq 0 ] && break
	sleep 0.1
done
[ "$left" -eq 0 ] || fail "the kernel still has connections to 10.77.0.2 not in TIME-WAIT: $(nsexec ss -Htan dst 10.77.0.2)"
ok "the kernel holds only TIME-WAIT towards 10.77.0.2"

status_json >"$TMPD/after.json"
read -r k_out k_retr k_rst k_estrst k_tlp k_rto <<<"$(kstat "${KSTATS[@]}" | xargs)"
k_out=$((k_out - k_out0))
k_retr=$((k_retr - k_retr0))
k_tlp=$((k_tlp - k_tlp0))
k_rto=$((k_rto - k_rto0))
kdrop=$(($(ktxdrop) - kdrop0))

d() { mib_delta "$TMPD/before.json" "$TMPD/after.json" "$@"; }
u_out=$(d Tcp OutSegs)
u_retr=$(d Tcp RetransSegs)
log "usnet RetransSegs $u_retr of OutSegs $u_out: $(ratio_ppm "$u_retr" "$u_out") ppm"
log "kernel RetransSegs $k_retr of OutSegs $k_out: $(ratio_ppm "$k_retr" "$k_out") ppm, of which TCPLossProbes $k_tlp (TCPTimeouts $k_rto); frames its side of the TAP dropped: $kdrop"

expect_le "usnet RetransSegs (< 1 per 10,000 OutSegs)" "$u_retr" $((u_out / 10000))
# A tail loss probe is the kernel's answer to an ACK later than twice the
# RTT, a few hundred microseconds here: usnetd descheduled on a busy
# machine (or slowed down by sanitizers) for a moment. Those are not
# counted against usnet; every other retransmission must be explained by a
# frame the TAP dropped, up to 1 per 10,000 segments.
# (A probe may also carry new data, so there can be more probes than
# retransmissions.)
expect_le "kernel RetransSegs other than loss probes (TAP drops $kdrop + 1 per 10,000 OutSegs)" \
	$((k_retr > k_tlp ? k_retr - k_tlp : 0)) $((kdrop + k_out / 10000))

expect_eq "Tcp PassiveOpens" "$(d Tcp PassiveOpens)" 3
expect_eq "Tcp EstabResets" "$(d Tcp EstabResets)" 0
expect_eq "TcpExt TCPRcvQDrop (the window never offered more than the owner takes)" \
	"$(d TcpExt TCPRcvQDrop)" 0
expect_eq "Tcp OutRsts" "$(d Tcp OutRsts)" 0
expect_eq "Tcp InErrs" "$(d Tcp InErrs)" 0
expect_eq "TcpExt TCPAbortOnData" "$(d TcpExt TCPAbortOnData)" 0
expect_eq "kernel TcpOutRsts" $((k_rst - k_rst0)) 0
expect_eq "kernel TcpEstabResets" $((k_estrst - k_estrst0)) 0
expect_ge "TcpExt TCPOrigDataSent (chargen and echo)" "$(d TcpExt TCPOrigDataSent)" $((2 * SIZE / 1460))

# What usnet may drop on a clean link: copies of what the kernel sent
# twice, no more of them than the kernel retransmitted.
dups=$(($(d Drop TCP_OLD_DATA) + $(d Drop TCP_OLD_SEQUENCE)))
expect_le "usnet drops of duplicate data (TCP_OLD_DATA + TCP_OLD_SEQUENCE)" "$dups" "$k_retr"
other=$(drops_moved "$TMPD/before.json" "$TMPD/after.json" TCP_OLD_DATA TCP_OLD_SEQUENCE)
[ -z "$other" ] || fail "usnet dropped frames on a loss-free link: ${other//$'\n'/, }"
ok "no other drop reason moved"
expect_eq "link rx_dropped" $(($(jget "$TMPD/after.json" link.stats.rx_dropped) - \
	$(jget "$TMPD/before.json" link.stats.rx_dropped))) 0

kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died"
