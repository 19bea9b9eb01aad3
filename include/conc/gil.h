/* conc/gil.h - a global interpreter lock: CPython's GIL as a reusable, fair lock for interpreters.
 *
 * One thread at a time holds the GIL and runs interpreted code. The holder calls conc_gil_tick()
 * once per interpreted instruction (one relaxed load); when another thread has waited a whole
 * switch interval (5 ms by default, sys.setswitchinterval) without any hand-over, it posts a drop
 * request and the holder's next tick hands the GIL over - directly to the longest waiter, so the
 * dropping thread cannot win it back (CPython's FORCE_SWITCHING, made FIFO). A plain release
 * wakes the next waiter to compete for the free GIL, as in CPython. Native code that
 * blocks releases the GIL around the call with CONC_GIL_BEGIN/END_ALLOW_THREADS.
 *
 * With opts.io_priority a thread coming back from such a block is served ahead of CPU-bound
 * threads and may take the GIL from a CPU-bound holder at its next tick instead of waiting an
 * interval: this removes CPython's convoy effect (bpo-7946), where every I/O call of an I/O thread
 * costs up to a switch interval when a CPU-bound thread runs beside it. CPU-bound threads cannot
 * be starved: when, over 4 intervals of wanting it, they held the GIL less than 1/5 of the time,
 * the next one is served first and keeps the GIL for a whole interval (see docs/gil.md).
 *
 * Nobody holds the GIL after conc_gil_init: every thread, the initialising one included, calls
 * conc_gil_acquire() before running interpreted code. The GIL is not recursive. Misuse is ignored
 * and counted (conc_gil_stats_t.misuse), never fatal: conc_gil_release() by a thread that does not
 * hold it does nothing, and conc_gil_acquire() by the holder returns at once. conc_gil_tick() and
 * conc_gil_yield() may only be called by the holder.
 *
 * Fork: in the child the forking thread still holds the GIL if it held it before fork(), and the
 * GIL is free otherwise (its holder does not exist in the child); waiters are forgotten. Fields
 * under _priv are not API. */
#ifndef CONC_GIL_H
#define CONC_GIL_H

#include <stdbool.h>
#include <stdint.h>
#include "conc/error.h"

typedef struct {
    /* Seconds a waiter waits before asking the holder to drop the GIL; 0 means the default, 0.005
     * (CPython's sys.getswitchinterval()). Negative or NaN: -EINVAL. */
    double switch_interval;
    /* 0: time-based switching only. N: also hand over to a waiter every N ticks (Python 2's
     * sys.setcheckinterval, default 100 there); each tick then also counts down a counter. */
    unsigned check_interval;
    /* A thread returning from CONC_GIL_END_ALLOW_THREADS is served first (see above). */
    bool io_priority;
} conc_gil_opts_t;

/* The defaults, which a NULL opts means: 5 ms, no check interval, no I/O priority (as CPython). */
#define CONC_GIL_OPTS_INIT                                                                         \
    { 0.005, 0, false }

typedef struct {
    uint64_t acquires;       /* times a thread got the GIL, by any path */
    uint64_t contended;      /* of those, the times it had to wait (the waits below) */
    uint64_t switches;       /* hand-overs to another thread: the holder changed */
    uint64_t forced_drops;   /* the holder gave the GIL up because a waiter requested it */
    uint64_t drop_requests;  /* drop requests posted by waiters */
    uint64_t yields;         /* hand-overs by conc_gil_yield() or the check interval */
    uint64_t starved_grants; /* io_priority: CPU-bound waiters served first because they starved */
    uint64_t misuse;         /* ignored calls: release by a non-holder, acquire by the holder */
    /* Seconds a thread waited for the GIL (in acquire, END_ALLOW_THREADS, after a drop or yield),
     * over the contended acquisitions; percentiles come from a log histogram with 4 buckets per
     * power of two (about 19% resolution); 0 when nothing waited. */
    double wait_p50, wait_p99, wait_max, wait_mean;
} conc_gil_stats_t;

#define CONC_GIL__HIST 160 /* histogram buckets: 4 per power of two of nanoseconds */

typedef struct conc_gil {
    struct {
        /* The eval breaker: the one word conc_gil_tick() loads. CONC__GIL_DROP while a drop is
         * requested; CONC__GIL_COUNT always, in check-interval mode. */
        uint32_t breaker;
        uint32_t countdown; /* ticks left in the check interval; holder only */
        uint32_t state;     /* lock word: held bit | waiters-queued bit */
        uint32_t qlock;     /* futex lock guarding the wait queues */
        int32_t owner;      /* tid of the holder, 0 when free */
        int32_t last;       /* tid of the last thread that got it (switch detection) */
        uint32_t check_interval;
        uint8_t io_priority;
        uint8_t holder_io;   /* the holder got it back from a blocking call */
        uint8_t forker_held; /* fork: the forking thread held it */
        uint8_t live;        /* between init and destroy */
        int64_t interval_ns;
        int64_t prot_until;      /* io_priority: the holder's guaranteed slice ends (ns) */
        int64_t cpu_start;       /* io_priority: when a CPU-bound holder got it (0: unknown) */
        int64_t win_start;       /* io_priority: CPU-bound threads' share, counted since then... */
        int64_t cpu_got;         /* ...is this much GIL time */
        void *head[2], *tail[2]; /* wait queues: [0] CPU-bound, [1] back from blocking calls */
        void *reg_next, *reg_prev; /* the fork registry */
        uint64_t n[8];             /* counters, in conc_gil_stats_t order */
        int64_t wait_max_ns, wait_sum_ns;
        uint64_t hist[CONC_GIL__HIST];
    } _priv;
} conc_gil_t;

#define CONC__GIL_DROP  0x1u /* private: breaker bits */
#define CONC__GIL_COUNT 0x2u

#ifdef __cplusplus
extern "C" {
#endif

/* 0, or -EINVAL for a NULL g or a bad switch_interval. */
CONC_API int conc_gil_init(conc_gil_t *g, const conc_gil_opts_t *opts);
/* Nobody may hold or wait for it. */
CONC_API void conc_gil_destroy(conc_gil_t *g);

/* Block until this thread holds the GIL (no timeout: as PyEval_AcquireThread). errno is kept. */
CONC_API void conc_gil_acquire(conc_gil_t *g);
CONC_API void conc_gil_release(conc_gil_t *g); /* errno is kept */

/* Release around a blocking call, and take it back as a thread returning from one (served first
 * under io_priority): what CONC_GIL_BEGIN/END_ALLOW_THREADS call. Both keep errno. */
CONC_API void conc_gil_save(conc_gil_t *g);
CONC_API void conc_gil_restore(conc_gil_t *g);

/* True if the calling thread holds the GIL (PyGILState_Check). */
CONC_API bool conc_gil_held(conc_gil_t *g);

/* Hand the GIL to the longest waiter if there is one, and queue behind the others for it. */
CONC_API void conc_gil_yield(conc_gil_t *g);

/* The slow path of conc_gil_tick(): a drop was requested or the check interval ran out. */
CONC_API void conc_gil_tick_slow(conc_gil_t *g);

/* Once per interpreted instruction, by the holder. Time-based mode: one relaxed load and a
 * never-taken branch. Check-interval mode: the same load, then a countdown in the struct. */
static inline void conc_gil_tick(conc_gil_t *g) {
    uint32_t b = __atomic_load_n(&g->_priv.breaker, __ATOMIC_RELAXED);
    if (__builtin_expect(b != 0, 0)) {
        if (b == CONC__GIL_COUNT && --g->_priv.countdown != 0) return;
        conc_gil_tick_slow(g);
    }
}

/* sys.getswitchinterval / sys.setswitchinterval (seconds > 0, else -EINVAL). */
CONC_API double conc_gil_switch_interval(conc_gil_t *g);
CONC_API int conc_gil_set_switch_interval(conc_gil_t *g, double seconds);

/* A snapshot of the counters; 0, or -EINVAL for NULL arguments. Callable from any thread. */
CONC_API int conc_gil_stats(conc_gil_t *g, conc_gil_stats_t *out);

#ifdef __cplusplus
}
#endif

/* Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS: a block, around code that touches nothing the
 * GIL protects (a blocking system call, a long computation on private data). errno set inside
 * the block survives the re-acquire. */
#define CONC_GIL_BEGIN_ALLOW_THREADS(g)                                                            \
    {                                                                                              \
        conc_gil_save(g);
#define CONC_GIL_END_ALLOW_THREADS(g)                                                              \
    conc_gil_restore(g);                                                                           \
    }

#endif
