#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make check: model-check the doorbell and kick protocols
# (tests/ipc/doorbell.pml) with spin. The protocols as written must have no
# lost wake-up (invalid end state), no failed assertion and no cycle (a
# thread that spins instead of sleeping); each deliberately broken variant
# (-DBROKEN=n) must make spin report the error it was built to show, so
# that the check is known to be able to fail. Skipped (77) without spin or
# a C compiler. The test environment exports SPIN (configure's
# AC_PATH_PROG result, empty if not found) and TOP_SRCDIR.

if [ "${SPIN+set}" = set ]; then
	spin=$SPIN
else
	spin=$(command -v spin)
fi
if [ -z "$spin" ]; then
	echo "spin_check.sh: spin not found by configure; skipping"
	exit 77
fi
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "spin_check.sh: no C compiler ($cc) for spin's verifier; skipping"
	exit 77
fi

srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
model=$srcdir/tests/ipc/doorbell.pml
if [ ! -f "$model" ]; then
	echo "spin_check.sh: $model: missing"
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin_check.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
cp "$model" "$tmp/doorbell.pml" || exit 99
cd "$tmp" || exit 99

# verify NAME MODE SPIN_DEFINES: build spin's verifier for the model with
# SPIN_DEFINES and run a safety (invalid end states, assertions) or cycle
# (-DNP: any cycle, since every run of the model is meant to end) search.
# The report is left in NAME.out, the trail (if any) in doorbell.pml.trail.
verify() {
	name=$1
	mode=$2
	shift 2
	rm -f pan pan.* doorbell.pml.trail
	if ! "$spin" "$@" -a doorbell.pml >"$name.out" 2>&1; then
		cat "$name.out"
		echo "spin_check.sh: $name: spin -a failed"
		exit 99
	fi
	case $mode in
	safety) flags=-DSAFETY run=-c1 ;; # stop at the first error
	cycles) flags=-DNP run=-l ;;
	esac
	# -w22: a 4M-slot hash table; the searches store under 2M states.
	if ! "$cc" -O1 "$flags" -DCOLLAPSE -o pan pan.c >>"$name.out" 2>&1; then
		cat "$name.out"
		echo "spin_check.sh: $name: cannot compile spin's verifier"
		exit 99
	fi
	./pan "$run" -w22 -m100000 >>"$name.out" 2>&1
}

rc=0

# The protocols as written: exhaustive search, no error.
for check in "db safety -DPART_DB" "kick safety -DPART_KICK" \
	"db_cycles cycles -DPART_DB" "kick_cycles cycles -DPART_KICK"; do
	# shellcheck disable=SC2086 # split into name, mode, defines
	set -- $check
	verify "$@"
	if grep -q 'errors: 0$' "$1.out" && ! grep -q 'Search not completed' "$1.out" &&
		! grep -q 'max search depth too small' "$1.out"; then
		states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$1.out")
		echo "spin_check.sh: $1: no error in $states states"
	else
		cat "$1.out"
		echo "spin_check.sh: $1: FAILED"
		rc=1
	fi
done

# The broken variants: spin must find the bug each one has, and the trail
# must replay to it.
for check in "broken1 safety invalid_end -DPART_DB -DBROKEN=1" \
	"broken2 safety invalid_end -DPART_DB -DBROKEN=2" \
	"broken3 safety invalid_end -DPART_KICK -DBROKEN=3" \
	"broken4 safety invalid_end -DPART_KICK -DBROKEN=4" \
	"broken5 safety assertion -DPART_DB -DBROKEN=5" \
	"broken6 cycles cycle -DPART_KICK -DBROKEN=6" \
	"broken7 safety assertion -DPART_DB -DBROKEN=7"; do
	# shellcheck disable=SC2086 # split into name, mode, expected, defines
	set -- $check
	name=$1
	mode=$2
	want=$3
	shift 3
	verify "$name" "$mode" "$@"
	case $want in
	invalid_end) pattern='invalid end state' ;;
	assertion) pattern='assertion violated' ;;
	cycle) pattern='non-progress cycle' ;;
	esac
	if ! grep -q "^pan:1: $pattern" "$name.out" || [ ! -f doorbell.pml.trail ]; then
		cat "$name.out"
		echo "spin_check.sh: $name ($*): spin did not find the $want it must find"
		rc=1
		continue
	fi
	"$spin" "$@" -t doorbell.pml >"$name.replay" 2>&1
	case $want in
	invalid_end)
		# It ends with a thread stuck outside an end state.
		replay='^ *[0-9]+:[[:space:]]+proc +[0-9]+ '
		replay=$replay'\((client_db|usnetd_db|worker|client_kick):.*\(state [0-9]+\)$' ;;
	assertion) replay='assertion violated' ;;
	cycle) replay='START OF CYCLE' ;;
	esac
	if grep -Eq "$replay" "$name.replay"; then
		echo "spin_check.sh: $name ($*): found the $want as expected"
	else
		cat "$name.replay"
		echo "spin_check.sh: $name ($*): the trail does not replay to the $want"
		rc=1
	fi
done
exit $rc
