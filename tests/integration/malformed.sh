#!/bin/bash
# SPDX-License-Identifier: MIT
#
# 10,000 malformed frames of every kind framegen knows, sent from the
# namespace into usnetd's TAP at 4,000 frames/s. Afterwards:
#  - usnetd is alive and still answers ping;
#  - every drop reason moved by exactly the number of frames framegen sent
#    of the kinds that must land there, and every other reason stayed put
#    (IPv6 is off in the namespace, so the kernel sends nothing that would
#    land under OTHERHOST or UNHANDLED_PROTO);
#  - the Ip and Icmp MIB counters moved consistently with the drops
#    (InReceives, InHdrErrors, InCsumErrors, InTruncatedPkts, InAddrErrors,
#    InUnknownProtos, Reasm*, InDelivers, Icmp In*);
#  - the ICMP protocol-unreachable replies were rate limited: few sent,
#    the rest counted under OutRateLimitHost/OutRateLimitGlobal, and the
#    kernel received exactly the replies usnet says it sent.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init malformed

[ -n "$FRAMEGEN" ] || hard_error "\$FRAMEGEN is not set (run through 'make check')"
[ -x "$FRAMEGEN" ] || hard_error "FRAMEGEN=$FRAMEGEN is not an executable"

FRAMES=10000
RATE=4000
SEED=20241124

# Where each kind must land. The test's expectation, written out here
# rather than asked of framegen.
declare -A REASON=(
	[ip-truncated-header]=IP_INHDR
	[ip-bad-version]=IP_VERSION
	[ip-bad-ihl]=IP_INHDR
	[ip-ihl-past-frame]=IP_INHDR
	[ip-bad-csum]=IP_CSUM
	[ip-totlen-past-frame]=IP_TRUNCATED
	[ip-ttl-zero]=IP_TTL_ZERO
	[ip-fragment]=IP_FRAG_UNSUPPORTED
	[ip-bad-options]=IP_INHDR
	[ip-not-for-us]=IP_INADDRERRORS
	[ip-bad-source]=IP_INVALID_SOURCE
	[ip-unknown-proto]=IP_NOPROTO
	[icmp-bad-csum]=ICMP_CSUM
	[icmp-truncated]=ICMP_INVALID
	[icmp-bad-type]=ICMP_INVALID
	[arp-truncated]=PKT_TOO_SMALL
	[arp-bad-hlen]=ARP_INVALID
	[arp-bad-sender]=ARP_INVALID_SENDER
	[eth-other-host]=OTHERHOST
	[eth-unknown-type]=UNHANDLED_PROTO
	[echo]=""
)

make_netns
start_usnetd
# Both sides learn each other first, so that no reply waits for ARP.
ping_ok 1

ksnmp() { # ksnmp GROUP FIELD: a counter of the namespace's /proc/net/snmp
	nsexec awk -v g="$1:" -v f="$2" '
		$1 == g && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == g && h { print $col[f]; exit }' /proc/net/snmp
}

status_json >"$TMPD/before.json"
mac=$(jget "$TMPD/before.json" link.address)
kdrop0=$(nsexec cat "/sys/class/net/$TAP/statistics/tx_dropped")
k_echoreps0=$(ksnmp Icmp InEchoReps)
k_unreach0=$(ksnmp Icmp InDestUnreachs)
rx0=$(jget "$TMPD/before.json" link.stats.rx_packets)

t_start=$(date +%s%N)
nsexec "$FRAMEGEN" -i "$TAP" -d "$mac" -s 10.77.0.1 -t 10.77.0.2 -n "$FRAMES" -r "$RATE" \
	-S "$SEED" all >"$TMPD/counts.txt" 2>"$TMPD/framegen.log" ||
	fail "framegen failed (exit $?): $(cat "$TMPD/framegen.log")"
log "$(cat "$TMPD/framegen.log")"

# What framegen sent, per kind and per reason.
declare -A SENT WANT
total=0
while read -r kind n; do
	[ -n "${REASON[$kind]+set}" ] || fail "framegen sent kind '$kind', which this test does not know"
	SENT[$kind]=$n
	total=$((total + n))
	r=${REASON[$kind]}
	[ -n "$r" ] && WANT[$r]=$((${WANT[$r]:-0} + n))
done <"$TMPD/counts.txt"
expect_eq "frames framegen sent" "$total" "$FRAMES"
for kind in "${!REASON[@]}"; do
	[ "${SENT[$kind]:-0}" -gt 0 ] || fail "framegen sent no '$kind' frame; the mix does not cover it"
done

# usnetd may still be reading the last frames: wait until its link
# receive counter has taken all of them in and stopped moving.
prev=-1
for ((i = 0; i < 50; i++)); do
	status_json >"$TMPD/after.json"
	rx=$(jget "$TMPD/after.json" link.stats.rx_packets)
	[ $((rx - rx0)) -ge "$FRAMES" ] && [ "$rx" = "$prev" ] && break
	prev=$rx
	sleep 0.1
done
t_secs=$((($(date +%s%N) - t_start + 999999999) / 1000000000))

kdrop=$(nsexec cat "/sys/class/net/$TAP/statistics/tx_dropped")
expect_eq "frames the kernel dropped on $TAP before usnetd read them" $((kdrop - kdrop0)) 0

kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died: $(cat "$USNETD_LOG")"
ok "usnetd pid $USNETD_PID alive"

delta() { # delta GROUP NAME: how far a counter moved between the snapshots
	echo $(($(counter "$TMPD/after.json" "$1" "$2") - $(counter "$TMPD/before.json" "$1" "$2")))
}
s() { echo "${SENT[$1]:-0}"; }

expect_ge "link rx_packets moved" "$(($(jget "$TMPD/after.json" link.stats.rx_packets) - rx0))" \
	"$FRAMES"
expect_eq "link rx_dropped moved" $(($(jget "$TMPD/after.json" link.stats.rx_dropped) - \
	$(jget "$TMPD/before.json" link.stats.rx_dropped))) 0

# Every drop reason: exactly what framegen sent there, zero elsewhere.
mapfile -t reasons < <(jget "$TMPD/after.json" counters.Drop |
	"$PY" -c 'import json,sys; print("\n".join(json.load(sys.stdin)))')
[ ${#reasons[@]} -gt 0 ] || fail "counters.Drop is empty"
for r in "${!WANT[@]}"; do
	printf '%s\n' "${reasons[@]}" | grep -qx "$r" || fail "drop reason $r missing from counters.Drop"
done
bad=0
for r in "${reasons[@]}"; do
	got=$(delta Drop "$r")
	want=${WANT[$r]:-0}
	if [ "$got" != "$want" ]; then
		kinds=$(for k in "${!REASON[@]}"; do [ "${REASON[$k]}" = "$r" ] && printf ' %s=%s' "$k" "$(s "$k")"; done)
		printf '%s: FAIL: drop %s moved by %s, want %s (sent:%s)\n' "$IT_NAME" "$r" "$got" \
			"$want" "${kinds:- none}" >&2
		bad=$((bad + 1))
	else
		ok "drop $r moved by $got"
	fi
done
[ "$bad" -eq 0 ] || fail "$bad drop reason(s) off"

# IPv4 MIB, consistent with the drops.
ipv4_total=0
for k in "${!SENT[@]}"; do
	case $k in ip-* | icmp-* | echo) ipv4_total=$((ipv4_total + SENT[$k])) ;; esac
done
hdr=$(($(s ip-truncated-header) + $(s ip-bad-version) + $(s ip-bad-ihl) + $(s ip-ihl-past-frame) +
	$(s ip-bad-csum) + $(s ip-bad-options) + $(s ip-ttl-zero)))
icmp_in=$(($(s icmp-bad-csum) + $(s icmp-truncated) + $(s icmp-bad-type) + $(s echo)))
icmp_err=$(($(s icmp-bad-csum) + $(s icmp-truncated) + $(s icmp-bad-type)))
expect_eq "Ip InReceives moved (every IPv4 frame)" "$(delta Ip InReceives)" "$ipv4_total"
expect_eq "Ip InHdrErrors moved" "$(delta Ip InHdrErrors)" "$hdr"
expect_eq "Ip InCsumErrors moved" "$(delta Ip InCsumErrors)" "$(s ip-bad-csum)"
expect_eq "Ip InTruncatedPkts moved" "$(delta Ip InTruncatedPkts)" "$(s ip-totlen-past-frame)"
expect_eq "Ip InAddrErrors moved" "$(delta Ip InAddrErrors)" "$(s ip-not-for-us)"
expect_eq "Ip InUnknownProtos moved" "$(delta Ip InUnknownProtos)" "$(s ip-unknown-proto)"
expect_eq "Ip ReasmReqds moved" "$(delta Ip ReasmReqds)" "$(s ip-fragment)"
expect_eq "Ip ReasmFails moved" "$(delta Ip ReasmFails)" "$(s ip-fragment)"
expect_eq "Ip InDelivers moved" "$(delta Ip InDelivers)" "$icmp_in"
expect_eq "Icmp InMsgs moved" "$(delta Icmp InMsgs)" "$icmp_in"
expect_eq "Icmp InErrors moved" "$(delta Icmp InErrors)" "$icmp_err"
expect_eq "Icmp InCsumErrors moved" "$(delta Icmp InCsumErrors)" "$(s icmp-bad-csum)"
expect_eq "Icmp InEchos moved" "$(delta Icmp InEchos)" "$(s echo)"
expect_eq "Icmp OutEchoReps moved" "$(delta Icmp OutEchoReps)" "$(s echo)"

# Protocol unreachable: every ip-unknown-proto frame either got a reply or
# was counted as rate limited; per host the limiter allows a burst of 6
# and then one a second.
unreach=$(delta Icmp OutDestUnreachs)
limited=$(($(delta Icmp OutRateLimitHost) + $(delta Icmp OutRateLimitGlobal)))
expect_eq "Icmp OutDestUnreachs + OutRateLimitHost + OutRateLimitGlobal" \
	$((unreach + limited)) "$(s ip-unknown-proto)"
expect_ge "Icmp OutDestUnreachs (the first ones are not limited)" "$unreach" 1
expect_le "Icmp OutDestUnreachs over ${t_secs} s" "$unreach" $((6 + t_secs + 1))
expect_ge "Icmp OutRateLimitHost + OutRateLimitGlobal" "$limited" $(($(s ip-unknown-proto) - 6 - t_secs - 1))
expect_eq "Icmp OutMsgs moved" "$(delta Icmp OutMsgs)" $((unreach + $(s echo)))
expect_eq "Icmp OutErrors moved" "$(delta Icmp OutErrors)" 0
expect_eq "Ip OutRequests moved" "$(delta Ip OutRequests)" $((unreach + $(s echo)))

# The kernel got what usnet says it sent.
expect_eq "kernel Icmp InEchoReps moved" $(($(ksnmp Icmp InEchoReps) - k_echoreps0)) "$(s echo)"
expect_eq "kernel Icmp InDestUnreachs moved" $(($(ksnmp Icmp InDestUnreachs) - k_unreach0)) "$unreach"

# Still answering.
ping_ok 3
kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died"
