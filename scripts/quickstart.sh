#!/bin/sh
# SPDX-License-Identifier: MIT
# usnet quick start: install what is needed, build, start usnetd on TAP
# usnet0 with its kernel side in network namespace usnet-demo
# (10.77.0.1/24; usnet is 10.77.0.2/24) and its TCP echo, discard and
# chargen services, ping usnet from the namespace, echo a line through
# usnet's TCP with the kernel's nc, serve a file over HTTP from the
# namespace with python3 -m http.server and fetch it with an unmodified
# curl whose TCP runs on usnet (usnet run), show usnet's sockets and
# counters, and clean up. --keep leaves it running to explore.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
NS=usnet-demo
TAP=usnet0
SOCK=/run/usnet/usnetd.sock
keep=no
[ "${1:-}" = "--keep" ] && keep=yes
# The demo's HTTP fetch is local: no proxy may take it elsewhere.
unset http_proxy HTTP_PROXY all_proxy ALL_PROXY

if [ "$(id -u)" -ne 0 ]; then
	echo "quickstart: run as root (it creates a TAP device and a network namespace)" >&2
	exit 1
fi

"$top/scripts/deps.sh"
echo "==> building in $top/build (log: $top/build.log)"
if ! "$top/scripts/build.sh" "$top/build" >"$top/build.log" 2>&1; then
	tail -n 30 "$top/build.log" >&2
	echo "quickstart: build failed; the whole log is in $top/build.log" >&2
	exit 1
fi
USNETD="$top/build/daemon/usnetd"
USNET="$top/build/cli/usnet"
# libusnet is not installed: usnet run takes it from the build tree.
USNET_LIB="$top/build/shim/.libs/libusnet.so"
export USNET_LIB

pid=""
hpid=""
tmp=""
cleanup() {
	for p in $hpid $pid; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "$tmp" ] || rm -rf "$tmp"
	ip netns del "$NS" 2>/dev/null || true
}

if ip netns list | grep -qw "^$NS"; then
	echo "quickstart: namespace $NS exists already (a previous run?); remove it with 'ip netns del $NS'" >&2
	exit 1
fi
ip netns add "$NS"
[ "$keep" = yes ] || trap cleanup EXIT INT TERM

echo "==> usnetd -f --tap $TAP --address 10.77.0.2/24 --host-netns $NS --host-address 10.77.0.1/24 --service echo:7,discard:9,chargen:19"
"$USNETD" -f --tap "$TAP" --address 10.77.0.2/24 --host-netns "$NS" \
	--host-address 10.77.0.1/24 --control "$SOCK" --service echo:7,discard:9,chargen:19 &
pid=$!
i=0
until "$USNET" --control "$SOCK" status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "quickstart: usnetd did not start" >&2
		exit 1
	fi
	sleep 0.1
done

echo "==> ip netns exec $NS ping -c 3 10.77.0.2   (the Linux kernel pings usnet)"
ip netns exec "$NS" ping -c 3 10.77.0.2

echo "==> ip netns exec $NS ip neigh   (the kernel learned usnet's MAC by ARP)"
ip netns exec "$NS" ip neigh show 10.77.0.2

echo "==> usnet status   (first lines)"
"$USNET" --control "$SOCK" status | sed -n '1,12p'

echo "==> echo hello | ip netns exec $NS nc -N 10.77.0.2 7   (the kernel talks TCP to usnet's echo service)"
reply=$(echo hello | ip netns exec "$NS" nc -N -w 5 10.77.0.2 7)
echo "$reply"
if [ "$reply" != hello ]; then
	echo "quickstart: the echo service did not answer 'hello'" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/usnet-demo.XXXXXX)
www=$tmp/www
mkdir "$www"
echo "Hello from the Linux kernel in namespace $NS, served by python3 -m http.server." >"$www/hello.txt"
echo "==> ip netns exec $NS python3 -m http.server -b 10.77.0.1 -d $www 8000 &   (a kernel-side HTTP server)"
ip netns exec "$NS" python3 -m http.server -b 10.77.0.1 -d "$www" 8000 >"$tmp/http.log" 2>&1 &
hpid=$!
i=0
until ip netns exec "$NS" ss -Hltn 'sport = :8000' | grep -q .; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$hpid" 2>/dev/null; then
		cat "$tmp/http.log" >&2
		echo "quickstart: python3 -m http.server did not start" >&2
		exit 1
	fi
	sleep 0.1
done

echo "==> usnet run -- curl -sS --max-time 10 http://10.77.0.1:8000/hello.txt   (an unmodified curl, its TCP on usnet)"
if ! page=$("$USNET" --control "$SOCK" run -- curl -sS --max-time 10 http://10.77.0.1:8000/hello.txt); then
	echo "quickstart: curl through usnet failed" >&2
	exit 1
fi
echo "$page"
if [ "$page" != "$(cat "$www/hello.txt")" ]; then
	echo "quickstart: curl through usnet fetched something else than $www/hello.txt" >&2
	exit 1
fi
echo "==> the server's log   (the request came from 10.77.0.2: usnet's address, not the host's)"
grep 'GET /hello.txt' "$tmp/http.log"

echo "==> usnet sockets -a   (usnet's TCP sockets, as ss -tan shows the kernel's)"
"$USNET" --control "$SOCK" sockets -a

echo "==> usnet stats 'Tcp*'   (usnet's TCP counters, as nstat shows the kernel's)"
"$USNET" --control "$SOCK" stats 'Tcp*'

cat <<EOT

What next:
  - Run it yourself and keep it:   scripts/quickstart.sh --keep
  - Type to the echo service:      ip netns exec $NS nc 10.77.0.2 7
  - Watch a stream from chargen:   ip netns exec $NS nc -d 10.77.0.2 19 | head
  - Any program's TCP on usnet:    export USNET_LIB=$USNET_LIB
                                   $USNET run -- curl http://10.77.0.1:8000/   (the server stays with --keep)
  - A server on usnet:             $USNET run -- python3 -m http.server -b 10.77.0.2 8001 &
                                   ip netns exec $NS curl http://10.77.0.2:8001/
  - Look at the connections:       $USNET sockets -i   (while one is open; -a for listeners too)
  - Watch the counters:            $USNET stats        (or status; -j for JSON)
  - Flood it and compare with the kernel:   bench/icmp_flood.sh
  - Read the manuals:              man -l man/usnetd.8, man -l man/usnet.8, man -l man/libusnet.7
  - Run every test:                scripts/test.sh
  UDP, over usnet and through libusnet, arrives in a next release.
EOT
if [ "$keep" = yes ]; then
	echo
	echo "usnetd (pid $pid) and the HTTP server (pid $hpid) keep running."
	echo "Stop them with: kill $hpid $pid; ip netns del $NS; rm -r $tmp"
fi
