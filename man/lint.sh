#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make check: lint the man pages with mandoc. Any diagnostic at level
# warning or above fails the test; without mandoc the test is skipped (77).
# The test environment exports MANDOC (configure's AC_PATH_PROG result,
# empty if not found) and TOP_SRCDIR.

if [ -z "$MANDOC" ]; then
	echo "lint.sh: mandoc not found by configure; skipping"
	exit 77
fi

srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
rc=0
for page in usnetd.8 usnet.8 usnetd.conf.5 libusnet.7; do
	file=$srcdir/man/$page
	if [ ! -f "$file" ]; then
		echo "lint.sh: $file: missing"
		rc=1
		continue
	fi
	out=$("$MANDOC" -T lint -W warning "$file" 2>&1)
	status=$?
	if [ -n "$out" ] || [ "$status" -ne 0 ]; then
		printf '%s\n' "$out"
		echo "lint.sh: $page: mandoc exited $status"
		rc=1
	else
		echo "lint.sh: $page: clean"
	fi
done
exit $rc
