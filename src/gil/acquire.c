/* Taking the GIL: conc_gil_acquire, and conc_gil_restore (END_ALLOW_THREADS), which is the same
 * except that under io_priority the thread queues as one back from a blocking call: ahead of
 * CPU-bound waiters, and it asks the holder to drop at once instead of after an interval.
 *
 * The uncontended path is one CAS on the lock word and a few holder-only stores, no syscall and no
 * clock read, so releasing around every system call costs little when nobody waits. */
#include "gil_impl.h"

static void acquire_slow(conc_gil_t *g, pid_t me, bool io) {
    struct gil_node n = {.tid = me, .io = io, .word = W_WAIT, .enq_ns = gil_now()};
    gil_qlock(g);
    uint32_t s = conc__load(&g->_priv.state);
    for (;;) {
        if (!(s & ST_HELD)) {
            if (conc__cas(&g->_priv.state, &s, s | ST_HELD)) {
                gil_new_holder(g, me, io, n.enq_ns, false);
                gil_count(g, N_ACQ);
                gil_qunlock(g);
                return;
            }
        } else if ((s & ST_WAITERS) || conc__cas(&g->_priv.state, &s, s | ST_WAITERS)) {
            break;
        }
    }
    int64_t now = n.enq_ns;
    if (!io) gil_cpu_wants(g, now);
    gil_enqueue(g, &n);
    int64_t deadline = now + gil_interval(g), spin = CPU_SPIN_NS;
    if (io) {
        int64_t prot = gil_get(&g->_priv.prot_until);
        if (prot > now) { /* a starved thread's guaranteed slice: wait for its end */
            deadline = prot;
            spin = 0;
        } else {
            gil_post_drop(g);
            spin = IO_SPIN_NS;
        }
    }
    uint64_t snap = gil_get(&g->_priv.n[N_SWITCH]);
    gil_qunlock(g);
    conc__gil_wait(g, &n, deadline, spin, snap);
}

void conc__gil_acquire_as(conc_gil_t *g, bool io) {
    int saved = errno;
    pid_t me = conc__self_tid();
    io = io && g->_priv.io_priority;
    uint32_t s = conc__load(&g->_priv.state);
    if (conc__unlikely(gil_get(&g->_priv.owner) == me && (s & ST_HELD))) {
        gil_misuse(g); /* the GIL is not recursive: acquiring it again would deadlock */
    } else if (!(s & ST_HELD) && conc__cas(&g->_priv.state, &s, s | ST_HELD)) {
        gil_new_holder(g, me, io, 0, false);
        gil_count(g, N_ACQ);
    } else {
        acquire_slow(g, me, io);
    }
    errno = saved;
}

void conc_gil_acquire(conc_gil_t *g) {
    conc__gil_acquire_as(g, false);
}

void conc_gil_restore(conc_gil_t *g) {
    conc__gil_acquire_as(g, true);
}
