# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared helpers of the integration tests (tests/integration/*.sh). A test
# sources this file with
#
#     . "$TOP_SRCDIR/tests/integration/lib.sh"
#     it_init NAME
#
# and then gets, unique to this run of this test (parallel `make check`
# runs every test at once):
#   NS     a network namespace of its own (usnt-NAME-PID), IPv6 off, made by
#          make_netns and deleted on exit;
#   TAP    a TAP name (uPID, at most 15 characters; tap_name SUFFIX for more);
#   TMPD   a temporary directory; SOCK=$TMPD/ctl.sock, the control socket;
#   CONF   an empty configuration file, passed with -c so that an installed
#          usnetd.conf never changes what a test sees.
# Cleanup runs on EXIT, INT and TERM: it stops the helpers (IT_HELPERS) and
# the usnetd processes (IT_PIDS) this test started, by PID, SIGTERM then
# SIGKILL (a usnetd that needs SIGKILL fails the test), deletes the
# namespaces this test made and removes TMPD, printing the logs in TMPD
# when the test failed.
#
# Exit codes, as automake's test driver reads them: 0 pass, 1 fail, 77 skip,
# 99 hard error (the test itself is broken or mis-invoked).

# The system interpreter: a pyenv shim or a virtualenv earlier in PATH must
# not decide whether the JSON parses.
PY=/usr/bin/python3

IT_NAME=
IT_PIDS=()		# usnetd processes to stop at exit
IT_HELPERS=()		# other background children (ping -f ...) to stop at exit
IT_NETNS=()		# namespaces to delete at exit
IT_HOSTLINKS=()		# links that must not survive in the host namespace
TMPD=
NS=
TAP=
SOCK=
USNETD_PID=
USNETD_LOG=
T0=$(date +%s%N)

log() { printf '%s: %s\n' "$IT_NAME" "$*"; }
ok() { printf '%s: ok: %s\n' "$IT_NAME" "$*"; }

# fail MESSAGE: the test failed; say why, on one line, and exit 1. Called
# in a command substitution, it also makes the test's own shell exit 1.
fail() {
	printf '%s: FAIL: %s\n' "$IT_NAME" "$*" >&2
	[ "$BASHPID" != "$$" ] && kill -USR1 $$
	exit 1
}

# soft_fail MESSAGE: report a failure but go on with the independent
# checks that follow; the test fails at exit.
IT_SOFT_FAILS=0
soft_fail() {
	printf '%s: FAIL: %s\n' "$IT_NAME" "$*" >&2
	IT_SOFT_FAILS=$((IT_SOFT_FAILS + 1))
}

# hard_error MESSAGE: the test cannot run as written (exit 99).
hard_error() {
	printf '%s: ERROR: %s\n' "$IT_NAME" "$*" >&2
	exit 99
}

skip() {
	printf '%s: SKIP: %s\n' "$IT_NAME" "$*"
	exit 77
}

elapsed() { echo $((($(date +%s%N) - T0) / 1000000)); }

it_cleanup() {
	local rc=$? pid ns i l

	[ "$rc" -eq 0 ] && [ "$IT_SOFT_FAILS" -gt 0 ] && rc=1

	trap - EXIT INT TERM USR1
	set +e
	for pid in "${IT_HELPERS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for pid in "${IT_PIDS[@]}"; do
		is_usnetd "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			printf '%s: FAIL: usnetd pid %s ignored SIGTERM for 5 s; sending SIGKILL\n' \
				"$IT_NAME" "$pid" >&2
			kill -KILL "$pid" 2>/dev/null
			[ "$rc" -eq 0 ] && rc=1
		fi
		wait "$pid" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$TMPD" ]; then
		for l in "$TMPD"/*.log; do
			[ -s "$l" ] || continue
			echo "--- $l"
			cat "$l"
		done
	fi
	for ns in "${IT_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for l in "${IT_HOSTLINKS[@]}"; do
		ip link del "$l" 2>/dev/null
	done
	[ -n "$TMPD" ] && rm -rf "$TMPD"
	log "$( [ "$rc" -eq 0 ] && echo PASS || ([ "$rc" -eq 77 ] && echo SKIP) || echo "FAIL (exit $rc)") in $(elapsed) ms"
	exit "$rc"
}

# is_usnetd PID: is PID alive and running our usnetd binary? (Guards
# against signalling a process that reused the PID of one that exited.)
is_usnetd() {
	local exe

	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	[ "${exe% (deleted)}" = "$(readlink -f "$USNETD")" ]
}

# alive PID: PID exists and is not a zombie waiting to be reaped (a
# daemonized usnetd is reaped by init, not by us).
alive() {
	local st

	# Any state but zombie and dead, including "t (tracing stop)", which
	# LeakSanitizer's exit-time scan puts a sanitizer build into.
	st=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# forget_pid PID: PID has exited; cleanup must not signal it any more.
forget_pid() {
	local p keep=()

	for p in "${IT_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	IT_PIDS=("${keep[@]}")
}

# it_init NAME: check the environment, set the names, install the trap.
it_init() {
	IT_NAME=$1
	trap it_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 1' USR1

	for v in USNETD USNET TOP_SRCDIR; do
		[ -n "${!v}" ] || hard_error "\$$v is not set (run through 'make check')"
	done
	[ -x "$USNETD" ] || hard_error "USNETD=$USNETD is not an executable"
	[ -x "$USNET" ] || hard_error "USNET=$USNET is not an executable"
	[ -x "$PY" ] || skip "$PY not found"
	[ "$(id -u)" -eq 0 ] || skip "needs root (TAP devices and network namespaces)"
	[ -c /dev/net/tun ] || skip "/dev/net/tun missing (modprobe tun)"
	command -v ip >/dev/null || skip "iproute2's ip not found"

	TMPD=$(mktemp -d "/tmp/usnt-$IT_NAME-XXXXXX") || hard_error "mktemp failed"
	NS=usnt-$IT_NAME-$$
	TAP=$(tap_name "")
	SOCK=$TMPD/ctl.sock
	USNETD_LOG=$TMPD/usnetd.log
	: >"$TMPD/empty.conf"
	# Tests never read an installed /etc or /usr/local/etc configuration.
	CONF=$TMPD/empty.conf
}

# tap_name SUFFIX: "u" PID SUFFIX, cut to IFNAMSIZ - 1 = 15 characters.
tap_name() {
	local n="u$$$1"

	echo "${n:0:15}"
}

# make_netns [NAME]: create a namespace (default $NS) that is deleted at
# exit, with IPv6 off, so that nothing but what a test sends leaves its
# TAP (no router solicitations, MLD reports or DAD probes). Skips the test
# if namespaces cannot be made here.
make_netns() {
	local ns=${1:-$NS} err

	if ! err=$(ip netns add "$ns" 2>&1); then
		[ ${#IT_NETNS[@]} -eq 0 ] && skip "'ip netns add' does not work here: $err"
		fail "ip netns add $ns: $err"
	fi
	IT_NETNS+=("$ns")
	if [ -d /proc/sys/net/ipv6 ]; then
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 ||
			fail "cannot disable IPv6 in namespace $ns"
	fi
}

# usnet_up SOCK: does usnetd answer on SOCK?
usnet_up() {
	"$USNET" --control "$1" status >/dev/null 2>&1
}

# wait_usnetd PID SOCK LOG: wait up to 5 s until usnetd answers on SOCK;
# fail (with its log) if it exits first or does not answer in time.
wait_usnetd() {
	local pid=$1 sock=$2 logf=$3 i

	for ((i = 0; i < 100; i++)); do
		usnet_up "$sock" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			fail "usnetd exited with status $? before answering on $sock: $(cat "$logf")"
		fi
		sleep 0.05
	done
	fail "usnetd (pid $pid) did not answer on $sock within 5 s"
}

# start_usnetd [EXTRA OPTIONS]: start usnetd in the foreground mode, in the
# background of this shell, on $TAP with its kernel side in $NS
# (10.77.0.1/24) and usnet at 10.77.0.2/24; wait until it answers.
# Sets USNETD_PID.
start_usnetd() {
	local t

	t=$(date +%s%N)
	"$USNETD" -f -c "$CONF" --tap "$TAP" --address 10.77.0.2/24 --host-netns "$NS" \
		--host-address 10.77.0.1/24 --control "$SOCK" "$@" >>"$USNETD_LOG" 2>&1 &
	USNETD_PID=$!
	IT_PIDS+=("$USNETD_PID")
	wait_usnetd "$USNETD_PID" "$SOCK" "$USNETD_LOG"
	log "usnetd pid $USNETD_PID up on $TAP (netns $NS) in $((($(date +%s%N) - t) / 1000000)) ms"
}

# stop_usnetd PID SIGNAL: send SIGNAL to our child PID, wait for it (up to
# 5 s) and set STOP_RC to its exit status. (Not in a command substitution:
# only this shell can wait for its children.)
stop_usnetd() {
	local pid=$1 sig=$2 i

	kill "-$sig" "$pid" || fail "kill -$sig $pid failed"
	# Fine-grained, so that what follows sees the moment of exit.
	for ((i = 0; i < 500; i++)); do
		alive "$pid" || break
		sleep 0.01
	done
	alive "$pid" && fail "usnetd pid $pid still running 5 s after SIG$sig"
	wait "$pid"
	# shellcheck disable=SC2034 # read by the tests
	STOP_RC=$?
	forget_pid "$pid"
}

# status_json [SOCK] > FILE: `usnet -j status`, failing the test if the
# command fails or the output is not JSON.
status_json() {
	local sock=${1:-$SOCK} out

	out=$("$USNET" -j --control "$sock" status) || fail "usnet -j status failed (exit $?)"
	printf '%s\n' "$out" | "$PY" -c 'import json,sys; json.load(sys.stdin)' ||
		fail "usnet -j status printed something that is not JSON: $out"
	printf '%s\n' "$out"
}

# jget FILE PATH...: print the value at each dotted PATH of the JSON in FILE
# (list indices are numbers: addresses.0.local), one per line. A missing
# key fails the test, naming it.
jget() {
	local f=$1

	shift
	"$PY" - "$f" "$@" <<'EOF' || fail "jget $f $*"
import json, sys
doc = json.load(open(sys.argv[1]))
for path in sys.argv[2:]:
    v = doc
    for part in path.split("."):
        try:
            v = v[int(part)] if isinstance(v, list) else v[part]
        except (KeyError, IndexError, ValueError, TypeError):
            sys.stderr.write("no key %r in usnet -j status output (at %r)\n" % (path, part))
            sys.exit(1)
    print(json.dumps(v) if isinstance(v, (dict, list)) else v)
EOF
}

# counter FILE GROUP NAME: one counter of a status snapshot (counters.GROUP.NAME).
counter() {
	jget "$1" "counters.$2.$3"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	ok "$1 = $3"
}

# expect_ge WHAT GOT MIN
expect_ge() {
	[ "$2" -ge "$3" ] 2>/dev/null || fail "$1: got '$2', want at least $3"
	ok "$1 = $2 (>= $3)"
}

# expect_le WHAT GOT MAX
expect_le() {
	[ "$2" -le "$3" ] 2>/dev/null || fail "$1: got '$2', want at most $3"
	ok "$1 = $2 (<= $3)"
}

# nsexec CMD...: run CMD in $NS.
nsexec() {
	ip netns exec "$NS" "$@"
}

# ping_ok COUNT [PING OPTIONS]: ping 10.77.0.2 from $NS; fail unless every
# echo was answered. The output is left in $TMPD/ping.out.
ping_ok() {
	local n=$1 out

	shift
	out=$(nsexec ping -n -c "$n" -i 0.2 -W 2 "$@" 10.77.0.2 2>&1) ||
		fail "ping -c $n $* 10.77.0.2 from $NS failed: $out"
	printf '%s\n' "$out" >"$TMPD/ping.out"
	grep -Eq "^$n packets transmitted, $n received, 0% packet loss" "$TMPD/ping.out" ||
		fail "ping -c $n $*: not every echo answered: $out"
	ok "ping -c $n${*:+ $*} 10.77.0.2: $n/$n answered"
}

# run_capture OUT ERR CMD...: run CMD with stdout and stderr in the files
# OUT and ERR; print its exit status (never fails by itself).
run_capture() {
	local out=$1 err=$2

	shift 2
	"$@" >"$out" 2>"$err"
	echo $?
}

# lines FILE: number of lines in FILE.
lines() {
	wc -l <"$1" | tr -d ' '
}

# --- TCP tests (tcp_*.sh) ----------------------------------------------------

# tool NAME: the path of the test tool tests/tools/NAME, checked.
tool() {
	local t=$TOP_BUILDDIR/tests/tools/$1

	[ -n "$TOP_BUILDDIR" ] || hard_error "\$TOP_BUILDDIR is not set (run through 'make check')"
	[ -x "$t" ] || hard_error "$t is not built (make check builds it)"
	echo "$t"
}

# sanitized: true when usnetd was built with sanitizers (USNET_SANITIZED=1
# from make check), where it runs several times slower; tests scale their
# sizes down then, unless USNET_TEST_FULL=1 asks for the full run.
sanitized() {
	[ "${USNET_SANITIZED:-0}" = 1 ] && [ "${USNET_TEST_FULL:-0}" != 1 ]
}

# start_usnetd_at NS [EXTRA OPTIONS]: like start_usnetd, but the TAP's
# kernel side goes to namespace NS with no address (the test wires it up,
# e.g. into a bridge). Sets USNETD_PID.
start_usnetd_at() {
	local ns=$1 t

	shift
	t=$(date +%s%N)
	"$USNETD" -f -c "$CONF" --tap "$TAP" --address 10.77.0.2/24 --host-netns "$ns" \
		--control "$SOCK" "$@" >>"$USNETD_LOG" 2>&1 &
	USNETD_PID=$!
	IT_PIDS+=("$USNETD_PID")
	wait_usnetd "$USNETD_PID" "$SOCK" "$USNETD_LOG"
	log "usnetd pid $USNETD_PID up on $TAP (netns $ns) in $((($(date +%s%N) - t) / 1000000)) ms"
}

# kstat NAME...: the kernel's nstat counters NAME (e.g. TcpRetransSegs) in
# $NS, one value per line, absolute (nstat -a) and without touching
# nstat's history file.
kstat() {
	local n out

	for n in "$@"; do
		out=$(nsexec nstat -asz "$n" 2>/dev/null | awk -v n="$n" '$1 == n { print $2 }')
		printf '%s\n' "${out:-0}"
	done
}

# mib_delta A B GROUP NAME: how far counters.GROUP.NAME moved from snapshot
# file A to snapshot file B.
mib_delta() {
	echo $(($(counter "$2" "$3" "$4") - $(counter "$1" "$3" "$4")))
}

# drops_moved A B [REASON...]: print "REASON +N" for every drop reason
# that moved between snapshots A and B, except the REASONs given.
drops_moved() {
	local a=$1 b=$2

	shift 2
	"$PY" - "$a" "$b" "$@" <<'PYEOF'
import json, sys
a = json.load(open(sys.argv[1]))["counters"]["Drop"]
b = json.load(open(sys.argv[2]))["counters"]["Drop"]
for k in b:
    if k not in sys.argv[3:] and b[k] != a.get(k, 0):
        print("%s +%d" % (k, b[k] - a.get(k, 0)))
PYEOF
}

# usnetd_rss_kb: usnetd's resident set (VmRSS, kB).
usnetd_rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$USNETD_PID/status"
}

# ratio_ppm N D: N/D in parts per million (0 when D is 0).
ratio_ppm() {
	[ "$2" -gt 0 ] 2>/dev/null || { echo 0; return; }
	echo $(($1 * 1000000 / $2))
}

# forget_helper PID: PID (one of IT_HELPERS) has been waited for; cleanup
# must not signal it any more.
forget_helper() {
	local p keep=()

	for p in "${IT_HELPERS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	IT_HELPERS=("${keep[@]}")
}

# shim_env: set up the environment for programs run under libusnet. In a
# sanitizer build libusnet.so carries the ASan runtime, which a program
# that was not built with it loads only through the preload: tell ASan
# that this order is intended, and leave the program's own leaks (curl's,
# python's) out of its exit status. Call after start_usnetd.
shim_env() {
	export USNET_LIB
	if sanitized; then
		export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0
	fi
	# "${URUN[@]}" CMD...: CMD under libusnet with this test's usnetd (an
	# array, not a function: a background job's $! is the program's PID).
	URUN=("$USNET" --control "$SOCK" run --)
}

# wait_klisten PORT [WHAT]: until the kernel listens on PORT in $NS (5 s).
wait_klisten() {
	local i

	for ((i = 0; i < 100; i++)); do
		nsexec ss -ltnH "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	fail "${2:-kernel}: no kernel listener on port $1 after 5 s"
}

# wait_ulisten PORT [WHAT]: until a usnet socket listens on PORT (5 s).
wait_ulisten() {
	local i

	for ((i = 0; i < 100; i++)); do
		"$USNET" --control "$SOCK" sockets -l 2>/dev/null | grep -q ":$1 " && return 0
		sleep 0.05
	done
	fail "${2:-usnet}: no usnet listener on port $1 after 5 s"
}

# kernel_echo PORT: a threaded echo server on the kernel side ($NS, every
# address) that ends its side of a connection when the client ends its
# own; waits until it listens.
kernel_echo() {
	cat >"$TMPD/echo.py" <<'PY'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	ip netns exec "$NS" python3 "$TMPD/echo.py" "$1" >>"$TMPD/echo.log" 2>&1 &
	IT_HELPERS+=($!)
	wait_klisten "$1" "kernel echo server"
}
