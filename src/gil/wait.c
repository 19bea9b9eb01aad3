/* The waiter's side: spin, sleep, compete when woken, take a grant, and - once per interval -
 * decide whether to ask the holder to drop the GIL.
 *
 * The drop-request rule is CPython's (take_gil): a waiter that has waited a whole interval during
 * which nobody got the GIL, and it was not woken, posts the request; if the GIL did change hands,
 * the system is switching and the waiter just waits another interval. With io_priority three
 * refinements: a waiter back from a blocking call re-posts every interval regardless (it posted
 * once already when it queued); a CPU-bound waiter does not preempt a holder that is itself back
 * from a blocking call unless CPU-bound threads are starved of their share (gil_cpu_starved), so
 * I/O threads keep their short bursts; and nobody posts during a starved thread's guaranteed
 * slice - the deadline simply moves to the end of the slice. */
#include "gil_impl.h"

/* Under qlock. Returns true if a drop request was posted. */
static bool on_timeout(conc_gil_t *g, struct gil_node *n, int64_t now, int64_t *deadline,
                       uint64_t *snap) {
    *deadline = now + gil_interval(g);
    if (conc__load(&n->word) == W_GRANTED || !(conc__load(&g->_priv.state) & ST_HELD)) return false;
    int64_t prot = gil_get(&g->_priv.prot_until);
    if (prot > now) {
        *deadline = prot;
        return false;
    }
    uint64_t sw = gil_get(&g->_priv.n[N_SWITCH]);
    bool want = sw == *snap;
    if (g->_priv.io_priority) {
        if (n->io)
            want = true;
        else if (gil_get(&g->_priv.holder_io))
            want = gil_starved(g, n, now);
        else
            want = want || gil_starved(g, n, now);
    }
    *snap = sw;
    if (want) gil_post_drop(g);
    return want;
}

void conc__gil_wait(conc_gil_t *g, struct gil_node *n, int64_t deadline, int64_t spin,
                    uint64_t snap) {
    int64_t t0 = n->enq_ns, spin_end = t0 + spin;
    for (;;) {
        uint32_t w = conc__load(&n->word);
        if (w == W_GRANTED) {
            /* the granter did the owner/switch bookkeeping before publishing GRANTED */
            gil_count(g, N_ACQ);
            conc__gil_record_wait(g, gil_now() - t0);
            return;
        }
        uint32_t s = conc__load(&g->_priv.state);
        if (!(s & ST_HELD)) {
            if (conc__cas(&g->_priv.state, &s, s | ST_HELD)) {
                gil_qlock(g);
                gil_unlink(g, n);
                int64_t now = gil_now();
                gil_new_holder(g, n->tid, n->io, now, gil_starved(g, n, now));
                if (gil_queues_empty(g))
                    __atomic_fetch_and(&g->_priv.state, ~ST_WAITERS, __ATOMIC_RELAXED);
                gil_count(g, N_ACQ);
                gil_qunlock(g);
                conc__gil_record_wait(g, now - t0);
                return;
            }
            continue;
        }
        if (w == W_WAKE) {
            /* Woken to compete, and someone else was faster. As in CPython (a timed condvar wait
             * restarted after every signal) the interval starts again: a thread that keeps
             * releasing and re-taking the GIL around short calls is then not preempted by the
             * waiter it keeps waking. (io_priority's share accounting is not reset.) */
            if (conc__cas(&n->word, &w, W_WAIT)) {
                deadline = gil_now() + gil_interval(g);
                snap = gil_get(&g->_priv.n[N_SWITCH]);
            }
            continue;
        }
        int64_t now = gil_now();
        if (now >= deadline) {
            gil_qlock(g);
            bool posted = on_timeout(g, n, now, &deadline, &snap);
            gil_qunlock(g);
            if (posted) spin_end = now + (n->io ? IO_SPIN_NS : CPU_SPIN_NS);
            continue;
        }
        if (now < spin_end) {
            for (int i = 0; i < 16 && conc__load_rlx(&n->word) == w; i++) gil_relax();
            continue;
        }
        if (w == W_WAIT && !conc__cas(&n->word, &w, W_SLEEP)) continue;
        conc__wait_nointr(&n->word, W_SLEEP, (double)deadline * 1e-9, false);
    }
}
