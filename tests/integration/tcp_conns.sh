#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Many connections from the kernel to usnetd's echo service.
#  - 1,000 at once: all established together (usnet counts 1,000 passive
#    opens, the kernel sees 1,000 ESTABLISHED, nothing overflowed), then
#    each echoes 16 KiB of its own stream (checked byte for byte), shuts
#    down its side and waits for usnet's FIN; afterwards the kernel holds
#    nothing towards usnet but TIME-WAIT, the kernel sent no RST and reset
#    no connection, and usnet's only RSTs answer ACKs that arrived after
#    a connection had closed (see below);
#    twice; after each round usnet's levels (CurrEstab, sockets,
#    TIME-WAIT entries, free packet buffers) are back where they started,
#    and the second round leaves usnetd's memory where the first
#    did (no leak per connection);
#  - 10,000 short connections in a row (connect, echo 64 bytes, FIN both
#    ways): all succeed, with the connection rate logged. The kernel is
#    the active closer and keeps TIME-WAIT; 11,000 of them fit in the
#    namespace's ephemeral range (32768-60999, set explicitly), and
#    tcp_tw_reuse=1 lets the kernel take over a TIME-WAIT port should it
#    wrap. usnet, the passive closer, keeps none (TcpExt TW stays 0).
# usnetd's memory is not compared under sanitizers (ASan's quarantine
# keeps what was freed).
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init tcp_conns

TCPCLIENT=$(tool tcpclient)
CONNS=1000
CHURN=10000

make_netns
nsexec sysctl -qw net.ipv4.ip_local_port_range="32768 60999" net.ipv4.tcp_tw_reuse=1 ||
	fail "cannot set the namespace's port range and tcp_tw_reuse"
start_usnetd --service echo:7
ping_ok 1

kstats=(TcpActiveOpens TcpAttemptFails TcpEstabResets TcpOutRsts TcpExtTCPAbortOnData TcpExtTCPAbortOnClose)
kread() { kstat "${kstats[@]}" | xargs; }

# not_time_wait: connections of the kernel towards usnet in any state but
# TIME-WAIT.
not_time_wait() {
	nsexec ss -Htan dst 10.77.0.2 | awk '$1 != "TIME-WAIT"' | wc -l
}

# levels_back WHAT: once every connection has closed, usnet's levels
# (usnet status, Sockstat) return to where they were before the first one:
# no connection left established, no socket, TIME-WAIT entry or packet
# buffer kept. The last ACKs may still be on their way: wait up to 5 s.
levels_back() {
	local i now
	for ((i = 0; i < 50; i++)); do
		status_json >"$TMPD/lv.json"
		now="$(counter "$TMPD/lv.json" Tcp CurrEstab) $(counter "$TMPD/lv.json" Sockstat tcp_inuse)"
		now+=" $(counter "$TMPD/lv.json" Sockstat tcp_tw) $(counter "$TMPD/lv.json" Sockstat pool_free)"
		[ "$now" = "$LEVELS0" ] && break
		sleep 0.1
	done
	read -r -a lv <<<"$now"
	read -r -a lv0 <<<"$LEVELS0"
	expect_eq "$1: usnet Tcp CurrEstab after all closed" "${lv[0]}" 0
	expect_eq "$1: usnet Sockstat tcp_inuse after all closed (the listener alone)" "${lv[1]}" "${lv0[1]}"
	expect_eq "$1: usnet Sockstat tcp_tw after all closed" "${lv[2]}" "${lv0[2]}"
	expect_eq "$1: usnet Sockstat pool_free after all closed (every packet buffer back)" \
		"${lv[3]}" "${lv0[3]}"
}

# --- 1,000 at once -----------------------------------------------------------
# conns_at_once ROUND: one round of CONNS connections open together.
conns_at_once() {
	local r=$1 client estab rss0 rss1 i

	status_json >"$TMPD/c0.json"
	read -r -a k0 <<<"$(kread)"
	rss0=$(usnetd_rss_kb)
	nsexec "$TCPCLIENT" -t 30 -s 16384 -p "$TMPD/pause" conns 10.77.0.2 7 "$CONNS" \
		>"$TMPD/conns.out" 2>&1 &
	client=$!
	IT_HELPERS+=("$client")
	for ((i = 0; i < 600; i++)); do
		[ -e "$TMPD/pause" ] && break
		if ! kill -0 "$client" 2>/dev/null; then
			wait "$client"
			fail "tcpclient conns exited early: $(cat "$TMPD/conns.out")"
		fi
		sleep 0.1
	done
	[ -e "$TMPD/pause" ] || fail "round $r: $CONNS connections not established within 60 s"
	status_json >"$TMPD/c1.json"
	estab=$(nsexec ss -Htn state established dst 10.77.0.2 | wc -l)
	rss1=$(usnetd_rss_kb)
	expect_eq "round $r: kernel connections ESTABLISHED to 10.77.0.2, all open at once" "$estab" "$CONNS"
	expect_eq "round $r: usnet Tcp PassiveOpens with all open" \
		"$(mib_delta "$TMPD/c0.json" "$TMPD/c1.json" Tcp PassiveOpens)" "$CONNS"
	expect_eq "round $r: usnet TcpExt ListenOverflows" \
		"$(mib_delta "$TMPD/c0.json" "$TMPD/c1.json" TcpExt ListenOverflows)" 0
	expect_eq "round $r: usnet TcpExt ListenDrops" \
		"$(mib_delta "$TMPD/c0.json" "$TMPD/c1.json" TcpExt ListenDrops)" 0
	log "round $r: usnetd VmRSS $rss0 kB before, $rss1 kB with $CONNS connections open ($(((rss1 - rss0) * 1024 / CONNS)) bytes each, before any data)"

	rm -f "$TMPD/pause"
	wait "$client" || fail "round $r: tcpclient conns failed: $(cat "$TMPD/conns.out")"
	IT_HELPERS=()
	ok "round $r: $(cat "$TMPD/conns.out")"
	for ((i = 0; i < 50; i++)); do
		[ "$(not_time_wait)" -eq 0 ] && break
		sleep 0.1
	done
	expect_eq "round $r: kernel connections to 10.77.0.2 not in TIME-WAIT after close" "$(not_time_wait)" 0
	status_json >"$TMPD/c2.json"
	read -r -a k1 <<<"$(kread)"
	d() { mib_delta "$TMPD/c0.json" "$TMPD/c2.json" "$@"; }
	expect_eq "round $r: usnet Tcp PassiveOpens" "$(d Tcp PassiveOpens)" "$CONNS"
	expect_eq "round $r: usnet Tcp EstabResets" "$(d Tcp EstabResets)" 0
	# A FIN usnet resent before the kernel's ACK of the first one reached
	# it (the TAP drops frames when 1,000 connections burst at once) is
	# ACKed twice by the kernel's TIME-WAIT; the second ACK finds the
	# connection closed and gets a RST from the listener, as in Linux.
	# That is the only RST allowed.
	expect_eq "round $r: usnet Tcp OutRsts (answers to ACKs after close, TCP_COOKIE_INVALID)" \
		"$(d Tcp OutRsts)" "$(d Drop TCP_COOKIE_INVALID)"
	log "round $r: usnet RSTs to late ACKs: $(d Tcp OutRsts); RetransSegs $(d Tcp RetransSegs), TCPLossProbes $(d TcpExt TCPLossProbes)"
	expect_eq "round $r: usnet Tcp AttemptFails" "$(d Tcp AttemptFails)" 0
	expect_eq "round $r: usnet TcpExt TW (usnet closes second: no TIME-WAIT)" "$(d TcpExt TW)" 0
	expect_eq "round $r: kernel TcpActiveOpens" $((k1[0] - k0[0])) "$CONNS"
	expect_eq "round $r: kernel TcpAttemptFails" $((k1[1] - k0[1])) 0
	expect_eq "round $r: kernel TcpEstabResets" $((k1[2] - k0[2])) 0
	expect_eq "round $r: kernel TcpOutRsts" $((k1[3] - k0[3])) 0
	expect_eq "round $r: kernel TcpExtTCPAbortOnData + TCPAbortOnClose" \
		$((k1[4] - k0[4] + k1[5] - k0[5])) 0
	levels_back "round $r"
	RSS=$(usnetd_rss_kb)
	log "round $r: usnetd VmRSS after all closed: $RSS kB"
}

status_json >"$TMPD/start.json"
LEVELS0="$(counter "$TMPD/start.json" Tcp CurrEstab) $(counter "$TMPD/start.json" Sockstat tcp_inuse)"
LEVELS0+=" $(counter "$TMPD/start.json" Sockstat tcp_tw) $(counter "$TMPD/start.json" Sockstat pool_free)"
expect_eq "usnet Sockstat tcp_inuse before any connection (the echo listener)" \
	"$(counter "$TMPD/start.json" Sockstat tcp_inuse)" 1
conns_at_once 1
rss_first=$RSS
# The same again: what the first round left allocated (the echo rings go
# back to malloc, pool buffers to the pool) is reused, not added to. The
# levels above are the exact check; RSS only catches gross growth, since
# malloc places the rings at other offsets each round and touches other
# pages (a few MiB either way).
conns_at_once 2
if [ "${USNET_SANITIZED:-0}" = 1 ]; then
	# ASan keeps freed memory in quarantine: RSS says nothing there, and
	# LeakSanitizer checks at exit instead.
	log "usnetd VmRSS after round 2: $RSS kB (round 1: $rss_first kB; not checked under sanitizers)"
else
	expect_le "usnetd VmRSS after round 2 (kB, at most 16 MiB above round 1)" "$RSS" $((rss_first + 16384))
fi

# --- 10,000 in a row -----------------------------------------------------------
status_json >"$TMPD/s0.json"
read -r -a k0 <<<"$(kread)"
out=$(nsexec "$TCPCLIENT" -t 30 -s 64 churn 10.77.0.2 7 "$CHURN" 2>&1) ||
	fail "tcpclient churn failed: $out"
ok "$out"
log "connection rate: $(awk '{ print $6 }' <<<"$out") connections/s ($CHURN in $(awk '{ print $4 }' <<<"$out") s)"
for ((i = 0; i < 50; i++)); do
	[ "$(not_time_wait)" -eq 0 ] && break
	sleep 0.1
done
expect_eq "kernel connections to 10.77.0.2 not in TIME-WAIT after the churn" "$(not_time_wait)" 0
levels_back "churn"
status_json >"$TMPD/s1.json"
read -r -a k1 <<<"$(kread)"
d() { mib_delta "$TMPD/s0.json" "$TMPD/s1.json" "$@"; }
expect_eq "usnet Tcp PassiveOpens" "$(d Tcp PassiveOpens)" "$CHURN"
expect_eq "usnet Tcp EstabResets" "$(d Tcp EstabResets)" 0
expect_eq "usnet Tcp OutRsts" "$(d Tcp OutRsts)" "$(d Drop TCP_COOKIE_INVALID)"
expect_eq "usnet Tcp AttemptFails" "$(d Tcp AttemptFails)" 0
expect_eq "kernel TcpActiveOpens" $((k1[0] - k0[0])) "$CHURN"
expect_eq "kernel TcpAttemptFails" $((k1[1] - k0[1])) 0
expect_eq "kernel TcpEstabResets" $((k1[2] - k0[2])) 0
expect_eq "kernel TcpOutRsts" $((k1[3] - k0[3])) 0
other=$(drops_moved "$TMPD/start.json" "$TMPD/s1.json" TCP_OLD_DATA TCP_OLD_SEQUENCE TCP_COOKIE_INVALID)
[ -z "$other" ] || fail "usnet dropped: ${other//$'\n'/, }"
ok "usnet dropped nothing but duplicates"

ping_ok 1
kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd (pid $USNETD_PID) died"
