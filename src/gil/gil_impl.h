/* Private to the GIL module: the lock word, the wait-queue node and its states, the queue lock,
 * and the scheduling constants every path that hands the GIL over shares.
 *
 * The GIL is a lock word (state: HELD | WAITERS) plus two FIFO queues of waiters, each waiter a
 * node on its own stack with its own futex word, so a hand-over wakes exactly the thread chosen.
 * The queues, and the decisions that read them (who is next, whether to post a drop request), are
 * guarded by qlock, a small futex lock held for a few dozen instructions at a time.
 *
 * Two ways the GIL changes hands:
 *  - release (and BEGIN_ALLOW_THREADS): the lock word is cleared and the chosen waiter is woken to
 *    compete for it; a thread that gets there first may take it (CPython's behaviour, and what
 *    keeps short blocking calls cheap: the releasing thread usually takes it straight back).
 *  - grant (forced drop, yield, check interval, release with a drop pending): ownership moves to
 *    the chosen waiter while the word stays HELD, so nobody else - in particular not the thread
 *    that was asked to drop - can win it (CPython's FORCE_SWITCHING, made FIFO).
 *
 * Holder-only fields (owner, last, holder_io, countdown, the counters, the histogram) are written
 * only by the thread holding the GIL, with relaxed atomic stores so that conc_gil_stats() may read
 * them from anywhere; the hand-over itself (a CAS on state or the GRANTED store on a node) orders
 * one holder's writes before the next one's. A grant writes the new holder's fields before it
 * publishes GRANTED, under qlock, so a waiter deciding whether a switch happened sees it. */
#ifndef CONC_GIL_IMPL_H
#define CONC_GIL_IMPL_H

#include <errno.h>
#include <stddef.h>
#include <time.h>
#include "conc/gil.h"
#include "../internal/base.h"

/* state bits */
#define ST_HELD    0x1u
#define ST_WAITERS 0x2u

/* A node's futex word. WAIT: spinning; SLEEP: in futex wait, wake me; WAKE: the GIL was released,
 * come and compete; GRANTED: you hold it. */
enum { W_WAIT, W_SLEEP, W_WAKE, W_GRANTED };

enum { Q_CPU = 0, Q_IO = 1 };

/* counters, in conc_gil_stats_t order */
enum { N_ACQ, N_CONT, N_SWITCH, N_FORCED, N_REQ, N_YIELD, N_STARVED, N_MISUSE };

/* io_priority: CPU-bound threads get at least 1/STARVE_SHARE of the GIL over STARVE_INTERVALS
 * intervals (gil_cpu_starved). */
#define STARVE_INTERVALS 4
#define STARVE_SHARE     5
/* Spin before sleeping: a grant usually comes within a tick, and waking a sleeping thread costs
 * tens of µs on a VM. A thread that has asked a running holder to drop expects the GIL at the
 * holder's next tick, so it spins longer; so does one that yielded, which gets the GIL back when
 * the other thread yields in turn: were it asleep by then, each hand-over would cost a wake-up
 * (measured here: ~10 µs per yield hand-over with a 5 µs spin, ~0.3 µs with 50 µs). */
#define YIELD_SPIN_NS 50000
#define CPU_SPIN_NS   5000
#define IO_SPIN_NS    50000

struct gil_node {
    struct gil_node *next, *prev;
    uint32_t word; /* W_* */
    uint8_t io;    /* on the I/O queue: came back from a blocking call, io_priority on */
    pid_t tid;
    int64_t enq_ns; /* when it joined the queue */
};

static inline int64_t gil_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void gil_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline int64_t gil_interval(conc_gil_t *g) {
    return __atomic_load_n(&g->_priv.interval_ns, __ATOMIC_RELAXED);
}

/* Holder-only counter bump: the GIL serialises the writers, readers only need untorn values. */
static inline void gil_count(conc_gil_t *g, int i) {
    uint64_t *p = &g->_priv.n[i];
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

#define gil_set(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define gil_get(p)    __atomic_load_n((p), __ATOMIC_RELAXED)

/* ---- the queue lock: 0 free, 1 held, 2 held with sleepers (musl style) ---- */
CONC_HIDDEN void conc__gil_qlock_slow(conc_gil_t *g);

static inline void gil_qlock(conc_gil_t *g) {
    uint32_t z = 0;
    if (conc__likely(conc__cas(&g->_priv.qlock, &z, 1))) return;
    conc__gil_qlock_slow(g);
}

static inline void gil_qunlock(conc_gil_t *g) {
    if (conc__xchg(&g->_priv.qlock, 0) == 2) conc__futex_wake(&g->_priv.qlock, 1, false);
}

/* ---- the queues (under qlock) ---- */
static inline void gil_enqueue(conc_gil_t *g, struct gil_node *n) {
    int q = n->io ? Q_IO : Q_CPU;
    struct gil_node *t = g->_priv.tail[q];
    n->next = NULL;
    n->prev = t;
    if (t)
        t->next = n;
    else
        g->_priv.head[q] = n;
    g->_priv.tail[q] = n;
}

static inline void gil_unlink(conc_gil_t *g, struct gil_node *n) {
    int q = n->io ? Q_IO : Q_CPU;
    if (n->prev)
        n->prev->next = n->next;
    else
        g->_priv.head[q] = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        g->_priv.tail[q] = n->prev;
    n->next = n->prev = NULL;
}

static inline bool gil_queues_empty(conc_gil_t *g) {
    return !g->_priv.head[Q_CPU] && !g->_priv.head[Q_IO];
}

/* ---- io_priority's share accounting (all under qlock) ----
 * A window opens when CPU-bound threads start wanting the GIL while a thread back from a blocking
 * call holds it. Once it is STARVE_INTERVALS intervals long: if CPU-bound holders got at least
 * 1/STARVE_SHARE of it, it closes and a new one opens; if they got less, CPU-bound waiters are
 * starved - the next one is served first and keeps the GIL for a whole interval. Counting GIL
 * time rather than waits matters: an I/O thread doing tiny blocking calls hands the GIL to a
 * CPU-bound thread very often, but takes it back within microseconds each time. */
static inline bool gil_cpu_starved(conc_gil_t *g, int64_t now) {
    if (!g->_priv.io_priority) return false;
    if (!g->_priv.win_start) g->_priv.win_start = now; /* the first window */
    int64_t len = now - g->_priv.win_start;
    if (len < STARVE_INTERVALS * gil_interval(g)) return false;
    if (g->_priv.cpu_got * STARVE_SHARE >= len) {
        g->_priv.win_start = now;
        g->_priv.cpu_got = 0;
        return false;
    }
    return true;
}

static inline bool gil_starved(conc_gil_t *g, struct gil_node *n, int64_t now) {
    return !n->io && gil_cpu_starved(g, now);
}

/* A CPU-bound thread is about to queue. */
static inline void gil_cpu_wants(conc_gil_t *g, int64_t now) {
    if (g->_priv.io_priority && !g->_priv.head[Q_CPU] && gil_get(&g->_priv.holder_io)) {
        g->_priv.win_start = now;
        g->_priv.cpu_got = 0;
    }
}

/* The holder gives the GIL up: a CPU-bound holder's slice counts toward its class's share (a
 * slice begun on the fast path, without a clock read, counts nothing). */
static inline void gil_slice_end(conc_gil_t *g, int64_t now) {
    if (g->_priv.io_priority && !gil_get(&g->_priv.holder_io) && g->_priv.cpu_start)
        g->_priv.cpu_got += now - g->_priv.cpu_start;
}

/* Post a drop request (under qlock): the holder's next tick hands over. */
static inline void gil_post_drop(conc_gil_t *g) {
    if (gil_get(&g->_priv.breaker) & CONC__GIL_DROP) return;
    __atomic_fetch_or(&g->_priv.breaker, CONC__GIL_DROP, __ATOMIC_RELEASE);
    uint64_t *p = &g->_priv.n[N_REQ]; /* waiters write this one, under qlock */
    gil_set(p, gil_get(p) + 1);
}

static inline void gil_clear_drop(conc_gil_t *g) {
    if (gil_get(&g->_priv.breaker) & CONC__GIL_DROP)
        __atomic_fetch_and(&g->_priv.breaker, ~CONC__GIL_DROP, __ATOMIC_RELAXED);
}

static inline void gil_misuse(conc_gil_t *g) {
    __atomic_fetch_add(&g->_priv.n[N_MISUSE], 1, __ATOMIC_RELAXED);
}

/* The holder-only fields of a new holder, written by it or by the thread granting it the GIL.
 * now: 0 on the fast path (no clock read there). starved: it gets a guaranteed slice. */
static inline void gil_new_holder(conc_gil_t *g, pid_t tid, bool io, int64_t now, bool starved) {
    gil_set(&g->_priv.owner, tid);
    gil_set(&g->_priv.holder_io, (uint8_t)io);
    if (gil_get(&g->_priv.last) != tid) {
        gil_set(&g->_priv.last, tid);
        gil_count(g, N_SWITCH);
    }
    if (g->_priv.io_priority) g->_priv.cpu_start = io ? 0 : now;
    if (starved) {
        gil_set(&g->_priv.prot_until, now + gil_interval(g));
        gil_count(g, N_STARVED);
    } else if (gil_get(&g->_priv.prot_until)) {
        gil_set(&g->_priv.prot_until, 0);
    }
}

/* Who is served next (under qlock): a starved CPU-bound waiter, else the I/O queue, else the CPU
 * queue, each in FIFO order. NULL if nobody waits. */
CONC_HIDDEN struct gil_node *conc__gil_pick(conc_gil_t *g, int64_t now);
/* Move ownership to n, which the holder picked (under qlock). Returns true if n sleeps: the caller
 * wakes it with conc__futex_wake(&n->word, ...) after dropping qlock. */
CONC_HIDDEN bool conc__gil_grant(conc_gil_t *g, struct gil_node *n, int64_t now);
/* Wait on n, already queued, until this thread holds the GIL; records the wait. deadline: when to
 * consider posting a drop request; snap: the switch count the wait started with. */
CONC_HIDDEN void conc__gil_wait(conc_gil_t *g, struct gil_node *n, int64_t deadline, int64_t spin,
                                uint64_t snap);
CONC_HIDDEN void conc__gil_record_wait(conc_gil_t *g, int64_t ns);
CONC_HIDDEN void conc__gil_acquire_as(conc_gil_t *g, bool io);
CONC_HIDDEN void conc__gil_release(conc_gil_t *g);
CONC_HIDDEN void conc__gil_register(conc_gil_t *g);
CONC_HIDDEN void conc__gil_unregister(conc_gil_t *g);

#endif
