#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bulk TCP between the kernel and usnetd's built-in services with random
# loss in both directions: discard (kernel -> usnet), chargen (usnet ->
# kernel, ended by FINs both ways) and echo (both), every byte checked by
# tcpclient, at 1% and at 5% loss. For each: nothing lost or corrupted, no
# connection reset (the only RSTs answer ACKs that arrive after a
# connection has closed), usnet repaired what was lost (OFO queueing as receiver,
# retransmissions as sender), usnet dropped nothing but duplicates, and the
# goodput is logged ("goodput discard 1%: X Gbit/s") with both sides'
# retransmissions and timeouts.
#
# The loss is nftables' "numgen random mod 100 < N drop", and where it sits
# matters. Dropped on the output hook of the namespace that holds the
# kernel's socket, a segment is not lost at all: the drop is reported to
# TCP synchronously (-EPERM from ip_local_out) and the kernel sends it again
# at once, so usnet never sees a hole. The kernel's TCP also always builds
# GSO super-packets (whatever ethtool says), so one drop there is up to 44
# segments. Hence the topology:
#
#   usnetd -- TAP --[ bridge in NS_WIRE, loss on forward ]-- veth -- NS (kernel)
#
# The bridge's forward hook drops real frames, one at a time: the kernel
# side's veth has TSO off, so its GSO packets are cut into frames before
# they cross, and GRO is off on the bridge's ports.
#
# Sizes: 1 GiB each at 1%; at 5% 32 MiB by default, the full 1 GiB with
# USNET_TEST_FULL=1 (measured: 12 minutes, of which chargen 9 minutes,
# usnet as sender spending most of it in RTO waits; discard 14 s, echo
# 2 minutes). Under sanitizers (USNET_SANITIZED=1) 128 MiB at 1% and 16
# MiB at 5%.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init tcp_loss

TCPCLIENT=$(tool tcpclient)
command -v nft >/dev/null || skip "nft (nftables) not found"
command -v ethtool >/dev/null || skip "ethtool not found"

SIZE1=$((1 << 30))
SIZE5=$((32 << 20))
[ "${USNET_TEST_FULL:-0}" = 1 ] && SIZE5=$((1 << 30))
if sanitized; then
	SIZE1=$((128 << 20))
	SIZE5=$((16 << 20))
fi

NS_WIRE=$NS-w
make_netns
make_netns "$NS_WIRE"
start_usnetd_at "$NS_WIRE" --service echo:7,discard:9,chargen:19

wire() { ip netns exec "$NS_WIRE" "$@"; }
wire ip link add br0 type bridge forward_delay 0 stp_state 0 ||
	fail "cannot make a bridge in $NS_WIRE"
wire ip link add we type veth peer name pe netns "$NS" || fail "cannot make a veth pair"
wire ip link set "$TAP" master br0 || fail "cannot put $TAP into the bridge"
wire ip link set we master br0
for l in br0 we "$TAP"; do
	wire ip link set "$l" up || fail "cannot set $l up"
done
nsexec ip addr add 10.77.0.1/24 dev pe
nsexec ip link set pe up
nsexec ip link set lo up
wire ethtool -K we gro off >/dev/null 2>&1
wire ethtool -K "$TAP" gro off >/dev/null 2>&1
nsexec ethtool -K pe tso off gro off >/dev/null 2>&1 || fail "ethtool -K pe tso off failed"
[ "$(nsexec ethtool -k pe | awk '$1 == "tcp-segmentation-offload:" { print $2 }')" = off ] ||
	fail "TSO is still on for pe"
ping_ok 1

# loss N: drop N% of the TCP frames crossing the bridge, each way.
loss() {
	wire nft delete table bridge usnt_loss 2>/dev/null
	wire nft -f - <<EOF || fail "nft: cannot set $1% loss"
table bridge usnt_loss {
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "$TAP" ip protocol tcp numgen random mod 100 < $1 counter drop
		oifname "$TAP" ip protocol tcp numgen random mod 100 < $1 counter drop
	}
}
EOF
}

# nft_drops: "FROM_USNET TO_USNET" frames dropped so far.
nft_drops() {
	wire nft list table bridge usnt_loss |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) } END { print "" }'
}

# run PCT MODE PORT SIZE [OPTIONS]: one transfer under PCT% loss, checked.
run() {
	local pct=$1 mode=$2 port=$3 size=$4 out before after kb ka drops t
	local -a k0 k1

	shift 4
	loss "$pct"
	before=$TMPD/$mode-$pct-before.json
	after=$TMPD/$mode-$pct-after.json
	status_json >"$before"
	mapfile -t k0 < <(kstat TcpRetransSegs TcpExtTCPTimeouts TcpOutRsts TcpEstabResets)
	kb=$(wire cat "/sys/class/net/$TAP/statistics/rx_packets")
	t=$(date +%s%N)
	out=$(nsexec "$TCPCLIENT" -t 60 "$@" "$mode" 10.77.0.2 "$port" "$size" 2>&1) ||
		fail "tcpclient $mode of $size bytes at $pct% loss failed after $((($(date +%s%N) - t) / 1000000)) ms: $out"
	ok "$pct% loss: $out"
	log "goodput $mode $pct%: $(awk '{ print $6 }' <<<"$out") Gbit/s ($(awk '{ print $2 }' <<<"$out") bytes in $(awk '{ print $4 }' <<<"$out") s)"
	# The last ACKs and FINs may still be crossing (and be lost).
	for ((i = 0; i < 100; i++)); do
		[ "$(nsexec ss -Htan dst 10.77.0.2 | awk '$1 != "TIME-WAIT"' | wc -l)" -eq 0 ] && break
		sleep 0.1
	done
	status_json >"$after"
	mapfile -t k1 < <(kstat TcpRetransSegs TcpExtTCPTimeouts TcpOutRsts TcpEstabResets)
	ka=$(wire cat "/sys/class/net/$TAP/statistics/rx_packets")
	drops=$(nft_drops)

	d() { mib_delta "$before" "$after" "$@"; }
	log "$mode $pct%: nft dropped $drops(usnet->kernel, kernel->usnet) frames;" \
		"usnet RetransSegs $(d Tcp RetransSegs) of OutSegs $(d Tcp OutSegs), TCPTimeouts $(d TcpExt TCPTimeouts)," \
		"TCPOFOQueue $(d TcpExt TCPOFOQueue); kernel RetransSegs $((k1[0] - k0[0])), TCPTimeouts $((k1[1] - k0[1]))"
	read -r from_usnet to_usnet <<<"$drops"
	# The loss really was there: within a factor of two of PCT% of the
	# frames usnet sent.
	expect_ge "$mode $pct%: frames dropped on their way from usnet" "$from_usnet" \
		$(((ka - kb) * pct / 200))
	expect_le "$mode $pct%: frames dropped on their way from usnet" "$from_usnet" \
		$(((ka - kb) * pct * 2 / 100 + 10))
	expect_ge "$mode $pct%: frames dropped on their way to usnet" "$to_usnet" 1
	case $mode in
	discard) expect_ge "$mode $pct%: usnet TCPOFOQueue (holes seen as receiver)" "$(d TcpExt TCPOFOQueue)" 1 ;;
	*) expect_ge "$mode $pct%: usnet RetransSegs (losses repaired as sender)" "$(d Tcp RetransSegs)" 1 ;;
	esac
	expect_eq "$mode $pct%: Tcp PassiveOpens" "$(d Tcp PassiveOpens)" 1
	expect_eq "$mode $pct%: Tcp EstabResets" "$(d Tcp EstabResets)" 0
	expect_eq "$mode $pct%: TcpExt TCPRcvQDrop (the window never offered more than the owner takes)" \
		"$(d TcpExt TCPRcvQDrop)" 0
	# When usnet's FIN or its ACK is lost, a second copy of the kernel's
	# last ACK can arrive after usnet has closed (it keeps no TIME-WAIT
	# as the passive closer) and get a RST from the listener, as in Linux;
	# those are the only RSTs allowed.
	expect_eq "$mode $pct%: Tcp OutRsts (answers to ACKs after close, TCP_COOKIE_INVALID)" \
		"$(d Tcp OutRsts)" "$(d Drop TCP_COOKIE_INVALID)"
	expect_eq "$mode $pct%: kernel TcpOutRsts" $((k1[2] - k0[2])) 0
	expect_eq "$mode $pct%: kernel TcpEstabResets" $((k1[3] - k0[3])) 0
	# Duplicates of what was resent, originals that arrive after a
	# retransmission whose newer timestamp became TS.Recent (PAWS, as in
	# Linux: the bridge's veth can reorder), frames the bridge floods
	# before it has learnt where a MAC lives (OTHERHOST) and the ACKs after
	# close above are all usnet may drop: never one of its own segments
	# (PKT_TOO_BIG) nor in-window data it has no room for.
	other=$(drops_moved "$before" "$after" TCP_OLD_DATA TCP_OLD_SEQUENCE TCP_RFC7323_PAWS \
		OTHERHOST TCP_COOKIE_INVALID)
	[ -z "$other" ] || fail "$mode $pct%: usnet dropped: ${other//$'\n'/, }"
	ok "$mode $pct%: usnet dropped nothing but duplicates"
}

for pct in 1 5; do
	size=$SIZE1
	[ "$pct" = 5 ] && size=$SIZE5
	run "$pct" discard 9 "$size"
	run "$pct" chargen 19 "$size" -F
	run "$pct" echo 7 "$size"
done

kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died"
