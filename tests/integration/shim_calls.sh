#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Socket calls through libusnet, each with the kernel's result
# (tests/tools/shimcheck.c): non-blocking connect and SO_ERROR,
# ECONNREFUSED, names, options, SO_RCVTIMEO, MSG_DONTWAIT, select,
# FIONREAD, MSG_PEEK, shutdown and EPIPE, O_NONBLOCK shared by dup;
# loopback, which is the kernel's (a listener on 127.0.0.1 and clients of
# it, blocking and in an epoll, with their options and dups, and an
# AF_INET6 client at ::ffff:127.0.0.1: shimcheck listens itself, on the
# loopback of the namespace it runs in, the test's or the host's); then,
# as user nobody, bind to port 80 refused with EACCES. The same program
# runs once without usnet against the same kernel echo server, so a check
# that the kernel itself would fail is caught as a bad check, not blamed
# on usnet. Then the same for epoll (tests/tools/epollcheck.c): level,
# edge and one-shot, kernel fds mixed in, the epoll fd polled and nested,
# registrations ending with the file, a listener, EPOLLRDHUP, timeouts,
# EINTR, round-robin; its listener checks connect usnet to itself.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_calls

SHIMCHECK=$(tool shimcheck)
EPOLLCHECK=$(tool epollcheck)

make_netns
start_usnetd
shim_env
ping_ok 1

# A kernel echo server that ends its side when the client ends its own.
kernel_echo 7007

# The checks hold for the kernel's own sockets: run them there first
# (over the namespace's loopback).
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" "$SHIMCHECK" 10.77.0.1 7007 7008 >"$TMPD/kernel.out" 2>&1 ||
	fail "shimcheck fails on kernel sockets: $(grep FAIL "$TMPD/kernel.out")"
ok "all $(grep -c '^ok' "$TMPD/kernel.out") checks hold for kernel sockets"

"$USNET" --control "$SOCK" run -- "$SHIMCHECK" 10.77.0.1 7007 7008 >"$TMPD/usnet.out" 2>&1 ||
	fail "under usnet: $(grep -v '^ok' "$TMPD/usnet.out" | tr '\n' ' ')"
expect_eq "checks passed under usnet" "$(grep -c '^ok' "$TMPD/usnet.out")" \
	"$(grep -c '^ok' "$TMPD/kernel.out")"
# Without the socket stock (libusnet(7)): every socket() asks usnetd.
USNET_SOCKET_STOCK=0 "$USNET" --control "$SOCK" run -- "$SHIMCHECK" 10.77.0.1 7007 7008 \
	>"$TMPD/nostock.out" 2>&1 ||
	fail "USNET_SOCKET_STOCK=0: $(grep -v '^ok' "$TMPD/nostock.out" | tr '\n' ' ')"
expect_eq "checks passed with USNET_SOCKET_STOCK=0" "$(grep -c '^ok' "$TMPD/nostock.out")" \
	"$(grep -c '^ok' "$TMPD/kernel.out")"

# epoll: the kernel side's own address for the listener checks.
ip netns exec "$NS" "$EPOLLCHECK" 10.77.0.1 7007 10.77.0.1 >"$TMPD/kepoll.out" 2>&1 ||
	fail "epollcheck fails on kernel sockets: $(grep FAIL "$TMPD/kepoll.out")"
ok "all $(grep -c '^ok' "$TMPD/kepoll.out") epoll checks hold for kernel sockets"
"$USNET" --control "$SOCK" run -- "$EPOLLCHECK" 10.77.0.1 7007 10.77.0.2 >"$TMPD/uepoll.out" 2>&1 ||
	fail "epoll under usnet: $(grep -v '^ok' "$TMPD/uepoll.out" | tr '\n' ' ')"
expect_eq "epoll checks passed under usnet" "$(grep -c '^ok' "$TMPD/uepoll.out")" \
	"$(grep -c '^ok' "$TMPD/kepoll.out")"

chmod 755 "$TMPD"
chmod 666 "$SOCK"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$USNET" --control "$SOCK" run -- "$SHIMCHECK" privport >"$TMPD/priv.out" 2>&1 ||
	fail "as nobody: $(grep -v '^ok' "$TMPD/priv.out" | tr '\n' ' ')"
ok "as nobody: $(grep -c '^ok' "$TMPD/priv.out") checks, port 80 refused"
