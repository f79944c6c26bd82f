#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Unmodified Debian tools over libusnet (usnet run), the kernel in the
# test's namespace as their peer, every byte checked by SHA-256:
#  - wget under usnet downloads a 100 MiB file from a kernel-side python
#    http.server;
#  - nc (netcat-openbsd) under usnet as a client of a kernel echo server,
#    and as an echo server (nc | cat through a fifo) for a kernel client;
#  - socat the same two ways (a kernel echo server; socat ... EXEC:cat
#    under usnet for a kernel socat);
#  - a forking socat server under usnet (TCP-LISTEN,fork EXEC:cat) serves
#    5 sequential and 5 concurrent kernel clients; afterwards usnet
#    sockets -a lists its listener and nothing else.
# Sizes: 100 MiB for wget, 8 MiB per echo, 1 MiB per forked client; a
# fifth or a quarter of that under sanitizers.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_tools

for t in wget nc socat; do
	command -v "$t" >/dev/null || skip "$t not installed (scripts/deps.sh)"
done
LIB=$TOP_BUILDDIR/shim/.libs/libusnet.so
[ -r "$LIB" ] || hard_error "$LIB missing"
BIG_MB=100
ECHO_KB=8192
FORK_KB=1024
if sanitized; then
	BIG_MB=20
	ECHO_KB=2048
	FORK_KB=256
fi

make_netns
start_usnetd
shim_env
ping_ok 1

# sha FILE: its SHA-256.
sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# same WHAT GOT WANT: files GOT and WANT have the same bytes.
same() {
	expect_eq "$1 ($(stat -c %s "$2") bytes)" "$(sha "$2")" "$(sha "$3")"
}

mkdir -p "$TMPD/www"
head -c $((BIG_MB << 20)) /dev/urandom >"$TMPD/www/big.bin"
head -c $((ECHO_KB << 10)) /dev/urandom >"$TMPD/echo.bin"

# --- wget under usnet, python http.server in the kernel ---------------------
ip netns exec "$NS" python3 -m http.server -d "$TMPD/www" -b 10.77.0.1 8080 >"$TMPD/khttp.log" 2>&1 &
IT_HELPERS+=("$!")
wait_klisten 8080
t0=$(date +%s%N)
"${URUN[@]}" timeout 60 wget -q --tries=1 --timeout=30 -O "$TMPD/wget.out" \
	http://10.77.0.1:8080/big.bin 2>"$TMPD/wget.log" ||
	fail "wget under usnet failed (exit $?): $(cat "$TMPD/wget.log")"
ms=$((($(date +%s%N) - t0) / 1000000))
same "wget's download" "$TMPD/wget.out" "$TMPD/www/big.bin"
ok "wget under usnet: $BIG_MB MiB in $ms ms"
rm -f "$TMPD/wget.out"

kernel_echo 7007

# --- nc ----------------------------------------------------------------------
# Client under usnet: -N sends FIN after the file; the echo comes back and
# the server's FIN ends nc.
"${URUN[@]}" timeout 30 nc -N 10.77.0.1 7007 <"$TMPD/echo.bin" >"$TMPD/nc1.out" \
	2>"$TMPD/nc1.log" || fail "nc under usnet -> kernel echo failed (exit $?): $(cat "$TMPD/nc1.log")"
same "nc under usnet -> kernel echo" "$TMPD/nc1.out" "$TMPD/echo.bin"

# Server under usnet: nc -l whose output goes through a fifo and cat back
# into its input. A listening nc quits as soon as its peer's FIN has come
# and its buffers are empty, whatever is still in the fifo: the kernel
# client (python) reads the whole echo back before it sends its FIN. It
# sends 32 KiB at a time and waits for their echo: nc writes its output
# with blocking writes, and with more in flight than the fifo and the
# pipe hold, nc and cat could wait for each other forever.
cat >"$TMPD/echo_client.py" <<'PY'
import socket, sys
host, port, src, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = open(src, "rb").read()
c = socket.create_connection((host, port), timeout=20)
got = bytearray()
for off in range(0, len(data), 32768):
    c.sendall(data[off:off + 32768])
    while len(got) < min(off + 32768, len(data)):
        d = c.recv(1 << 16)
        if not d:
            raise SystemExit("end of stream after %d bytes" % len(got))
        got += d
c.shutdown(socket.SHUT_WR)
while True:
    d = c.recv(1 << 16)
    if not d:
        break
    got += d
open(dst, "wb").write(got)
PY
mkfifo "$TMPD/nc.fifo"
# shellcheck disable=SC2002,SC2094 # the loop through the fifo is the point
cat "$TMPD/nc.fifo" | "${URUN[@]}" nc -N -l 10.77.0.2 7008 >"$TMPD/nc.fifo" 2>"$TMPD/nc2srv.log" &
srv=$!
IT_HELPERS+=("$srv")
wait_ulisten 7008
nsexec timeout 30 python3 "$TMPD/echo_client.py" 10.77.0.2 7008 "$TMPD/echo.bin" "$TMPD/nc2.out" \
	2>"$TMPD/nc2.log" || fail "kernel client -> nc echo under usnet failed (exit $?): $(cat "$TMPD/nc2.log")"
same "kernel client -> nc echo under usnet" "$TMPD/nc2.out" "$TMPD/echo.bin"
rc=0
timeout 5 tail --pid="$srv" -f /dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "nc -l under usnet still running 5 s after its peer left"
wait "$srv" || fail "nc -l under usnet exited with status $?: $(cat "$TMPD/nc2srv.log")"
forget_helper "$srv"
ok "nc -l under usnet exited after the echo"

# --- socat -------------------------------------------------------------------
# -t: after our FIN, wait up to 10 s for the rest of the echo and its FIN.
"${URUN[@]}" timeout 30 socat -t 10 - TCP:10.77.0.1:7007 <"$TMPD/echo.bin" >"$TMPD/socat1.out" \
	2>"$TMPD/socat1.log" || fail "socat under usnet -> kernel echo failed (exit $?): $(cat "$TMPD/socat1.log")"
same "socat under usnet -> kernel echo" "$TMPD/socat1.out" "$TMPD/echo.bin"

"${URUN[@]}" socat TCP-LISTEN:7009,bind=10.77.0.2,reuseaddr EXEC:cat 2>"$TMPD/socat2srv.log" &
srv=$!
IT_HELPERS+=("$srv")
wait_ulisten 7009
nsexec timeout 30 socat -t 10 - TCP:10.77.0.2:7009 <"$TMPD/echo.bin" >"$TMPD/socat2.out" \
	2>"$TMPD/socat2.log" || fail "kernel socat -> socat echo under usnet failed (exit $?): $(cat "$TMPD/socat2.log")"
same "kernel socat -> socat echo under usnet" "$TMPD/socat2.out" "$TMPD/echo.bin"
rc=0
timeout 5 tail --pid="$srv" -f /dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "socat under usnet still running 5 s after its peer left"
wait "$srv" || fail "socat under usnet exited with status $?: $(cat "$TMPD/socat2srv.log")"
forget_helper "$srv"
ok "socat TCP-LISTEN under usnet exited after the echo"

# --- a forking socat server under usnet ---------------------------------------
"${URUN[@]}" socat TCP-LISTEN:7010,bind=10.77.0.2,fork,reuseaddr EXEC:cat \
	2>"$TMPD/socatfork.log" &
srv=$!
IT_HELPERS+=("$srv")
wait_ulisten 7010
for i in 1 2 3 4 5 6 7 8 9 10; do
	head -c $((FORK_KB << 10)) /dev/urandom >"$TMPD/f$i.bin"
done

# fork_client N: one kernel socat client of the forking server.
fork_client() {
	nsexec timeout 30 socat -t 10 - TCP:10.77.0.2:7010 <"$TMPD/f$1.bin" >"$TMPD/f$1.out" \
		2>"$TMPD/f$1.log"
}

for i in 1 2 3 4 5; do
	fork_client "$i" || fail "sequential client $i of socat fork under usnet failed: $(cat "$TMPD/f$i.log")"
	same "sequential client $i of socat fork" "$TMPD/f$i.out" "$TMPD/f$i.bin"
done
pids=()
for i in 6 7 8 9 10; do
	fork_client "$i" &
	pids+=($!)
done
for i in 6 7 8 9 10; do
	wait "${pids[$((i - 6))]}" ||
		fail "concurrent client $i of socat fork under usnet failed: $(cat "$TMPD/f$i.log")"
	same "concurrent client $i of socat fork" "$TMPD/f$i.out" "$TMPD/f$i.bin"
done
alive "$srv" || fail "socat fork server under usnet died: $(cat "$TMPD/socatfork.log")"

# Every child has closed its connection and exited: of port 7010 only the
# listener may be left (the clients closed first: TIME-WAIT is theirs),
# within 2 s.
for ((i = 0; i < 20; i++)); do
	"$USNET" --control "$SOCK" sockets -a >"$TMPD/sockets.out" 2>&1 ||
		fail "usnet sockets -a failed: $(cat "$TMPD/sockets.out")"
	grep ' 10\.77\.0\.2:7010 ' "$TMPD/sockets.out" >"$TMPD/sockets.7010"
	[ "$(lines "$TMPD/sockets.7010")" = 1 ] && break
	sleep 0.1
done
if [ "$(lines "$TMPD/sockets.7010")" != 1 ] || ! grep -q '^LISTEN ' "$TMPD/sockets.7010"; then
	fail "usnet sockets -a after the forked clients: $(cat "$TMPD/sockets.out")"
fi
ok "socat fork under usnet: 10 clients served, nothing but the listener left"
