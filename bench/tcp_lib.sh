# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# shellcheck disable=SC2154,SC2034 # variables shared with the caller
# Shared by bench/tcp_*.sh and bench/shim_*.sh (sourced, not run): finding
# the tools, building the two test beds, the kernel-side servers, programs
# under libusnet (`usnet run`), TCP counters of both stacks, one client run
# with the "other work" check, medians, and cleaning up on exit.
#
# The test beds, with usnetd (its one worker) and the kernel's server on
# the endpoint CPU and every kernel-side client on the peer CPU:
#
#   direct (no loss): usnet's peer namespace $NSU holds the TAP's kernel
#     side ($KPEER_U); the kernel's client namespace $NSK1 and server
#     namespace $NSK2 are joined by a veth pair.
#   bridged (-l LOSS): a wire namespace $NSW holds two bridges; usnetd's
#     TAP and a veth to $NSU are ports of one, veths to $NSK1 and $NSK2
#     ports of the other; one nftables rule in $NSW drops LOSS percent of
#     the frames either bridge forwards, in both directions, so that both
#     stacks see the same wire loss.
#
# Every kernel-side interface has its offloads off (TSO, GSO, GRO), so the
# kernel handles one frame at a time as usnet does, and every kernel route
# says CUBIC (the host's default is BBR; per-netns sysctls cannot change it
# here), as is usnet's default congestion control. Names end in the
# script's PID so that runs do not collide; only processes started here are
# stopped, by PID.

# Variables the caller sets before tb_setup: top, build, cpu, kcpu, mtu,
# loss, services (usnetd's --service list), and usnetd_opts (extra options);
# the shim_*.sh scripts also need_shim=1 (libusnet.so), acpu (the CPU of the
# programs under usnet, or empty) and need_cmds (the load tools they run:
# iperf3, sockperf, strace).

tag=$$
NSU=tbu-$tag
NSK1=tbk1-$tag
NSK2=tbk2-$tag
NSW=tbw-$tag
NST=tbt-$tag
TAP=tbu$tag
SOCK=/tmp/usnet-tcpbench-$tag.sock
UADDR=10.201.0.2 # usnet
KPEER_U=10.201.0.1 # the kernel facing usnet
KADDR=10.202.0.2 # the kernel's server
KPEER_K=10.202.0.1 # the kernel's client
tb_pids=""
tb_sender=""
tb_tmp=""
upid=""

tb_cleanup() {
	for p in $tb_pids; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for ns in $NSU $NSK1 $NSK2 $NSW $NST; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -f "$SOCK"
	[ -z "$tb_tmp" ] || rm -rf "$tb_tmp"
}

# Binaries: an out-of-tree build in $build (-b), else build/, else in-tree;
# bench/taplimit too when $need_taplimit is set, libusnet.so when $need_shim
# is.
tb_tools() {
	if [ -z "$build" ]; then
		if [ -x "$top/build/daemon/usnetd" ]; then
			build=$top/build
		else
			build=$top
		fi
	fi
	USNETD=${USNETD:-$build/daemon/usnetd}
	USNET=${USNET:-$build/cli/usnet}
	TCPPERF=${TCPPERF:-$build/bench/tcpperf}
	TAPLIMIT=${TAPLIMIT:-$build/bench/taplimit}
	[ "$(id -u)" -eq 0 ] || { echo "$0: run as root" >&2; exit 1; }
	need="$USNETD $USNET $TCPPERF"
	[ -z "${need_taplimit:-}" ] || need="$need $TAPLIMIT"
	for b in $need; do
		[ -x "$b" ] || { echo "$0: $b not built (scripts/build.sh build)" >&2; exit 1; }
	done
	if [ -n "${need_shim:-}" ]; then
		USNET_LIB=${USNET_LIB:-$build/shim/.libs/libusnet.so}
		[ -r "$USNET_LIB" ] || { echo "$0: $USNET_LIB not built (scripts/build.sh build)" >&2; exit 1; }
		export USNET_LIB
	fi
	for t in ethtool nstat taskset python3; do
		command -v "$t" >/dev/null || { echo "$0: $t not found (scripts/deps.sh)" >&2; exit 1; }
	done
	for t in ${need_cmds:-}; do
		command -v "$t" >/dev/null || { echo "$0: $t not found (scripts/deps.sh bench)" >&2; exit 1; }
	done
	if [ "${loss:-0}" != 0 ]; then
		command -v nft >/dev/null || { echo "$0: nft not found (scripts/deps.sh)" >&2; exit 1; }
	fi
	tb_tmp=$(mktemp -d /tmp/tcpbench.XXXXXX)
	pin_ep=""
	pin_peer=""
	[ -z "$cpu" ] || pin_ep="taskset -c $cpu"
	[ -z "$kcpu" ] || pin_peer="taskset -c $kcpu"
	pin_app=""
	[ -z "${acpu:-}" ] || pin_app="taskset -c $acpu"
	# The prefix that runs a program under usnet (libusnet preloaded) on
	# the programs' CPU; a list, as the pins are.
	urun="$pin_app $USNET --control $SOCK run --"
}

# Offloads off on interface $2 in namespace $1.
tb_nooffload() {
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 ||
		{ echo "$0: ethtool -K $2 failed" >&2; exit 1; }
}

# A veth pair: $1 in namespace $2 with address $3 (or none), $4 in $5.
tb_veth() {
	ip link add "$1" netns "$2" mtu "$mtu" type veth peer name "$4" netns "$5" mtu "$mtu"
	[ -z "$3" ] || ip -n "$2" addr add "$3/24" dev "$1"
	ip -n "$2" link set "$1" up
	ip -n "$5" link set "$4" up
	tb_nooffload "$2" "$1"
	tb_nooffload "$5" "$4"
}

# With $rps set, interface $2 in namespace $1 hands every frame it receives
# to CPU $3 (RPS). A veth's transmit queues the frame to the backlog of the
# CPU that sends it, and the kernel's TCP sends from both CPUs (from the
# application's CPU and from the softirq that processes ACKs on the other),
# so without this a flow's frames pass through two queues and arrive out
# of order: with offloads off that is hundreds of spurious retransmissions
# a second (DSACKs), and a reordering window that slows loss detection.
tb_rps() {
	[ -n "${rps:-}" ] && [ -n "$3" ] || return 0
	ip netns exec "$1" sh -c "printf '%x\n' $((1 << $3)) >/sys/class/net/$2/queues/rx-0/rps_cpus"
}

tb_cubic() {
	ip -n "$1" link set lo up
	ip -n "$1" route replace "$2" dev "$3" congctl cubic
}

tb_setup() {
	for ns in $NSU $NSK1 $NSK2; do
		ip netns add "$ns"
	done
	if [ "${loss:-0}" = 0 ]; then
		# shellcheck disable=SC2086 # $pin_ep and $usnetd_opts are lists
		$pin_ep "$USNETD" -f --tap "$TAP" --mtu "$mtu" --address "$UADDR/24" \
			--host-netns "$NSU" --host-address "$KPEER_U/24" --control "$SOCK" \
			--service "$services" --log-level warn $usnetd_opts &
		upid=$!
		tb_pids="$tb_pids $upid"
		TAPNS=$NSU
		tb_wait_usnetd
		tb_nooffload "$NSU" "$TAP"
		tb_cubic "$NSU" 10.201.0.0/24 "$TAP"
		tb_veth tbka$tag "$NSK1" "$KPEER_K" tbkb$tag "$NSK2"
		ip -n "$NSK2" addr add "$KADDR/24" dev tbkb$tag
		tb_cubic "$NSK1" 10.202.0.0/24 tbka$tag
		tb_cubic "$NSK2" 10.202.0.0/24 tbkb$tag
		tb_rps "$NSK1" tbka$tag "$kcpu"
		tb_rps "$NSK2" tbkb$tag "$cpu"
		return
	fi
	ip netns add "$NSW"
	ip -n "$NSW" link add brU type bridge
	ip -n "$NSW" link add brK type bridge
	# shellcheck disable=SC2086
	$pin_ep "$USNETD" -f --tap "$TAP" --mtu "$mtu" --address "$UADDR/24" \
		--host-netns "$NSW" --control "$SOCK" --service "$services" --log-level warn \
		$usnetd_opts &
	upid=$!
	tb_pids="$tb_pids $upid"
	TAPNS=$NSW
	tb_wait_usnetd
	ip -n "$NSW" link set "$TAP" mtu "$mtu" master brU up
	tb_nooffload "$NSW" "$TAP"
	tb_veth tbua$tag "$NSU" "$KPEER_U" tbub$tag "$NSW"
	ip -n "$NSW" link set tbub$tag master brU
	tb_veth tbka$tag "$NSK1" "$KPEER_K" tbkb$tag "$NSW"
	tb_veth tbkc$tag "$NSK2" "$KADDR" tbkd$tag "$NSW"
	ip -n "$NSW" link set tbkb$tag master brK
	ip -n "$NSW" link set tbkd$tag master brK
	ip -n "$NSW" link set brU up
	ip -n "$NSW" link set brK up
	tb_cubic "$NSU" 10.201.0.0/24 tbua$tag
	tb_cubic "$NSK1" 10.202.0.0/24 tbka$tag
	tb_cubic "$NSK2" 10.202.0.0/24 tbkc$tag
	# Towards the client side on the client's CPU, towards usnet or the
	# kernel's server on theirs.
	tb_rps "$NSU" tbua$tag "$kcpu"
	tb_rps "$NSW" tbub$tag "$cpu"
	tb_rps "$NSK1" tbka$tag "$kcpu"
	tb_rps "$NSW" tbkb$tag "$cpu"
	tb_rps "$NSK2" tbkc$tag "$cpu"
	tb_rps "$NSW" tbkd$tag "$kcpu"
	# "fwd" is an nft keyword: the chain has another name.
	ip netns exec "$NSW" nft -f - <<EOF
table bridge loss {
	chain lossy {
		type filter hook forward priority 0;
		numgen random mod 100 < $loss drop;
	}
}
EOF
}

tb_wait_usnetd() {
	i=0
	until "$USNET" --control "$SOCK" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "$0: usnetd did not start" >&2; exit 1; }
		sleep 0.05
	done
}

# A tcpperf server in the kernel's server namespace; its PID in $kpid.
tb_kserver() {
	# shellcheck disable=SC2086
	ip netns exec "$NSK2" $pin_ep "$TCPPERF" server -C cubic -a "$KADDR" "$1" \
		>"$tb_tmp/server-$1.log" 2>&1 &
	kpid=$!
	tb_pids="$tb_pids $kpid"
	tb_kwait "$NSK2" "$2" "tcpperf server $1"
}

# Waits for a kernel listener on port $2 in namespace $1 ($3 names it).
tb_kwait() {
	i=0
	until ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "$0: $3 did not start" >&2; exit 1; }
		sleep 0.05
	done
}

# Waits for a usnet listener on port $1 ($2 names it): a program under
# usnet has called listen().
tb_uwait() {
	i=0
	until "$USNET" --control "$SOCK" sockets -l 2>/dev/null | grep -q ":$1 "; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "$0: $2 did not start (log: $(tail -c 300 "$tb_tmp"/*.log))" >&2; exit 1; }
		sleep 0.05
	done
}

# tb_bg NAME COMMAND...: starts COMMAND in the background, its output in
# $tb_tmp/NAME.log and its PID in $bgpid (the program's own PID: ip netns
# exec, taskset and usnet run all exec).
tb_bg() {
	name=$1
	shift
	"$@" >"$tb_tmp/$name.log" 2>&1 &
	bgpid=$!
	tb_pids="$tb_pids $bgpid"
}

# Frames the TAP dropped on their way to usnet because usnetd had not read
# the ones before (its queue, txqueuelen, was full).
tb_tapdrops() {
	ip netns exec "$TAPNS" cat /proc/net/dev | sed 's/:/ /' |
		awk -v dev="$TAP" '$1 == dev { print $13; exit }'
}

# Frames the kernel dropped, on all CPUs, because a CPU's backlog queue
# (net.core.netdev_max_backlog) was full: how a veth loses frames, since a
# veth's transmit queues each frame to a CPU's backlog. Machine-wide.
tb_backlogdrops() {
	awk 'function hex(s,  v, i) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	{ n += hex($2) } END { print n + 0 }' /proc/net/softnet_stat
}

# "OutSegs RetransSegs DSACKRecv" of usnet or of the kernel in a namespace,
# summed over the arguments (each "usnet" or a namespace). DSACKs received
# say how many retransmissions the receiver found to be duplicates.
tb_counters() {
	for w in "$@"; do
		if [ "$w" = usnet ]; then
			"$USNET" -j --control "$SOCK" status | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(c["Tcp"]["OutSegs"], c["Tcp"]["RetransSegs"], c["TcpExt"]["TCPDSACKRecv"])'
		else
			ip netns exec "$w" nstat -asz TcpOutSegs TcpRetransSegs TcpExtTCPDSACKRecv |
				awk '$1 == "TcpOutSegs" { o = $2 } $1 == "TcpRetransSegs" { r = $2 }
				     $1 == "TcpExtTCPDSACKRecv" { d = $2 } END { print o + 0, r + 0, d + 0 }'
		fi
	done | awk '{ o += $1; r += $2; d += $3 } END { print o + 0, r + 0, d + 0 }'
}

tb_sample() {
	# shellcheck disable=SC2086 # $tb_sender is a list
	echo "$(tb_counters $tb_sender) $(tb_tapdrops) $(tb_backlogdrops)"
}

# The value of key $1 in tcpperf's key=value line in file $2.
tb_key() {
	tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | tr -d '%'
}

# One client run in namespace $1 (tcpperf client options follow), repeated
# while other work took over 10% of the CPUs (twice at most); the line is
# left in $tb_tmp/line. Both ends are CPU-bound: other work lowers them.
# When $tb_sender is set (usnet or namespaces), their TCP counters are
# sampled around the run that counts, with the TAP's and the backlogs'
# drops, into $tb_c0 and $tb_c1 ("OutSegs RetransSegs DSACKRecv TAP
# backlog").
tb_client() {
	ns=$1
	shift
	# shellcheck disable=SC2086
	tb_repeat ip netns exec "$ns" $pin_peer "$TCPPERF" client -C cubic "$@"
}

# The same for any load tool ("$@", which prints its result on standard
# output): tcpperf watch measures the other work, counting the processes
# in $tb_watch ("-w PID..."), and ends the tool if it runs over $tb_limit
# seconds (default 60); the output, then tcpperf's "other=" line, is left
# in $tb_tmp/line.
tb_watched() {
	# shellcheck disable=SC2086 # $tb_watch is a list
	tb_repeat "$TCPPERF" watch ${tb_watch:-} -- timeout -k 5 "${tb_limit:-60}" "$@"
}

# Runs "$@" until other work leaves it alone, as tb_client says: its
# standard output in $tb_tmp/line, its errors in $tb_tmp/err. The function
# named by $tb_before, if any, runs before each attempt.
tb_repeat() {
	try=1
	while :; do
		[ -z "${tb_before:-}" ] || "$tb_before"
		[ -z "$tb_sender" ] || tb_c0=$(tb_sample)
		"$@" >"$tb_tmp/line" 2>"$tb_tmp/err" &
		cpid=$!
		tb_pids="$tb_pids $cpid"
		wait "$cpid" || {
			echo "$0: failed: $*" >&2
			tail -n 5 "$tb_tmp/err" "$tb_tmp/line" >&2
			exit 1
		}
		[ -z "$tb_sender" ] || tb_c1=$(tb_sample)
		o=$(tb_key other "$tb_tmp/line")
		[ "${o:-0}" -gt 10 ] || return 0
		if [ "$try" -ge 3 ]; then
			disturbed=$((disturbed + 1))
			return 0
		fi
		echo "      (other work ${o}% of the CPUs: repeating)"
		try=$((try + 1))
	done
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Median of field $3 over the lines of results file $4 whose first two
# fields are $1 and $2, taken over those lines whose last field (other
# work, percent) is at most 10 when there are any, else over all of them.
tb_median() {
	awk -v a="$1" -v b="$2" -v f="$3" '$1 == a && $2 == b {
		all[++n] = $f
		if ($NF <= 10)
			quiet[++q] = $f
	}
	END {
		if (q)
			for (i = 1; i <= q; i++) print quiet[i]
		else
			for (i = 1; i <= n; i++) print all[i]
	}' "$4" | median
}

# "Q of N": how many of the N runs of $1 $2 in results file $3 other work
# left alone (at most 10% of the CPUs).
tb_quiet() {
	awk -v a="$1" -v b="$2" '$1 == a && $2 == b { n++; if ($NF <= 10) q++ }
		END { printf("%d of %d", q, n) }' "$3"
}

# Test bed description for the header.
tb_describe() {
	if [ -z "$cpu" ]; then
		where="not pinned"
	elif [ -n "${need_shim:-}" ]; then
		where="usnetd on CPU $cpu, programs under usnet on CPU $acpu; their kernel counterparts on CPU $cpu; kernel peers on CPU $kcpu"
	else
		where="usnetd and the kernel server on CPU $cpu, kernel clients on CPU $kcpu"
	fi
	echo "  kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs; $where"
	if [ "${loss:-0}" = 0 ]; then
		echo "  usnet: TAP to namespace $NSU; kernel: veth pair $NSK1 <-> $NSK2; MTU $mtu"
	else
		echo "  bridged, $loss% loss each way in $NSW (nftables numgen):" \
			"$NSU <-veth-> bridge <-TAP-> usnet; $NSK1 <-veth-> bridge <-veth-> $NSK2; MTU $mtu"
	fi
	[ -z "${rps:-}" ] || echo "  -R: every veth's receive steered (RPS) to the CPU of the end it leads to"
	echo "  offloads (TSO, GSO, GRO) off on every kernel-side interface; parity with" \
		"offloads is a later issue"
}

# tb_iperf KEY WHO COMMAND...: one iperf3 client run (COMMAND ends with
# iperf3's options; -J is added) as WHO ("shim", "kernel"...) under KEY (a
# direction); prints it and appends "KEY WHO gbps retransmits other" to
# $res. The figure is the receiver's goodput; the congestion control is
# what iperf3 read back from both ends' sockets (TCP_CONGESTION).
tb_iperf() {
	key=$1
	who=$2
	shift 2
	tb_watched "$@" -J
	python3 - "$tb_tmp/line" "$key" "$who" "$res" <<'PY' || exit 1
import json, re, sys
text = open(sys.argv[1]).read()
other = re.search(r"^tcpperf watch .*other=(\d+)%", text, re.M)
d = json.loads(text[:other.start()] if other else text)
if "error" in d:
    sys.exit("%s: iperf3: %s" % (sys.argv[3], d["error"]))
e = d["end"]
g = e["sum_received"]["bits_per_second"] / 1e9
re_ = e["sum_sent"].get("retransmits", 0)
o = int(other.group(1)) if other else 0
print("    %-8s %7.3f Gbit/s  %d retransmitted  cc sender %s, receiver %s  other %d%%" %
      (sys.argv[3], g, re_, e.get("sender_tcp_congestion", "?"),
       e.get("receiver_tcp_congestion", "?"), o))
with open(sys.argv[4], "a") as f:
    print(sys.argv[2], sys.argv[3], g, re_, o, file=f)
PY
}

# tb_sockperf KEY WHO COMMAND...: one sockperf ping-pong run (COMMAND ends
# with sockperf's options; --full-rtt is added: round trips, not halves)
# as WHO under KEY; prints it and appends "KEY WHO p50_us p99_us avg_us
# other" to $res.
tb_sockperf() {
	key=$1
	who=$2
	shift 2
	tb_watched "$@" --full-rtt
	awk -v key="$key" -v who="$who" -v res="$res" '
		/percentile 50\.000 =/ { p50 = $NF }
		/percentile 99\.000 =/ { p99 = $NF }
		match($0, /avg-rtt=[0-9.]+/) { avg = substr($0, RSTART + 8, RLENGTH - 8) }
		match($0, /Total [0-9]+ observations/) { n = substr($0, RSTART + 6, RLENGTH - 19) }
		/^tcpperf watch / { o = $NF; sub(/other=/, "", o); sub(/%/, "", o) }
		END {
			if (p50 == "" || p99 == "") {
				print "sockperf gave no percentiles (" who ")" > "/dev/stderr"
				exit 1
			}
			printf("    %-8s p50 %7.1f us  p99 %8.1f us  avg %7.1f us  %d round trips  other %s%%\n",
			       who, p50, p99, avg, n, o)
			print key, who, p50, p99, avg, o >> res
		}' "$tb_tmp/line" || exit 1
}

# tb_ratio A B: A / B to two places, "-" when B is zero.
tb_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0) printf("%.2f", a / b); else printf("-") }'
}

# -l LEN of the sockperf benches: a message length, at least sockperf's
# 14-byte header. Sets len; status 1 for a bad one (usage).
tb_opt_len() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
	[ "$1" -ge 14 ] || return 1
	len=$1
}

# tb_shim_opts EXTRA "$@": the options of the shim_*.sh scripts, [-r RUNS]
# [-s SECONDS] [-m MTU] [-b BUILDDIR] [-c CPU] [-k CPU] [-a CPU] [-u] [--
# USNETD-OPTIONS], into runs, secs, mtu, build, cpu, kcpu, acpu and
# usnetd_opts (the caller sets the defaults of runs and secs first). EXTRA
# is more getopts letters, which the caller's tb_opt LETTER VALUE takes
# (non-zero: a usage error); the caller's usage prints the usage and exits.
# usnetd on CPU 1 (-c); the kernel's peers on CPU 0 (-k); programs under
# usnet on CPU 0 too (-a), so that usnetd keeps a CPU to itself, as in the
# built-in services' runs (on usnetd's CPU the program and usnetd take
# turns, and the TAP's queue overflows while the program runs); the kernel's
# counterparts of those programs on CPU 1 ($pin_ep), so that each stack has
# both CPUs. -u pins nothing.
tb_shim_opts() {
	extra=$1
	shift
	mtu=1500
	loss=0
	build=""
	cpu=1
	kcpu=0
	acpu=""
	rps=""
	unpinned=""
	need_shim=1
	while getopts "r:s:m:b:c:k:a:u$extra" opt; do
		case $opt in
		r) runs=$OPTARG ;;
		s) secs=$OPTARG ;;
		m) mtu=$OPTARG ;;
		b) build=$OPTARG ;;
		c) cpu=$OPTARG ;;
		k) kcpu=$OPTARG ;;
		a) acpu=$OPTARG ;;
		u) unpinned=1 ;;
		\?) usage ;;
		*) tb_opt "$opt" "${OPTARG:-}" || usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ "${1:-}" != "--" ] || shift
	usnetd_opts="$*"
	for v in "$runs" "$secs" "$mtu" "$cpu" "$kcpu" ${acpu:+"$acpu"}; do
		case $v in
		'' | *[!0-9]*) usage ;;
		esac
	done
	[ -n "$acpu" ] || acpu=$kcpu
	if [ -n "$unpinned" ] || [ "$(nproc)" -lt 2 ]; then
		cpu=""
		kcpu=""
		acpu=""
	fi
}

# tb_shim_start: what every shim_*.sh does once its options are parsed and
# $services and $need_cmds are set: clean up on exit, check the tools, make
# the namespaces and start usnetd, and open the results file ($res).
tb_shim_start() {
	trap tb_cleanup EXIT
	trap 'exit 130' INT TERM
	tb_tools
	tb_setup
	tb_limit=$((secs + 30))
	res=$tb_tmp/results
	: >"$res"
	disturbed=0
	tb_sender=""
}
