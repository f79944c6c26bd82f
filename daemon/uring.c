// SPDX-License-Identifier: MIT
/*
 * io_uring setup, probes and provided buffers (liburing examples/
 * io_uring-udp.c setup_buffer_pool is the model; the buffer ring is mapped
 * by hand because liburing 2.3 has no io_uring_setup_buf_ring()).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "uring.h"

#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif

/* Linux 6.7 opcode, newer than liburing 2.3's headers. */
#define USNET_IORING_OP_READ_MULTISHOT 49

int uring_setup(struct io_uring *ring, unsigned int entries, struct uring_caps *caps)
{
	static const unsigned int flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_probe *probe;
	int rc = -EINVAL;

	memset(caps, 0, sizeof(*caps));
	for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		rc = io_uring_queue_init_params(entries, ring, &p);
		if (rc == 0) {
			caps->single_issuer = !!(flag_sets[i] & IORING_SETUP_SINGLE_ISSUER);
			caps->defer_taskrun = !!(flag_sets[i] & IORING_SETUP_DEFER_TASKRUN);
			break;
		}
		if (rc != -EINVAL)
			return rc;
	}
	if (rc)
		return rc;
	probe = io_uring_get_probe_ring(ring);
	if (probe) {
		caps->read_multishot =
			io_uring_opcode_supported(probe, USNET_IORING_OP_READ_MULTISHOT);
		io_uring_free_probe(probe);
	}
	return 0;
}

int uring_bufring_setup(struct io_uring *ring, struct uring_bufring *b, uint32_t entries,
			uint16_t bgid)
{
	struct io_uring_buf_reg reg;
	long page = sysconf(_SC_PAGESIZE);
	void *mem;
	int rc;

	memset(b, 0, sizeof(*b));
	if (entries == 0 || entries > 32768 || (entries & (entries - 1)))
		return -EINVAL;
	b->map_size = ((size_t)entries * sizeof(struct io_uring_buf) + (size_t)page - 1) &
		      ~((size_t)page - 1);
	mem = mmap(NULL, b->map_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)mem;
	reg.ring_entries = entries;
	reg.bgid = bgid;
	rc = io_uring_register_buf_ring(ring, &reg, 0);
	if (rc) {
		munmap(mem, b->map_size);
		return rc;
	}
	b->br = mem;
	b->entries = entries;
	b->mask = (uint32_t)io_uring_buf_ring_mask(entries);
	b->bgid = bgid;
	io_uring_buf_ring_init(b->br);
	return 0;
}

void uring_bufring_free(struct io_uring *ring, struct uring_bufring *b)
{
	if (!b->br)
		return;
	io_uring_unregister_buf_ring(ring, b->bgid);
	munmap(b->br, b->map_size);
	b->br = NULL;
}

void uring_prep_read_multishot(struct io_uring_sqe *sqe, int fd, uint16_t bgid)
{
	io_uring_prep_rw(USNET_IORING_OP_READ_MULTISHOT, sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = bgid;
}

void uring_prep_read_select(struct io_uring_sqe *sqe, int fd, uint16_t bgid)
{
	io_uring_prep_rw(IORING_OP_READ, sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = bgid;
}
