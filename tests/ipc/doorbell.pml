/* SPDX-License-Identifier: MIT */
/*
 * Promela model of the two sleep/wake protocols of ipc/doorbell.h and
 * ipc/seg.h, checked by spin in `make check` (tests/ipc/spin_check.sh).
 *
 * The C code uses seq_cst atomics and fences on every access that matters,
 * so memory is sequentially consistent here: every Promela statement is
 * one load, one store, or one atomic read-modify-write (CAS, exchange,
 * fetch_or) of a shared word, and spin tries every interleaving of them.
 *
 * "db": W client threads wait for one socket, each on its own doorbell
 * (state word db[i], eventfd modelled as the counter efd[i]: poll() waits
 * for a count, a read takes it all). usnetd makes the socket readable
 * (tail++) N times, and each time waits until a client thread took the
 * byte (lock-step, so that every one of the N wake-ups must work on its
 * own: none is rescued by a later one); then it hangs the socket up, which
 * makes it readable for good, and the clients leave.
 *
 * "kick": K client threads each kick their slot M times and wait until
 * usnetd's worker has handled the kick; the worker sleeps on its eventfd
 * (wefd) when it found no kick, after it raised worker_sleeping.
 *
 * A lost wake-up leaves a thread asleep while what it waits for is true,
 * and, with the lock-step, its peer waiting for it: spin's safety search
 * reports an invalid end state (a deadlock), since only the worker's sleep
 * carries an end label (asleep with no kick pending is how the worker
 * legitimately ends). Assertions check that the eventfd of a doorbell is
 * empty whenever its owner arms it (usnetd writes it at most once per
 * sleep, and the owner always reads what was written) and that every
 * byte and kick was handled. Every run of the model is finite, so a
 * cycle search (pan -DNP, no progress labels) must find no cycle at all:
 * no thread can spin instead of sleeping.
 *
 * Build with -DBROKEN=n for a deliberately broken protocol, which spin
 * must reject:
 *   1  the client checks readiness before it arms its doorbell
 *   2  the client names itself in watch[] only after its check
 *   3  the worker scans the kicks before it raises worker_sleeping
 *   4  the client reads worker_sleeping before it sets its kick bits
 *   5  the client disarms with a plain store and never reads the eventfd
 *   6  the worker never reads its eventfd, so it spins once woken
 *   7  the client reads its rung eventfd without waiting for usnetd's
 *      write (a non-blocking read between usnetd's CAS and its write):
 *      the count arrives later and stays, and every later poll() returns
 *      at once
 * One of -DPART_DB and -DPART_KICK (or both, but the state space is then
 * their product) selects what is checked; -DW=, -DN=, -DK=, -DM= resize.
 */

#ifndef BROKEN
#define BROKEN 0
#endif
#if !defined(PART_DB) && !defined(PART_KICK)
#error "build with -DPART_DB or -DPART_KICK"
#endif

#ifndef W
#define W 2 /* client threads waiting for the socket */
#endif
#ifndef N
#define N 4 /* times usnetd makes it readable */
#endif
#ifndef K
#define K 3 /* client threads kicking */
#endif
#ifndef M
#define M 2 /* kicks each */
#endif

/* enum ipc_db_state */
#define IDLE 0
#define ARMED 1
#define RUNG 2

/* ---- db: usnetd -> client ------------------------------------------ */

byte tail; /* rx fifo tail: usnetd's readiness */
byte head; /* rx fifo head: taken by a client thread under rx_lock */
bit hup; /* IPC_R_HUP */
bit watch[W]; /* ipc_sock.watch[]: doorbell i is named */
byte db[W]; /* ipc_seg_hdr.doorbell[] */
byte efd[W]; /* each doorbell's eventfd count */

/* usnetd, step b: ring every doorbell named in watch[]. */
inline ring_all(j, rang)
{
	j = 0;
	do
	:: j < W ->
		if
		:: watch[j] ->
			/* ipc_db_ring(): CAS ARMED -> RUNG */
			atomic {
				if
				:: db[j] == ARMED -> db[j] = RUNG; rang = 1
				:: else -> rang = 0
				fi
			}
			if
			:: rang -> efd[j] = efd[j] + 1 /* write(eventfd) */
			:: else -> skip
			fi
		:: else -> skip
		fi;
		j++
	:: else -> break
	od
}

proctype usnetd_db()
{
	byte r = 0, j, rang;

	do
	:: r < N ->
		tail++; /* publish, then (a) full fence */
		ring_all(j, rang);
		head == tail; /* lock-step: a client took it */
		r++
	:: else -> break
	od;
	hup = 1;
	ring_all(j, rang)
}

proctype client_db(byte i)
{
	byte t, h, old;
	bit up, got;

#if BROKEN != 2
	watch[i] = 1; /* 1. ipc_watch_add(), once */
#endif
	do
	:: /* recv(): take a byte if there is one (under rx_lock) */
		atomic {
			if
			:: tail != head -> head++; got = 1
			:: else -> got = 0
			fi
		}
		if
		:: got -> goto next
		:: else -> skip
		fi;
		if
		:: hup -> break
		:: else -> skip
		fi;
		/* nothing: wait on the doorbell */
		assert(efd[i] == 0);
#if BROKEN == 1
		up = hup; t = tail; h = head; /* 3. too early */
		db[i] = ARMED; /* 2. */
#else
		db[i] = ARMED; /* 2. ipc_db_arm(): ARMED, full fence */
		up = hup; t = tail; h = head; /* 3. readiness, again */
#endif
#if BROKEN == 2
		watch[i] = 1; /* 1. too late */
#endif
		if
		:: t != h || up -> skip
		:: else -> efd[i] > 0 /* 4. poll() on the eventfd */
		fi;
#if BROKEN == 5
		db[i] = IDLE; old = IDLE /* 5. forgets RUNG */
#else
		atomic { old = db[i]; db[i] = IDLE }; /* 5. ipc_db_disarm() */
#endif
		if
#if BROKEN == 7
		:: old == RUNG -> efd[i] = 0 /* read() that does not wait */
#else
		:: old == RUNG -> atomic { efd[i] > 0 -> efd[i] = 0 } /* read() */
#endif
		:: else -> skip
		fi;
next:
		skip
	od
}

/* ---- kick: client -> usnetd's worker ---------------------------------- */

bit worker_sleeping;
byte kick_summary; /* bit s: kick[s] may have bits */
bit kick[K]; /* client s's slot, in kick word s */
byte wefd; /* the worker's eventfd count */
byte handled[K]; /* kicks of slot s the worker handled */

proctype worker()
{
	byte s, j;
	bit k, pending;

	do
	:: skip ->
#if BROKEN == 3
		pending = (kick_summary != 0); /* scan too early */
		worker_sleeping = 1;
#else
		worker_sleeping = 1; /* then a full fence */
		pending = (kick_summary != 0); /* scan */
#endif
		if
		:: pending -> skip
		:: else ->
end_sleep:
			wefd > 0 /* blocking wait on its eventfd */
		fi;
		worker_sleeping = 0;
#if BROKEN != 6
		wefd = 0; /* read it empty (non-blocking: it may be) */
#endif
		atomic { s = kick_summary; kick_summary = 0 };
		j = 0;
		do
		:: j < K ->
			if
			:: s & (1 << j) ->
				atomic { k = kick[j]; kick[j] = 0 };
				if
				:: k -> handled[j]++
				:: else -> skip
				fi
			:: else -> skip
			fi;
			j++
		:: else -> break
		od
	od
}

proctype client_kick(byte i)
{
	byte r = 0;

	do
	:: r < M ->
#if BROKEN == 4
		if
		:: worker_sleeping -> /* read too early */
			kick[i] = 1;
			kick_summary = kick_summary | (1 << i);
			wefd = wefd + 1
		:: else ->
			kick[i] = 1;
			kick_summary = kick_summary | (1 << i)
		fi;
#else
		/* ipc_kick(): two fetch_or, then load worker_sleeping */
		kick[i] = 1;
		kick_summary = kick_summary | (1 << i);
		if
		:: worker_sleeping -> wefd = wefd + 1 /* write(eventfd) */
		:: else -> skip
		fi;
#endif
		r++;
		handled[i] == r /* lock-step: usnetd has seen it */
	:: else -> break
	od
}

init
{
	byte i;

	atomic {
#ifdef PART_DB
		run usnetd_db();
		for (i : 0 .. W - 1) {
			run client_db(i)
		}
#endif
#ifdef PART_KICK
		run worker();
		for (i : 0 .. K - 1) {
			run client_kick(i)
		}
#endif
	}
#ifdef PART_KICK
	_nr_pr == 2; /* everyone left but init and the worker */
	for (i : 0 .. K - 1) {
		assert(handled[i] == M)
	}
#else
	_nr_pr == 1;
#endif
#ifdef PART_DB
	assert(head == N && tail == N)
#endif
}
