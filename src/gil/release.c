/* Giving the GIL up: conc_gil_release, and conc_gil_save (BEGIN_ALLOW_THREADS), the same thing.
 *
 * With nobody queued it is one CAS. With waiters the next one is chosen (conc__gil_pick) and
 * either woken to compete for the now free GIL - CPython's behaviour, which lets a thread that
 * releases around a short system call usually take it straight back - or, when a drop had been
 * requested or the chosen waiter is starving, handed the GIL directly (FORCE_SWITCHING): it asked
 * and waited its interval, so it must not lose the race to the releasing thread coming back. */
#include "gil_impl.h"

static void release_slow(conc_gil_t *g) {
    gil_qlock(g);
    int64_t now = g->_priv.io_priority ? gil_now() : 0;
    gil_slice_end(g, now);
    struct gil_node *h = conc__gil_pick(g, now);
    bool wake = false;
    if (!h) {
        gil_clear_drop(g);
        conc__store(&g->_priv.state, 0);
    } else if ((gil_get(&g->_priv.breaker) & CONC__GIL_DROP) || gil_starved(g, h, now)) {
        if (gil_get(&g->_priv.breaker) & CONC__GIL_DROP) gil_count(g, N_FORCED);
        if (!now) now = gil_now();
        wake = conc__gil_grant(g, h, now);
    } else {
        /* Nobody but the holder changes state while HELD is set and qlock is held. */
        conc__store(&g->_priv.state, ST_WAITERS);
        wake = conc__xchg(&h->word, W_WAKE) == W_SLEEP;
    }
    gil_qunlock(g);
    /* h may have returned already (a spurious wake-up of whatever reuses that word is harmless:
     * every futex waiter re-checks its condition) */
    if (wake) conc__futex_wake(&h->word, 1, false);
}

void conc__gil_release(conc_gil_t *g) {
    int saved = errno;
    pid_t me = conc__self_tid();
    uint32_t s = conc__load(&g->_priv.state);
    if (conc__unlikely(gil_get(&g->_priv.owner) != me || !(s & ST_HELD))) {
        gil_misuse(g);
        errno = saved;
        return;
    }
    gil_set(&g->_priv.owner, 0);
    if (gil_get(&g->_priv.prot_until)) gil_set(&g->_priv.prot_until, 0);
    s = ST_HELD;
    if (!conc__cas(&g->_priv.state, &s, 0)) release_slow(g);
    errno = saved;
}

void conc_gil_release(conc_gil_t *g) {
    conc__gil_release(g);
}

void conc_gil_save(conc_gil_t *g) {
    conc__gil_release(g);
}
