/* The Queue's shared layout and handle, shared by the files of src/queue, conc_wait and the passer.
 *
 * One memory file (memfd) per queue: a header page, then the ring. Two sides, each with its own
 * process-shared lock, so a producer and a consumer never contend for one lock and each side's
 * lock stays in its own CPU's cache (Michael & Scott's two-lock queue, over a byte ring):
 *
 *   pword = nput << 36 | tail   written only by a producer holding plock
 *   gword = nget << 36 | head   written only by a consumer holding glock
 *
 * tail and head count 8-byte units, modulo 2^36; nput and nget count messages, modulo 2^28. Each
 * word is the whole committed state of its side, and a put or a get commits with ONE store of it
 * after the record is completely written or read. That is what makes SIGKILL harmless: a process
 * killed before that store changed nothing anybody can see (its half-written record lies past the
 * tail, its half-read one is still queued), and one killed after it has finished. The lock it held
 * is taken over by the next locker (owner death, src/sync/mutex.c) with nothing to repair.
 *
 * A record is an 8-byte header (bit 63: spilled; the rest: the length) and, inline, the payload
 * padded to 8 bytes, wrapping around the ring's end. A spilled record's payload lives in the same
 * memory file at spill_offset(position), written with pwrite and read with pread, never mapped:
 * one slot per ring position modulo twice the ring (see get.c for why twice), 16 GiB apart, in a
 * sparse file whose pages exist only while a message occupies them.
 *
 * Sleepers wait on an event count per side, gseq (getters waiting for data) and pseq (putters
 * waiting for room): bit 0 says somebody may be asleep, and the waker that clears it bumps the
 * sequence in the same compare-and-swap and makes the one futex wake of that round. Every other
 * commit reads the word and makes no syscall - also while a woken sleeper waits for its CPU, which
 * a count of sleepers could not tell apart from one still asleep (see wake.c).
 *
 * Between processes on two CPUs, a message costs what the cache lines cost: every ring line goes
 * to the consumer's CPU and, a lap later, back to a producer's, ~200 ns each way on these VMs, and
 * each locked instruction (taking or releasing a lock) waits until the lines its earlier stores
 * went to have arrived. Three things keep that off the critical path: put prefetches the ring for writing
 * 1 KiB ahead of the tail (put.c), so those transfers overlap instead of costing one per message;
 * on x86 the commit is a plain release store, the lock release after it being the one full
 * barrier a side needs (CONC__Q_COMMIT below); and a side that caught up with the other lingers a
 * moment after the word it waits on moves, when that has been seen to let a batch form (batch.c),
 * so the two sides do not pull pword or gword back and forth for every message. Per-record commit
 * marks (the consumer finding a record by its header rather than by pword) were not needed: with
 * the pword reads cut from a quarter of gets to 1 in 25, put still cost ~200 ns - the ring lines
 * were the cost. */
#ifndef CONC_INTERNAL_QUEUE_H
#define CONC_INTERNAL_QUEUE_H

#include <stdint.h>
#include "conc/queue.h"
#include "conc/sync.h"
#include "base.h"

#define CONC__Q_MAGIC        0x636f6e6351756575ull /* "concQueu" */
#define CONC__Q_HDR_BYTES    4096u
#define CONC__Q_POS_BITS     36
#define CONC__Q_POS_MASK     ((UINT64_C(1) << CONC__Q_POS_BITS) - 1)
#define CONC__Q_CNT_MASK     ((UINT64_C(1) << 28) - 1)
#define CONC__Q_SPILLED      (UINT64_C(1) << 63)
#define CONC__Q_MIN_RING     ((size_t)4096)
#define CONC__Q_MAX_RING     ((size_t)1 << 30)
#define CONC__Q_DEFAULT_RING ((size_t)1 << 20)
#define CONC__Q_SPILL_STRIDE ((uint64_t)CONC_QUEUE_MAX_MESSAGE)

/* The memory order of the commit stores (pword, gword). The sleeper protocol (wake.c) needs the
 * commit ordered before the committer's later load of the event count (StoreLoad). On x86 the
 * side's lock release, a locked exchange that comes between the two, already is that full barrier,
 * so a plain release store suffices there and saves a locked instruction per put and per get
 * (about 6 ns each here, a sixth of an uncontended put). Elsewhere keep a sequentially consistent
 * store (on AArch64 it costs the same as a release: STLR, ordered before a later LDAR). */
#if defined(__x86_64__) || defined(__i386__)
#define CONC__Q_COMMIT __ATOMIC_RELEASE
#else
#define CONC__Q_COMMIT __ATOMIC_SEQ_CST
#endif

#define CONC__Q_POS(w) ((w)&CONC__Q_POS_MASK)
#define CONC__Q_CNT(w) ((w) >> CONC__Q_POS_BITS)

struct conc__qhdr {
    uint64_t magic;
    uint64_t units; /* ring size in 8-byte units, a power of two */
    uint64_t maxsize;
    uint32_t joinable;
    uint32_t pad0;
    _Alignas(64) conc_lock_t plock;
    uint64_t
        gcache; /* a gword a producer saw (under plock): saves re-reading the consumers' line */
    _Alignas(64) uint64_t pword;
    _Alignas(64) conc_lock_t glock;
    uint64_t pcache; /* likewise for consumers */
    _Alignas(64) uint64_t gword;
    _Alignas(64) uint32_t gseq;  /* futex: getters wait here for pword to move (bit 0: asleep) */
    uint32_t pseq;               /* futex: putters wait here for gword to move (bit 0: asleep) */
    uint32_t pollers;            /* conc_wait callers watching efd */
    _Alignas(64) uint64_t ndone; /* task_done calls (joinable) */
    uint32_t tdseq;              /* futex: bumped when the unfinished count reaches 0 */
    uint32_t jwaiters;
};

struct conc_queue {
    struct conc__qhdr *h;
    unsigned char *ring;
    size_t map_bytes;
    uint64_t units;    /* a private copy: never trust the shared header for bounds */
    uint64_t maxsize;  /* 0: none */
    size_t spill_min;  /* longer messages are spilled */
    int memfd, efd;    /* the memory file; an eventfd conc_wait polls (readable: maybe non-empty) */
    uint32_t closed;   /* atomic: this process puts no more */
    uint32_t sleepers; /* atomic: this handle's threads in conc__queue_sleep (see wake.c) */
    uint32_t sleepers_pid;   /* atomic: the process whose threads `sleepers` counts */
    uint32_t pbatch, gbatch; /* atomic: putters' and getters' linger state (batch.c) */
};

static inline uint64_t conc__q_used(uint64_t pw, uint64_t gw) {
    return (CONC__Q_POS(pw) - CONC__Q_POS(gw)) & CONC__Q_POS_MASK;
}
static inline uint64_t conc__q_count(uint64_t pw, uint64_t gw) {
    return (CONC__Q_CNT(pw) - CONC__Q_CNT(gw)) & CONC__Q_CNT_MASK;
}
static inline uint64_t conc__q_spill_offset(const conc_queue_t *q, uint64_t pos) {
    return ((pos & (2 * q->units - 1)) + 1) * CONC__Q_SPILL_STRIDE;
}

/* A timeout's deadline, read from the clock only when first needed (NAN: not yet): a clock read
 * costs about as much as a whole uncontended put here (~27 ns), and most calls never wait. */
static inline double conc__q_deadline(double *deadline, double timeout) {
    if (__builtin_isnan(*deadline)) *deadline = conc_deadline(timeout);
    return *deadline;
}

/* Map a queue's memory file (fd taken over on success) and check its header. */
CONC_HIDDEN int conc__queue_map(conc_queue_t **q, int memfd, int efd, size_t map_bytes);
/* Copy into / out of the ring at unit position pos, wrapping around its end. */
CONC_HIDDEN void conc__queue_copy_in(conc_queue_t *q, uint64_t pos, const void *src, size_t n);
CONC_HIDDEN void conc__queue_copy_out(conc_queue_t *q, uint64_t pos, void *dst, size_t n);
/* Whole-buffer pread/pwrite on the memory file: 0 or a negative errno. */
CONC_HIDDEN int conc__queue_pio(int fd, void *buf, size_t n, uint64_t off, bool write);
/* Sleep until *word changes from val (spinning briefly first), on the event count *seq. When the
 * spin sees the change, linger as the side's batch state says (batch.c). */
CONC_HIDDEN int conc__queue_sleep(conc_queue_t *q, uint64_t *word, uint64_t val, uint32_t *seq,
                                  double deadline, const uint32_t *batch);
/* After a wait, tell the side's batch state whether more than one message (or room for more than
 * one) was there. */
CONC_HIDDEN void conc__queue_learn(uint32_t *batch, bool batched);
/* After a commit: wake the sleepers on *seq if any may sleep; tell conc_wait pollers (puts). */
CONC_HIDDEN void conc__queue_wake(conc_queue_t *q, uint32_t *seq);

/* conc_wait's queue branch: register as a poller and get the fd to poll; whether the queue is
 * non-empty; after a wake-up that found it empty, reset the fd; unregister. */
CONC_HIDDEN int conc__queue_poll_begin(conc_queue_t *q);
CONC_HIDDEN bool conc__queue_readable(conc_queue_t *q);
CONC_HIDDEN void conc__queue_poll_stale(conc_queue_t *q);
CONC_HIDDEN void conc__queue_poll_end(conc_queue_t *q);

/* Test hook: when set, called inside put ("put": half the payload written, nothing committed)
 * and get ("get": the message copied out, not yet consumed), so a test can SIGKILL a process
 * exactly there. */
CONC_HIDDEN extern void (*volatile conc__queue_test_stop)(const char *where);

#include "pass.h"
CONC_HIDDEN extern const conc__passer_t conc__queue_passer;

#endif
