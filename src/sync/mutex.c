/* The contended path of the futex mutex word that Lock and RLock share (Drepper, "Futexes are
 * tricky", mutex #3): the word is 0 when free, the holder's id when held, plus the WAITERS bit
 * once anybody may be asleep on it, so an uncontended release never makes a syscall.
 *
 * Why spin first, briefly: a holder usually lets go within a few hundred nanoseconds, far less than
 * a futex sleep and wake-up (microseconds, tens of them across vCPUs). Why a thread that woke up sets WAITERS again when it
 * takes the lock: it cannot know whether others still sleep, and a missing bit would strand them.
 *
 * Why a waiter that gives up (timeout, -EINTR) wakes another: a release wakes exactly one sleeper;
 * if that one was already leaving, the wake-up would be lost and the rest would sleep on a free
 * lock. Passing it on costs one syscall on a path that is slow anyway.
 *
 * Owner death (process-shared only): the kernel tells nobody when a holder is SIGKILLed, so shared
 * waiters sleep in slices of CONC__OWNER_POLL seconds and after each look the holder up in /proc
 * (conc__task_dead). A dead holder's word is taken over with one CAS on the exact value seen, so of
 * several waiters exactly one recovers it and gets CONC_EOWNERDEAD. A pid or tid reused by a new
 * task before anyone looked makes the lock look alive: the waiters then wait for that task, which
 * is the price of keeping the owner in the word itself (a robust-futex list would need the kernel's
 * cooperation per thread and could not name a Lock's owning process). */
#include <math.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/sync.h"

/* Short: in a two-thread hammering benchmark, spins of 100 pauses lost a third of the throughput
 * (the spinner keeps pulling the cache line away from the holder), while 0-20 matched pthread. */
#define CONC__MUTEX_SPIN 20
#define CONC__OWNER_POLL 0.2

/* If the holder seen in the word is dead, take the word over. 0 if it was free and we took it
 * (storing mine: me, or me | WAITERS for a thread that has slept), CONC_EOWNERDEAD if taken from a
 * dead holder, -EAGAIN otherwise. */
static int take_if_dead(uint32_t *w, uint32_t me, uint32_t mine, unsigned how) {
    uint32_t c = conc__load(w);
    if (c == 0) return conc__cas(w, &c, mine) ? 0 : -EAGAIN;
    if (!(how & CONC__M_SHARED)) return -EAGAIN;
    uint32_t owner = c & ~CONC__MUTEX_WAITERS;
    if (owner == me || !conc__task_dead((pid_t)owner, how & CONC__M_PROCESS)) return -EAGAIN;
    /* Keep the waiters bit: others may be asleep on the word and our release must wake them. */
    return conc__cas(w, &c, me | CONC__MUTEX_WAITERS) ? CONC_EOWNERDEAD : -EAGAIN;
}

int conc__mutex_poll_slow(uint32_t *w, uint32_t me, unsigned how) {
    int r = take_if_dead(w, me, me, how);
    return r == -EAGAIN ? -ETIMEDOUT : r;
}

int conc__mutex_lock_slow(uint32_t *w, uint32_t me, double deadline, unsigned how) {
    bool shared = how & CONC__M_SHARED;
    for (int i = 0; i < CONC__MUTEX_SPIN; i++) {
        uint32_t c = conc__load_rlx(w);
        if (c == 0 && conc__cas(w, &c, me)) return 0;
        conc__cpu_relax();
    }
    for (;;) {
        uint32_t c = conc__load_rlx(w);
        if (c == 0) {
            if (conc__cas(w, &c, me | CONC__MUTEX_WAITERS)) return 0;
            continue;
        }
        if (!(c & CONC__MUTEX_WAITERS)) {
            if (!conc__cas(w, &c, c | CONC__MUTEX_WAITERS)) continue;
            c |= CONC__MUTEX_WAITERS;
        }
        double until = deadline;
        if (shared) {
            double slice = conc_monotonic() + CONC__OWNER_POLL;
            if (slice < until) until = slice;
        }
        int r = (how & CONC__M_INTR) ? conc__wait(w, c, until, shared)
                                     : conc__wait_nointr(w, c, until, shared);
        if (r == -ETIMEDOUT && shared) {
            int t = take_if_dead(w, me, me | CONC__MUTEX_WAITERS, how);
            if (t != -EAGAIN) return t;
            if (until < deadline) continue; /* only the slice ended */
        }
        if (r < 0) {
            conc__futex_wake(w, 1, shared);
            return r;
        }
    }
}

int conc__spin_ok;

__attribute__((constructor)) static void spin_init(void) {
    conc__spin_ok = sysconf(_SC_NPROCESSORS_ONLN) > 1;
}
