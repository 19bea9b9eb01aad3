/* The GIL's wait queues: the queue lock, who is served next, and the ownership transfer (grant).
 *
 * Choosing the next holder is the whole scheduling policy, so it lives in one place. FIFO within a
 * queue keeps every waiter's turn bounded. With io_priority, threads coming back from a blocking
 * call (the I/O queue) go first: they typically hold the GIL for microseconds and block again, so
 * serving them at once costs CPU-bound threads little and removes the convoy effect. What keeps
 * that from starving CPU-bound threads is the one exception: a CPU-bound waiter that has waited
 * STARVE_INTERVALS intervals is served before the I/O queue and gets a guaranteed slice (one
 * interval during which I/O waiters may not request a drop). So against a thread that does
 * nothing but short I/O calls, a CPU-bound thread still gets at least one interval in five. */
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
    gil_set(&g->_priv.owner, n->tid);
    gil_set(&g->_priv.holder_io, n->io);
    if (gil_get(&g->_priv.last) != n->tid) {
        gil_set(&g->_priv.last, n->tid);
        gil_count(g, N_SWITCH);
    }
    if (starved) {
        gil_set(&g->_priv.prot_until, now + gil_interval(g));
        gil_count(g, N_STARVED);
    } else {
        gil_set(&g->_priv.prot_until, 0);
    }
    gil_clear_drop(g);
    if (gil_queues_empty(g)) __atomic_fetch_and(&g->_priv.state, ~ST_WAITERS, __ATOMIC_RELAXED);
    /* publishes everything above to n (acquire load in conc__gil_wait) */
    return conc__xchg(&n->word, W_GRANTED) == W_SLEEP;
}
