#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Malformed and unexpected TCP segments from the peer namespace
# (tests/tools/tcpframe, from 10.77.0.9, an address no kernel owns, so
# that only tcpframe sees usnet's answers), with Linux as the reference for
# what comes back and what is counted:
#  - 50 of each of: bad checksum (to the listener and to a closed port),
#    data offset < 5, data offset past the segment, a segment shorter than
#    a TCP header, and to the listener SYN+FIN, SYN+RST, no flags, FIN
#    alone, PSH+URG alone, RST alone, and to a closed port RST and
#    SYN+RST: none is answered, each lands under its drop reason exactly
#    as many times as it was sent (TCP_CSUM, TCP_HDR, TCP_FLAGS,
#    TCP_RESET, NO_SOCKET), InCsumErrors counts the checksum errors and
#    InErrs the checksum errors and offsets below 5 (Linux counts neither
#    a short segment nor an offset past it, nor flag nonsense);
#  - RSTs for a closed port, field by field as Linux's tcp_v4_send_reset()
#    builds them: a SYN, a FIN, data, SYN+FIN without ACK get RST+ACK with
#    sequence 0 acknowledging everything the segment occupied; an ACK (with
#    or without data) gets a bare RST from its acknowledgment number; a
#    bare ACK and a SYN+ACK to the listener get the same RST; OutRsts
#    counts each;
#  - SYNs whose options overrun the header (a length past it, a length of
#    0, a length of 1) are answered as Linux does: parsing stops there and
#    the SYN is taken (SYN-ACK with only the MSS option);
#  - and meanwhile usnetd keeps serving legitimate echo connections from
#    the kernel, and drops nothing else.
# The same scripts run first against the Linux kernel in a namespace of its
# own (a listener behind a veth pair): they must pass there (or the test
# is wrong for this kernel: exit 99), and its InErrs, InCsumErrors,
# OutRsts, EmbryonicRsts and AttemptFails must move as usnet's do.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init tcp_malformed

TCPCLIENT=$(tool tcpclient)
TCPFRAME=$(tool tcpframe)
command -v ethtool >/dev/null || skip "ethtool not found"
N=50

# The scripts, the same for usnet and for the Linux kernel.
cat >"$TMPD/drops.txt" <<SCRIPT
arp
send sport=20000 dport=9 flags=S seq=1 csum=bad count=$N sportinc=1
send sport=20100 dport=12345 flags=S seq=1 csum=bad count=$N sportinc=1
send sport=20200 dport=9 flags=S seq=1 doff=4 count=$N sportinc=1
send sport=20300 dport=9 flags=S seq=1 doff=15 count=$N sportinc=1
send sport=20400 dport=9 flags=S seq=1 tcplen=12 count=$N sportinc=1
send sport=20500 dport=9 flags=SF seq=1 count=$N sportinc=1
send sport=20600 dport=9 flags=SR seq=1 count=$N sportinc=1
send sport=20700 dport=9 flags=none seq=1 count=$N sportinc=1
send sport=20800 dport=9 flags=F seq=1 count=$N sportinc=1
send sport=20900 dport=9 flags=PU seq=1 count=$N sportinc=1
send sport=21000 dport=9 flags=R seq=1 count=$N sportinc=1
send sport=21100 dport=12345 flags=R seq=1 count=$N sportinc=1
send sport=21200 dport=12345 flags=SR seq=1 count=$N sportinc=1
expect none any timeout=500
SCRIPT
SENT_DROPS=$((13 * N))
cat >"$TMPD/rsts.txt" <<'SCRIPT'
send sport=22000 dport=12345 flags=S seq=1000
expect flags=RA seq=0 ack=1001 win=0 len=0
send sport=22001 dport=12345 flags=A seq=1000 ack=5000
expect flags=R seq=5000 win=0 len=0
send sport=22002 dport=12345 flags=P seq=1000 data=10
expect flags=RA seq=0 ack=1010
send sport=22003 dport=12345 flags=F seq=1000
expect flags=RA seq=0 ack=1001
send sport=22004 dport=12345 flags=PA seq=1000 ack=7000 data=10
expect flags=R seq=7000
send sport=22005 dport=9 flags=A seq=1000 ack=9000
expect flags=R seq=9000
send sport=22006 dport=9 flags=SA seq=1000 ack=9000
expect flags=R seq=9000
send sport=22007 dport=12345 flags=SF seq=1000
expect flags=RA seq=0 ack=1002
expect none any timeout=300
SCRIPT
cat >"$TMPD/opts.txt" <<'SCRIPT'
send sport=23000 dport=9 flags=S seq=1000 opts=020405b4080a0000
expect flags=SA ack=1001 optlen=4
send flags=R seq=1001
send sport=23001 dport=9 flags=S seq=1000 opts=020405b404000000
expect flags=SA ack=1001 optlen=4
send flags=R seq=1001
send sport=23002 dport=9 flags=S seq=1000 opts=020405b40801
expect flags=SA ack=1001 optlen=4
send flags=R seq=1001
expect none any timeout=300
SCRIPT
KSTATS="TcpInErrs TcpInCsumErrors TcpOutRsts TcpExtEmbryonicRsts TcpAttemptFails"

# --- the reference: the same scripts against the Linux kernel --------------------------
# A second namespace with a listener on port 9 behind a veth pair; receive
# checksum offload is off there so that the kernel checks every checksum
# itself. If Linux does not answer the scripts as they expect, the test is
# wrong for this kernel (exit 99), not usnet.
make_netns
NS_LX=$NS-lx
make_netns "$NS_LX"
lx() { ip netns exec "$NS_LX" "$@"; }
nsexec ip link add la type veth peer name lb netns "$NS_LX" || fail "cannot make a veth pair"
nsexec ip addr add 10.78.0.9/24 dev la
nsexec ip link set la up
lx ip addr add 10.78.0.2/24 dev lb
lx ip link set lb up
lx ip link set lo up
nsexec ethtool -K la tx off >/dev/null 2>&1
lx ethtool -K lb rx off tx off >/dev/null 2>&1
lx "$PY" -c 'import signal, socket
s = socket.socket()
s.bind(("10.78.0.2", 9))
s.listen(16)
signal.pause()' &
IT_HELPERS+=($!)
LX_MAC=$(lx cat /sys/class/net/lb/address)
for ((i = 0; i < 50; i++)); do
	lx ss -Hltn 'sport = :9' | grep -q . && break
	sleep 0.1
done
# lxstat: the KSTATS counters of the Linux namespace, in KSTATS' order.
lxstat() {
	local k

	for k in $KSTATS; do
		lx nstat -asz "$k" | awk -v k="$k" '$1 == k { print $2 }'
	done | xargs
}
read -r -a lx0 <<<"$(lxstat)"
for f in drops rsts opts; do
	nsexec "$TCPFRAME" -i la -d "$LX_MAC" -s 10.78.0.9 -t 10.78.0.2 -a -r 2000 \
		<"$TMPD/$f.txt" >"$TMPD/lx-$f.out" 2>"$TMPD/lx-$f.err" ||
		hard_error "Linux does not answer the $f script as the test expects: $(cat "$TMPD/lx-$f.err")"
done
read -r -a lx1 <<<"$(lxstat)"
declare -A LX
i=0
for k in $KSTATS; do
	LX[$k]=$((lx1[i] - lx0[i]))
	i=$((i + 1))
done
log "Linux answered every script as expected; its counters moved: $(for k in $KSTATS; do printf '%s %s ' "$k" "${LX[$k]}"; done)"

# --- usnet ------------------------------------------------------------------------------
start_usnetd --service echo:7,discard:9
ping_ok 1
status_json >"$TMPD/before.json"
MAC=$(jget "$TMPD/before.json" link.address)
rx0=$(jget "$TMPD/before.json" link.stats.rx_packets)
kdrop0=$(nsexec cat "/sys/class/net/$TAP/statistics/tx_dropped")

# Legitimate traffic all along: rounds of 20 short echo connections of
# 16 KiB each, until the malformed segments are all sent. Not a bulk
# transfer: one would fill the TAP's queue, which then drops frames,
# tcpframe's among them, and nothing could be counted exactly.
(
	i=0
	while [ ! -e "$TMPD/done" ]; do
		nsexec "$TCPCLIENT" -t 20 -s 16384 churn 10.77.0.2 7 20 >/dev/null 2>"$TMPD/legit.err" ||
			exit 1
		i=$((i + 20))
		echo "$i" >"$TMPD/legit.count"
	done
) &
legit=$!
IT_HELPERS+=("$legit")

frame() { # frame NAME: run script NAME against usnet, output in $TMPD/NAME.out
	nsexec "$TCPFRAME" -i "$TAP" -d "$MAC" -s 10.77.0.9 -t 10.77.0.2 -a -r 2000 \
		<"$TMPD/$1.txt" >"$TMPD/$1.out" 2>"$TMPD/$1.err"
}

frame drops || fail "malformed segments: $(cat "$TMPD/drops.err") $(cat "$TMPD/drops.out")"
ok "$(tail -1 "$TMPD/drops.out") malformed or unexpected segments, none answered"
if frame rsts; then
	ok "RST probes answered as Linux answers them"
else
	soft_fail "RSTs for a closed port or a listener: $(cat "$TMPD/rsts.err")"
fi
log "RST probes: $(tr '\n' ';' <"$TMPD/rsts.out")"
if frame opts; then
	ok "SYNs with overrunning options answered as Linux answers them"
else
	soft_fail "SYNs with overrunning options: $(cat "$TMPD/opts.err")"
fi
log "overrunning options: $(tr '\n' ';' <"$TMPD/opts.out")"

touch "$TMPD/done"
wait "$legit" || fail "a legitimate echo connection failed meanwhile: $(cat "$TMPD/legit.err")"
forget_helper "$legit"
ok "legitimate echo connections meanwhile: $(cat "$TMPD/legit.count" 2>/dev/null || echo 0) of 16 KiB each, all verified"

# usnetd took in every frame before the counters are read.
sent=$((SENT_DROPS + 8 + 6 + 1))
for ((i = 0; i < 50; i++)); do
	status_json >"$TMPD/after.json"
	[ $(($(jget "$TMPD/after.json" link.stats.rx_packets) - rx0)) -ge "$sent" ] && break
	sleep 0.1
done
d() { mib_delta "$TMPD/before.json" "$TMPD/after.json" "$@"; }
expect_eq "frames the kernel's side of the TAP dropped (every segment sent reached usnetd)" \
	$(($(nsexec cat "/sys/class/net/$TAP/statistics/tx_dropped") - kdrop0)) 0

# Drop reasons: exactly what was sent there.
declare -A WANT=(
	[TCP_CSUM]=$((2 * N))
	[TCP_HDR]=$((3 * N))
	[TCP_FLAGS]=$((4 * N + 1))	# SYN+FIN, none, FIN, PSH+URG; SYN+ACK to the listener
	[TCP_RESET]=$((2 * N + 3))	# SYN+RST and RST to the listener; 3 RSTs for SYN_RECV
	[NO_SOCKET]=$((2 * N + 6))	# RST, SYN+RST, and 6 probes to the closed port
	[TCP_COOKIE_INVALID]=1		# the bare ACK to the listener
)
for r in "${!WANT[@]}"; do
	got=$(d Drop "$r")
	if [ "$got" = "${WANT[$r]}" ]; then
		ok "drop $r moved by $got"
	else
		soft_fail "drop $r moved by $got, want ${WANT[$r]}"
	fi
done
# The legitimate echo traffic may add duplicates, and out-of-order data
# the echo ring has no room for (tcp_loss.sh is where that is checked).
other=$(drops_moved "$TMPD/before.json" "$TMPD/after.json" "${!WANT[@]}" TCP_OLD_DATA \
	TCP_OLD_SEQUENCE TCP_OFO_DROP)
if [ -z "$other" ]; then
	ok "no other drop reason moved"
else
	soft_fail "other drop reasons moved: ${other//$'\n'/, }"
fi

check() { # check WHAT GOT WANT, without stopping at the first mismatch
	if [ "$2" = "$3" ]; then ok "$1 = $3"; else soft_fail "$1: got '$2', want '$3'"; fi
}
check "Tcp InCsumErrors" "$(d Tcp InCsumErrors)" $((2 * N))
check "Tcp InErrs (checksums, data offsets below 5)" "$(d Tcp InErrs)" $((3 * N))
check "Tcp OutRsts (one per RST probe)" "$(d Tcp OutRsts)" 8
check "TcpExt EmbryonicRsts (our RSTs in SYN_RECV)" "$(d TcpExt EmbryonicRsts)" 3
check "Tcp AttemptFails" "$(d Tcp AttemptFails)" 3
# The same numbers as the kernel's, where the kernel has the counter.
check "Tcp InCsumErrors, as Linux's" "$(d Tcp InCsumErrors)" "${LX[TcpInCsumErrors]}"
check "Tcp InErrs, as Linux's" "$(d Tcp InErrs)" "${LX[TcpInErrs]}"
check "Tcp OutRsts, as Linux's" "$(d Tcp OutRsts)" "${LX[TcpOutRsts]}"
check "TcpExt EmbryonicRsts, as Linux's" "$(d TcpExt EmbryonicRsts)" "${LX[TcpExtEmbryonicRsts]}"
check "Tcp AttemptFails, as Linux's" "$(d Tcp AttemptFails)" "${LX[TcpAttemptFails]}"
check "Tcp EstabResets" "$(d Tcp EstabResets)" 0
if [ "$(d Tcp InSegs)" -ge "$sent" ]; then
	ok "Tcp InSegs moved by at least the $sent segments sent"
else
	soft_fail "Tcp InSegs moved by $(d Tcp InSegs), want at least $sent"
fi

ping_ok 1
kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died"
