#!/bin/sh
# SPDX-License-Identifier: MIT
# Build usnet out of tree: scripts/build.sh DIR [CONFIGURE-OPTIONS...]
# Bootstraps and configures only when needed, so a second run is quick.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: scripts/build.sh DIR [configure options]}
shift
jobs=$(nproc 2>/dev/null || echo 2)

cd "$top"
if [ -f config.status ]; then
	echo "build: $top is configured in-tree; run 'make distclean' there first" >&2
	exit 1
fi
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi
fi
mkdir -p "$dir"
cd "$dir"
# Reconfigure when the options changed since the last run.
want="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-options 2>/dev/null)" != "$want" ]; then
	"$top/configure" "$@"
	printf '%s' "$want" > .configure-options
fi
make -j"$jobs"
