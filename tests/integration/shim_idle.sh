#!/bin/bash
# SPDX-License-Identifier: MIT
#
# No memory held while idle: a program under usnet receives 50 MiB (its
# socket's rx ring pages are touched), then idles; within 3 s usnetd gives
# the ring pages back (the segment memfd's allocated size drops to a few
# pages), and the socket still works afterwards.
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
time.sleep(1)
" >"$TMPD/server.log" 2>&1 &
IT_HELPERS+=($!)
wait_klisten 7300

cat >"$TMPD/idle.py" <<'PY'
import os, socket, time
s = socket.create_connection(("10.77.0.1", 7300))
got = 0
while got < 50 << 20:
    d = s.recv(1 << 20)
    if not d:
        break
    got += len(d)
def kib():
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "memfd:usnet" in os.readlink("/proc/self/fd/" + fd):
                return os.stat("/proc/self/fd/" + fd).st_blocks // 2
        except OSError:
            pass
    return -1
busy = kib()
idle = busy
for _ in range(30):
    time.sleep(0.1)
    idle = kib()
    if idle < 64:
        break
s.sendall(b"x")
again = s.recv(1)
print(got, busy, idle, again.decode())
PY
out=$("$USNET" --control "$SOCK" run -- timeout 20 python3 "$TMPD/idle.py" 2>&1) ||
	fail "the idle client failed: $out"
read -r got busy idle again <<<"$out"
expect_eq "bytes received" "$got" $((50 << 20))
expect_ge "segment KiB allocated after the transfer" "$busy" 4096
expect_le "segment KiB allocated after idling" "$idle" 64
expect_eq "the socket after its rings went back" "$again" z
ok "segment memory: ${busy} KiB busy, ${idle} KiB idle"
