#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `usnet stats`, nstat style, against usnetd running the built-in services:
#  - the text is a "#usnetd" header, then "Name value rate" lines whose
#    names are the group and the nstat name run together; zero counters
#    only with -a (or -z), and then every counter once: as many lines as
#    the JSON of `usnet -j stats -a` has counters, with every drop reason
#    of proto/drop.h under Drop;
#  - counters move by what the kernel did: three echo connections add
#    exactly 3 to TcpPassiveOpens, their segments to TcpInSegs and
#    TcpOutSegs, ping adds exactly 2 to IcmpInEchos, a connection to a
#    closed port adds exactly one TcpOutRsts and one DropNO_SOCKET;
#  - `usnet stats` and `usnet -j status` report the same Tcp counters;
#  - patterns: 'Tcp*' selects Tcp and TcpExt counters only, a full name
#    selects one line, case does not matter, `drops` means 'Drop*';
#  - usage errors exit 2.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init cli_stats

DROP_H=$TOP_SRCDIR/proto/drop.h
mapfile -t REASONS < <(sed -n 's/^[[:space:]]*X(\([A-Z0-9_]*\),.*/\1/p' "$DROP_H")
[ ${#REASONS[@]} -ge 10 ] || hard_error "found only ${#REASONS[@]} drop reasons in $DROP_H"

make_netns
start_usnetd --service echo:7,discard:9,chargen:19

usn() { "$USNET" --control "$SOCK" "$@"; }

# stat_json FILE: `usnet -j stats -a` into FILE, checked to be JSON.
stat_json() {
	usn -j stats -a >"$1" || fail "usnet -j stats -a failed"
	"$PY" -m json.tool "$1" >/dev/null || fail "usnet -j stats -a is not JSON: $(head -c 300 "$1")"
}

# get FILE GROUP NAME: one counter of a stat_json file
get() {
	jget "$1" "$2.$3"
}

# --- text format ------------------------------------------------------------------------
ping_ok 1
rc=$(run_capture "$TMPD/s.txt" "$TMPD/s.err" "$USNET" --control "$SOCK" stats)
expect_eq "usnet stats exit status" "$rc" 0
[ ! -s "$TMPD/s.err" ] || fail "usnet stats wrote to stderr: $(cat "$TMPD/s.err")"
expect_eq "first line of usnet stats" "$(head -1 "$TMPD/s.txt")" "#usnetd"
bad=$(tail -n +2 "$TMPD/s.txt" | grep -Ev '^[A-Z][A-Za-z0-9_]+ +[0-9]+ +[0-9]+\.[0-9]$' || true)
[ -z "$bad" ] || fail "lines not 'Name value rate': $bad"
zeros=$(tail -n +2 "$TMPD/s.txt" | awk '$2 == 0' | head -3)
[ -z "$zeros" ] || fail "usnet stats printed zero counters without -a: $zeros"
grep -Eq '^IcmpInEchos +1 ' "$TMPD/s.txt" || fail "no 'IcmpInEchos 1' after one ping: $(cat "$TMPD/s.txt")"
ok "usnet stats: $(($(lines "$TMPD/s.txt") - 1)) non-zero counters, nstat's format"

usn stats -a >"$TMPD/a.txt" || fail "usnet stats -a failed"
stat_json "$TMPD/a.json"
njson=$("$PY" -c 'import json,sys; print(sum(len(g) for g in json.load(open(sys.argv[1])).values()))' \
	"$TMPD/a.json")
expect_eq "lines of usnet stats -a (+ header) = counters in JSON" "$(lines "$TMPD/a.txt")" $((njson + 1))
expect_eq "usnet stats -z = usnet stats -a" "$(usn stats -z | wc -l)" "$(lines "$TMPD/a.txt")"
expect_eq "usnet stats --zeros = usnet stats -a" "$(usn stats --zeros | wc -l)" "$(lines "$TMPD/a.txt")"
"$PY" - "$TMPD/a.json" "${REASONS[@]}" <<'EOF' || fail "usnet -j stats -a groups or drop reasons"
import json, sys
doc = json.load(open(sys.argv[1]))
want = ["Ip", "Icmp", "Tcp", "TcpExt", "Arp", "Drop"]
if list(doc) != want:
    sys.exit("groups: got %s, want %s" % (list(doc), want))
for g, counters in doc.items():
    for k, v in counters.items():
        if not isinstance(v, int) or v < 0:
            sys.exit("%s.%s = %r is not a count" % (g, k, v))
if sorted(doc["Drop"]) != sorted(sys.argv[2:]):
    sys.exit("Drop: %s, want %s" % (sorted(doc["Drop"]), sorted(sys.argv[2:])))
for k in ("ActiveOpens", "PassiveOpens", "InSegs", "OutSegs", "RetransSegs", "OutRsts"):
    if k not in doc["Tcp"]:
        sys.exit("Tcp.%s missing" % k)
for k in ("TCPTimeouts", "TCPLossProbes", "DelayedACKs", "ListenOverflows"):
    if k not in doc["TcpExt"]:
        sys.exit("TcpExt.%s missing" % k)
EOF
for r in "${REASONS[@]}"; do
	grep -Eq "^Drop$r +[0-9]+ " "$TMPD/a.txt" || fail "Drop$r missing from usnet stats -a"
done
ok "usnet stats -a: every counter, all ${#REASONS[@]} drop reasons"

# --- counters move ------------------------------------------------------------------------
stat_json "$TMPD/before.json"
for i in 1 2 3; do
	nsexec "$TOP_BUILDDIR/tests/tools/tcpclient" -t 10 echo 10.77.0.2 7 100000 >"$TMPD/echo$i.out" 2>&1 ||
		fail "tcpclient echo: $(cat "$TMPD/echo$i.out")"
done
ping_ok 2
nsexec "$PY" -c '
import socket, sys
try:
    socket.create_connection(("10.77.0.2", 1234), timeout=5)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("connection to a closed port was not refused")' || fail "no RST for a closed port"
# The last connections' FIN exchange is quick, but let it finish.
for ((i = 0; i < 50; i++)); do
	[ "$(usn sockets sport = :7 | tail -n +2 | grep -c .)" -eq 0 ] && break
	sleep 0.05
done
stat_json "$TMPD/after.json"

delta() {
	echo $(($(get "$TMPD/after.json" "$1" "$2") - $(get "$TMPD/before.json" "$1" "$2")))
}
expect_eq "TcpPassiveOpens after 3 connections" "$(delta Tcp PassiveOpens)" 3
expect_eq "TcpActiveOpens (usnet opened none)" "$(delta Tcp ActiveOpens)" 0
# 100000 bytes each way per connection: at least 69 full-sized segments
# (MSS 1460 without timestamps, 1448 with).
expect_ge "TcpInSegs after 3 x 100 kB" "$(delta Tcp InSegs)" $((3 * 69))
expect_ge "TcpOutSegs after 3 x 100 kB" "$(delta Tcp OutSegs)" $((3 * 69))
expect_ge "TcpExtTCPOrigDataSent" "$(delta TcpExt TCPOrigDataSent)" $((3 * 69))
expect_eq "IcmpInEchos after 2 pings" "$(delta Icmp InEchos)" 2
expect_eq "TcpOutRsts after one refused connection" "$(delta Tcp OutRsts)" 1
expect_eq "DropNO_SOCKET after one refused connection" "$(delta Drop NO_SOCKET)" 1
expect_eq "TcpEstabResets" "$(delta Tcp EstabResets)" 0

# `usnet stats` and `usnet -j status` count the same things.
usn -j status >"$TMPD/status.json" || fail "usnet -j status failed"
usn -j stats -a 'Tcp*' >"$TMPD/tcp.json" || fail "usnet -j stats -a 'Tcp*' failed"
"$PY" - "$TMPD/status.json" "$TMPD/tcp.json" <<'EOF' || fail "usnet stats and usnet status disagree"
import json, sys
st = json.load(open(sys.argv[1]))["counters"]
tc = json.load(open(sys.argv[2]))
if sorted(tc) != ["Tcp", "TcpExt"]:
    sys.exit("'Tcp*' selected groups %s" % sorted(tc))
for g in ("Tcp", "TcpExt"):
    if sorted(tc[g]) != sorted(st[g]):
        sys.exit("%s: different counters" % g)
    # Nothing runs between the two requests: the TCP counters are equal.
    diff = [k for k in tc[g] if tc[g][k] != st[g][k]]
    if diff:
        sys.exit("%s differs in %s" % (g, diff))
EOF
ok "usnet -j stats 'Tcp*' = the Tcp and TcpExt counters of usnet -j status"

# --- patterns ------------------------------------------------------------------------------
usn stats 'Tcp*' >"$TMPD/p.txt" || fail "usnet stats 'Tcp*' failed"
bad=$(tail -n +2 "$TMPD/p.txt" | grep -v '^Tcp' || true)
[ -z "$bad" ] || fail "usnet stats 'Tcp*' printed: $bad"
grep -q '^TcpPassiveOpens ' "$TMPD/p.txt" || fail "usnet stats 'Tcp*' has no TcpPassiveOpens"
expect_eq "usnet stats TcpPassiveOpens" "$(usn stats TcpPassiveOpens | tail -n +2 | awk '{print $1, $2}')" \
	"TcpPassiveOpens $(get "$TMPD/after.json" Tcp PassiveOpens)"
expect_eq "usnet stats tcppassiveopens (any case)" "$(usn stats tcppassiveopens | tail -n +2 | wc -l)" 1
expect_eq "usnet stats IcmpInEchos TcpPassiveOpens" \
	"$(usn stats IcmpInEchos TcpPassiveOpens | tail -n +2 | wc -l)" 2
expect_eq "usnet stats NoSuchCounter" "$(usn stats NoSuchCounter | wc -l)" 1
usn stats drops >"$TMPD/d.txt" || fail "usnet stats drops failed"
bad=$(tail -n +2 "$TMPD/d.txt" | grep -v '^Drop' || true)
[ -z "$bad" ] || fail "usnet stats drops printed: $bad"
grep -Eq '^DropNO_SOCKET +1 ' "$TMPD/d.txt" || fail "usnet stats drops: no DropNO_SOCKET 1: $(cat "$TMPD/d.txt")"
expect_eq "usnet stats -a drops" "$(usn stats -a drops | tail -n +2 | wc -l)" "${#REASONS[@]}"
expect_eq "usnet stats -a dr (prefix of drops)" "$(usn stats -a dr | tail -n +2 | wc -l)" "${#REASONS[@]}"
expect_eq "usnet -j stats drops" "$(usn -j stats drops)" \
	"$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["Drop"]
print(json.dumps({"Drop": {k: v for k, v in d.items() if v}}, separators=(",", ":")))' "$TMPD/after.json")"

# --- errors --------------------------------------------------------------------------------
for bad in "-x" "--bogus" "-aq"; do
	rc=$(run_capture "$TMPD/e.out" "$TMPD/e.err" "$USNET" --control "$SOCK" stats "$bad")
	expect_eq "usnet stats $bad: exit status" "$rc" 2
	[ -s "$TMPD/e.err" ] || fail "usnet stats $bad: nothing on stderr"
done
rc=$(run_capture "$TMPD/e.out" "$TMPD/e.err" "$USNET" --control "$SOCK" st)
expect_eq "usnet st (stats or status?): exit status" "$rc" 2
grep -q "ambiguous command 'st'" "$TMPD/e.err" || fail "usnet st: $(cat "$TMPD/e.err")"
rc=$(run_capture "$TMPD/e.out" "$TMPD/e.err" "$USNET" --control /nonexistent/sock stats)
expect_eq "usnet stats with no daemon: exit status" "$rc" 3
