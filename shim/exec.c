// SPDX-License-Identifier: MIT
/*
 * Sockets inherited across exec. The kernel keeps a placeholder open in
 * the new image (unless it was close-on-exec), but our fd table, channel
 * and segment mappings are gone. Before main() the constructor looks for
 * placeholders among the descriptors: usnetd names its end of each one
 * (IPC_PH_NAME), so getpeername() tells them apart from other AF_UNIX
 * sockets without asking usnetd. For each, CTL_CLAIM passes the
 * descriptor itself as proof and gets back the socket's identity and its
 * segment, which is mapped as an inherited one. Whatever exec'd the
 * program (execve, posix_spawn, system) this works the same, since it
 * looks only at what the new image holds.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

/* Is @fd a placeholder? Fills its socket's id and gen. */
static bool placeholder(int fd, uint32_t *id, uint32_t *gen)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char name[sizeof(sa.sun_path)];
	size_t n;
	int pid;

	if (SHIM_REAL(getpeername)(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    sa.sun_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path) + 1 ||
	    sa.sun_path[0] != '\0')
		return false;
	n = len - offsetof(struct sockaddr_un, sun_path) - 1;
	memcpy(name, sa.sun_path + 1, n);
	name[n] = '\0';
	return sscanf(name, IPC_PH_NAME, &pid, id, gen) == 3;
}

static struct shim_seg *claimed_seg(const struct ctl_sock_rep *rep, int memfd)
{
	struct shim_seg *seg = shim_seg_by_session(rep->session);
	struct ctl_claim_info ci;
	struct ctl_hello_rep geo = { 0 };

	if (seg || rep->optlen != sizeof(ci)) {
		SHIM_REAL(close)(memfd);
		return seg;
	}
	memcpy(&ci, rep->optval, sizeof(ci));
	geo.session = rep->session;
	geo.nslots = ci.nslots;
	geo.seg_size = ci.seg_size;
	geo.rx_size = ci.rx_size;
	geo.tx_size = ci.tx_size;
	geo.slot_size = ci.slot_size;
	pthread_mutex_lock(&shim_proc.lock);
	if (shim_proc.nsegs < SHIM_SEGS_MAX &&
	    shim_seg_map(&shim_proc.segs[shim_proc.nsegs], &geo, memfd) == 0)
		seg = &shim_proc.segs[shim_proc.nsegs++];
	else
		SHIM_REAL(close)(memfd);
	pthread_mutex_unlock(&shim_proc.lock);
	return seg;
}

static void claim(int fd, uint32_t id, uint32_t gen)
{
	struct ctl_sock_req req = { .id = id, .gen = gen };
	struct ctl_sock_rep rep;
	struct ctl_claim_info ci;
	struct shim_seg *seg;
	struct usock *u;
	int memfd = -1, rc, fl;

	/* A dup of a placeholder claimed already shares its socket. */
	for (int other = 0; other < fd; other++) {
		u = shim_fd(other);
		if (u && u->id == id && u->gen == gen) {
			atomic_fetch_add(&u->refs, 1);
			shim_fd_set(fd, u);
			return;
		}
	}
	rc = shim_request(CTL_CLAIM, &req, sizeof(req), fd, &rep, sizeof(rep), &memfd);
	if (rc || memfd < 0) {
		if (!rc)
			rc = -EPROTO;
		shim_log("fd %d: inherited usnet socket not claimed: %s", fd, strerror(-rc));
		return;
	}
	seg = claimed_seg(&rep, memfd);
	if (!seg)
		return;
	memcpy(&ci, rep.optval, sizeof(ci));
	u = shim_usock_new(seg, rep.slot, rep.id, rep.gen, ci.domain);
	if (!u)
		return;
	/* The placeholder's own flag is the program's (adopt() keeps it so). */
	fl = SHIM_REAL(fcntl)(fd, F_GETFL);
	atomic_store(&u->nonblock, fl >= 0 && (fl & O_NONBLOCK));
	atomic_store(&u->listening,
		     (atomic_load(&u->ss->ready) & IPC_R_LISTENING) ? 1 : 0);
	shim_fd_set(fd, u);
}

void shim_exec_adopt(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int dfd;

	if (!d)
		return;
	dfd = dirfd(d);
	while ((e = readdir(d))) {
		uint32_t id, gen;
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end || end == e->d_name || fd == dfd || fd < 0 || fd >= SHIM_FD_MAX)
			continue;
		if (placeholder((int)fd, &id, &gen))
			claim((int)fd, id, gen);
	}
	closedir(d);
}
