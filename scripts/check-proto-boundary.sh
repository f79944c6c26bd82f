#!/bin/sh
# SPDX-License-Identifier: MIT
# proto/ is sans-IO (DESIGN.md): no syscalls, no clock, no threads, no
# io_uring, no shared memory, no headers from daemon/ or ipc/. This fails
# `make check` when a proto file breaks the boundary.
set -u
src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src/proto" || exit 99

bad=$(grep -nE '#include *[<"](liburing\.h|ev\.h|pthread\.h|sys/socket\.h|sys/mman\.h|sys/epoll\.h|sys/ioctl\.h|sys/random\.h|sys/syscall\.h|unistd\.h|fcntl\.h|time\.h|linux/[^>"]*|daemon/[^>"]*|ipc/[^>"]*|\.\./[^>"]*)[>"]' ./*.c ./*.h;
      # Calls, with comments removed first (a comment may say "time (").
      awk '{
		line = $0
		if (line ~ /^[[:space:]]*(\*|\/\*|\/\/)/)
			next
		sub(/\/\*.*/, "", line)
		sub(/\/\/.*/, "", line)
		if (line ~ /(^|[^a-zA-Z0-9_])(clock_gettime|gettimeofday|time|getrandom|pthread_[a-z_]+|mmap|munmap|read|write|recv|send|sendmsg|recvmsg|socket|ioctl|syscall|usleep|sleep|nanosleep|printf|fprintf|puts|abort|exit)[[:space:]]*\(/)
			print FILENAME ":" FNR ":" $0
	}' ./*.c ./*.h)
# malloc/calloc/free only in init and fini paths (*_init, *_fini).
alloc=$(awk '
	/^[a-z].*\(/ { fn = $0 }
	/(^|[^a-z_])(malloc|calloc|realloc|aligned_alloc)[[:space:]]*\(/ {
		if (fn !~ /_init\(/) print FILENAME ":" FNR ": " $0 " (in " fn ")"
	}' ./*.c)
if [ -n "$bad$alloc" ]; then
	echo "proto/ breaks the sans-IO boundary:" >&2
	[ -n "$bad" ] && echo "$bad" >&2
	[ -n "$alloc" ] && echo "$alloc" >&2
	exit 1
fi
exit 0
