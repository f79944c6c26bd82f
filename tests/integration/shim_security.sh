#!/bin/bash
# SPDX-License-Identifier: MIT
#
# One process cannot reach another's usnet sockets or segments; ports
# below 1024 need what the kernel would need; `usnet sockets` shows a user
# only its own sockets (and usnetd's). Two programs hold sockets under
# usnet, one as root and one as nobody: a listener each and a connection
# to a kernel echo server. Then:
#  - forge (tests/tools/forge.c) speaks the control protocol itself, as
#    nobody: requests naming another session's sockets, wrong and stale
#    generations, garbage ids, malformed records (ids); every identifier of
#    the first sessions, which include the two holders' (sweep); a watch
#    entry naming another process's doorbell (doorbell); hellos passing
#    segments that are not its own, among them a file with a segment's
#    inode number on another file system (segs). Each is refused with a
#    clear errno, usnetd keeps serving, and it logs nothing per request;
#  - no other process, of another user or of the same one, can open a
#    holder's segment through /proc/PID/fd;
#  - as root, forge hands its channel to a child that becomes nobody: the
#    child cannot bind port 82 on root's behalf; nor can forge itself once
#    it has a set-user-ID image's credentials (bindas);
#  - bind to port 80: refused to nobody, refused to nobody with every
#    capability in a user namespace of its own (unshare -r), allowed to
#    nobody granted CAP_NET_BIND_SERVICE (ambient); each first checked on
#    kernel sockets, which must agree;
#  - `usnet sockets` as root lists everything, as nobody its own sockets
#    (TIME-WAIT included) and usnetd's echo service but none of root's
#    (listener, TIME-WAIT), as a third user only the service.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_security

FORGE=$(tool forge)
SHIMCHECK=$(tool shimcheck)
NOBODY=65534
OTHER=65533

command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"

make_netns
start_usnetd --service echo:7
shim_env
ping_ok 1

# as UID CMD...: run CMD as UID (its group too), with no capabilities.
as() {
	local uid=$1

	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all "$@"
}
AS_NOBODY=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups --inh-caps=-all)

chmod 755 "$TMPD"
chmod 666 "$SOCK"
mkdir -m 1777 "$TMPD/run"
as "$NOBODY" "$USNET" --control "$SOCK" status >/dev/null 2>&1 ||
	skip "user nobody cannot run $USNET here (a build tree it cannot read?)"

# --- two holders -------------------------------------------------------------
kernel_echo 7007

# hold.py PORT NAME: listen on PORT, connect to the kernel's echo server,
# write the connection's local port to run/NAME.ready; close the
# connection when run/NAME.close appears, then wait.
cat >"$TMPD/hold.py" <<'PY'
import os, socket, sys, time
port, name = int(sys.argv[1]), sys.argv[2]
run = os.path.join(os.path.dirname(sys.argv[0]), "run")
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", port))
l.listen(4)
c = socket.create_connection(("10.77.0.1", 7007))
c.sendall(b"x")
assert c.recv(1) == b"x"
with open(os.path.join(run, name + ".ready"), "w") as f:
    f.write("%d\n" % c.getsockname()[1])
while not os.path.exists(os.path.join(run, name + ".close")):
    time.sleep(0.05)
c.close()
time.sleep(300)
PY
chmod 644 "$TMPD/hold.py"

# hold UID PORT NAME: start hold.py under usnet as UID; sets HOLD_PID and
# HOLD_CPORT (the connection's local port).
hold() {
	local uid=$1 port=$2 name=$3 i

	# exec: HOLD_PID is the program's own pid (usnet run execs it too)
	(exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all "$USNET" \
		--control "$SOCK" run -- python3 "$TMPD/hold.py" "$port" "$name") \
		>"$TMPD/hold-$name.log" 2>&1 &
	HOLD_PID=$!
	IT_HELPERS+=("$HOLD_PID")
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMPD/run/$name.ready" ] && break
		kill -0 "$HOLD_PID" 2>/dev/null || fail "holder $name exited: $(cat "$TMPD/hold-$name.log")"
		sleep 0.05
	done
	[ -s "$TMPD/run/$name.ready" ] || fail "holder $name not ready in 5 s"
	HOLD_CPORT=$(cat "$TMPD/run/$name.ready")
}

hold 0 5001 root
ROOT_PID=$HOLD_PID
ROOT_CPORT=$HOLD_CPORT
hold "$NOBODY" 5002 nobody
NOBODY_PID=$HOLD_PID
NOBODY_CPORT=$HOLD_CPORT
log "holders: root pid $ROOT_PID (listens on 5001, connection from $ROOT_CPORT)," \
	"nobody pid $NOBODY_PID (5002, $NOBODY_CPORT)"

# --- forged requests ---------------------------------------------------------
status_json >"$TMPD/before.json"
log_lines=$(lines "$USNETD_LOG")

# forge_ok NAME CMD...: run CMD (forge, perhaps through setpriv); fail
# with its FAIL lines unless every check passed.
forge_ok() {
	local name=$1 rc

	shift
	rc=$(run_capture "$TMPD/forge-$name.out" "$TMPD/forge-$name.err" "$@")
	if [ "$rc" -eq 0 ]; then
		ok "forge $name: $(grep -c '^ok' "$TMPD/forge-$name.out") checks"
	else
		soft_fail "forge $name (exit $rc): $(grep -h 'FAIL\|forge:' "$TMPD/forge-$name.out" \
			"$TMPD/forge-$name.err" | tr '\n' ' ')"
	fi
	grep '^skip' "$TMPD/forge-$name.out" | while read -r l; do log "forge $name: $l"; done
	return 0
}

forge_ok ids "${AS_NOBODY[@]}" "$FORGE" "$SOCK" ids
forge_ok sweep "${AS_NOBODY[@]}" "$FORGE" "$SOCK" sweep 16
forge_ok doorbell "${AS_NOBODY[@]}" "$FORGE" "$SOCK" doorbell
# segs: a tmpfs of its own, so that its inode counter starts low and forge
# can make a file with a segment's inode number (memfds' are small too).
mkdir "$TMPD/fs"
if unshare -m true 2>/dev/null; then
	# shellcheck disable=SC2016 # expanded by that sh
	forge_ok segs unshare -m sh -c 'mount -t tmpfs -o mode=1777 forge "$1" && shift && exec "$@"' \
		sh "$TMPD/fs" "${AS_NOBODY[@]}" "$FORGE" "$SOCK" segs "$TMPD/fs"
	grep -q 'another file system' "$TMPD/forge-segs.out" ||
		log "segs: no file with a segment's inode number could be made; that check did not run"
else
	forge_ok segs "${AS_NOBODY[@]}" "$FORGE" "$SOCK" segs
fi
forge_ok bindas "$FORGE" "$SOCK" bindas "$NOBODY"

# usnetd keeps serving, counted every request and logged none of them
# (the sweep alone makes 1,088; a freed slot is reused at once, so the
# stale-slot checks of ids make only a few).
kill -0 "$USNETD_PID" 2>/dev/null || fail "usnetd died"
status_json >"$TMPD/after.json"
n=$(($(counter "$TMPD/after.json" Worker ctl_requests) - $(counter "$TMPD/before.json" Worker ctl_requests)))
expect_ge "control requests usnetd answered meanwhile" "$n" 1088
expect_le "lines usnetd logged meanwhile" $(($(lines "$USNETD_LOG") - log_lines)) 5
"$USNET" --control "$SOCK" run -- "$SHIMCHECK" 10.77.0.1 7007 7008 >"$TMPD/after.out" 2>&1 ||
	fail "shimcheck after the forgeries: $(grep -v '^ok' "$TMPD/after.out" | tr '\n' ' ')"
ok "a normal client still works: $(grep -c '^ok' "$TMPD/after.out") checks"

# --- segments through /proc ----------------------------------------------------
# segfd PID: the holder's descriptor of its usnet segment
segfd() {
	local f

	for f in /proc/"$1"/fd/*; do
		case $(readlink "$f") in
		/memfd:usnet-*) echo "${f##*/}"; return 0 ;;
		esac
	done
	fail "no usnet segment among the descriptors of pid $1"
}

# The holders are usnet run's children after exec: the same pids.
fd=$(segfd "$ROOT_PID")
forge_ok "openfd root's, as uid $OTHER" as "$OTHER" "$FORGE" openfd "$ROOT_PID" "$fd"
fd=$(segfd "$NOBODY_PID")
forge_ok "openfd nobody's, as uid $OTHER" as "$OTHER" "$FORGE" openfd "$NOBODY_PID" "$fd"
forge_ok "openfd nobody's, as nobody" as "$NOBODY" "$FORGE" openfd "$NOBODY_PID" "$fd"

# --- ports below 1024 ------------------------------------------------------------
# ports_free: wait (up to 2 s) until no socket is bound to port 80 or
# 8080, which the last shimcheck privport left to usnetd to close when it
# saw the process's placeholders hang up.
ports_free() {
	local i

	for ((i = 0; i < 40; i++)); do
		"$USNET" -j --control "$SOCK" sockets state all | "$PY" -c '
import json, sys
sys.exit(any(s["local_port"] in (80, 8080) for s in json.load(sys.stdin)))' && return 0
		sleep 0.05
	done
	fail "ports 80 and 8080 still bound 2 s after shimcheck exited"
}

# privport NAME EXPECT CMD...: shimcheck privport [granted] under CMD, first
# on the kernel's sockets (in $NS), then on usnet's.
privport() {
	local name=$1 mode=$2 rc

	shift 2
	ports_free
	rc=$(run_capture "$TMPD/pk-$name.out" "$TMPD/pk-$name.err" ip netns exec "$NS" "$@" \
		"$SHIMCHECK" privport ${mode:+"$mode"})
	[ "$rc" -eq 0 ] || fail "$name: the kernel disagrees with the check: $(cat "$TMPD/pk-$name.out" \
		"$TMPD/pk-$name.err" | tr '\n' ' ')"
	rc=$(run_capture "$TMPD/pu-$name.out" "$TMPD/pu-$name.err" "$@" "$USNET" --control "$SOCK" \
		run -- "$SHIMCHECK" privport ${mode:+"$mode"})
	if [ "$rc" -eq 0 ]; then
		ok "$name: $(grep '80' "$TMPD/pu-$name.out" | head -1 | sed 's/^ok: //')"
	else
		soft_fail "$name under usnet: $(cat "$TMPD/pu-$name.out" "$TMPD/pu-$name.err" | tr '\n' ' ')"
	fi
}

privport nobody "" "${AS_NOBODY[@]}"
if "${AS_NOBODY[@]}" unshare -r true 2>/dev/null; then
	privport "nobody in its own user namespace" "" "${AS_NOBODY[@]}" unshare -r
else
	log "unprivileged user namespaces are off here: that check did not run"
fi
privport "nobody with CAP_NET_BIND_SERVICE" granted \
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
	--inh-caps=-all,+net_bind_service --ambient-caps=+net_bind_service

# --- usnet sockets, per user ----------------------------------------------------
# Root's connection ends first: usnet keeps its TIME-WAIT entry.
touch "$TMPD/run/root.close"
for ((i = 0; i < 50; i++)); do
	"$USNET" --control "$SOCK" sockets state time-wait | grep -q ":$ROOT_CPORT " && break
	sleep 0.1
done

# seen UID: "local_port/peer_port/state" of every socket UID lists (-a)
seen() {
	local out

	if [ "$1" -eq 0 ]; then
		out=$("$USNET" -j --control "$SOCK" sockets -a) || fail "usnet sockets -a as root failed"
	else
		out=$(as "$1" "$USNET" -j --control "$SOCK" sockets -a) ||
			fail "usnet sockets -a as uid $1 failed"
	fi
	printf '%s\n' "$out" | "$PY" -c '
import json, sys
for s in json.load(sys.stdin):
    print("%d/%d/%s/%s" % (s["local_port"], s["peer_port"], s["state"], s.get("uid", "-")))'
}

# expect_seen UID WHAT PATTERN YES|NO
expect_seen() {
	if grep -q "$3" "$TMPD/seen-$1"; then
		[ "$4" = yes ] || { soft_fail "uid $1 sees $2: $(grep "$3" "$TMPD/seen-$1")"; return; }
	else
		[ "$4" = no ] || { soft_fail "uid $1 does not see $2"; return; }
	fi
	ok "uid $1 $([ "$4" = yes ] && echo sees || echo "does not see") $2"
}

for u in 0 "$NOBODY" "$OTHER"; do
	seen "$u" >"$TMPD/seen-$u"
done
log "root sees: $(tr '\n' ' ' <"$TMPD/seen-0")"
expect_seen 0 "the echo service" "^7/0/LISTEN/-$" yes
expect_seen 0 "its own listener" "^5001/0/LISTEN/0$" yes
expect_seen 0 "its own TIME-WAIT" "^$ROOT_CPORT/7007/TIME-WAIT/0$" yes
expect_seen 0 "nobody's listener" "^5002/0/LISTEN/$NOBODY$" yes
expect_seen 0 "nobody's connection" "^$NOBODY_CPORT/7007/ESTAB/$NOBODY$" yes
expect_seen "$NOBODY" "the echo service" "^7/0/LISTEN/" yes
expect_seen "$NOBODY" "its own listener" "^5002/0/LISTEN/" yes
expect_seen "$NOBODY" "its own connection" "^$NOBODY_CPORT/7007/ESTAB/" yes
expect_seen "$NOBODY" "root's listener" "^5001/" no
expect_seen "$NOBODY" "root's TIME-WAIT" "^$ROOT_CPORT/" no
expect_seen "$OTHER" "the echo service" "^7/0/LISTEN/" yes
expect_seen "$OTHER" "root's or nobody's sockets" "^\(5001\|5002\|$ROOT_CPORT\|$NOBODY_CPORT\)/" no
expect_eq "sockets uid $OTHER sees" "$(lines "$TMPD/seen-$OTHER")" 1

# nobody's connection ends too: its TIME-WAIT entry is still nobody's.
touch "$TMPD/run/nobody.close"
for ((i = 0; i < 50; i++)); do
	"$USNET" --control "$SOCK" sockets state time-wait | grep -q ":$NOBODY_CPORT " && break
	sleep 0.1
done
seen "$NOBODY" >"$TMPD/seen-$NOBODY"
expect_seen "$NOBODY" "its own TIME-WAIT" "^$NOBODY_CPORT/7007/TIME-WAIT/$NOBODY$" yes
