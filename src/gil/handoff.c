/* The holder hands the GIL over: at a tick that finds a drop request (forced drop) or the end of a
 * check interval, and in conc_gil_yield.
 *
 * The holder grants the GIL to the chosen waiter and queues itself at the back of the CPU queue in
 * the same critical section, so it cannot take the GIL back before the waiter has run (CPython's
 * FORCE_SWITCHING; Python 2's check interval instead released and re-acquired at once, and on a
 * multicore machine the releasing thread usually won - the "GIL battle"). A thread that was made
 * to drop queues as CPU-bound even if it had come back from a blocking call: it was running
 * interpreted code, and keeping its priority would let it take the GIL straight back. */
#include "gil_impl.h"

/* Returns false if nobody was waiting (or the drop request had been withdrawn). */
static bool hand_over(conc_gil_t *g, bool drop_only) {
    gil_qlock(g);
    bool drop = gil_get(&g->_priv.breaker) & CONC__GIL_DROP;
    int64_t now = gil_now();
    struct gil_node *h = (drop || !drop_only) ? conc__gil_pick(g, now) : NULL;
    if (!h) {
        gil_clear_drop(g);
        gil_qunlock(g);
        return false;
    }
    struct gil_node self = {.tid = conc__self_tid(), .io = 0, .word = W_WAIT, .enq_ns = now};
    gil_count(g, drop ? N_FORCED : N_YIELD);
    gil_slice_end(g, now);
    gil_cpu_wants(g, now);
    gil_enqueue(g, &self);
    bool wake = conc__gil_grant(g, h, now);
    uint64_t snap = gil_get(&g->_priv.n[N_SWITCH]);
    gil_qunlock(g);
    if (wake) conc__futex_wake(&h->word, 1, false);
    /* A yielding thread usually gets the GIL straight back: spin. One made to drop waits at
     * least an interval without io_priority, and spinning would only let it snatch the GIL from
     * a thread releasing it around a short call - the convoy at its worst. Under io_priority it
     * typically gets the GIL back as soon as the I/O thread blocks again: spin a little. */
    int64_t spin = !drop ? YIELD_SPIN_NS : g->_priv.io_priority ? CPU_SPIN_NS : 0;
    conc__gil_wait(g, &self, now + gil_interval(g), spin, snap);
    return true;
}

static bool is_holder(conc_gil_t *g) {
    return gil_get(&g->_priv.owner) == conc__self_tid() && (conc__load(&g->_priv.state) & ST_HELD);
}

bool conc_gil_held(conc_gil_t *g) {
    return is_holder(g);
}

void conc_gil_tick_slow(conc_gil_t *g) {
    int saved = errno;
    if (conc__unlikely(!is_holder(g))) {
        gil_misuse(g);
        errno = saved;
        return;
    }
    uint32_t b = gil_get(&g->_priv.breaker);
    bool due = false;
    if ((b & CONC__GIL_COUNT) && g->_priv.countdown == 0) {
        g->_priv.countdown = g->_priv.check_interval;
        due = true;
    }
    if ((b & CONC__GIL_DROP) || (due && (conc__load(&g->_priv.state) & ST_WAITERS)))
        hand_over(g, !due);
    errno = saved;
}

void conc_gil_yield(conc_gil_t *g) {
    int saved = errno;
    if (conc__unlikely(!is_holder(g)))
        gil_misuse(g);
    else if (conc__load(&g->_priv.state) & ST_WAITERS)
        hand_over(g, false);
    errno = saved;
}
