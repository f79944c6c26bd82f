/* SPDX-License-Identifier: MIT */
/*
 * Sessions: one per client process of libusnet. A session is its control
 * channel (a SEQPACKET connection, identified by SO_PEERCRED), its shared
 * segment (a sealed memfd, ipc/seg.h), its doorbell eventfds, and the
 * sockets homed in its segment (shimsock.h).
 *
 * The control thread opens a session at CTL_HELLO (session_hello()) and
 * hands it to the worker, which from then on serves the channel itself:
 * requests are read and answered on the worker thread, next to the TCP
 * sockets they act on, without a thread hop. A session outlives its
 * channel while sockets homed in its segment are alive (a forked child
 * may still use them).
 */
#ifndef USNET_DAEMON_SESSION_H
#define USNET_DAEMON_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/seg.h"

#define SESSION_MAX 4096u /* ids 1..SESSION_MAX-1: 16 bits in a watch entry */
#define SESSION_INHERIT_MAX 16u /* segments a forked process can act on */
#define SESSION_SLOTS 1024u

struct worker;
struct shim_sock;

struct session {
	uint32_t id;
	int chan_fd; /* -1 once the channel closed */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int pidfd; /* the process that said hello, -1 if it was gone already */
	char comm[16];

	int memfd;
	dev_t dev; /* with ino, the memfd's identity: how a forked child names it */
	ino_t ino;
	uint8_t *base;
	struct ipc_seg_hdr *hdr;
	uint64_t seg_size, slot_size, rx_size, tx_size;
	uint32_t nslots;

	struct shim_sock **slots; /* slot -> socket homed here */
	uint32_t *slot_gen;
	uint32_t slots_used;
	/* Free slots, the last freed on top: a new socket takes the rings the
	 * previous one left warm instead of faulting in fresh pages. */
	uint32_t *free_slots;
	uint32_t nfree;
	/* Per free slot whose rings still hold pages: SLOT_WARM when freed,
	 * SLOT_COOLING after one reclaim pass; the next punches them. */
	uint8_t *slot_warm;
	int *db_fd; /* doorbell eventfds, -1 when unregistered */

	struct session *inherit[SESSION_INHERIT_MAX]; /* each holds a reference */
	unsigned int ninherit;

	_Atomic unsigned int refs; /* channel + sockets + inheritors */
	bool chan_armed; /* a poll is in flight on chan_fd */
	struct session *next_new; /* control -> worker hand-over list */
};

/* The worker's table of sessions. */
struct session_table {
	struct session *sess[SESSION_MAX]; /* adopted by the worker */
	bool reserved[SESSION_MAX]; /* ids taken (new_lock) */
	unsigned int nsess;
	pthread_mutex_t new_lock; /* new_head, reserved, and changes to sess */
	struct session *new_head;
};

struct ctl_client;
struct ctl_server;

/**
 * session_hello() - control thread: answer CTL_HELLO from @c (memfds the
 * client passed in @fds, which this consumes) and hand the channel over
 * to worker @w. On success the control server forgets @c's fd.
 * Return: 0, or -errno after an error reply was sent.
 */
int session_hello(struct ctl_server *srv, struct ctl_client *c, struct worker *w,
		  const void *msg, size_t len, int *fds, unsigned int nfds);

/** session_table_init() / _fini() - worker-side table (fini closes everything) */
int session_table_init(struct session_table *t);
void session_table_fini(struct worker *w);

/** session_adopt_new() - worker: take sessions the control thread handed over */
void session_adopt_new(struct worker *w);

/**
 * session_chan_ready() - worker: the channel of session @id polled readable.
 * Every request carries its sender's pid (SCM_CREDENTIALS: the channel has
 * SO_PASSCRED from hello on), for the requests judged on the caller.
 */
void session_chan_ready(struct worker *w, uint32_t id, int res, bool more);

/** session_kicks() - worker: handle every kicked slot of every session */
unsigned int session_kicks(struct worker *w);

/**
 * session_set_sleeping() - worker: tell every client whether it sleeps.
 * With @sleeping, also checks the kicks once more (after a full fence).
 * Return: true if a kick arrived and the worker must not sleep.
 */
bool session_set_sleeping(struct worker *w, bool sleeping);

/** session_get() - worker: session @id, or NULL */
struct session *session_get(struct worker *w, uint32_t id);

/** session_put() - drop a reference; the last frees the session */
void session_put(struct worker *w, struct session *s);

/** session_may_use() - may @s act on sockets homed in @home? */
bool session_may_use(const struct session *s, const struct session *home);

/**
 * session_is_caller() - did the request from @sender come from the process
 * that opened @s, still alive (so that its pid was not reused)?
 */
bool session_is_caller(const struct session *s, pid_t sender);

/**
 * session_slot_alloc() - a free slot of @s, initialised for a new socket
 * Return: slot index, or -EMFILE if all are taken.
 */
int session_slot_alloc(struct session *s);

/** session_slot_punch() - give @slot's ring pages back to the kernel; 0, -errno */
int session_slot_punch(struct session *s, uint32_t slot);

/* session.slot_warm[] */
enum { SLOT_COLD, SLOT_WARM, SLOT_COOLING };

/** session_slot_free() - give @slot back; its rings stay warm for a while */
void session_slot_free(struct session *s, uint32_t slot);

/**
 * session_slots_cool() - one reclaim pass over @s's free slots: the rings
 * of those free since the previous pass go back to the kernel.
 * Return: whether some are still warm (look again).
 */
bool session_slots_cool(struct session *s);

/** session_slot() - the shared page of @slot */
static inline struct ipc_sock *session_slot(const struct session *s, uint32_t slot)
{
	return (struct ipc_sock *)(s->base + ipc_seg_slot_off(s->slot_size, slot));
}

/** session_ring_doorbell() - write doorbell @db's eventfd if it sleeps */
void session_ring_doorbell(struct session *s, uint32_t db);

#endif
