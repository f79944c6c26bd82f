#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usnet sockets inherited across exec (shim/exec.c): the new image finds
# its placeholders, claims them from usnetd and goes on using them.
#  - socat under usnet forks per connection and execs cat straight onto
#    the connection (EXEC:cat,nofork): 3 clients on the kernel side each
#    get their 1 MiB echoed back intact, and afterwards only the listener
#    remains in usnet sockets;
#  - a python listener under usnet execs a new python that accepts on the
#    inherited descriptor (as inetd-style servers and graceful restarts
#    do) and answers a kernel client.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_exec

command -v socat >/dev/null || skip "socat not installed"
make_netns
start_usnetd
shim_env
ping_ok 1

"$USNET" --control "$SOCK" run -- socat TCP-LISTEN:7100,reuseaddr,fork EXEC:cat,nofork \
	>"$TMPD/socat.log" 2>&1 &
IT_HELPERS+=($!)
wait_ulisten 7100
head -c $((1 << 20)) /dev/urandom >"$TMPD/in.bin"
for n in 1 2 3; do
	ip netns exec "$NS" timeout 20 socat -t 5 - TCP:10.77.0.2:7100 <"$TMPD/in.bin" \
		>"$TMPD/out.bin" 2>"$TMPD/client.log" || fail "client $n: $(cat "$TMPD/client.log")"
	cmp -s "$TMPD/in.bin" "$TMPD/out.bin" ||
		fail "client $n: echo differs ($(stat -c %s "$TMPD/out.bin") of $((1 << 20)) bytes)"
done
ok "3 x 1 MiB echoed by cat exec'd onto the connection"
left=""
for ((i = 0; i < 20; i++)); do
	left=$("$USNET" --control "$SOCK" sockets -a | grep -v '^State' | grep -v LISTEN |
		grep -v TIME-WAIT || true)
	[ -z "$left" ] && break
	sleep 0.1
done
expect_eq "connections left after the exec'd cats exited" "$left" ""

cat >"$TMPD/relisten.py" <<'PY'
import os, socket, sys
if len(sys.argv) > 1:
    # The new image: accept on the inherited listener.
    s = socket.socket(fileno=int(sys.argv[1]))
    c, _ = s.accept()
    c.sendall(b"hello from pid %d\n" % os.getpid())
    c.close()
    sys.exit(0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", 7200))
s.listen(4)
os.set_inheritable(s.fileno(), True)
print("listening", flush=True)
os.execv(sys.executable, [sys.executable, __file__, str(s.fileno())])
PY
"$USNET" --control "$SOCK" run -- python3 "$TMPD/relisten.py" >"$TMPD/relisten.log" 2>&1 &
IT_HELPERS+=($!)
for ((i = 0; i < 50; i++)); do
	grep -q listening "$TMPD/relisten.log" && break
	sleep 0.1
done
got=$(ip netns exec "$NS" timeout 10 socat -t 5 - TCP:10.77.0.2:7200 </dev/null 2>&1) ||
	fail "kernel client of the exec'd listener: $got; log: $(cat "$TMPD/relisten.log")"
case "$got" in
"hello from pid "*) ok "the exec'd image accepted on its inherited listener: $got" ;;
*) fail "unexpected answer: $got; log: $(cat "$TMPD/relisten.log")" ;;
esac
