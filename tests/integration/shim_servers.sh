#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Unmodified servers and clients under libusnet (usnet run), against the
# kernel in the test's namespace, with no usnet-specific settings:
#  - nginx in its default daemon mode: the master forks two workers that
#    share the listeners (listen 80 and [::]:80) and wait in epoll;
#    sendfile on. ab on the kernel side makes 10,000 requests: none may
#    fail or be answered with anything but 200, and both workers must
#    serve some (distinct $pid in the access log). A 16 MiB file comes
#    back with its SHA-256 (nginx's sendfile path). Stopped by SIGTERM to
#    the master (its pid file): within 2 s nothing of it is left in
#    `usnet sockets -a` but TIME-WAIT entries (nginx closes first, so
#    thousands of its connections end in TIME-WAIT on usnet's side, as
#    they would on the kernel's). Started by root with no `user`
#    directive, the workers run as nobody, as they do by default;
#  - redis-server answers redis-benchmark (SET and GET, 20 clients) from
#    the kernel side; redis-cli SETs and GETs on a kernel redis-server;
#  - iperf3 -c to a kernel iperf3 -s, both directions (-R), and iperf3 -s
#    for a kernel client: each JSON report has bytes and no error;
#  - a python3 asyncio echo server serves 20 concurrent kernel clients
#    (200 KB each, echo compared), and the same client under usnet uses a
#    kernel asyncio server.
# Every client runs under timeout(1), so a hang is a failure that says
# which. Under sanitizers: fewer requests, smaller files, shorter runs.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init shim_servers

for c in nginx redis-server redis-cli redis-benchmark ab iperf3 curl; do
	command -v "$c" >/dev/null || skip "$c not installed (scripts/deps.sh)"
done
LIB=$TOP_BUILDDIR/shim/.libs/libusnet.so
[ -r "$LIB" ] || hard_error "$LIB missing"
UA=10.77.0.2		# usnet's address
KA=10.77.0.1		# the kernel's, in $NS

AB_N=10000
BIG_MB=16
REDIS_N=20000
IPERF_S=3
ECHO_CONNS=20
ECHO_KB=200
if sanitized; then
	AB_N=2000
	BIG_MB=4
	REDIS_N=4000
	IPERF_S=2
	ECHO_CONNS=10
	ECHO_KB=50
fi

# nginx's daemonized master and its workers are not our children: they are
# killed at exit by PID, and only while /proc says they still are nginx.
# Its error log is not among the *.log files that it_cleanup prints when
# the test fails (a spinning worker can fill it with millions of lines):
# its end is printed here instead.
NGINX_PIDS=()
nginx_cleanup() {
	local rc=$1 p exe

	for p in "${NGINX_PIDS[@]}"; do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
		[ "${exe% (deleted)}" = "$(readlink -f "$(command -v nginx)")" ] || continue
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -s "$TMPD/nginx/error.log" ]; then
		echo "--- $TMPD/nginx/error.log (last 20 of $(lines "$TMPD/nginx/error.log") lines)"
		tail -n 20 "$TMPD/nginx/error.log"
	fi
}
# On EXIT: nginx first, then it_cleanup with the test's exit status.
servers_exit() {
	local rc=$?

	[ "$rc" -eq 0 ] && [ "$IT_SOFT_FAILS" -gt 0 ] && rc=1
	nginx_cleanup "$rc"
	(exit "$rc")
	it_cleanup
}
trap servers_exit EXIT

# bg NAME CMD...: CMD in the background, output in $TMPD/NAME.log, stopped
# at exit; sets BGPID.
bg() {
	local name=$1

	shift
	"$@" >"$TMPD/$name.log" 2>&1 &
	BGPID=$!
	IT_HELPERS+=("$BGPID")
}

# stop_bg PID: SIGTERM to our background child PID and wait for it.
stop_bg() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget_helper "$1"
}

make_netns
start_usnetd
shim_env
ping_ok 1
# The kernel side's redis-cli reaches its own redis-server over lo.
nsexec ip link set lo up
# nginx's workers run as nobody (its default user when started by root):
# they read the files in $TMPD/www.
chmod 755 "$TMPD"

# --- nginx ------------------------------------------------------------------
mkdir -p "$TMPD/www" "$TMPD/nginx"
echo hello >"$TMPD/www/index.html"
head -c $((BIG_MB << 20)) /dev/urandom >"$TMPD/www/big.bin"
want=$(sha256sum <"$TMPD/www/big.bin" | cut -d' ' -f1)
NPID=$TMPD/nginx/nginx.pid
cat >"$TMPD/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $NPID;
error_log $TMPD/nginx/error.log notice;
events {
	worker_connections 1024;
}
http {
	sendfile on;
	log_format pids '\$pid \$status \$body_bytes_sent';
	access_log $TMPD/nginx/access.log pids;
	client_body_temp_path $TMPD/nginx/body;
	proxy_temp_path $TMPD/nginx/proxy;
	fastcgi_temp_path $TMPD/nginx/fastcgi;
	uwsgi_temp_path $TMPD/nginx/uwsgi;
	scgi_temp_path $TMPD/nginx/scgi;
	server {
		listen 80;
		listen [::]:80;
		root $TMPD/www;
	}
}
EOF
nginx -t -q -p "$TMPD/nginx" -e "$TMPD/nginx/error.log" -c "$TMPD/nginx/nginx.conf" ||
	hard_error "nginx -t rejects the test's configuration (its error log follows)"
# Daemon mode: the started nginx exits once its daemon has forked.
timeout 10 "${URUN[@]}" nginx -p "$TMPD/nginx" -e "$TMPD/nginx/error.log" \
	-c "$TMPD/nginx/nginx.conf" >"$TMPD/nginx-start.log" 2>&1 ||
	fail "nginx under usnet did not start (exit $?): $(cat "$TMPD/nginx-start.log")"
for ((i = 0; i < 50; i++)); do
	[ -s "$NPID" ] && break
	sleep 0.1
done
master=$(cat "$NPID" 2>/dev/null)
[ -n "$master" ] || fail "nginx wrote no pid file in 5 s"
NGINX_PIDS+=("$master")
wait_ulisten 80 nginx
workers=()
for ((i = 0; i < 50; i++)); do
	mapfile -t workers < <(pgrep -P "$master")
	[ "${#workers[@]}" -ge 2 ] && break
	sleep 0.1
done
NGINX_PIDS+=("${workers[@]}")
expect_eq "nginx workers" "${#workers[@]}" 2
log "nginx master $master, workers ${workers[*]}"

t0=$(date +%s%N)
timeout 40 ip netns exec "$NS" ab -q -s 20 -n "$AB_N" -c 10 "http://$UA/index.html" >"$TMPD/ab.out" 2>&1
rc=$?
[ "$rc" -eq 124 ] && fail "ab -n $AB_N -c 10 against nginx under usnet hung (40 s): $(tail -5 "$TMPD/ab.out")"
[ "$rc" -eq 0 ] || fail "ab against nginx under usnet failed (exit $rc): $(cat "$TMPD/ab.out")"
ms=$((($(date +%s%N) - t0) / 1000000))
done_n=$(awk '/^Complete requests:/ { print $3 }' "$TMPD/ab.out")
failed=$(awk '/^Failed requests:/ { print $3 }' "$TMPD/ab.out")
non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$TMPD/ab.out")
rps=$(awk '/^Requests per second:/ { print $4 }' "$TMPD/ab.out")
expect_eq "ab complete requests" "$done_n" "$AB_N"
expect_eq "ab failed requests" "$failed" 0
expect_eq "ab non-2xx responses" "${non2xx:-0}" 0
ok "ab: $AB_N requests in $ms ms ($rps requests/s)"

curl_rc=$(run_capture "$TMPD/big.got" "$TMPD/curl.err" timeout 30 ip netns exec "$NS" \
	curl -sS -o - "http://$UA/big.bin")
[ "$curl_rc" -eq 0 ] || fail "kernel curl of ${BIG_MB} MiB from nginx failed (exit $curl_rc): $(cat "$TMPD/curl.err")"
expect_eq "sha256 of ${BIG_MB} MiB from nginx (sendfile)" \
	"$(sha256sum <"$TMPD/big.got" | cut -d' ' -f1)" "$want"

# Every request is logged when it ends; both workers must have served.
ok_lines=$(awk '$2 == 200' "$TMPD/nginx/access.log" | wc -l)
expect_ge "requests logged with 200" "$ok_lines" $((AB_N + 1))
pids=$(awk '{ print $1 }' "$TMPD/nginx/access.log" | sort | uniq -c | sort -rn)
expect_eq "nginx workers that served" "$(printf '%s\n' "$pids" | wc -l)" 2
ok "requests per worker: $(printf '%s\n' "$pids" | awk '{ printf "%s%s:%s", sep, $2, $1; sep = ", " }')"

kill -TERM "$master" || fail "kill -TERM nginx master $master failed"
for ((i = 0; i < 50; i++)); do
	gone=1
	for p in "$master" "${workers[@]}"; do
		alive "$p" && gone=0
	done
	[ "$gone" = 1 ] && break
	sleep 0.1
done
[ "$gone" = 1 ] || fail "nginx (master $master, workers ${workers[*]}) still running 5 s after SIGTERM"
NGINX_PIDS=()
left=
for ((i = 0; i < 20; i++)); do
	left=$("$USNET" --control "$SOCK" sockets -a exclude time-wait | tail -n +2)
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "2 s after nginx exited, usnet still has sockets: $left"
tw=$("$USNET" --control "$SOCK" sockets -a state time-wait | tail -n +2 | wc -l)
ok "nginx stopped; no socket left but $tw in TIME-WAIT"

# --- redis --------------------------------------------------------------------
bg redis-u "${URUN[@]}" redis-server --bind "$UA" --port 6379 --save '' --appendonly no \
	--protected-mode no --daemonize no
redis_u=$BGPID
wait_ulisten 6379 redis-server
timeout 60 ip netns exec "$NS" redis-benchmark -h "$UA" -p 6379 -q -n "$REDIS_N" -t set,get -c 20 \
	>"$TMPD/redis-bench.out" 2>&1
rc=$?
tr '\r' '\n' <"$TMPD/redis-bench.out" | grep -E '^(SET|GET): [0-9.]+ requests per second' \
	>"$TMPD/redis-bench.sum"
[ "$rc" -eq 124 ] && fail "redis-benchmark against redis-server under usnet hung (60 s)"
[ "$rc" -eq 0 ] || fail "redis-benchmark failed (exit $rc): $(cat "$TMPD/redis-bench.out")"
grep -qi error "$TMPD/redis-bench.out" && fail "redis-benchmark reports errors: $(grep -i error "$TMPD/redis-bench.out" | head -3)"
expect_eq "redis-benchmark results (SET, GET)" "$(lines "$TMPD/redis-bench.sum")" 2
ok "redis-server under usnet: $(sed 's/ requests per second.*//; s/: / /' "$TMPD/redis-bench.sum" | paste -sd' ') requests/s"
stop_bg "$redis_u"

bg redis-k ip netns exec "$NS" redis-server --bind "$KA" --port 6380 --save '' --appendonly no \
	--protected-mode no --daemonize no
redis_k=$BGPID
wait_klisten 6380 "kernel redis-server"
val=usnet-$$-$RANDOM
got=$(timeout 10 "${URUN[@]}" redis-cli -h "$KA" -p 6380 SET usnet:k "$val" 2>&1)
[ "$?" -eq 124 ] && fail "redis-cli SET under usnet hung (10 s)"
expect_eq "redis-cli SET under usnet" "$got" OK
got=$(timeout 10 ip netns exec "$NS" redis-cli -h "$KA" -p 6380 GET usnet:k 2>&1)
[ "$?" -eq 124 ] && fail "kernel redis-cli GET hung (10 s)"
expect_eq "the kernel side's GET" "$got" "$val"
got=$(timeout 10 "${URUN[@]}" redis-cli -h "$KA" -p 6380 GET usnet:k 2>&1)
[ "$?" -eq 124 ] && fail "redis-cli GET under usnet hung (10 s)"
expect_eq "redis-cli GET under usnet" "$got" "$val"
stop_bg "$redis_k"

# --- iperf3 -------------------------------------------------------------------
# iperf_check NAME: the JSON report $TMPD/NAME.json has bytes both ways and
# no error; prints the receiver's bits/s.
iperf_check() {
	"$PY" - "$TMPD/$1.json" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
if "error" in doc:
    sys.exit("error: " + doc["error"])
end = doc["end"]
sent, rcvd = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
if not sent or not rcvd:
    sys.exit("sent %d bytes, received %d" % (sent, rcvd))
print("%.0f Mbit/s, %d bytes" % (end["sum_received"]["bits_per_second"] / 1e6, rcvd))
PYEOF
}

# iperf_run NAME WHAT CMD...: CMD must write a JSON report that
# iperf_check accepts.
iperf_run() {
	local name=$1 what=$2 rc res

	shift 2
	timeout $((IPERF_S + 20)) "$@" >"$TMPD/$name.json" 2>"$TMPD/$name.err"
	rc=$?
	[ "$rc" -eq 124 ] && fail "$what hung ($((IPERF_S + 20)) s)"
	res=$(iperf_check "$name" 2>&1) || fail "$what (exit $rc): $res $(cat "$TMPD/$name.err")"
	[ "$rc" -eq 0 ] || fail "$what exited $rc: $(cat "$TMPD/$name.err")"
	ok "$what: $res"
}

bg iperf-k ip netns exec "$NS" iperf3 -s -B "$KA" -p 5201
iperf_k=$BGPID
wait_klisten 5201 "kernel iperf3 -s"
iperf_run iperf-c "iperf3 -c under usnet, ${IPERF_S} s" \
	"${URUN[@]}" iperf3 -c "$KA" -p 5201 -t "$IPERF_S" -J
iperf_run iperf-r "iperf3 -c -R under usnet, ${IPERF_S} s" \
	"${URUN[@]}" iperf3 -c "$KA" -p 5201 -t "$IPERF_S" -R -J
stop_bg "$iperf_k"

bg iperf-u "${URUN[@]}" iperf3 -s -B "$UA" -p 5202
iperf_u=$BGPID
wait_ulisten 5202 "iperf3 -s under usnet"
iperf_run iperf-s "iperf3 -s under usnet, kernel client, ${IPERF_S} s" \
	ip netns exec "$NS" iperf3 -c "$UA" -p 5202 -t "$IPERF_S" -J
stop_bg "$iperf_u"

# --- python asyncio -----------------------------------------------------------
cat >"$TMPD/aecho.py" <<'PY'
# aecho.py server HOST PORT | client HOST PORT CONNS BYTES
import asyncio, os, sys

async def echo(reader, writer):
    while True:
        d = await reader.read(65536)
        if not d:
            break
        writer.write(d)
        await writer.drain()
    writer.close()
    await writer.wait_closed()

async def server(host, port):
    srv = await asyncio.start_server(echo, host, port)
    async with srv:
        await srv.serve_forever()

async def one(host, port, n):
    data = os.urandom(n)
    reader, writer = await asyncio.open_connection(host, port)
    async def send():
        for i in range(0, n, 16384):
            writer.write(data[i:i + 16384])
            await writer.drain()
        writer.write_eof()
    sender = asyncio.create_task(send())
    got = await reader.readexactly(n)
    await sender
    rest = await reader.read()
    writer.close()
    await writer.wait_closed()
    return got == data and not rest

async def client(host, port, conns, n):
    res = await asyncio.gather(*(one(host, port, n) for _ in range(conns)))
    bad = res.count(False)
    print("%d/%d connections echoed %d bytes intact" % (conns - bad, conns, n))
    sys.exit(1 if bad else 0)

if sys.argv[1] == "server":
    asyncio.run(server(sys.argv[2], int(sys.argv[3])))
else:
    asyncio.run(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
PY
# echo_run WHAT CMD...: the asyncio client CMD must see every echo intact.
echo_run() {
	local what=$1 out rc

	shift
	out=$(timeout 30 "$@" 2>&1)
	rc=$?
	[ "$rc" -eq 124 ] && fail "$what hung (30 s)"
	[ "$rc" -eq 0 ] || fail "$what (exit $rc): $out"
	ok "$what: $out"
}

bg aecho-u "${URUN[@]}" python3 "$TMPD/aecho.py" server "$UA" 7100
aecho_u=$BGPID
wait_ulisten 7100 "asyncio server under usnet"
echo_run "asyncio server under usnet, $ECHO_CONNS kernel clients" \
	ip netns exec "$NS" python3 "$TMPD/aecho.py" client "$UA" 7100 "$ECHO_CONNS" $((ECHO_KB * 1000))
stop_bg "$aecho_u"

bg aecho-k ip netns exec "$NS" python3 "$TMPD/aecho.py" server "$KA" 7101
aecho_k=$BGPID
wait_klisten 7101 "kernel asyncio server"
echo_run "asyncio client under usnet, $ECHO_CONNS connections to the kernel" \
	"${URUN[@]}" python3 "$TMPD/aecho.py" client "$KA" 7101 "$ECHO_CONNS" $((ECHO_KB * 1000))
stop_bg "$aecho_k"
