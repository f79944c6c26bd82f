#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `usnet status`, human and JSON, against a running usnetd:
#  - the text names the link, the address 10.77.0.2/24 and every drop
#    reason of proto/drop.h;
#  - `usnet -j status` (and -j -p) is JSON (python3 -m json.tool) with the
#    version usnetd --version prints, the daemon's pid, link.name,
#    link.address, addresses[0] = 10.77.0.2/24 brd 10.77.0.255, the
#    connected route, counters.Ip.InReceives, and counters.Drop holding
#    exactly the reasons of proto/drop.h;
#  - errors: an unreachable control socket exits 3 with one line on stderr
#    naming the path (also for a socket file nobody listens on), an unknown
#    command exits 2 listing the valid ones, an unexpected argument exits
#    2, and an unambiguous prefix ("statu") works.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init status

DROP_H=$TOP_SRCDIR/proto/drop.h
[ -r "$DROP_H" ] || hard_error "$DROP_H not readable"
# The reasons, in order, from the X-macro list: X(NAME, "description").
mapfile -t REASONS < <(sed -n 's/^[[:space:]]*X(\([A-Z0-9_]*\),.*/\1/p' "$DROP_H")
[ ${#REASONS[@]} -ge 10 ] || hard_error "found only ${#REASONS[@]} drop reasons in $DROP_H"
log "${#REASONS[@]} drop reasons in proto/drop.h"

make_netns
start_usnetd
ping_ok 1

# --- text ---------------------------------------------------------------------
rc=$(run_capture "$TMPD/status.txt" "$TMPD/status.err" "$USNET" --control "$SOCK" status)
expect_eq "usnet status exit status" "$rc" 0
[ ! -s "$TMPD/status.err" ] || fail "usnet status wrote to stderr: $(cat "$TMPD/status.err")"
grep -Eq "^usnetd [^ ]+, pid $USNETD_PID," "$TMPD/status.txt" ||
	fail "usnet status does not start with 'usnetd VERSION, pid $USNETD_PID,': $(head -1 "$TMPD/status.txt")"
grep -Eq "^link $TAP \(tap, kernel side in netns $NS," "$TMPD/status.txt" ||
	fail "usnet status does not name link $TAP in netns $NS"
ok "text names link $TAP in netns $NS"
grep -Eq '^ +inet 10\.77\.0\.2/24 brd 10\.77\.0\.255$' "$TMPD/status.txt" ||
	fail "usnet status does not show 'inet 10.77.0.2/24 brd 10.77.0.255'"
ok "text shows 10.77.0.2/24"
grep -Eq '^ +10\.77\.0\.0/24 proto kernel src 10\.77\.0\.2 ' "$TMPD/status.txt" ||
	fail "usnet status does not show the connected route 10.77.0.0/24"
grep -Eq '^ +10\.77\.0\.1 lladdr ' "$TMPD/status.txt" ||
	fail "usnet status does not show neighbour 10.77.0.1"
grep -Eq '^ +IpInReceives +[0-9]+$' "$TMPD/status.txt" || fail "no IpInReceives line"
for r in "${REASONS[@]}"; do
	grep -Eq "^ +$r +[0-9]+$" "$TMPD/status.txt" || fail "drop reason $r missing from usnet status"
done
ok "text lists all ${#REASONS[@]} drop reasons"

# An unambiguous prefix is the command ("st" and "stat" are also stats).
rc=$(run_capture "$TMPD/st.txt" "$TMPD/st.err" "$USNET" --control "$SOCK" statu)
expect_eq "usnet statu exit status" "$rc" 0
grep -Eq "^link $TAP " "$TMPD/st.txt" || fail "usnet statu did not print the status: $(cat "$TMPD/st.txt" "$TMPD/st.err")"
ok "usnet statu prints the status"

# --- JSON ---------------------------------------------------------------------
for opts in "-j" "-j -p" "--json --pretty"; do
	# shellcheck disable=SC2086
	rc=$(run_capture "$TMPD/status.json" "$TMPD/json.err" "$USNET" $opts --control "$SOCK" status)
	expect_eq "usnet $opts status exit status" "$rc" 0
	"$PY" -m json.tool "$TMPD/status.json" >/dev/null 2>"$TMPD/jt.err" ||
		fail "usnet $opts status is not JSON: $(cat "$TMPD/jt.err"): $(head -c 300 "$TMPD/status.json")"
	ok "usnet $opts status parses with python3 -m json.tool"
done
"$USNET" -j --control "$SOCK" status >"$TMPD/s.json" || fail "usnet -j status failed"
[ "$(lines "$TMPD/s.json")" -eq 1 ] || fail "usnet -j status (without -p) is not one line"

version=$("$USNETD" --version) || fail "usnetd --version failed"
expect_eq "JSON version" "usnetd $(jget "$TMPD/s.json" version)" "$version"
expect_eq "JSON pid" "$(jget "$TMPD/s.json" pid)" "$USNETD_PID"
expect_eq "JSON link.name" "$(jget "$TMPD/s.json" link.name)" "$TAP"
expect_eq "JSON link.kind" "$(jget "$TMPD/s.json" link.kind)" tap
expect_eq "JSON link.netns" "$(jget "$TMPD/s.json" link.netns)" "$NS"
expect_eq "JSON link.ifindex" "$(jget "$TMPD/s.json" link.ifindex)" \
	"$(nsexec cat "/sys/class/net/$TAP/ifindex")"
expect_eq "JSON link.mtu" "$(jget "$TMPD/s.json" link.mtu)" 1500
mac=$(jget "$TMPD/s.json" link.address)
[[ $mac =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || fail "JSON link.address '$mac' is not a MAC"
(( 0x${mac:0:2} & 1 )) && fail "JSON link.address $mac is multicast"
(( 0x${mac:0:2} & 2 )) || fail "JSON link.address $mac is not locally administered"
ok "JSON link.address $mac is a locally administered unicast MAC"
expect_eq "JSON addresses[0].local" "$(jget "$TMPD/s.json" addresses.0.local)" 10.77.0.2
expect_eq "JSON addresses[0].prefixlen" "$(jget "$TMPD/s.json" addresses.0.prefixlen)" 24
expect_eq "JSON addresses[0].broadcast" "$(jget "$TMPD/s.json" addresses.0.broadcast)" 10.77.0.255
expect_eq "JSON addresses[0].family" "$(jget "$TMPD/s.json" addresses.0.family)" inet
expect_eq "JSON routes[0].dst" "$(jget "$TMPD/s.json" routes.0.dst)" 10.77.0.0/24
expect_eq "JSON routes[0].prefsrc" "$(jget "$TMPD/s.json" routes.0.prefsrc)" 10.77.0.2
expect_eq "JSON neighbours[0].dst" "$(jget "$TMPD/s.json" neighbours.0.dst)" 10.77.0.1
expect_ge "JSON counters.Ip.InReceives" "$(jget "$TMPD/s.json" counters.Ip.InReceives)" 1
expect_ge "JSON counters.Icmp.InEchos" "$(jget "$TMPD/s.json" counters.Icmp.InEchos)" 1

# counters.Drop: exactly proto/drop.h's reasons, each a number.
"$PY" - "$TMPD/s.json" "${REASONS[@]}" <<'EOF' || fail "counters.Drop does not match proto/drop.h"
import json, sys
drop = json.load(open(sys.argv[1]))["counters"]["Drop"]
want = sys.argv[2:]
missing = [r for r in want if r not in drop]
extra = [r for r in drop if r not in want]
notint = [r for r in drop if not isinstance(drop[r], int) or drop[r] < 0]
for what, l in (("missing", missing), ("not in drop.h", extra), ("not a count", notint)):
    if l:
        print("counters.Drop: %s: %s" % (what, " ".join(l)), file=sys.stderr)
sys.exit(1 if missing or extra or notint else 0)
EOF
ok "JSON counters.Drop has exactly the ${#REASONS[@]} reasons of proto/drop.h"

# --- errors -----------------------------------------------------------------------
rc=$(run_capture "$TMPD/e.out" "$TMPD/e.err" "$USNET" --control /nonexistent/sock status)
expect_eq "usnet --control /nonexistent/sock status exit status" "$rc" 3
expect_eq "lines on stderr for an unreachable daemon" "$(lines "$TMPD/e.err")" 1
grep -q '/nonexistent/sock' "$TMPD/e.err" || fail "the error does not name the path: $(cat "$TMPD/e.err")"
[ ! -s "$TMPD/e.out" ] || fail "usnet printed to stdout although usnetd is unreachable"
ok "unreachable: $(cat "$TMPD/e.err")"

# A socket file with nobody listening (a daemon that died) is "not running" too.
"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' \
	"$TMPD/dead.sock" || fail "cannot make a dead socket file"
rc=$(run_capture "$TMPD/d.out" "$TMPD/d.err" "$USNET" -j --control "$TMPD/dead.sock" status)
expect_eq "usnet status on a socket nobody listens on: exit status" "$rc" 3
expect_eq "lines on stderr for a dead socket" "$(lines "$TMPD/d.err")" 1
grep -q "$TMPD/dead.sock" "$TMPD/d.err" || fail "the error does not name the path: $(cat "$TMPD/d.err")"
[ ! -s "$TMPD/d.out" ] || fail "usnet -j printed to stdout although usnetd is unreachable: $(cat "$TMPD/d.out")"

rc=$(run_capture "$TMPD/b.out" "$TMPD/b.err" "$USNET" --control "$SOCK" bogus)
expect_eq "usnet bogus exit status" "$rc" 2
grep -q "unknown command 'bogus'" "$TMPD/b.err" || fail "usnet bogus: $(cat "$TMPD/b.err")"
grep -q 'status' "$TMPD/b.err" || fail "usnet bogus does not list the valid commands: $(cat "$TMPD/b.err")"
ok "usnet bogus: $(head -1 "$TMPD/b.err")"

rc=$(run_capture "$TMPD/x.out" "$TMPD/x.err" "$USNET" --control "$SOCK" status extra)
expect_eq "usnet status extra exit status" "$rc" 2
grep -q "'extra'" "$TMPD/x.err" || fail "usnet status extra does not name the argument: $(cat "$TMPD/x.err")"

rc=$(run_capture "$TMPD/o.out" "$TMPD/o.err" "$USNET" --bogus-option status)
expect_eq "usnet --bogus-option exit status" "$rc" 2
grep -q -- '--bogus-option' "$TMPD/o.err" || fail "usnet --bogus-option: $(cat "$TMPD/o.err")"

rc=$(run_capture "$TMPD/n.out" "$TMPD/n.err" "$USNET")
expect_eq "usnet without a command exit status" "$rc" 2

# The daemon answered all of that and is still fine.
usnet_up "$SOCK" || fail "usnetd stopped answering"
kill -0 "$USNETD_PID" || fail "usnetd died"
