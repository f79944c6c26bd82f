#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The control socket against clients that misbehave or crowd it (DESIGN.md:
# "nothing a client sends can crash usnetd"; a worker is reported missing
# only when it really does not answer). The control socket admits every
# user, so each of these is something any local user can do.
#  - malformed requests (too short, bad magic, another protocol version, a
#    length that is not the message's, an unknown type) get an error reply
#    (the version mismatch names the daemon's version), an oversized one
#    closes that connection, and usnetd keeps answering;
#  - a status reply larger than one message (over 800 neighbours, learnt
#    from ARP requests of distinct senders) arrives whole: usnet status and
#    usnet -j status list every neighbour;
#  - 200 clients at once, 5 times, while the worker is busy with a flood
#    ping: every reply is a status or EBUSY and comes without waiting for
#    the 2 s worker timeout, and usnetd never logs that its (live) worker
#    did not answer;
#  - clients that ask for that multi-message status and close without
#    reading it all do not crash usnetd.
# Independent sections report with soft_fail and the test goes on.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init control

IPC_VERSION=$(sed -n 's/^#define IPC_VERSION \([0-9]*\).*/\1/p' "$TOP_SRCDIR/ipc/abi.h")
[ -n "$IPC_VERSION" ] || hard_error "no IPC_VERSION in $TOP_SRCDIR/ipc/abi.h"

cat >"$TMPD/ctl.py" <<'EOF'
# Raw control-socket client: ctl.py MODE SOCKET ARGS...
import collections, socket, struct, sys, time

HDR = "<IHHIIiHH"       # magic version type seq len status flags reserved
MAGIC, STATUS, F_REPLY, F_MORE = 0x544E5355, 1, 1, 2

def hdr(ver, typ=STATUS, seq=7, ln=24, magic=MAGIC):
    return struct.pack(HDR, magic, ver, typ, seq, ln, 0, 0, 0)

def conn(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)             # blocking: a full backlog makes it wait, not fail
    s.settimeout(timeout)
    return s

def read_reply(s):
    """(status, version, seq, flags, bytes) of a whole reply; None on EOF."""
    total = 0
    while True:
        r = s.recv(1 << 17)
        if not r:
            return None
        if len(r) < 24:
            raise RuntimeError("reply of %d bytes" % len(r))
        _, ver, _, seq, _, status, flags, _ = struct.unpack(HDR, r[:24])
        total += len(r)
        if status or not flags & F_MORE:
            return status, ver, seq, flags, total

mode, path = sys.argv[1], sys.argv[2]
if mode == "malformed":
    ver = int(sys.argv[3])
    cases = [
        ("short", b"\x55\x53\x4e"),
        ("bad-magic", hdr(ver, magic=0xDEADBEEF)),
        ("other-version", hdr(ver + 100, seq=41)),
        ("wrong-length", hdr(ver, seq=42, ln=1000)),
        ("unknown-type", hdr(ver, typ=999, seq=43)),
        ("oversized", hdr(ver, ln=70000) + bytes(70000 - 24)),
    ]
    for name, msg in cases:
        s = conn(path)
        try:
            s.send(msg)
            r = read_reply(s)
            print(name, "eof" if r is None else "status=%d version=%d seq=%d reply=%d"
                  % (r[0], r[1], r[2], r[3] & F_REPLY))
        except OSError as e:
            print(name, "eof" if isinstance(e, ConnectionResetError) else "error=" + str(e))
        s.close()
elif mode == "parallel":
    ver, n, rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    res, worst = collections.Counter(), 0.0
    for _ in range(rounds):
        socks = [conn(path) for _ in range(n)]
        t0 = time.monotonic()
        for i, s in enumerate(socks):
            s.send(hdr(ver, seq=i))
        for s in socks:
            try:
                r = read_reply(s)
                res["eof" if r is None else r[0]] += 1
            except OSError as e:
                res[type(e).__name__] += 1
            worst = max(worst, time.monotonic() - t0)
            s.close()
    print(" ".join("%s=%d" % kv for kv in sorted(res.items(), key=str)), "worst_ms=%d" % (worst * 1000))
elif mode == "close-early":
    ver, n = int(sys.argv[3]), int(sys.argv[4])
    for i in range(n):
        try:
            s = conn(path)
            s.send(hdr(ver, seq=i))
            if i % 2:
                s.recv(64)      # the start of the first message only
            s.close()
        except OSError as e:
            print("client %d: %s" % (i, e))
            sys.exit(1)
elif mode == "arp-senders":
    # ARP requests for DST_IP from N distinct senders 10.1.x.y.
    ifname, dst_mac, dst_ip, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src = bytes.fromhex(open("/sys/class/net/%s/address" % ifname).read().strip().replace(":", ""))
    dst = bytes.fromhex(dst_mac.replace(":", ""))
    for i in range(n):
        sip = socket.inet_aton("10.1.%d.%d" % (i // 250, i % 250 + 1))
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src + sip + bytes(6) + socket.inet_aton(dst_ip)
        s.send(dst + src + b"\x08\x06" + arp)
        if i % 50 == 49:
            time.sleep(0.005)
EOF
ctl() { "$PY" "$TMPD/ctl.py" "$@"; }

make_netns
start_usnetd
ping_ok 1

# --- malformed requests ------------------------------------------------------------
ctl malformed "$SOCK" "$IPC_VERSION" >"$TMPD/malformed.out" || fail "ctl.py malformed failed"
log "$(tr '\n' ';' <"$TMPD/malformed.out")"
result() { sed -n "s/^$1 //p" "$TMPD/malformed.out"; }
for c in short bad-magic wrong-length; do
	[[ $(result "$c") =~ ^status=-[0-9]+\ .*reply=1$ ]] ||
		soft_fail "request '$c': want an error reply, got: $(result "$c")"
done
[[ $(result other-version) == "status=-93 version=$IPC_VERSION seq=41 reply=1" ]] ||
	soft_fail "request of another version: want -EPROTONOSUPPORT (-93) naming version $IPC_VERSION, got: $(result other-version)"
[[ $(result unknown-type) == "status=-95 version=$IPC_VERSION seq=43 reply=1" ]] ||
	soft_fail "request of an unknown type: want -EOPNOTSUPP (-95), got: $(result unknown-type)"
[ "$(result oversized)" = eof ] || soft_fail "oversized request: want the connection closed, got: $(result oversized)"
usnet_up "$SOCK" || fail "usnetd stopped answering after malformed requests: $(cat "$USNETD_LOG")"
ok "malformed requests answered with errors; usnetd still answers"

# --- a status larger than one message ---------------------------------------------------
status_json >"$TMPD/s0.json"
mac=$(jget "$TMPD/s0.json" link.address)
nsexec "$PY" "$TMPD/ctl.py" arp-senders "$TAP" "$mac" 10.77.0.2 1100 || fail "sending ARP requests failed"
sleep 0.3
status_json >"$TMPD/big.json"
bytes=$(wc -c <"$TMPD/big.json")
nneigh=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["neighbours"]))' "$TMPD/big.json")
expect_ge "neighbours after ARP requests from 1100 senders" "$nneigh" 800
expect_le "neighbours (neigh_max 1024)" "$nneigh" 1024
"$USNET" --control "$SOCK" status >"$TMPD/big.txt" || fail "usnet status failed with $nneigh neighbours"
expect_eq "neighbour lines in usnet status" "$(grep -cE '^ +10\.(1|77)\.[0-9]+\.[0-9]+ lladdr ' "$TMPD/big.txt")" "$nneigh"
grep -q 'LINK_TX_ERROR' "$TMPD/big.txt" || fail "usnet status with $nneigh neighbours lost the counters after them"
ok "status of $bytes bytes of JSON ($nneigh neighbours) arrives whole"

# --- many clients while the worker is busy ---------------------------------------------
nsexec ping -q -f -c 40000 -w 20 10.77.0.2 >"$TMPD/flood.out" 2>&1 &
flood=$!
IT_HELPERS+=("$flood")
sleep 0.3
out=$(ctl parallel "$SOCK" "$IPC_VERSION" 200 5) || fail "ctl.py parallel failed: $out"
log "200 clients x 5 under a flood ping: $out"
wait "$flood" || soft_fail "flood ping failed: $(cat "$TMPD/flood.out")"
for kv in $out; do
	case $kv in
	0=* | -16=*) ;;
	worst_ms=*)
		w=${kv#worst_ms=}
		[ "$w" -lt 1500 ] ||
			soft_fail "a status request waited $w ms (the worker timeout is 2 s): a completion was lost"
		;;
	*) soft_fail "unexpected reply to a status request: $kv (want 0 or -EBUSY)" ;;
	esac
done
sleep 2.2	# a lost completion shows up in the log when the 2 s timeout expires
if grep -q 'did not answer' "$USNETD_LOG"; then
	soft_fail "usnetd says its worker did not answer although it is alive: $(grep -c 'did not answer' "$USNETD_LOG") time(s)"
fi
usnet_up "$SOCK" || fail "usnetd stopped answering after 1000 concurrent requests"
ok "1000 concurrent status requests done"

# --- clients that leave in the middle of a reply -----------------------------------------
ctl close-early "$SOCK" "$IPC_VERSION" 300 >"$TMPD/close.out" 2>&1 ||
	soft_fail "clients closing early: $(cat "$TMPD/close.out")"
sleep 0.3
if ! kill -0 "$USNETD_PID" 2>/dev/null; then
	wait "$USNETD_PID"
	fail "usnetd died (exit status $?) after clients closed before reading a multi-message status"
fi
usnet_up "$SOCK" || fail "usnetd stopped answering after clients closed early"
ok "usnetd survived 300 clients that closed before reading the whole status"
