#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `usnet sockets` against usnetd running --service echo:7,discard:9,chargen:19,
# with the kernel in the namespace as the client:
#  - ss's -a/-l semantics: the default lists connections only, -l the three
#    listeners (Send-Q = backlog = somaxconn 4096, peer 0.0.0.0:*), -a both;
#    user nobody may list them too (read-only commands are for everyone);
#  - a connection that echoed "hello" is listed as ESTAB 10.77.0.2:7 <->
#    10.77.0.1:PORT, and -i prints ss's info line (cubic, wscale, rto, rtt,
#    mss, cwnd, bytes_acked, bytes_received);
#  - `usnet -j sockets` is a JSON array (python3) whose numbers are integers,
#    and agrees with the kernel's `ss -tni` view of the same connection:
#    ports mirrored, each side's window scale the other's, the same MSS, the
#    bytes one side sent the bytes the other received;
#  - ss's filters: state/exclude, sport/dport with operators, src/dst with a
#    prefix; bad filters exit 2 listing the valid words;
#  - a connection whose handshake ACK the kernel drops (nftables) is a
#    SYN-RECV entry with a retransmit timer under -o;
#  - 10,000 connections held open by the kernel are all listed, in text
#    (usnet sockets | wc -l) and in JSON, and -l still finds 3 listeners.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init cli_sockets

N_MANY=${CLI_SOCKETS_MANY:-10000}

make_netns
start_usnetd --service echo:7,discard:9,chargen:19

usn() { "$USNET" --control "$SOCK" "$@"; }

# hold.py HOST PORT N PORTFILE [TEXT]: open N connections (echoing TEXT on
# each), write the first one's local port to PORTFILE, then hold them open
# until killed.
cat >"$TMPD/hold.py" <<'EOF'
import os, resource, socket, sys, time
host, port, n, portfile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
text = sys.argv[5].encode() if len(sys.argv) > 5 else b""
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if n + 64 > soft:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
socks = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    if text:
        s.sendall(text)
        got = b""
        while len(got) < len(text):
            d = s.recv(4096)
            if not d:
                sys.exit("hold.py: connection %d closed before the echo" % i)
            got += d
        if got != text:
            sys.exit("hold.py: connection %d: wrong echo %r" % (i, got))
    socks.append(s)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % socks[0].getsockname()[1])
os.rename(portfile + ".tmp", portfile)
time.sleep(3600)
EOF

# hold NAME PORT N [TEXT]: start hold.py in $NS (ip netns exec execs it, so
# HOLD_PID is python's own PID) and wait for its port file. The test kills
# it; cleanup does too.
HOLD_PID=
hold() {
	local name=$1 port=$2 n=$3 text=${4:-} pid i

	# shellcheck disable=SC2086 # no TEXT, no argument
	ip netns exec "$NS" "$PY" "$TMPD/hold.py" 10.77.0.2 "$port" "$n" "$TMPD/$name.port" $text \
		>"$TMPD/$name.log" 2>&1 &
	pid=$!
	HOLD_PID=$pid
	IT_HELPERS+=("$pid")
	for ((i = 0; i < 1200; i++)); do
		[ -s "$TMPD/$name.port" ] && break
		kill -0 "$pid" 2>/dev/null || fail "hold.py $name exited: $(cat "$TMPD/$name.log")"
		sleep 0.05
	done
	[ -s "$TMPD/$name.port" ] || fail "hold.py $name: $n connections not open within 60 s"
}

# socket lines of `usnet sockets ARGS` (the header excluded)
nsocks() {
	local out

	out=$(usn sockets "$@") || fail "usnet sockets $* failed (exit $?)"
	printf '%s\n' "$out" | tail -n +2 | grep -c . || true
}

# --- listeners: ss's -l and -a, and the default ---------------------------------
rc=$(run_capture "$TMPD/l.txt" "$TMPD/l.err" "$USNET" --control "$SOCK" sockets -l)
expect_eq "usnet sockets -l exit status" "$rc" 0
[ ! -s "$TMPD/l.err" ] || fail "usnet sockets -l wrote to stderr: $(cat "$TMPD/l.err")"
head -1 "$TMPD/l.txt" | grep -Eq '^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port$' ||
	fail "usnet sockets -l header: $(head -1 "$TMPD/l.txt")"
for p in 7 9 19; do
	grep -Eq "^LISTEN +0 +4096 +0\.0\.0\.0:$p +0\.0\.0\.0:\*$" "$TMPD/l.txt" ||
		fail "no 'LISTEN 0 4096 0.0.0.0:$p 0.0.0.0:*' in: $(cat "$TMPD/l.txt")"
done
expect_eq "listeners in usnet sockets -l" "$(nsocks -l)" 3
expect_eq "sockets in usnet sockets (no connection yet)" "$(nsocks)" 0
expect_eq "sockets in usnet sockets -a" "$(nsocks -a)" 3
expect_eq "usnet sockets state listening" "$(nsocks state listening)" 3
expect_eq "usnet sockets --listening (long option)" "$(nsocks --listening)" 3
expect_eq "usnet sockets --list (prefix of --listening)" "$(nsocks --list)" 3

# Read-only commands are for every user: nobody may list sockets and counters.
if command -v setpriv >/dev/null; then
	chmod 711 "$TMPD" # the socket itself is mode 0666
	for cmd in "sockets -l" "stats -a"; do
		# shellcheck disable=SC2086
		rc=$(run_capture "$TMPD/n.out" "$TMPD/n.err" setpriv --reuid=65534 --regid=65534 \
			--clear-groups "$USNET" --control "$SOCK" $cmd)
		if [ "$rc" -eq 126 ] || grep -q 'Permission denied' "$TMPD/n.err"; then
			log "user nobody cannot run $USNET here; unprivileged check skipped"
			break
		fi
		expect_eq "usnet $cmd as user nobody: exit status" "$rc" 0
		[ -s "$TMPD/n.out" ] || fail "usnet $cmd as nobody printed nothing"
	done
	chmod 700 "$TMPD"
fi

# --- one echo connection -------------------------------------------------------------
hold echo 7 1 hello
hold_pid=$HOLD_PID
cport=$(cat "$TMPD/echo.port")
log "kernel holds an echo connection from port $cport"

rc=$(run_capture "$TMPD/s.txt" "$TMPD/s.err" "$USNET" --control "$SOCK" sockets)
expect_eq "usnet sockets exit status" "$rc" 0
grep -Eq "^ESTAB +0 +0 +10\.77\.0\.2:7 +10\.77\.0\.1:$cport$" "$TMPD/s.txt" ||
	fail "no 'ESTAB 0 0 10.77.0.2:7 10.77.0.1:$cport' in: $(cat "$TMPD/s.txt")"
expect_eq "sockets in usnet sockets" "$(nsocks)" 1
expect_eq "sockets in usnet sockets -a" "$(nsocks -a)" 4
ok "usnet sockets lists the connection and hides the listeners"

usn sockets -i >"$TMPD/i.txt" || fail "usnet sockets -i failed"
info=$(grep -A1 -E "^ESTAB .*10\.77\.0\.1:$cport$" "$TMPD/i.txt" | sed -n 2p)
[[ $info == $'\t'* ]] || fail "usnet sockets -i: no tab-indented info line: $(cat "$TMPD/i.txt")"
for re in ' ts sack cubic ' ' wscale:[0-9]+,[0-9]+ ' ' rto:[0-9.]+ ' ' rtt:[0-9.]+/[0-9.]+ ' \
	' mss:[0-9]+ ' ' cwnd:[0-9]+ ' ' bytes_acked:5 ' ' bytes_received:5 ' ' segs_in:[0-9]+ ' \
	' data_segs_in:1 ' ' rcv_space:[0-9]+ ' ' minrtt:[0-9.]+'; do
	[[ $info =~ $re ]] || fail "usnet sockets -i: no '$re' in:$info"
done
ok "info line:$info"

# --- JSON, and the kernel's view of the same connection ---------------------------
rc=$(run_capture "$TMPD/s.json" "$TMPD/j.err" "$USNET" -j --control "$SOCK" sockets -a)
expect_eq "usnet -j sockets -a exit status" "$rc" 0
"$PY" -m json.tool "$TMPD/s.json" >/dev/null 2>"$TMPD/jt.err" ||
	fail "usnet -j sockets -a is not JSON: $(cat "$TMPD/jt.err")"
usn -j -p sockets >"$TMPD/sp.json" || fail "usnet -j -p sockets failed"
"$PY" -m json.tool "$TMPD/sp.json" >/dev/null || fail "usnet -j -p sockets is not JSON"
nsexec ss -tniH state established "( dport = :7 and sport = :$cport )" >"$TMPD/ss.txt" ||
	fail "ss -tni failed"
log "ss: $(tr '\n\t' '  ' <"$TMPD/ss.txt")"

"$PY" - "$TMPD/s.json" "$TMPD/ss.txt" "$cport" <<'EOF' || fail "usnet -j sockets vs ss -tni"
import json, re, sys
socks = json.load(open(sys.argv[1]))
ss = open(sys.argv[2]).read()
cport = int(sys.argv[3])
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append("%s: got %r, want %r" % (what, got, exp))
if not isinstance(socks, list):
    sys.exit("not an array")
for s in socks:
    for k, v in s.items():
        if isinstance(v, float):
            bad.append("%s:%s is not an integer: %r" % (s.get("state"), k, v))
want("sockets listed by -a", len(socks), 4)
lst = sorted(s["local_port"] for s in socks if s["state"] == "LISTEN")
want("listener ports", lst, [7, 9, 19])
for s in socks:
    if s["state"] == "LISTEN":
        want("listener send_q", s["send_q"], 4096)
        want("listener peer", (s["peer_address"], s["peer_port"]), ("0.0.0.0", 0))
est = [s for s in socks if s["state"] == "ESTAB"]
want("ESTAB entries", len(est), 1)
e = est[0]
want("local", (e["local_address"], e["local_port"]), ("10.77.0.2", 7))
want("peer", (e["peer_address"], e["peer_port"]), ("10.77.0.1", cport))
want("congestion", e["congestion"], "cubic")
for k in ("rto_us", "rtt_us", "mss", "cwnd", "advmss", "pmtu", "rcv_space", "segs_in",
          "segs_out", "minrtt_us"):
    if not isinstance(e.get(k), int) or e[k] <= 0:
        bad.append("%s: %r is not a positive integer" % (k, e.get(k)))
want("rto_us at least 200 ms", e["rto_us"] >= 200000, True)
want("rtt_us below 1 s", e["rtt_us"] < 1000000, True)
want("ts", e["ts"], True)
want("sack", e["sack"], True)
want("retrans", (e["retrans"], e["retrans_total"]), (0, 0))
want("bytes_received", e["bytes_received"], 5)
want("bytes_acked", e["bytes_acked"], 5)
want("recv_q, send_q", (e["recv_q"], e["send_q"]), (0, 0))
# The kernel's line: local and peer, then its tcp_info.
lines = ss.strip().split("\n")
want("ss lines", len(lines), 2)
m = re.search(r"10\.77\.0\.1:(\d+)\s+10\.77\.0\.2:(\d+)", lines[0])
if not m:
    sys.exit("ss: no 10.77.0.1:P 10.77.0.2:7 in %r" % lines[0])
want("ss local port = usnet peer port", int(m.group(1)), e["peer_port"])
want("ss peer port = usnet local port", int(m.group(2)), e["local_port"])
k = dict(re.findall(r"\b([a-z_]+):([0-9.,/]+)", lines[1]))
snd, rcv = (int(x) for x in k["wscale"].split(","))
want("usnet snd_wscale = kernel rcv_wscale", e["snd_wscale"], rcv)
want("usnet rcv_wscale = kernel snd_wscale", e["rcv_wscale"], snd)
want("usnet mss = kernel mss", e["mss"], int(k["mss"]))
want("usnet bytes_received = kernel bytes_sent", e["bytes_received"], int(k["bytes_sent"]))
want("usnet bytes_acked = kernel bytes_received", e["bytes_acked"], int(k["bytes_received"]))
want("rcvmss at least 536", e["rcvmss"] >= 536, True)
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
ok "JSON agrees with ss -tni: ports, window scales, MSS, bytes"

# --- filters ---------------------------------------------------------------------------
expect_eq "sport = :7" "$(nsocks sport = :7)" 1
expect_eq "sport :9 (no connection)" "$(nsocks sport :9)" 0
expect_eq "-a sport != :7" "$(nsocks -a sport != :7)" 2
expect_eq "-a sport eq 7" "$(nsocks -a sport eq 7)" 2
expect_eq "-a sport \\< :10" "$(nsocks -a sport '<' :10)" 3
expect_eq "-a sport ge :9" "$(nsocks -a sport ge :9)" 2
expect_eq "dport = :$cport" "$(nsocks dport = ":$cport")" 1
expect_eq "dst 10.77.0.1" "$(nsocks dst 10.77.0.1)" 1
expect_eq "dst 10.77.0.0/24:$cport" "$(nsocks dst "10.77.0.0/24:$cport")" 1
expect_eq "src 10.77.0.3" "$(nsocks src 10.77.0.3)" 0
expect_eq "-a exclude listening" "$(nsocks -a exclude listening)" 1
expect_eq "state established" "$(nsocks state established)" 1
expect_eq "state est (prefix)" "$(nsocks state est)" 1
expect_eq "state all" "$(nsocks state all)" 4
expect_eq "state connected" "$(nsocks state connected)" 1
expect_eq "state time-wait" "$(nsocks state time-wait)" 0
expect_eq "so (prefix of sockets)" "$(usn so | tail -n +2 | grep -c .)" 1

for bad in "state fin" "sport" "sport = :x" "s 7" "src 10.77.0.300" "-x" "--bogus" \
	"src < 10.77.0.1" "state bogus"; do
	# shellcheck disable=SC2086
	rc=$(run_capture "$TMPD/b.out" "$TMPD/b.err" "$USNET" --control "$SOCK" sockets $bad)
	expect_eq "usnet sockets $bad: exit status" "$rc" 2
	[ -s "$TMPD/b.err" ] || fail "usnet sockets $bad: nothing on stderr"
	[ ! -s "$TMPD/b.out" ] || fail "usnet sockets $bad: printed to stdout: $(cat "$TMPD/b.out")"
done
grep -q "unknown state 'bogus'" "$TMPD/b.err" && grep -q "valid states: established syn-sent" "$TMPD/b.err" ||
	fail "usnet sockets state bogus does not list the states: $(cat "$TMPD/b.err")"
rc=$(run_capture "$TMPD/b.out" "$TMPD/b.err" "$USNET" --control /nonexistent/sock sockets)
expect_eq "usnet sockets with no daemon: exit status" "$rc" 3

kill "$hold_pid"
wait "$hold_pid" 2>/dev/null

# --- SYN-RECV: the kernel's handshake ACK to chargen is dropped ------------------------
if nsexec nft -f - <<'EOF' 2>"$TMPD/nft.err"; then
table inet cli_sockets {
	chain out {
		type filter hook output priority 0;
		ip daddr 10.77.0.2 tcp dport 19 tcp flags & (syn | rst) == 0 drop
	}
}
EOF
	# Closed with a RST on SIGTERM, which the rule lets through, so
	# that usnet forgets the request before the rule goes.
	ip netns exec "$NS" "$PY" -c '
import signal, socket, struct, sys, time
s = socket.socket()
s.setblocking(False)
s.connect_ex(("10.77.0.2", 19))
def bye(*a):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
time.sleep(60)' >/dev/null 2>&1 &
	half_pid=$!
	IT_HELPERS+=("$half_pid")
	for ((i = 0; i < 100; i++)); do
		[ "$(nsocks state syn-recv)" -ge 1 ] && break
		sleep 0.05
	done
	usn sockets -o state syn-recv >"$TMPD/sr.txt" || fail "usnet sockets -o state syn-recv failed"
	grep -Eq '^SYN-RECV +0 +0 +10\.77\.0\.2:19 +10\.77\.0\.1:[0-9]+ +timer:\(on,[0-9.]+(ms|sec),[0-9]+\)$' \
		"$TMPD/sr.txt" || fail "no SYN-RECV with a retransmit timer in: $(cat "$TMPD/sr.txt")"
	ok "half-open: $(tail -1 "$TMPD/sr.txt")"
	expect_eq "SYN-RECV hidden by default (as ss)" "$(nsocks sport = :19)" 0
	usn -j sockets state syn-recv >"$TMPD/sr.json" || fail "usnet -j sockets state syn-recv failed"
	"$PY" - "$TMPD/sr.json" <<'EOF' || fail "SYN-RECV JSON: $(cat "$TMPD/sr.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s) == 1 and s[0]["state"] == "SYN-RECV" and s[0]["local_port"] == 19, s
t = s[0]["timer"]
assert t["name"] == "on" and 0 < t["expires_us"] <= 64000000, t
assert "rto_us" not in s[0], "a request sock has no tcp_info"
EOF
	kill "$half_pid"
	wait "$half_pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		[ "$(nsocks -a sport = :19)" -eq 1 ] && break
		sleep 0.05
	done
	expect_eq "chargen sockets once the kernel reset the half-open one" \
		"$(nsocks -a sport = :19)" 1
	nsexec nft delete table inet cli_sockets
else
	log "nftables unusable here ($(cat "$TMPD/nft.err")); SYN-RECV check skipped"
fi

# --- many connections ------------------------------------------------------------------
t=$(date +%s%N)
hold many 9 "$N_MANY"
many_pid=$HOLD_PID
log "kernel opened $N_MANY connections to discard in $((($(date +%s%N) - t) / 1000000)) ms"
t=$(date +%s%N)
n=$(usn sockets | wc -l) || fail "usnet sockets with $N_MANY connections failed"
log "usnet sockets | wc -l: $n in $((($(date +%s%N) - t) / 1000000)) ms"
expect_eq "usnet sockets | wc -l with $N_MANY connections (+ header)" "$n" $((N_MANY + 1))
expect_eq "established to port 9" "$(nsocks state established sport = :9)" "$N_MANY"
t=$(date +%s%N)
usn -j sockets >"$TMPD/many.json" || fail "usnet -j sockets with $N_MANY connections failed"
log "usnet -j sockets: $(wc -c <"$TMPD/many.json") bytes in $((($(date +%s%N) - t) / 1000000)) ms"
expect_eq "JSON entries with $N_MANY connections" \
	"$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMPD/many.json")" \
	"$N_MANY"
expect_eq "kernel's own count (ss)" "$(nsexec ss -tnH state established dport = :9 | wc -l)" \
	"$N_MANY"
expect_eq "listeners with $N_MANY connections" "$(nsocks -l)" 3
kill "$many_pid"
wait "$many_pid" 2>/dev/null

usnet_up "$SOCK" || fail "usnetd stopped answering"
