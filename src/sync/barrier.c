/* Barrier: threading.Barrier, and with CONC_PSHARED a barrier between processes.
 *
 * Python's algorithm unchanged, on the barrier's own Lock and a Condition using it (both inside the
 * struct, so a shared barrier needs no pointer): a round fills up to `parties`, the last arriver
 * runs the action and switches to draining, and the last thread out switches back to filling (or
 * finishes a reset). Threads arriving while a round drains or resets wait for it to end first.
 * States: 0 filling, 1 draining, -1 resetting, -2 broken.
 *
 * Where C needs a choice Python does not make: one deadline covers the whole call, including the
 * wait for a previous round to drain (Python waits for that without a timeout; a thread whose
 * deadline passes there never joined the round, so it returns -ETIMEDOUT without breaking
 * anything). The thread whose timeout breaks the barrier gets -ETIMEDOUT, the others CONC_EBROKEN.
 * The last arriver whose action returns non-zero gets CONC_EBROKEN like everybody else. -EINTR in
 * the main thread leaves the round as Python's KeyboardInterrupt does: the thread is no longer
 * counted and the barrier is not broken. A shared barrier whose lock is recovered from a killed
 * process (CONC_EOWNERDEAD) may be mid-update, so it is broken.
 *
 * parties and the state are read without the lock by n_waiting/broken (ephemeral values, as in
 * Python), so every access to count and state is atomic. */
#include <math.h>
#include "conc/time.h"
#include "../internal/sync.h"

enum { FILLING = 0, DRAINING = 1, RESETTING = -1, BROKEN = -2 };

#define STATE(b)        __atomic_load_n(&(b)->_priv.state, __ATOMIC_RELAXED)
#define SET_STATE(b, v) __atomic_store_n(&(b)->_priv.state, (v), __ATOMIC_RELAXED)
#define COUNT(b)        __atomic_load_n(&(b)->_priv.count, __ATOMIC_RELAXED)
#define SET_COUNT(b, v) __atomic_store_n(&(b)->_priv.count, (v), __ATOMIC_RELAXED)

int conc_barrier_init(conc_barrier_t *b, unsigned parties, int (*action)(void *), void *arg,
                      unsigned flags) {
    if (parties == 0 || (flags & ~CONC_PSHARED)) return -EINVAL;
    int r = conc_lock_init(&b->_priv.lock, flags);
    if (r < 0) return r;
    r = conc_cond_init_with(&b->_priv.cond, &b->_priv.lock);
    if (r < 0) return r;
    b->_priv.action = action;
    b->_priv.arg = arg;
    b->_priv.parties = parties;
    SET_COUNT(b, 0);
    SET_STATE(b, FILLING);
    b->_priv.flags = flags;
    return 0;
}

/* With the lock held. */
static void break_barrier(conc_barrier_t *b) {
    SET_STATE(b, BROKEN);
    conc_cond_notify_all(&b->_priv.cond);
}

/* The lock, never interrupted: reset/abort have no way to report -EINTR sensibly and hold it for a
 * few instructions only. */
static void lock_always(conc_barrier_t *b) {
    conc__lock_acquire_until(&b->_priv.lock, INFINITY, false);
}

int conc_barrier_wait(conc_barrier_t *b, double timeout) {
    double deadline = conc_deadline(timeout);
    int r = conc__lock_acquire_until(&b->_priv.lock, deadline, true);
    if (r == CONC_EOWNERDEAD) {
        break_barrier(b);
        conc_lock_release(&b->_priv.lock);
        return CONC_EBROKEN;
    }
    if (r < 0) return r;

    /* _enter: let the previous round drain or a reset finish. */
    while (STATE(b) == DRAINING || STATE(b) == RESETTING) {
        r = conc__cond_wait_until(&b->_priv.cond, deadline);
        if (r == CONC_EOWNERDEAD)
            break_barrier(b);
        else if (r < 0) {
            conc_lock_release(&b->_priv.lock);
            return r;
        }
    }
    if (STATE(b) < 0) {
        conc_lock_release(&b->_priv.lock);
        return CONC_EBROKEN;
    }

    uint32_t index = COUNT(b);
    SET_COUNT(b, index + 1);
    int ret = (int)index;
    if (index + 1 == b->_priv.parties) {
        /* _release: the last arriver runs the action, with the lock held as in Python. */
        if (b->_priv.action && b->_priv.action(b->_priv.arg) != 0) {
            break_barrier(b);
            ret = CONC_EBROKEN;
        } else {
            SET_STATE(b, DRAINING);
            conc_cond_notify_all(&b->_priv.cond);
        }
    } else {
        /* _wait: wait_for(state != filling) with the deadline; a timeout breaks the barrier. */
        while (STATE(b) == FILLING) {
            r = conc__cond_wait_until(&b->_priv.cond, deadline);
            if (r == CONC_EOWNERDEAD) {
                break_barrier(b);
            } else if (r == -EINTR) {
                ret = -EINTR;
                break;
            } else if (r == -ETIMEDOUT && STATE(b) == FILLING) {
                break_barrier(b);
                ret = -ETIMEDOUT;
                break;
            }
        }
        if (ret >= 0 && STATE(b) < 0) ret = CONC_EBROKEN;
    }

    /* _exit: the last one out ends the draining or the reset. */
    SET_COUNT(b, COUNT(b) - 1);
    if (COUNT(b) == 0 && (STATE(b) == DRAINING || STATE(b) == RESETTING)) {
        SET_STATE(b, FILLING);
        conc_cond_notify_all(&b->_priv.cond);
    }
    conc_lock_release(&b->_priv.lock);
    return ret;
}

int conc_barrier_reset(conc_barrier_t *b) {
    lock_always(b);
    if (COUNT(b) > 0) {
        /* Waiters get CONC_EBROKEN; the last of them to leave makes the barrier usable again. */
        if (STATE(b) == FILLING || STATE(b) == BROKEN) SET_STATE(b, RESETTING);
    } else {
        SET_STATE(b, FILLING);
    }
    conc_cond_notify_all(&b->_priv.cond);
    conc_lock_release(&b->_priv.lock);
    return 0;
}

void conc_barrier_abort(conc_barrier_t *b) {
    lock_always(b);
    break_barrier(b);
    conc_lock_release(&b->_priv.lock);
}

unsigned conc_barrier_parties(conc_barrier_t *b) {
    return b->_priv.parties;
}

unsigned conc_barrier_n_waiting(conc_barrier_t *b) {
    return STATE(b) == FILLING ? COUNT(b) : 0;
}

bool conc_barrier_broken(conc_barrier_t *b) {
    return STATE(b) == BROKEN;
}
