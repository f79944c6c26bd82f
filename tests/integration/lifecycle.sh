#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Starting and stopping usnetd:
#  - SIGHUP does not stop usnetd (reload is not supported yet: it says so);
#  - SIGTERM, and then SIGINT, end a foreground usnetd with exit status 0;
#    its TAP is gone from the namespace and its control socket file is
#    removed (and a socket directory it created, too);
#  - without -f, `usnetd` returns 0 only once the daemon answers: `usnet
#    status` works at once, the pid it reports is a live process other
#    than the one we started (which has exited), in a session of its own;
#    the daemon keeps running, answers ping, and stops cleanly on SIGTERM;
#  - without -f, a start that fails returns non-zero with the reason on
#    stderr;
#  - usnetd can be started again on the same TAP right after it exited,
#    30 times in a row: the TAP is gone when usnetd is;
#  - a stale socket file left by a dead process does not prevent a start.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init lifecycle

make_netns

# gone_after_stop WHAT SOCKET: once usnetd has exited, SOCKET must be gone,
# and the TAP too. (That the TAP is gone at once, so that usnetd can be
# started again right away, is the restart check below; here it may take
# up to 2 s.)
gone_after_stop() {
	local i

	[ ! -e "$2" ] || fail "$1: control socket $2 still exists"
	for ((i = 0; i < 40; i++)); do
		nsexec ip link show "$TAP" >/dev/null 2>&1 || break
		sleep 0.05
	done
	nsexec ip link show "$TAP" >/dev/null 2>&1 && fail "$1: TAP $TAP still exists in $NS 2 s after usnetd exited"
	ok "$1: TAP $TAP and socket $2 gone"
}

# --- foreground, stopped by a signal ------------------------------------------------
for sig in TERM INT; do
	start_usnetd
	ping_ok 1
	nsexec ip link show "$TAP" >/dev/null || fail "no $TAP in $NS while usnetd runs"
	[ -S "$SOCK" ] || fail "no control socket $SOCK while usnetd runs"
	if [ "$sig" = TERM ]; then
		kill -HUP "$USNETD_PID"
		sleep 0.3
		kill -0 "$USNETD_PID" 2>/dev/null || fail "SIGHUP ended usnetd"
		grep -q 'SIGHUP received' "$USNETD_LOG" || fail "usnetd did not log SIGHUP"
		ping_ok 1
		ok "SIGHUP: still running"
	fi
	stop_usnetd "$USNETD_PID" "$sig"
	expect_eq "exit status after SIG$sig" "$STOP_RC" 0
	grep -q "SIG$sig received" "$USNETD_LOG" || fail "usnetd did not log 'SIG$sig received'"
	gone_after_stop "SIG$sig" "$SOCK"
	"$USNET" --control "$SOCK" status >/dev/null 2>&1
	expect_eq "usnet status after SIG$sig: exit status" "$?" 3
	: >"$USNETD_LOG"
done

# A control socket directory usnetd had to create goes away with it.
"$USNETD" -f -c "$CONF" --tap "$TAP" --address 10.77.0.2/24 --host-netns "$NS" \
	--host-address 10.77.0.1/24 --control "$TMPD/run/ctl.sock" >>"$USNETD_LOG" 2>&1 &
pid=$!
IT_PIDS+=("$pid")
wait_usnetd "$pid" "$TMPD/run/ctl.sock" "$USNETD_LOG"
stop_usnetd "$pid" TERM
expect_eq "exit status (socket in a new directory)" "$STOP_RC" 0
gone_after_stop "new socket directory" "$TMPD/run/ctl.sock"
[ ! -e "$TMPD/run" ] || fail "usnetd left the directory $TMPD/run it created"

# --- background (no -f) ---------------------------------------------------------------
"$USNETD" -c "$CONF" --tap "$TAP" --address 10.77.0.2/24 --host-netns "$NS" \
	--host-address 10.77.0.1/24 --control "$SOCK" >"$TMPD/bg.out" 2>"$TMPD/bg.err" &
parent=$!
# The parent must exit by itself once the daemon is ready.
for ((i = 0; i < 50; i++)); do
	kill -0 "$parent" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$parent" 2>/dev/null && fail "usnetd without -f did not return within 5 s"
wait "$parent"
expect_eq "usnetd without -f: exit status" "$?" 0
# Ready means ready: no waiting here.
status_json >"$TMPD/bg.json"
daemon=$(jget "$TMPD/bg.json" pid)
IT_PIDS+=("$daemon")
[ "$daemon" != "$parent" ] || fail "usnetd without -f did not fork (daemon pid = parent pid $parent)"
kill -0 "$daemon" 2>/dev/null || fail "daemon pid $daemon from usnet status is not alive"
[ "$(readlink "/proc/$daemon/exe")" = "$(readlink -f "$USNETD")" ] ||
	fail "pid $daemon is $(readlink "/proc/$daemon/exe"), not $USNETD"
sid=$(ps -o sid= -p "$daemon" | tr -d ' ')
expect_eq "daemon's session id (setsid)" "$sid" "$daemon"
ok "daemon pid $daemon (parent $parent exited 0)"
ping_ok 2
sleep 0.5
kill -0 "$daemon" 2>/dev/null || fail "the daemon exited on its own"
usnet_up "$SOCK" || fail "the daemon stopped answering"
kill -TERM "$daemon"
for ((i = 0; i < 50; i++)); do
	alive "$daemon" || break
	sleep 0.1
done
alive "$daemon" && fail "the daemon (pid $daemon) still runs 5 s after SIGTERM"
forget_pid "$daemon"
gone_after_stop "daemon SIGTERM" "$SOCK"

# A background start that fails says why and exits non-zero.
rc=$(run_capture "$TMPD/bf.out" "$TMPD/bf.err" "$USNETD" -c "$CONF" --tap "$TAP" \
	--address 10.77.0.2/24 --host-netns "does-not-exist-$$" --control "$SOCK")
[ "$rc" -ne 0 ] || fail "usnetd without -f and a missing namespace exited 0"
grep -q "does-not-exist-$$" "$TMPD/bf.err" ||
	fail "usnetd without -f and a missing namespace: no reason on stderr: $(cat "$TMPD/bf.err")"
ok "failed background start: exit $rc: $(cat "$TMPD/bf.err")"
[ ! -e "$SOCK" ] || fail "a failed background start left $SOCK"

# --- restart at once ---------------------------------------------------------------------
# `usnetd` exits, and is started again on the same TAP straight away (what
# a service manager's restart does). Every start must succeed: an exited
# usnetd leaves no TAP busy behind.
RESTARTS=30
lingered=0
for ((n = 1; n <= RESTARTS; n++)); do
	"$USNETD" -f -c "$CONF" --tap "$TAP" --address 10.77.0.2/24 --host-netns "$NS" \
		--host-address 10.77.0.1/24 --control "$SOCK" >"$TMPD/restart.log" 2>&1 &
	pid=$!
	IT_PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		usnet_up "$SOCK" && break
		alive "$pid" || break
		sleep 0.05
	done
	if ! usnet_up "$SOCK"; then
		wait "$pid"
		fail "restart $n, right after the previous usnetd exited: exit status $?: $(cat "$TMPD/restart.log")"
	fi
	stop_usnetd "$pid" TERM
	[ "$STOP_RC" -eq 0 ] || fail "restart $n: exit status $STOP_RC after SIGTERM"
	nsexec ip link show "$TAP" >/dev/null 2>&1 && lingered=$((lingered + 1))
done
ok "$RESTARTS restarts in a row, each right after the previous exit"
expect_eq "times the TAP outlived the usnetd that owned it" "$lingered" 0
gone_after_stop "after the restarts" "$SOCK"

# --- stale socket -----------------------------------------------------------------------
"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' \
	"$SOCK" || fail "cannot make a stale socket"
[ -S "$SOCK" ] || fail "python3 left no socket file at $SOCK"
start_usnetd
ping_ok 1
expect_eq "usnet status pid over the formerly stale socket" "$(jget <(status_json) pid)" "$USNETD_PID"
stop_usnetd "$USNETD_PID" TERM
expect_eq "exit status after the stale-socket start" "$STOP_RC" 0
gone_after_stop "stale socket start" "$SOCK"
