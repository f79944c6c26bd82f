#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every usnet command, in text and in JSON (chrony's 007-cmdmon idea): each
# exits 0 with something on stdout and nothing on stderr, and each -j and
# -j -p output parses as JSON. The list of commands comes from
# `usnet --help`, so a new command is covered by this test or fails it.
. "$TOP_SRCDIR/tests/integration/lib.sh"
it_init admin_all

make_netns
start_usnetd --service echo:7,discard:9,chargen:19
ping_ok 1
nsexec "$TOP_BUILDDIR/tests/tools/tcpclient" -t 10 echo 10.77.0.2 7 10000 >"$TMPD/echo.out" 2>&1 ||
	fail "tcpclient echo: $(cat "$TMPD/echo.out")"

mapfile -t COMMANDS < <("$USNET" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p')
[ ${#COMMANDS[@]} -ge 3 ] || hard_error "usnet --help lists only: ${COMMANDS[*]}"
log "commands: ${COMMANDS[*]}"

# The argument lists each command is run with; every command at least bare.
declare -A ARGS=(
	[sockets]="|-a|-l|-a -i -o|state all|-a sport = :7"
	[stats]="|-a|drops|Tcp*"
	[status]=""
)

# Commands that print no report of their own: `run` execs a program
# (tests/integration/shim_http.sh).
declare -A NOT_REPORTS=([run]=1)

set -f # "Tcp*" is a pattern for usnet, not for the shell
for cmd in "${COMMANDS[@]}"; do
	[ -v "NOT_REPORTS[$cmd]" ] && continue
	[ -v "ARGS[$cmd]" ] || fail "no arguments listed here for 'usnet $cmd': add them to ARGS"
	IFS='|' read -r -a variants <<<"${ARGS[$cmd]}|"
	for args in "${variants[@]}"; do
		for opts in "" "-j" "-j -p"; do
			what="usnet $opts $cmd $args"
			# shellcheck disable=SC2086 # word splitting wanted
			rc=$(run_capture "$TMPD/o" "$TMPD/e" "$USNET" $opts --control "$SOCK" "$cmd" $args)
			[ "$rc" -eq 0 ] || fail "$what: exit status $rc: $(cat "$TMPD/e")"
			[ -s "$TMPD/o" ] || fail "$what: no output"
			[ ! -s "$TMPD/e" ] || fail "$what: stderr: $(cat "$TMPD/e")"
			if [ -n "$opts" ]; then
				"$PY" -m json.tool "$TMPD/o" >/dev/null 2>"$TMPD/jt" ||
					fail "$what: not JSON: $(cat "$TMPD/jt"): $(head -c 200 "$TMPD/o")"
			fi
		done
		ok "usnet $cmd $args: text, -j and -j -p"
	done
done
