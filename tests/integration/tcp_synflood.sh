#!/bin/bash
# SPDX-License-Identifier: MIT
#
# SYN floods at usnetd's echo listener (tests/tools/synflood, 10,000 SYNs a
# second, no 4-tuple twice) while the kernel makes legitimate connections
# to it (tcpclient churn: connect, echo 64 bytes, FIN both ways).
#  A. Spoofed source ports from the kernel's own address. The kernel would
#     answer every SYN-ACK of the flood with a RST, which would empty the
#     SYN queue and make the flood harmless; nftables drops those RSTs
#     (and only those: the flood's source ports are below the kernel's
#     ephemeral range), and usnet must see none (EmbryonicRsts stays 0).
#     The SYN queue fills, usnet answers with SYN cookies
#     (TCPReqQFullDoCookies = SyncookiesSent > 0), the legitimate
#     connections all complete, some of them through a cookie
#     (SyncookiesRecv > 0, SyncookiesFailed 0), nothing overflows or is
#     dropped at the listener (ListenOverflows, ListenDrops 0), and a
#     second flood leaves usnetd's memory where the first did.
#  B. Spoofed source addresses on the subnet that nobody answers ARP for,
#     for four seconds: every SYN-ACK waits for a neighbour that never
#     resolves (the kernel's RSTs stay filtered, so the SYN queue is still
#     full from A and they are all cookies). The
#     legitimate connections must still complete, usnetd must keep reading
#     the link (its packet pool never runs dry: Worker rx_nobufs stays 0),
#     and the neighbour table stays within its limit.
# The legitimate connection rate under each flood is logged.
# Under sanitizers (USNET_SANITIZED=1) the floods run at 5,000 SYNs/s.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init tcp_synflood

TCPCLIENT=$(tool tcpclient)
SYNFLOOD=$(tool synflood)
command -v nft >/dev/null || skip "nft (nftables) not found"

RATE=10000
COUNT=20000
LEGIT=300
if sanitized; then
	RATE=5000
	COUNT=10000
fi

make_netns
nsexec sysctl -qw net.ipv4.ip_local_port_range="32768 60999" ||
	fail "cannot set the namespace's port range"
start_usnetd --service echo:7
ping_ok 1
status_json >"$TMPD/start.json"
MAC=$(jget "$TMPD/start.json" link.address)

nsexec nft -f - <<EOF || fail "nft: cannot install the RST filter"
table ip usnt_synflood {
	chain output {
		type filter hook output priority 0; policy accept;
		oifname "$TAP" tcp sport 1024-29999 tcp flags & rst == rst counter drop
	}
}
EOF
nft_rsts() {
	nsexec nft list table ip usnt_synflood |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
ktxdrop() { nsexec cat "/sys/class/net/$TAP/statistics/tx_dropped"; }

# flood NAME SOURCES PORTS COUNT AT: flood for COUNT/RATE seconds and make
# LEGIT connections at the fraction AT of it, or with AT "cookies" as soon
# as usnet sends SYN cookies (the SYN queue is full); the legitimate
# connections must all complete. Leaves $TMPD/NAME-{before,after}.json.
flood() {
	local name=$1 src=$2 ports=$3 count=$4 at=$5 fpid out i

	status_json >"$TMPD/$name-before.json"
	nsexec "$SYNFLOOD" -i "$TAP" -d "$MAC" -s "$src" -t 10.77.0.2 -p 7 -P "$ports" \
		-n "$count" -r "$RATE" >"$TMPD/$name-flood.out" 2>&1 &
	fpid=$!
	IT_HELPERS+=("$fpid")
	if [ "$at" = cookies ]; then
		for ((i = 0; i < 200; i++)); do
			status_json >"$TMPD/$name-during.json"
			[ "$(mib_delta "$TMPD/$name-before.json" "$TMPD/$name-during.json" TcpExt SyncookiesSent)" -gt 0 ] &&
				break
			sleep 0.05
		done
	else
		sleep "$(awk -v n="$count" -v r="$RATE" -v at="$at" 'BEGIN { print n / r * at }')"
	fi
	out=$(nsexec "$TCPCLIENT" -t 20 -s 64 churn 10.77.0.2 7 "$LEGIT" 2>&1) ||
		fail "$name: legitimate connections failed during the flood: $out"
	ok "$name: $out"
	log "$name: legitimate connection rate during the flood: $(awk '{ print $6 }' <<<"$out") connections/s"
	kill -0 "$fpid" 2>/dev/null || log "$name: the flood had ended before the legitimate connections did"
	wait "$fpid" || fail "$name: synflood failed: $(cat "$TMPD/$name-flood.out")"
	IT_HELPERS=()
	log "$name: synflood $(cat "$TMPD/$name-flood.out")"
	sleep 0.2
	status_json >"$TMPD/$name-after.json"
}

# --- A: spoofed ports, the kernel's RSTs dropped -------------------------------------
rsts0=$(nft_rsts)
kdrop0=$(ktxdrop)
rss0=$(usnetd_rss_kb)
flood A1 10.77.0.1 1024-29999 "$COUNT" cookies
rss1=$(usnetd_rss_kb)
d() { mib_delta "$TMPD/A1-before.json" "$TMPD/A1-after.json" "$@"; }
cookies=$(d TcpExt SyncookiesSent)
log "A1: SyncookiesSent $cookies, SyncookiesRecv $(d TcpExt SyncookiesRecv), SYN-ACKs resent $(d TcpExt TCPSynRetrans); kernel RSTs dropped by nft $(($(nft_rsts) - rsts0)); frames the TAP dropped $(($(ktxdrop) - kdrop0)); usnetd VmRSS $rss0 -> $rss1 kB"
expect_ge "A1: TcpExt SyncookiesSent (the SYN queue overflowed)" "$cookies" 1
expect_eq "A1: TcpExt TCPReqQFullDoCookies = SyncookiesSent" "$(d TcpExt TCPReqQFullDoCookies)" "$cookies"
expect_ge "A1: TcpExt SyncookiesRecv (legitimate connections through a cookie)" "$(d TcpExt SyncookiesRecv)" 1
expect_le "A1: TcpExt SyncookiesRecv" "$(d TcpExt SyncookiesRecv)" "$LEGIT"
expect_eq "A1: TcpExt SyncookiesFailed" "$(d TcpExt SyncookiesFailed)" 0
expect_eq "A1: TcpExt ListenOverflows" "$(d TcpExt ListenOverflows)" 0
expect_eq "A1: TcpExt ListenDrops" "$(d TcpExt ListenDrops)" 0
expect_eq "A1: TcpExt EmbryonicRsts (no RST from the kernel reached usnet)" "$(d TcpExt EmbryonicRsts)" 0
expect_ge "A1: kernel RSTs dropped by nft (the flood was answered)" $(($(nft_rsts) - rsts0)) "$cookies"
expect_eq "A1: Tcp PassiveOpens (only the legitimate connections)" "$(d Tcp PassiveOpens)" "$LEGIT"
expect_eq "A1: Tcp EstabResets" "$(d Tcp EstabResets)" 0
expect_ge "A1: Tcp InSegs (every SYN of the flood arrived)" "$(d Tcp InSegs)" "$COUNT"
expect_eq "A1: Worker rx_nobufs (usnetd kept reading)" "$(d Worker rx_nobufs)" 0

# The same flood again (its first SYNs repeat those of the requests still
# in the SYN queue, the rest get cookies): what usnetd holds for a flood
# is bounded, a second one adds nothing.
flood A2 10.77.0.1 1024-29999 "$COUNT" cookies
rss2=$(usnetd_rss_kb)
log "A2: usnetd VmRSS $rss2 kB"
if [ "${USNET_SANITIZED:-0}" = 1 ]; then
	log "A2: VmRSS not checked under sanitizers (ASan keeps freed memory in quarantine)"
else
	expect_le "A2: usnetd VmRSS after a second flood (kB, at most 8 MiB above the first)" "$rss2" \
		$((rss1 + 8192))
fi
expect_eq "A2: TcpExt ListenDrops" "$(mib_delta "$TMPD/A2-before.json" "$TMPD/A2-after.json" TcpExt ListenDrops)" 0

# --- B: spoofed addresses nobody answers for ------------------------------------------
# Four seconds of it: more than the three an unresolved neighbour takes to
# fail (and free what waits for it); the legitimate connections come when
# the most SYN-ACKs wait.
flood B 10.77.0.100-10.77.0.199 10000-10499 $((4 * RATE)) 0.7
d() { mib_delta "$TMPD/B-before.json" "$TMPD/B-after.json" "$@"; }
log "B: SyncookiesSent $(d TcpExt SyncookiesSent), Arp OutRequests $(d Arp OutRequests), ResFailed $(d Arp ResFailed), NEIGH_FAILED drops $(d Drop NEIGH_FAILED), NEIGH_QUEUEFULL drops $(d Drop NEIGH_QUEUEFULL), Worker rx_nobufs $(d Worker rx_nobufs), frames the TAP dropped $(($(ktxdrop) - kdrop0))"
expect_eq "B: Tcp PassiveOpens (only the legitimate connections)" "$(d Tcp PassiveOpens)" "$LEGIT"
expect_eq "B: TcpExt ListenDrops" "$(d TcpExt ListenDrops)" 0
expect_ge "B: Arp OutRequests (usnet tried to reach the spoofed sources)" "$(d Arp OutRequests)" 1
expect_le "B: neighbours" "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["neighbours"]))' "$TMPD/B-after.json")" 1024
expect_eq "B: Worker rx_nobufs (the SYN-ACKs waiting for ARP left buffers to read the link with)" \
	"$(d Worker rx_nobufs)" 0

status_json >"$TMPD/end.json"
other=$(drops_moved "$TMPD/start.json" "$TMPD/end.json" NEIGH_FAILED NEIGH_QUEUEFULL \
	TCP_OLD_DATA TCP_OLD_SEQUENCE)
[ -z "$other" ] || fail "usnet dropped: ${other//$'\n'/, }"
ok "usnet dropped nothing but undeliverable SYN-ACKs and duplicates"
ping_ok 1
kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died"
