#!/bin/bash
# SPDX-License-Identifier: MIT
#
# No memory held while idle: a program under usnet receives 50 MiB (its
# socket's rx ring pages are touched), then idles; within 3 s usnetd gives
# the ring pages back (the segment memfd's allocated size drops to a few
# pages), and the socket still works afterwards. A second connection
# receives 20 MiB and is closed at once: the slot it leaves stays warm for
# the next socket a little while, then its pages go back too.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_idle

make_netns
start_usnetd
shim_env
ping_ok 1

ip netns exec "$NS" python3 -c "
import socket, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('10.77.0.1', 7300))
l.listen(1)
c, _ = l.accept()
c.sendall(b'y' * (50 << 20))
assert c.recv(1) == b'x'
c.sendall(b'z')
c2, _ = l.accept()
c2.sendall(b'w' * (20 << 20))
c2.close()
time.sleep(1)
" >"$TMPD/server.log" 2>&1 &
IT_HELPERS+=($!)
wait_klisten 7300

cat >"$TMPD/idle.py" <<'PY'
import os, socket, time
def drain(s, most):
    got = 0
    while got < most:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
    return got
def kib():
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "memfd:usnet" in os.readlink("/proc/self/fd/" + fd):
                return os.stat("/proc/self/fd/" + fd).st_blocks // 2
        except OSError:
            pass
    return -1
def settle(tenths):
    n = kib()
    for _ in range(tenths):
        time.sleep(0.1)
        n = kib()
        if n < 64:
            break
    return n
s = socket.create_connection(("10.77.0.1", 7300))
got = drain(s, 50 << 20)
busy = kib()
idle = settle(30)
s.sendall(b"x")
again = s.recv(1)
s.close()
s2 = socket.create_connection(("10.77.0.1", 7300))
got2 = drain(s2, 1 << 40)
s2.close()
busy2 = kib()
freed = settle(50)
print(got, busy, idle, again.decode(), got2, busy2, freed)
PY
out=$("$USNET" --control "$SOCK" run -- timeout 30 python3 "$TMPD/idle.py" 2>&1) ||
	fail "the idle client failed: $out"
read -r got busy idle again got2 busy2 freed <<<"$out"
expect_eq "bytes received" "$got" $((50 << 20))
expect_ge "segment KiB allocated after the transfer" "$busy" 4096
expect_le "segment KiB allocated after idling" "$idle" 64
expect_eq "the socket after its rings went back" "$again" z
expect_eq "bytes on the second connection" "$got2" $((20 << 20))
expect_ge "segment KiB allocated when it closed" "$busy2" 4096
expect_le "segment KiB allocated 5 s after the close at most" "$freed" 64
ok "segment memory: ${busy} KiB busy, ${idle} KiB idle; ${busy2} KiB at a close, ${freed} KiB later"
