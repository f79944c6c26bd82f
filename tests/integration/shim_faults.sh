#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Faults around programs under libusnet (tests/tools/streamer.c streams
# until a call fails and names the errno; its kernel peers are python):
#  - kill -9 of a program in the middle of a transfer: its kernel peer
#    sees the connection end within 1 s (FIN after a killed sender's
#    queued data, RST from a killed receiver that left data unread, as
#    the kernel closes), and usnet sockets -a shows nothing of it but
#    TIME-WAIT;
#  - programs blocked in recv(), send() and poll() (with a kernel fd in
#    the same set) in the middle of transfers sleep: they use no CPU;
#  - usnetd stopped by SIGTERM, then by SIGKILL, under them: each gets an
#    error within 1 s and exits; none hangs, none sees a clean end of
#    stream, none spins.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_faults

STREAMER=$(tool streamer) || exit 99
LIB=$TOP_BUILDDIR/shim/.libs/libusnet.so
[ -r "$LIB" ] || hard_error "$LIB missing"
# Deadline for every "within": 1 s; sanitizer builds stop more slowly.
LIMIT_MS=1000
sanitized && LIMIT_MS=3000

make_netns
start_usnetd
shim_env
ping_ok 1

# The kernel side: MODE PORT [once]. sink reads, source writes, both
# forever; *pause stop after 1 MiB and sleep (the usnet side then blocks).
# When a connection ends it prints how ("fin" or "rst") and the bytes
# moved; "once" serves one connection and exits.
cat >"$TMPD/kpeer.py" <<'PY'
import socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
once = sys.argv[3:] == ["once"]
def serve(c):
    how, moved, buf = "?", 0, b"k" * 65536
    try:
        while True:
            if mode.endswith("pause") and moved >= 1 << 20:
                time.sleep(3600)
            if mode.startswith("sink"):
                d = c.recv(65536)
                if not d:
                    how = "fin"
                    break
                moved += len(d)
            else:
                c.sendall(buf)
                moved += len(buf)
    except (ConnectionResetError, BrokenPipeError):
        how = "rst"
    print(how, moved, flush=True)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    if once:
        serve(c)
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# kpeer MODE PORT [once]: start one in $NS, listening when this returns;
# sets KPID.
kpeer() {
	local i

	ip netns exec "$NS" python3 "$TMPD/kpeer.py" "$@" >"$TMPD/kpeer$2.out" 2>"$TMPD/kpeer$2.log" &
	KPID=$!
	IT_HELPERS+=("$KPID")
	for ((i = 0; i < 50; i++)); do
		nsexec ss -ltnH "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	fail "kernel peer $1 on port $2 not listening after 5 s: $(cat "$TMPD/kpeer$2.log")"
}

# streamer NAME MODE PORT: streamer MODE 10.77.0.1 PORT under usnet, in
# the background (stdout NAME.out, stderr NAME.log), in the middle of its
# transfer when this returns; sets SPID.
streamer() {
	local i

	"${URUN[@]}" "$STREAMER" "$2" 10.77.0.1 "$3" >"$TMPD/$1.out" 2>"$TMPD/$1.log" &
	SPID=$!
	IT_HELPERS+=("$SPID")
	for ((i = 0; i < 100; i++)); do
		grep -q streaming "$TMPD/$1.out" && return 0
		alive "$SPID" || break
		sleep 0.05
	done
	fail "streamer $2 to port $3 not streaming: $(cat "$TMPD/$1.log")"
}

# exited_by PID T0: did PID exit (zombie or reaped) within LIMIT_MS of T0
# (date +%s%N)? Prints the milliseconds it took.
exited_by() {
	local pid=$1 t0=$2 ms

	while alive "$pid"; do
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ "$ms" -gt "$LIMIT_MS" ] && { echo "$ms"; return 1; }
		sleep 0.01
	done
	echo $((($(date +%s%N) - t0) / 1000000))
}

# cpu_ticks PID: user + system time of PID, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# usnet_left PORT: usnet sockets -a lines with peer port PORT, TIME-WAIT
# aside.
usnet_left() {
	"$USNET" --control "$SOCK" sockets -a >"$TMPD/sockets.out" 2>&1 ||
		fail "usnet sockets -a failed: $(cat "$TMPD/sockets.out")"
	grep -E " 10\.77\.0\.1:$1( |\$)" "$TMPD/sockets.out" | grep -v '^TIME-WAIT' || true
}

# --- kill -9 in the middle of a transfer --------------------------------------
# kill_mid NAME MODE PORT KPEER_MODE WANT: a streamer MODE against a
# one-connection kernel peer; kill -9 the streamer; the peer must report
# WANT (fin or rst) within LIMIT_MS, and usnetd keep nothing but TIME-WAIT.
kill_mid() {
	local name=$1 mode=$2 port=$3 kmode=$4 want=$5 t0 ms left i kp sp

	kpeer "$kmode" "$port" once
	kp=$KPID
	streamer "$name" "$mode" "$port"
	sp=$SPID
	kill -KILL "$sp"
	t0=$(date +%s%N)
	ms=$(exited_by "$kp" "$t0") ||
		fail "kill -9 of a usnet $mode: the kernel peer saw no FIN or RST in $ms ms"
	wait "$kp"
	forget_helper "$kp"
	wait "$sp" 2>/dev/null
	forget_helper "$sp"
	expect_eq "how the kernel peer of a killed usnet $mode saw the end" \
		"$(cut -d' ' -f1 "$TMPD/kpeer$port.out")" "$want"
	ok "kill -9 of a usnet $mode: the kernel peer saw $want after $ms ms" \
		"($(cut -d' ' -f2 "$TMPD/kpeer$port.out") bytes)"
	for ((i = 0; ; i++)); do
		left=$(usnet_left "$port")
		[ -z "$left" ] && break
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ "$ms" -gt "$LIMIT_MS" ] &&
			fail "kill -9 of a usnet $mode: after $ms ms usnet sockets -a still shows: $left"
		sleep 0.02
	done
	ok "kill -9 of a usnet $mode: nothing of it left in usnet sockets -a (TIME-WAIT aside)"
}

# A sender: what it queued is delivered, then FIN (Linux tcp_close()).
kill_mid ksend send 7101 sink fin
# A receiver that left data unread: RST (RFC 1122 §4.2.2.13, tcp_close()).
kill_mid krecv recv 7102 source rst

# --- usnetd stopped under programs that sleep in socket calls -----------------
# stop_under SIG PORTBASE: four streamers against paused kernel peers, each
# asleep in its call; SIG to usnetd; each must fail with an errno within
# LIMIT_MS of the signal.
stop_under() {
	local sig=$1 src=$(($2 + 1)) snk=$(($2 + 2)) t0 ms i m p rc pids=() modes=(recv pollin send pollout)
	local asleep c0=() c1=()

	kpeer sourcepause "$src"
	kpeer sinkpause "$snk"
	for m in "${modes[@]}"; do
		case $m in
		recv | pollin) streamer "$sig-$m" "$m" "$src" ;;
		*) streamer "$sig-$m" "$m" "$snk" ;;
		esac
		pids+=("$SPID")
	done
	# Asleep in a syscall (not "running"): the peers have paused and the
	# streamers wait for them.
	for ((i = 0; i < 100; i++)); do
		asleep=0
		for p in "${pids[@]}"; do
			alive "$p" || fail "a streamer exited before usnetd stopped: $(cat "$TMPD"/"$sig"-*.log)"
			grep -qv running "/proc/$p/syscall" 2>/dev/null && asleep=$((asleep + 1))
		done
		[ "$asleep" -eq ${#pids[@]} ] && break
		sleep 0.05
	done
	[ "$asleep" -eq ${#pids[@]} ] ||
		fail "only $asleep of ${#pids[@]} blocked streamers asleep in a syscall after 5 s (spinning?)"
	# And they stay asleep: a blocked call costs no CPU.
	for i in "${!pids[@]}"; do
		c0[i]=$(cpu_ticks "${pids[$i]}")
	done
	sleep 0.3
	for i in "${!pids[@]}"; do
		c1[i]=$(cpu_ticks "${pids[$i]}")
		[ $((c1[i] - c0[i])) -le 5 ] ||
			fail "the ${modes[$i]} streamer, blocked, used $((c1[i] - c0[i])) ticks of CPU in 0.3 s"
	done
	ok "4 streamers asleep in recv, poll, send and poll, using no CPU"
	t0=$(date +%s%N)
	stop_usnetd "$USNETD_PID" "$sig"
	log "usnetd stopped by SIG$sig (exit status $STOP_RC) after $((($(date +%s%N) - t0) / 1000000)) ms"
	for i in "${!modes[@]}"; do
		m=${modes[$i]}
		ms=$(exited_by "${pids[$i]}" "$t0") ||
			fail "SIG$sig to usnetd: the $m streamer still runs after $ms ms: $(cat "$TMPD/$sig-$m.log")"
		rc=0
		wait "${pids[$i]}" || rc=$?
		forget_helper "${pids[$i]}"
		[ "$rc" -eq 1 ] ||
			fail "SIG$sig to usnetd: the $m streamer exited with $rc, not an error: $(cat "$TMPD/$sig-$m.log")"
		ok "SIG$sig to usnetd: $m failed after $ms ms: $(sed 's/^streamer: [a-z]*: //' "$TMPD/$sig-$m.log")"
	done
}

stop_under TERM 7200
start_usnetd
stop_under KILL 7210
