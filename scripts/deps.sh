#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages usnet needs to build, test and run its
# quick start; `scripts/deps.sh bench` adds the load tools that only the
# benchmarks run (bench/shim_*.sh), which the test suite and CI do not
# need. Idempotent: apt-get runs only when something is missing.
set -eu

PACKAGES="
build-essential autoconf automake libtool pkg-config
liburing-dev libev-dev libcap-dev libmnl-dev libcriterion-dev
mandoc iproute2 iputils-ping python3 procps util-linux kmod
netcat-openbsd curl nftables ethtool spin
nginx redis-server redis-tools apache2-utils iperf3
wget socat
"
# The servers and load tools of tests/integration/shim_servers.sh are in
# the list above (iperf3 also serves bench/shim_bulk and shim_local).
# Benchmarks only: sockperf (shim_rr, shim_local), strace (shim_syscalls).
BENCH_PACKAGES="sockperf strace"

case ${1:-} in
"") ;;
bench) PACKAGES="$PACKAGES $BENCH_PACKAGES" ;;
*)
	echo "usage: $0 [bench]" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root (it installs packages with apt-get)" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
