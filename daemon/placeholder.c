// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "placeholder.h"

/* Blocking, as a new socket is: the client's end carries the program's
 * O_NONBLOCK, also into an exec'd image (shim/exec.c). */
static int ph_make(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ? -errno : 0;
}

int ph_pool_get(struct ph_pool *p, int sv[2])
{
	if (p->nready) {
		p->nready--;
		sv[0] = p->ready[p->nready][0];
		sv[1] = p->ready[p->nready][1];
		return 0;
	}
	p->target = p->target ? p->target * 2 : 2;
	if (p->target > PH_READY_MAX)
		p->target = PH_READY_MAX;
	return ph_make(sv);
}

void ph_pool_drop(struct ph_pool *p, int fd)
{
	if (p->ndead < PH_DEAD_MAX)
		p->dead[p->ndead++] = fd;
	else
		close(fd);
}

bool ph_pool_idle(struct ph_pool *p)
{
	/* Dead ones first: they hold memory and descriptors. A few per call,
	 * each about as costly as making half a pair. */
	if (p->ndead) {
		for (unsigned int n = 0; n < 4 && p->ndead; n++)
			close(p->dead[--p->ndead]);
		return true;
	}
	if (p->nready < p->target) {
		if (ph_make(p->ready[p->nready]) < 0) {
			p->target = p->nready; /* out of descriptors: stop trying */
			return false;
		}
		p->nready++;
		return true;
	}
	return false;
}

void ph_pool_fini(struct ph_pool *p)
{
	while (p->ndead)
		close(p->dead[--p->ndead]);
	while (p->nready) {
		p->nready--;
		close(p->ready[p->nready][0]);
		close(p->ready[p->nready][1]);
	}
	p->target = 0;
}
