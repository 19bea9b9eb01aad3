/* The GIL's wait queues: the queue lock, who is served next, and the ownership transfer (grant).
 *
 * Choosing the next holder is the whole scheduling policy, so it lives in one place. FIFO within a
 * queue keeps every waiter's turn bounded. With io_priority, threads coming back from a blocking
 * call (the I/O queue) go first: they typically hold the GIL for microseconds and block again, so
 * serving them at once costs CPU-bound threads little and removes the convoy effect.
 *
 * Of the three ways to keep that from starving CPU-bound threads - a minimum slice for every
 * CPU-bound holder, rate-limited I/O requests, or serving a CPU-bound waiter first once it has
 * waited long enough - the first two put a floor under every I/O round trip (an I/O thread would
 * wait out the slice or the rate limit each time a CPU-bound thread ran during its recv), so the
 * convoy comes back in a smaller form. We use the third, measured in GIL time rather than waiting
 * time (gil_cpu_starved): only when CPU-bound threads got less than 1/STARVE_SHARE of the GIL over
 * STARVE_INTERVALS intervals is the next one served ahead of the I/O queue, with a guaranteed slice
 * of one interval during which I/O waiters may not request a drop. An I/O thread that really waits
 * for I/O leaves the GIL to CPU-bound threads most of the time and never meets this rule; one that
 * does nothing but tiny blocking calls (and so is CPU-bound in disguise) is held to 4/5. */
#include "gil_impl.h"

void conc__gil_qlock_slow(conc_gil_t *g) {
    uint32_t *w = &g->_priv.qlock;
    /* held for a few dozen instructions: spinning briefly almost always wins */
    for (int i = 0; i < 100; i++) {
        uint32_t z = 0;
        if (conc__load_rlx(w) == 0 && conc__cas(w, &z, 1)) return;
        gil_relax();
    }
    while (conc__xchg(w, 2) != 0) conc__wait_nointr(w, 2, __builtin_inf(), false);
}

struct gil_node *conc__gil_pick(conc_gil_t *g, int64_t now) {
    struct gil_node *cpu = g->_priv.head[Q_CPU], *io = g->_priv.head[Q_IO];
    if (cpu && io && gil_starved(g, cpu, now)) return cpu;
    return io ? io : cpu;
}

bool conc__gil_grant(conc_gil_t *g, struct gil_node *n, int64_t now) {
    bool starved = gil_starved(g, n, now);
    gil_unlink(g, n);
    gil_new_holder(g, n->tid, n->io, now, starved);
    gil_clear_drop(g);
    if (gil_queues_empty(g)) __atomic_fetch_and(&g->_priv.state, ~ST_WAITERS, __ATOMIC_RELAXED);
    /* publishes everything above to n (acquire load in conc__gil_wait) */
    return conc__xchg(&n->word, W_GRANTED) == W_SLEEP;
}
