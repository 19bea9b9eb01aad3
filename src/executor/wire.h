/* The process pool's messages between the pool and a worker, and the result ring they share.
 *
 * The Pipe carries, pool -> worker: SHM first (the ring's memory file, as SCM_RIGHTS), then TASKS
 * (a work name and one or more arguments: a map chunk travels as one frame) or STOP; worker ->
 * pool: RESULT frames, BELL (look at the ring) and INIT_FAILED once, when the initializer failed.
 *
 * Answers: each task the worker runs gets the next sequence number (0, 1, ...), and its answer is
 * published exactly once, either as a record in the ring (made visible by a release store of
 * `tail` after the record is whole) or as a whole RESULT frame on the Pipe (a result too large for
 * the ring's free space). The pool merges both sources by sequence number. A worker that dies
 * leaves what it published - a SIGKILL can cut a record or a frame in half, never publish half of
 * one - so the first sequence number the pool cannot find is exactly the task that was running.
 * Writing a record costs no syscall: the worker rings the BELL only when the pool's manager said it
 * is going to sleep (`sleeping`) and the worker is about to idle or to start the last batch it
 * holds; otherwise the manager, which knows work is in flight, looks at the ring on a short timer.
 * A manager that went to sleep with nothing in flight has no timer (a submit may hand a batch
 * straight to the worker meanwhile): it says so (`sleeping` 2) and the worker then also rings
 * before each further task while answers wait unannounced. While a waiting thread takes the
 * answers from the rings itself, `sleeping` stays 0 - nobody needs the bell - and the last such
 * thread to leave puts back what the manager asked, then looks at the rings once more.
 * A waiting thread that finds nothing to take sleeps on the ring of the worker that owes its
 * answer (`napping`, `wake`): that worker wakes it when it ends a batch. The same pairing as the
 * bell orders it: the worker's exchange of `tail`, then its load of `napping`, against the
 * thread's store of `napping`, then its load of `tail`. A worker out of work watches `sent`, which
 * the pool bumps after each write of tasks, for a while before it blocks on the Pipe (worker.c).
 * No barrier per record: `tail` is published with a release store, and each side reads the
 * other's word (tail, head) only when what it saw last is used up - they are lines the other side
 * writes. A bell is a sequentially consistent exchange of `tail`, then a load of `sleeping`,
 * against the manager's store of `sleeping`, then load of `tail`. The per-task look at
 * `sleeping` needs no barrier: a manager sleeping without a timer stored 2 before the batch was
 * sent (it had nothing in flight), so the worker that received the batch sees it.
 * All integers little-endian as this host (both ends are the same binary on the same machine). */
#ifndef CONC_EXECUTOR_WIRE_H
#define CONC_EXECUTOR_WIRE_H

#include <limits.h>
#include <stdint.h>
#include "../internal/base.h"

#define CONC__W_TASKS       1u
#define CONC__W_STOP        2u
#define CONC__W_RESULT      3u
#define CONC__W_INIT_FAILED 4u
#define CONC__W_SHM         5u
#define CONC__W_BELL        6u

/* TASKS: hdr, name (name_len bytes), then n times { uint64_t len; bytes } */
struct conc__w_tasks {
    uint32_t kind;
    uint32_t n;
    uint32_t name_len;
    uint32_t pad;
};

/* RESULT: hdr then len bytes; INIT_FAILED: hdr with rc, len 0; STOP, BELL, SHM: the kind alone
 * (SHM carries the ring's size in len and its memory file as SCM_RIGHTS). */
struct conc__w_result {
    uint32_t kind;
    int32_t rc;
    uint64_t len;
    uint64_t seq;
};

/* The ring: a header page, then RING_SIZE bytes of records, each { conc__w_rec; len bytes }
 * padded to 8. Positions only grow; a record may wrap at the end. */
#define CONC__RING_HDR  4096u
#define CONC__RING_SIZE ((size_t)256 << 10)
#define CONC__RING_MAX  ((size_t)64 << 10) /* larger results go on the Pipe */

struct conc__w_ring {
    uint64_t tail; /* atomic, written by the worker: the end of the published records */
    /* atomic, written by the worker before it publishes each batch's last answer: how many tasks
     * its finished batches held and how long it spent running them (ns). The pool judges from
     * these whether a worker streams quick tasks - the time between two answers it sees says
     * nothing when it collects them late, several at once. On the tail's line: the pool reads
     * that line anyway. */
    uint64_t ran;
    uint64_t busy_ns;
    char pad1[40];
    uint64_t head; /* atomic, written by the pool: what it has consumed */
    uint64_t sent; /* atomic, bumped by the pool after each write of tasks to the Pipe */
    char pad2[48];
    uint32_t sleeping; /* atomic: the manager is about to sleep, 1 with its timer, 2 without */
    uint32_t napping;  /* atomic: a waiting thread sleeps on `wake` until the next batch ends */
    uint32_t wake;     /* futex word, bumped to wake it */
};

/* Wake the pool's threads napping on ring r, if any (both sides call it: the worker at the end of
 * a batch, the pool when it completed their answer itself or the ring goes away). */
static inline void conc__ring_wake_nappers(struct conc__w_ring *r) {
    if (!__atomic_exchange_n(&r->napping, 0, __ATOMIC_SEQ_CST)) return;
    __atomic_add_fetch(&r->wake, 1, __ATOMIC_SEQ_CST);
    conc__futex_wake(&r->wake, INT_MAX, true);
}

struct conc__w_rec {
    uint64_t seq;
    int32_t rc;
    uint32_t len;
};

#define CONC__REC_SPAN(len) ((sizeof(struct conc__w_rec) + (size_t)(len) + 7) & ~(size_t)7)

/* The worker's start argument: { uint32_t max_tasks; initializer name or empty } */
#define CONC__POOL_TARGET "conc.pool_worker"
/* The target (worker.c); registered by process.c's constructor, which every program that makes a
 * process pool links - also in its spawned children, which run the same constructors. */
CONC_HIDDEN int conc__pool_worker(const void *arg, size_t len);

#endif
