#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The kernel pings usnet across the TAP: echo and ARP in both directions.
#  - ping -c 5 and a full-MTU ping with DF (-s 1472 -M do) get every reply;
#  - each side's neighbour table holds the other's real MAC: the kernel's
#    entry for 10.77.0.2 is usnet's link address, usnet's entry for
#    10.77.0.1 is the namespace interface's address;
#  - Icmp InEchos/OutEchoReps moved by exactly the echoes sent, the
#    gratuitous ARP at start was counted and sent, link counters moved;
#  - a ping too large for the MTU (the kernel fragments it) goes
#    unanswered and both fragments land under IP_FRAG_UNSUPPORTED
#    (ReasmReqds/ReasmFails); a broadcast ping goes unanswered under
#    ICMP_BROADCAST; an ARP request for an address usnet does not have is
#    dropped as ARP_NOT_FOR_US;
#  - the link counters of both ends agree: what the kernel's side of the
#    TAP sent (packets, bytes) usnet received, and the other way round;
#  - restarted with --mtu 9000, both ends use MTU 9000 and a full-size
#    jumbo ping with DF gets every reply.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init ping

make_netns
start_usnetd

status_json >"$TMPD/before.json"
expect_eq "Icmp InEchos at start" "$(counter "$TMPD/before.json" Icmp InEchos)" 0
gratuitous=$(counter "$TMPD/before.json" Arp OutGratuitous)
expect_ge "Arp OutGratuitous at start" "$gratuitous" 1
expect_ge "link tx_packets at start (the gratuitous ARP)" \
	"$(jget "$TMPD/before.json" link.stats.tx_packets)" "$gratuitous"

ping_ok 5
ping_ok 3 -s 1472 -M "do"
n=$(grep -c '^1480 bytes from 10.77.0.2: icmp_seq=' "$TMPD/ping.out")
expect_eq "full-size echo replies of 1480 bytes" "$n" 3

status_json >"$TMPD/after.json"
for c in InEchos OutEchoReps; do
	expect_eq "Icmp $c after 8 echoes" "$(counter "$TMPD/after.json" Icmp "$c")" 8
done
expect_eq "Icmp InErrors" "$(counter "$TMPD/after.json" Icmp InErrors)" 0
expect_ge "Ip InReceives" "$(counter "$TMPD/after.json" Ip InReceives)" 8
expect_ge "Ip OutRequests" "$(counter "$TMPD/after.json" Ip OutRequests)" 8
expect_ge "Arp OutReplies (usnet answered the kernel's ARP)" \
	"$(counter "$TMPD/after.json" Arp OutReplies)" 1
expect_ge "link rx_packets" "$(jget "$TMPD/after.json" link.stats.rx_packets)" 9
expect_ge "link tx_packets" "$(jget "$TMPD/after.json" link.stats.tx_packets)" 9
expect_eq "link rx_dropped" "$(jget "$TMPD/after.json" link.stats.rx_dropped)" 0
expect_eq "link tx_errors" "$(jget "$TMPD/after.json" link.stats.tx_errors)" 0

# Neighbours. usnet's MAC as usnet reports it and as the kernel learnt it.
usnet_mac=$(jget "$TMPD/after.json" link.address)
[[ $usnet_mac =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || fail "link.address '$usnet_mac' is not a MAC"
nsexec ip -j neigh show dev "$TAP" >"$TMPD/kneigh.json" || fail "ip -j neigh failed"
kernel_view=$("$PY" - "$TMPD/kneigh.json" <<'EOF'
import json, sys
for n in json.load(open(sys.argv[1])):
    if n.get("dst") == "10.77.0.2":
        print(n.get("lladdr", "none"), ",".join(n.get("state", [])))
        break
else:
    print("absent")
EOF
)
read -r kernel_mac kernel_state <<<"$kernel_view"
expect_eq "kernel neighbour 10.77.0.2 lladdr (state $kernel_state)" "${kernel_mac,,}" "$usnet_mac"

ns_mac=$(nsexec cat "/sys/class/net/$TAP/address") || fail "no $TAP in $NS"
[ "$ns_mac" != "$usnet_mac" ] || fail "usnet uses the kernel side's own MAC $ns_mac"
usnet_view=$("$PY" - "$TMPD/after.json" <<'EOF'
import json, sys
for n in json.load(open(sys.argv[1]))["neighbours"]:
    if n.get("dst") == "10.77.0.1":
        print(n.get("lladdr", "none"), ",".join(n.get("state", [])))
        break
else:
    print("absent")
EOF
)
read -r usnet_nmac usnet_state <<<"$usnet_view"
expect_eq "usnet neighbour 10.77.0.1 lladdr (state $usnet_state)" "$usnet_nmac" "$ns_mac"
case $usnet_state in
REACHABLE | STALE | DELAY | PROBE) ok "usnet neighbour 10.77.0.1 state $usnet_state" ;;
*) fail "usnet neighbour 10.77.0.1 state '$usnet_state', want REACHABLE, STALE, DELAY or PROBE" ;;
esac

# 1473 bytes of payload do not fit in 1500: the kernel sends two fragments,
# which usnet cannot reassemble yet. Nothing comes back, both are counted.
frag0=$(counter "$TMPD/after.json" Drop IP_FRAG_UNSUPPORTED)
if nsexec ping -n -c 1 -W 1 -s 1473 10.77.0.2 >"$TMPD/ping-frag.out" 2>&1; then
	fail "a fragmented echo was answered, but usnet does not reassemble: $(cat "$TMPD/ping-frag.out")"
fi
status_json >"$TMPD/frag.json"
expect_eq "IP_FRAG_UNSUPPORTED drops for one fragmented echo" \
	$(($(counter "$TMPD/frag.json" Drop IP_FRAG_UNSUPPORTED) - frag0)) 2
expect_eq "Icmp InEchos after the fragmented echo" "$(counter "$TMPD/frag.json" Icmp InEchos)" 8

expect_eq "Ip ReasmReqds after the fragmented echo" "$(counter "$TMPD/frag.json" Ip ReasmReqds)" 2
expect_eq "Ip ReasmFails after the fragmented echo" "$(counter "$TMPD/frag.json" Ip ReasmFails)" 2

# Broadcast echo: ignored (icmp_echo_ignore_broadcasts=1), and counted.
if nsexec ping -n -b -c 2 -i 0.2 -W 1 10.77.0.255 >"$TMPD/ping-bcast.out" 2>&1; then
	fail "a broadcast echo was answered: $(cat "$TMPD/ping-bcast.out")"
fi
status_json >"$TMPD/bcast.json"
expect_eq "ICMP_BROADCAST drops for 2 broadcast echoes" \
	$(($(counter "$TMPD/bcast.json" Drop ICMP_BROADCAST) - $(counter "$TMPD/frag.json" Drop ICMP_BROADCAST))) 2
expect_eq "Ip InBcastPkts for 2 broadcast echoes" \
	$(($(counter "$TMPD/bcast.json" Ip InBcastPkts) - $(counter "$TMPD/frag.json" Ip InBcastPkts))) 2

# The kernel asks who has 10.77.0.3: not usnet's, so no answer.
nsexec ping -n -c 1 -W 1 10.77.0.3 >/dev/null 2>&1 && fail "10.77.0.3 answered"
status_json >"$TMPD/notus.json"
expect_ge "ARP_NOT_FOR_US drops after resolving 10.77.0.3" \
	$(($(counter "$TMPD/notus.json" Drop ARP_NOT_FOR_US) - $(counter "$TMPD/bcast.json" Drop ARP_NOT_FOR_US))) 1
expect_eq "Arp OutReplies unchanged by the request for 10.77.0.3" \
	"$(counter "$TMPD/notus.json" Arp OutReplies)" "$(counter "$TMPD/bcast.json" Arp OutReplies)"

# Both ends of the TAP count the same frames. Read the kernel's side before
# and after usnet's and retry if something was sent in between.
ksys() { nsexec cat "/sys/class/net/$TAP/statistics/$1"; }
for ((i = 0; i < 10; i++)); do
	k1="$(ksys tx_packets) $(ksys tx_bytes) $(ksys rx_packets) $(ksys rx_bytes)"
	status_json >"$TMPD/link.json"
	k2="$(ksys tx_packets) $(ksys tx_bytes) $(ksys rx_packets) $(ksys rx_bytes)"
	[ "$k1" = "$k2" ] && break
	sleep 0.2
done
read -r ktxp ktxb krxp krxb <<<"$k2"
expect_eq "usnet rx_packets = kernel side tx_packets" "$(jget "$TMPD/link.json" link.stats.rx_packets)" "$ktxp"
expect_eq "usnet rx_bytes = kernel side tx_bytes" "$(jget "$TMPD/link.json" link.stats.rx_bytes)" "$ktxb"
expect_eq "usnet tx_packets = kernel side rx_packets" "$(jget "$TMPD/link.json" link.stats.tx_packets)" "$krxp"
expect_eq "usnet tx_bytes = kernel side rx_bytes" "$(jget "$TMPD/link.json" link.stats.tx_bytes)" "$krxb"

# The daemon is still healthy after all of it.
ping_ok 1

# Jumbo frames.
stop_usnetd "$USNETD_PID" TERM
expect_eq "exit status after SIGTERM" "$STOP_RC" 0
start_usnetd --mtu 9000
expect_eq "kernel side MTU with --mtu 9000" "$(nsexec cat "/sys/class/net/$TAP/mtu")" 9000
status_json >"$TMPD/jumbo.json"
expect_eq "JSON link.mtu with --mtu 9000" "$(jget "$TMPD/jumbo.json" link.mtu)" 9000
ping_ok 3 -s 8972 -M "do"
expect_eq "jumbo echo replies of 8980 bytes" \
	"$(grep -c '^8980 bytes from 10.77.0.2: icmp_seq=' "$TMPD/ping.out")" 3
