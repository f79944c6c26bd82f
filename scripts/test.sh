#!/bin/sh
# SPDX-License-Identifier: MIT
# usnet's whole test suite, as CI runs it: install what is needed, build
# with warnings as errors, run every unit and integration test, then all of
# them again with ASan+UBSan (so usnetd meets the malformed-frame flood with
# the sanitizers watching), the concurrency tests under TSan, and make
# distcheck. Run as root (integration tests create namespaces).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

if [ "$(id -u)" -ne 0 ]; then
	echo "test: run as root (integration tests create TAP devices and namespaces)" >&2
	exit 1
fi

run_check() {
	dir=$1
	shift
	if ! make -C "$dir" -j"$jobs" check "$@"; then
		echo "test: failures in $dir; test-suite.log follows" >&2
		cat "$dir/test-suite.log" >&2 || true
		exit 1
	fi
}

"$top/scripts/deps.sh"

echo "==> build (warnings are errors) and every test"
"$top/scripts/build.sh" "$top/build" --enable-werror
run_check "$top/build"

echo "==> every test again under AddressSanitizer and UndefinedBehaviorSanitizer"
"$top/scripts/build.sh" "$top/build-asan" --enable-sanitizers --enable-werror
run_check "$top/build-asan"

echo "==> concurrency tests under ThreadSanitizer"
"$top/scripts/build.sh" "$top/build-tsan" --enable-tsan --enable-werror
run_check "$top/build-tsan" TESTS="tests/ipc/ring_stress tests/ipc/fifo_stress tests/ipc/doorbell_stress"

echo "==> make distcheck"
if ! make -C "$top/build" -j"$jobs" distcheck; then
	echo "test: make distcheck failed" >&2
	exit 1
fi
echo "test: all passed"
