#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make check: usnet(8) documents every counter and every drop reason.
# The names come from the X-macro lists the daemon sends them from
# (proto/mib.h, proto/tcp.h, proto/drop.h), so a counter or reason added to
# the code without its entry in the manual fails this test.

srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
page=$srcdir/man/usnet.8
rc=0
n=0

# X-macro entries of the list NAME in FILE: X(ID, "Name") -> Name
names() {
	sed -n "/#define $2(X)/,/^[^\\\\]*\$/p" "$srcdir/$1" |
		sed -n 's/.*X([A-Z0-9_]*, *"\([A-Za-z0-9_]*\)").*/\1/p'
}

check() {
	n=$((n + 1))
	if ! grep -q "^\.It $1 $2\$" "$page"; then
		echo "counters.sh: usnet.8 has no '.It $1 $2'"
		rc=1
	fi
}

for spec in "proto/mib.h IP_MIB Ip" "proto/mib.h ICMP_MIB Icmp" "proto/mib.h ARP_MIB Arp" \
	"proto/tcp.h TCP_MIB Tcp" "proto/tcp.h TCPEXT_MIB TcpExt"; do
	set -- $spec
	count=0
	for name in $(names "$1" "$2"); do
		check Li "$3$name"
		count=$((count + 1))
	done
	if [ "$count" -lt 5 ]; then
		echo "counters.sh: found only $count names in $2 of $1"
		rc=1
	fi
done
count=0
for reason in $(sed -n 's/^[[:space:]]*X(\([A-Z0-9_]*\),.*/\1/p' "$srcdir/proto/drop.h"); do
	check Dv "$reason"
	count=$((count + 1))
done
if [ "$count" -lt 10 ]; then
	echo "counters.sh: found only $count drop reasons in proto/drop.h"
	rc=1
fi
[ $rc -eq 0 ] && echo "counters.sh: usnet.8 documents all $n counters and drop reasons"
exit $rc
