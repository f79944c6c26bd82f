// SPDX-License-Identifier: MIT
/*
 * libusnet's constructor: every real libc entry point is resolved here,
 * once, before main() (lazy resolution inside a forked child has
 * deadlocked other shims), and the environment is read. The channel to
 * usnetd opens only when the program creates its first INET socket.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct shim_libc shim_libc;
bool shim_fallback_kernel;
static int shim_log_level = 1;

#define RESOLVE(name)                                                          \
	do {                                                                   \
		*(void **)&shim_libc.name = dlsym(RTLD_NEXT, #name);             \
		if (!shim_libc.name)                                           \
			shim_missing = #name;                                       \
	} while (0)

void shim_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	if (!shim_log_level)
		return;
	n = snprintf(buf, sizeof(buf), "libusnet[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (shim_libc.write)
		shim_libc.write(2, buf, (size_t)n);
}

_Atomic bool shim_ready;
static const char *shim_missing;

struct shim_libc *shim_resolve(void)
{
	if (shim_libc.socket)
		return &shim_libc;
	RESOLVE(socket);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(connect);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(setsockopt);
	RESOLVE(getsockopt);
	RESOLVE(send);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(sendmmsg);
	RESOLVE(recv);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(recvmmsg);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(close);
	RESOLVE(shutdown);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_create);
	RESOLVE(epoll_create1);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait);
	RESOLVE(epoll_pwait2);
	RESOLVE(sendfile);
	RESOLVE(fork);
	RESOLVE(syscall);
	return &shim_libc;
}

/*
 * Another library's constructor may run before ours and call close() or
 * read(): SHIM_REAL() resolves then, and until we are ready, socket()
 * makes kernel sockets (nothing else can be ours yet).
 */
__attribute__((constructor)) void shim_init(void)
{
	const char *e;

	if (atomic_load(&shim_ready))
		return;
	shim_resolve();
	if (!shim_libc.socket || !shim_libc.close || !shim_libc.read || !shim_libc.write) {
		/* Nothing can work; stay out of the program's way. */
		shim_log("libc lacks the socket calls; libusnet stays inactive");
		return;
	}
	if (shim_missing)
		shim_log("libc has no %s; programs that call it fail", shim_missing);
	e = getenv("USNET_FALLBACK");
	shim_fallback_kernel = e && !strcmp(e, "kernel");
	e = getenv("USNET_LOG");
	if (e)
		shim_log_level = atoi(e);
	e = getenv("USNET_CONTROL");
	if (e && strlen(e) < sizeof(shim_proc.control))
		strcpy(shim_proc.control, e);
	pthread_mutex_init(&shim_proc.lock, NULL);
	shim_proc.chan_fd = -1;
	shim_proc.wake_fd = -1;
	shim_proc.pid = getpid();
	shim_stock_init();
	pthread_atfork(NULL, NULL, shim_fork_child);
	atomic_store(&shim_ready, true);
	shim_exec_adopt();
}
