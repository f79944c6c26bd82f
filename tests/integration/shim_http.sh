#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Unmodified programs over libusnet (usnet run), against the kernel in the
# test's namespace, every byte checked by SHA-256:
#  - curl under usnet downloads a 100 MiB file from a kernel-side python
#    http.server;
#  - python3 -m http.server under usnet serves the same file to curl on
#    the kernel side, three times;
#  - kill -9 of that server: usnet sockets shows no listener within 1 s
#    (usnetd saw its placeholder hang up);
#  - usnetd absent: the one-line error, and curl fails normally.
# Size: 100 MiB; 20 MiB under sanitizers.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_http

command -v curl >/dev/null || skip "curl not installed"
LIB=$TOP_BUILDDIR/shim/.libs/libusnet.so
[ -r "$LIB" ] || hard_error "$LIB missing"
SIZE_MB=100
sanitized && SIZE_MB=20

make_netns
start_usnetd
shim_env
ping_ok 1

mkdir -p "$TMPD/www"
head -c $((SIZE_MB << 20)) /dev/urandom >"$TMPD/www/f.bin"
want=$(sha256sum <"$TMPD/www/f.bin" | cut -d' ' -f1)

ip netns exec "$NS" python3 -m http.server -d "$TMPD/www" -b 10.77.0.1 8080 \
	>"$TMPD/khttp.log" 2>&1 &
IT_HELPERS+=($!)
wait_klisten 8080

# curl under usnet, the kernel serving.
t0=$(date +%s%N)
"$USNET" --control "$SOCK" run -- curl -sS --max-time 60 -o "$TMPD/got1" \
	http://10.77.0.1:8080/f.bin 2>"$TMPD/curl1.log" || fail "curl under usnet failed: $(cat "$TMPD/curl1.log")"
ms=$((($(date +%s%N) - t0) / 1000000))
got=$(sha256sum <"$TMPD/got1" | cut -d' ' -f1)
expect_eq "sha256 of curl's download" "$got" "$want"
ok "curl under usnet: ${SIZE_MB} MiB in ${ms} ms"

# python http.server under usnet, kernel curl fetching.
(cd "$TMPD/www" && exec "$USNET" --control "$SOCK" run -- python3 -m http.server -b 10.77.0.2 8000) \
	>"$TMPD/uhttp.log" 2>&1 &
srv=$!
IT_HELPERS+=($srv)
wait_ulisten 8000
for n in 1 2 3; do
	ip netns exec "$NS" curl -sS --max-time 60 -o "$TMPD/got2" http://10.77.0.2:8000/f.bin \
		2>"$TMPD/curl2.log" || fail "kernel curl from usnet's http.server failed: $(cat "$TMPD/curl2.log")"
	got=$(sha256sum <"$TMPD/got2" | cut -d' ' -f1)
	expect_eq "sha256 of download $n from usnet" "$got" "$want"
done
ok "python http.server under usnet served ${SIZE_MB} MiB three times"

# SIGKILL: nothing of the server may remain.
kill -KILL "$srv"
wait "$srv" 2>/dev/null
left=1
for ((i = 0; i < 10; i++)); do
	if ! "$USNET" --control "$SOCK" sockets -l | grep -q ':8000 '; then
		left=0
		break
	fi
	sleep 0.1
done
expect_eq "listeners left 1 s after kill -9" "$left" 0

# No usnetd: one clear line, a normal failure.
rc=0
"$USNET" --control "$TMPD/nothing.sock" run -- curl -sS --max-time 5 http://10.77.0.1:8080/ \
	>/dev/null 2>"$TMPD/absent.log" || rc=$?
[ "$rc" -ne 0 ] || fail "curl succeeded without usnetd"
grep -q "libusnet.*usnetd is not running" "$TMPD/absent.log" ||
	fail "no clear error without usnetd: $(cat "$TMPD/absent.log")"
expect_eq "libusnet lines without usnetd" "$(grep -c libusnet "$TMPD/absent.log")" 1
ok "without usnetd: $(grep libusnet "$TMPD/absent.log")"
