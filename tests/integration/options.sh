#!/bin/bash
# SPDX-License-Identifier: MIT
#
# usnetd's options, configuration file and start-up errors: each bad
# start prints one clear line naming what is wrong and exits non-zero
# (2 for usage, 1 for configuration and run-time failures), and leaves
# nothing behind.
#  - --address bogus; an unknown option (and the did-you-mean hint for
#    --adress); a missing value; a stray argument; --mtu out of range;
#  - --host-netns naming a namespace that does not exist: the message
#    names it and says 'ip netns add';
#  - a second usnetd on the same TAP in the same namespace fails naming the
#    TAP (busy) while the first keeps working;
#  - a second usnetd on the control socket of a running one is refused,
#    leaves the first one's socket in place and removes its own TAP;
#  - configuration files: an unknown directive gives FILE:LINE: and the
#    word, with 'did you mean' for a near miss ('adress'); a bad value
#    gives FILE:LINE; a good file passes --check-config (exit 0); a
#    gateway on no subnet fails;
#  - without privileges (setpriv to nobody, no capabilities) usnetd fails
#    mentioning CAP_NET_ADMIN or root and creates no TAP;
#  - --help and --version exit 0.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init options

# expect_fail WHAT WANT_RC CMD...: CMD must exit WANT_RC ("nonzero" for
# any failure) with exactly one line on stderr and nothing on stdout. The
# line is left in $ERR.
expect_fail() {
	local what=$1 want=$2 rc

	shift 2
	rc=$(run_capture "$TMPD/out" "$TMPD/err" "$@")
	ERR=$(cat "$TMPD/err")
	if [ "$want" = nonzero ]; then
		[ "$rc" -ne 0 ] || fail "$what: exit status 0, want a failure"
	else
		[ "$rc" -eq "$want" ] || fail "$what: exit status $rc, want $want (stderr: $ERR)"
	fi
	[ "$(lines "$TMPD/err")" -eq 1 ] || fail "$what: want exactly one line on stderr, got: $ERR"
	[ ! -s "$TMPD/out" ] || fail "$what: unexpected output on stdout: $(cat "$TMPD/out")"
	ok "$what: exit $rc: $ERR"
}

# expect_in WHAT TEXT WORD...: every WORD occurs in TEXT.
expect_in() {
	local what=$1 text=$2 w

	shift 2
	for w in "$@"; do
		[[ $text == *"$w"* ]] || fail "$what: message does not mention '$w': $text"
	done
}

# --- command line ---------------------------------------------------------------
expect_fail "--address bogus" 2 "$USNETD" -c "$CONF" --check-config --address bogus
expect_in "--address bogus" "$ERR" "--address bogus"
expect_fail "--address bogus (no --check-config)" nonzero "$USNETD" -c "$CONF" -f --address bogus
expect_in "--address bogus" "$ERR" bogus

expect_fail "unknown option" 2 "$USNETD" -c "$CONF" --no-such-option
expect_in "unknown option" "$ERR" "unknown option" "no-such-option"
expect_fail "unknown option --adress" 2 "$USNETD" -c "$CONF" --adress 10.77.0.2/24
expect_in "unknown option --adress" "$ERR" "did you mean '--address'"
expect_fail "unknown short option" 2 "$USNETD" -c "$CONF" -Z
expect_in "unknown short option" "$ERR" "-Z"
expect_fail "--tap without a value" 2 "$USNETD" -c "$CONF" --tap
expect_in "--tap without a value" "$ERR" "--tap" "needs a value"
expect_fail "stray argument" 2 "$USNETD" -c "$CONF" --check-config stray
expect_in "stray argument" "$ERR" "'stray'"
expect_fail "--mtu 67" 2 "$USNETD" -c "$CONF" --check-config --mtu 67
expect_in "--mtu 67" "$ERR" "--mtu 67" "68"
expect_fail "--address 224.0.0.1/4" 2 "$USNETD" -c "$CONF" --check-config --address 224.0.0.1/4
expect_in "--address 224.0.0.1/4" "$ERR" "224.0.0.1/4" "unicast"
expect_fail "--tap with a slash" 2 "$USNETD" -c "$CONF" --check-config --tap a/b
expect_fail "ambiguous --host" 2 "$USNETD" -c "$CONF" --check-config --host 1
expect_in "ambiguous --host" "$ERR" "ambiguous option '--host'" "--host-netns" "--host-address"
expect_fail "network address" 2 "$USNETD" -c "$CONF" --check-config --address 10.77.0.0/24
expect_in "network address" "$ERR" "10.77.0.0/24" "network address"
expect_fail "broadcast address" 2 "$USNETD" -c "$CONF" --check-config --address 10.77.0.255/24
expect_in "broadcast address" "$ERR" "10.77.0.255/24" "broadcast address"
"$USNETD" -c "$CONF" --check-config --address 10.77.0.0/31 >/dev/null 2>&1 ||
	fail "a /31 network address is a host address (RFC 3021)"
expect_fail "unknown user" 1 "$USNETD" -c "$CONF" --check-config --user "no-such-user-$$"
expect_in "unknown user" "$ERR" "no-such-user-$$" "no such user"
expect_fail "-c missing file" nonzero "$USNETD" -c "$TMPD/missing.conf" --check-config
expect_in "-c missing file" "$ERR" "$TMPD/missing.conf"

rc=$(run_capture "$TMPD/out" "$TMPD/err" "$USNETD" --help)
expect_eq "usnetd --help exit status" "$rc" 0
grep -q -- '--host-netns' "$TMPD/out" || fail "usnetd --help does not list --host-netns"
rc=$(run_capture "$TMPD/out" "$TMPD/err" "$USNETD" --version)
expect_eq "usnetd --version exit status" "$rc" 0
grep -Eq '^usnetd [0-9]' "$TMPD/out" || fail "usnetd --version: $(cat "$TMPD/out")"

# Gateway on no subnet of an address.
expect_fail "gateway off-subnet" 1 "$USNETD" -c "$CONF" --check-config --address 10.77.0.2/24 \
	--gateway 10.99.0.1
expect_in "gateway off-subnet" "$ERR" "10.99.0.1" "subnet"
rc=$(run_capture "$TMPD/out" "$TMPD/err" "$USNETD" -c "$CONF" --check-config \
	--address 10.77.0.2/24 --gateway 10.77.0.1)
expect_eq "gateway on the subnet: --check-config exit status" "$rc" 0

# --- configuration files ----------------------------------------------------------
cat >"$TMPD/unknown.conf" <<'EOF'
# usnetd.conf for the test
tap usnet7
frobnicate yes
EOF
expect_fail "unknown directive" 1 "$USNETD" -c "$TMPD/unknown.conf" --check-config
expect_in "unknown directive" "$ERR" "$TMPD/unknown.conf:3:" "'frobnicate'"

printf 'tap usnet7\n\nadress 10.77.0.2/24\n' >"$TMPD/typo.conf"
expect_fail "near-miss directive" 1 "$USNETD" -c "$TMPD/typo.conf" --check-config
expect_in "near-miss directive" "$ERR" "$TMPD/typo.conf:3:" "'adress'" "did you mean 'address'"

printf 'tap usnet7\nmtu 99999\n' >"$TMPD/badval.conf"
printf 'tap u0\nforeground\n' >"$TMPD/cli-only.conf"
expect_fail "command-line option in a file" 1 "$USNETD" -c "$TMPD/cli-only.conf" --check-config
expect_in "command-line option in a file" "$ERR" "$TMPD/cli-only.conf:2:" "'foreground' is a command-line option only"
expect_fail "bad value in file" 1 "$USNETD" -c "$TMPD/badval.conf" --check-config
expect_in "bad value in file" "$ERR" "$TMPD/badval.conf:2:" "99999"

printf 'address 10.77.0.2/24\ngateway 10.99.0.1\n' >"$TMPD/gw.conf"
expect_fail "gateway off-subnet in file" 1 "$USNETD" -c "$TMPD/gw.conf" --check-config
expect_in "gateway off-subnet in file" "$ERR" "10.99.0.1"

cat >"$TMPD/good.conf" <<EOF
# every directive usnetd.conf(5) knows
tap usnet7            # the TAP
address 10.77.0.2/24
address 10.78.0.2/16
gateway 10.77.0.1
mtu 9000
control $TMPD/good.sock
host-netns $NS
host-address 10.77.0.1/24
log-level info
user nobody
budget 128
busy-poll-us 50
EOF
rc=$(run_capture "$TMPD/out" "$TMPD/err" "$USNETD" --check-config -c "$TMPD/good.conf")
expect_eq "--check-config -c good.conf exit status (stderr: $(cat "$TMPD/err"))" "$rc" 0
grep -q 'configuration OK' "$TMPD/out" || fail "--check-config: $(cat "$TMPD/out")"
[ ! -e "$TMPD/good.sock" ] || fail "--check-config created the control socket"
ip link show usnet7 >/dev/null 2>&1 && fail "--check-config created TAP usnet7"
ok "--check-config created nothing"

# --service on the command line replaces the file's services, as --address
# replaces its addresses: the same port in both is no conflict, while the
# same port twice in one list is.
printf 'service echo:7\nservice discard:9\n' >"$TMPD/svc.conf"
rc=$(run_capture "$TMPD/out" "$TMPD/err" "$USNETD" --check-config -c "$TMPD/svc.conf" \
	--service echo:7,chargen:19)
expect_eq "--service over a file's services (stderr: $(cat "$TMPD/err"))" "$rc" 0
expect_fail "--service echo:7,echo:7" 2 "$USNETD" -c "$TMPD/svc.conf" --check-config \
	--service echo:7,echo:7
expect_in "--service echo:7,echo:7" "$ERR" "--service" "7"

# --- run-time start-up failures -----------------------------------------------------
missing=does-not-exist-$$
expect_fail "--host-netns $missing" 1 "$USNETD" -c "$CONF" -f --tap "$TAP" \
	--address 10.77.0.2/24 --host-netns "$missing" --host-address 10.77.0.1/24 \
	--control "$TMPD/nons.sock"
expect_in "--host-netns $missing" "$ERR" "$missing" "ip netns add"
[ ! -e "$TMPD/nons.sock" ] || fail "a failed start left $TMPD/nons.sock behind"
ip link show "$TAP" >/dev/null 2>&1 && fail "a failed start created $TAP in the host namespace"

make_netns
start_usnetd
ping_ok 1

# Same TAP, same namespace: the first one owns it.
expect_fail "second usnetd on TAP $TAP" 1 "$USNETD" -c "$CONF" -f --tap "$TAP" \
	--address 10.77.0.2/24 --host-netns "$NS" --host-address 10.77.0.1/24 \
	--control "$TMPD/second.sock"
expect_in "second usnetd on TAP $TAP" "$ERR" "$TAP" "busy"
[ ! -e "$TMPD/second.sock" ] || fail "the refused second usnetd left $TMPD/second.sock"
kill -0 "$USNETD_PID" || fail "the first usnetd died"
usnet_up "$SOCK" || fail "the first usnetd stopped answering"
nsexec ip -4 -o addr show dev "$TAP" | grep -q 'inet 10.77.0.1/24' ||
	fail "the kernel side of $TAP lost 10.77.0.1/24"
ping_ok 2

# Same control socket, another TAP: refused, first one untouched.
tap2=$(tap_name b)
expect_fail "second usnetd on the control socket" 1 "$USNETD" -c "$CONF" -f --tap "$tap2" \
	--address 10.78.0.2/24 --host-netns "$NS" --host-address 10.78.0.1/24 --control "$SOCK"
expect_in "second usnetd on the control socket" "$ERR" "$SOCK"
[ -S "$SOCK" ] || fail "the refused second usnetd removed the first one's socket $SOCK"
usnet_up "$SOCK" || fail "the first usnetd stopped answering on $SOCK"
nsexec ip link show "$tap2" >/dev/null 2>&1 && fail "the refused usnetd left TAP $tap2 in $NS"
ok "first usnetd still owns $SOCK; no $tap2 left"
ping_ok 2

# The control path exists but is not a socket.
: >"$TMPD/plain-file"
expect_fail "control path is a plain file" 1 "$USNETD" -c "$CONF" -f --tap "$tap2" \
	--address 10.78.0.2/24 --host-netns "$NS" --control "$TMPD/plain-file"
expect_in "control path is a plain file" "$ERR" "$TMPD/plain-file" "not a socket"
[ -f "$TMPD/plain-file" ] || fail "usnetd removed the plain file at its control path"
nsexec ip link show "$tap2" >/dev/null 2>&1 && fail "the refused usnetd left TAP $tap2 in $NS"

# After all the refused starts the first daemon is still fine.
kill -0 "$USNETD_PID" || fail "usnetd died"
ping_ok 1

# --- without privileges -------------------------------------------------------------
if command -v setpriv >/dev/null; then
	# uid 0 without a capability: /dev/net/tun opens (root owns it), and
	# TUNSETIFF is refused.
	tap3=$(tap_name c)
	IT_HOSTLINKS+=("$tap3")	# if usnetd wrongly succeeded, remove it at exit
	expect_fail "usnetd without capabilities" nonzero setpriv --inh-caps=-all \
		--bounding-set=-all "$USNETD" -c "$CONF" -f --tap "$tap3" \
		--address 10.77.0.2/24 --control "$TMPD/nocaps.sock"
	expect_in "usnetd without capabilities" "$ERR" "$tap3" "CAP_NET_ADMIN"
	ip link show "$tap3" >/dev/null 2>&1 && fail "usnetd without capabilities created $tap3"
	[ ! -e "$TMPD/nocaps.sock" ] || fail "usnetd without capabilities left its control socket"

	# An ordinary user.
	# nobody must reach the configuration and the socket's directory, so
	# that only the missing privilege can stop it.
	chmod 0711 "$TMPD"
	chmod 0644 "$CONF"
	mkdir -m 0777 "$TMPD/nobody"
	expect_fail "unprivileged usnetd" nonzero setpriv --reuid=nobody --regid=nogroup \
		--clear-groups --inh-caps=-all --bounding-set=-all "$USNETD" -c "$CONF" -f \
		--tap "$tap3" --address 10.77.0.2/24 --control "$TMPD/nobody/ctl.sock"
	[[ $ERR == *CAP_NET_ADMIN* || $ERR == *root* ]] ||
		fail "unprivileged usnetd: message mentions neither CAP_NET_ADMIN nor root: $ERR"
	expect_in "unprivileged usnetd" "$ERR" "$tap3"
	ip link show "$tap3" >/dev/null 2>&1 && fail "unprivileged usnetd created $tap3"
	[ ! -e "$TMPD/nobody/ctl.sock" ] || fail "unprivileged usnetd left its control socket"
else
	log "setpriv not found: unprivileged start not tested"
fi
