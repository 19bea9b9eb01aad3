/* Condition: threading.Condition, and with CONC_PSHARED multiprocessing.Condition.
 *
 * Python keeps a deque of per-waiter locks and notify(n) releases the first n of them. A deque of
 * nodes cannot live in shared memory without pointers, so conc counts instead, and the same code
 * serves threads and processes. Three fields, all changed only with the condition's lock held:
 *   nwait   waiters registered (between the start of wait() and its return),
 *   tokens  wake-ups granted by notify() and not yet taken,
 *   seq     the futex word waiters sleep on; notify bumps it whenever it grants wake-ups.
 * wait() registers, notes seq, releases the lock and sleeps while seq is unchanged. Back under the
 * lock it takes a token if there is one (return 0), else gives up on timeout/-EINTR, else sleeps
 * again. notify(n) grants k = min(n, nwait - tokens) tokens, bumps seq and wakes k sleepers.
 *
 * Why the count is exact: every waiter that was registered when notify ran either was asleep and
 * is one of the k woken, or had not gone to sleep yet and will see seq changed; each of them comes
 * back under the lock and takes a token if one is left. So tokens never outnumber the waiters that
 * are on their way back (none is stranded while others sleep) and no more than n waiters return 0.
 *
 * Fairness differs from Python's FIFO: a waiter coming back for another reason (timeout, a
 * spurious wake-up, having been registered but not yet asleep) may take a token granted while some
 * other waiter was woken for it; that one finds no token and sleeps again. Exactly as many waiters
 * return 0 as tokens were granted, but not necessarily the ones the futex woke. Also unlike Python,
 * a waiter whose timeout expires while a token is waiting takes it and returns 0 (Python loses that
 * notification), and a waiter interrupted by SIGINT leaves its token for another waiter (Python
 * loses that notification too).
 *
 * The lock is the condition's own RLock, or an external Lock found by its offset from the
 * condition, so a shared condition needs no pointer. wait() re-acquires the lock without being
 * interrupted before it returns, on every path: the caller always holds the lock afterwards. If the
 * lock is shared and its holder died meanwhile, wait() returns CONC_EOWNERDEAD (lock held). A
 * process killed while waiting stays counted in nwait, so a notify may grant it a wake-up that
 * nobody takes until some waiter's timeout expires: that waiter then returns 0, not -ETIMEDOUT
 * (a spurious wake-up, harmless to the usual loop re-checking its predicate). */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include "conc/time.h"
#include "../internal/sync.h"

static inline conc_lock_t *ext_lock(conc_cond_t *c) {
    return c->_priv.lock_off ? (conc_lock_t *)((char *)c + c->_priv.lock_off) : NULL;
}

static inline bool cond_shared(conc_cond_t *c) {
    return c->_priv.flags & CONC_PSHARED;
}

int conc_cond_init(conc_cond_t *c, unsigned flags) {
    int r = conc_rlock_init(&c->_priv.own, flags);
    if (r < 0) return r;
    c->_priv.lock_off = 0;
    __atomic_store_n(&c->_priv.seq, 0, __ATOMIC_RELAXED);
    c->_priv.nwait = 0;
    c->_priv.tokens = 0;
    c->_priv.sleepers = 0;
    c->_priv.flags = flags;
    return 0;
}

int conc_cond_init_with(conc_cond_t *c, conc_lock_t *lock) {
    if (!lock || (void *)lock == (void *)c) return -EINVAL;
    int r = conc_cond_init(c, lock->_priv.flags & CONC_PSHARED);
    if (r < 0) return r;
    c->_priv.lock_off = (int64_t)((char *)lock - (char *)c);
    return 0;
}

int conc_cond_acquire(conc_cond_t *c, double timeout) {
    conc_lock_t *l = ext_lock(c);
    return l ? conc_lock_acquire(l, timeout) : conc_rlock_acquire(&c->_priv.own, timeout);
}

int conc_cond_release(conc_cond_t *c) {
    conc_lock_t *l = ext_lock(c);
    return l ? conc_lock_release(l) : conc_rlock_release(&c->_priv.own);
}

/* Python's _is_owned: the RLock's owner is the caller; a Lock merely has to be held. */
static bool is_owned(conc_cond_t *c) {
    conc_lock_t *l = ext_lock(c);
    return l ? conc_lock_locked(l) : conc__rlock_is_owned(&c->_priv.own);
}

static uint32_t release_save(conc_cond_t *c) {
    conc_lock_t *l = ext_lock(c);
    if (!l) return conc__rlock_release_save(&c->_priv.own);
    conc_lock_release(l);
    return 1;
}

static int acquire_restore(conc_cond_t *c, uint32_t saved) {
    conc_lock_t *l = ext_lock(c);
    if (!l) return conc__rlock_acquire_restore(&c->_priv.own, saved);
    return conc__lock_acquire_until(l, INFINITY, false);
}

/* The wake-up syscall is skipped when every registered waiter is still spinning (the usual case
 * in a ping-pong across CPUs): a Dekker pair of seq and sleepers, both sequentially consistent, so
 * a waiter that counts itself in after we looked sees the new seq and does not sleep. */
static void grant(conc_cond_t *c, uint32_t k) {
    c->_priv.tokens += k;
    __atomic_add_fetch(&c->_priv.seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&c->_priv.sleepers, __ATOMIC_SEQ_CST) > 0)
        conc__futex_wake(&c->_priv.seq, k > INT_MAX ? INT_MAX : (int)k, cond_shared(c));
}

static int sleep_on_seq(conc_cond_t *c, uint32_t s, double deadline, bool shared) {
    if (conc__spin_until_changed(&c->_priv.seq, s)) return 0;
    __atomic_add_fetch(&c->_priv.sleepers, 1, __ATOMIC_SEQ_CST);
    int r = conc__wait(&c->_priv.seq, s, deadline, shared);
    __atomic_sub_fetch(&c->_priv.sleepers, 1, __ATOMIC_SEQ_CST);
    return r;
}

int conc__cond_wait_until(conc_cond_t *c, double deadline) {
    if (!is_owned(c)) return -EPERM;
    bool shared = cond_shared(c), dead = false;
    c->_priv.nwait++;
    int r;
    for (;;) {
        uint32_t s = __atomic_load_n(&c->_priv.seq, __ATOMIC_ACQUIRE);
        uint32_t saved = release_save(c);
        r = sleep_on_seq(c, s, deadline, shared);
        if (acquire_restore(c, saved) == CONC_EOWNERDEAD) dead = true;
        if (r == -EINTR) {
            /* Leave, but do not swallow a wake-up another waiter could use. */
            c->_priv.nwait--;
            if (c->_priv.tokens > c->_priv.nwait) c->_priv.tokens = c->_priv.nwait;
            if (c->_priv.tokens > 0) {
                __atomic_add_fetch(&c->_priv.seq, 1, __ATOMIC_RELEASE);
                conc__futex_wake(&c->_priv.seq, 1, shared);
            }
            break;
        }
        if (c->_priv.tokens > 0) {
            c->_priv.tokens--;
            c->_priv.nwait--;
            r = 0;
            break;
        }
        if (r == -ETIMEDOUT) {
            c->_priv.nwait--;
            break;
        }
    }
    return dead ? CONC_EOWNERDEAD : r;
}

int conc_cond_wait(conc_cond_t *c, double timeout) {
    return conc__cond_wait_until(c, conc_deadline(timeout));
}

int conc_cond_wait_for(conc_cond_t *c, bool (*pred)(void *), void *arg, double timeout) {
    /* Python only notices a missing lock at the first wait; the predicate reads state the lock
     * guards, so calling it unlocked is the bug we report, even when it happens to be true. */
    if (!is_owned(c)) return -EPERM;
    double deadline = conc_deadline(timeout);
    /* As Python: test first, and wait at least once even with timeout 0 (the lock is let go). */
    for (bool first = true;; first = false) {
        if (pred(arg)) return 0;
        if (!first && conc_deadline_expired(deadline)) return -ETIMEDOUT;
        int r = conc__cond_wait_until(c, deadline);
        if (r == -EINTR || r == CONC_EOWNERDEAD) return r;
    }
}

int conc_cond_notify(conc_cond_t *c, unsigned n) {
    if (!is_owned(c)) return -EPERM;
    uint32_t avail = c->_priv.nwait - c->_priv.tokens;
    uint32_t k = n < avail ? n : avail;
    if (k > 0) grant(c, k);
    return 0;
}

int conc_cond_notify_all(conc_cond_t *c) {
    return conc_cond_notify(c, UINT_MAX);
}
