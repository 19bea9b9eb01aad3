/* The contended path of a private Lock (lock.c has the fast paths; a shared Lock uses mutex.c).
 *
 * The word (CONC__LK_*, internal/sync.h): the low byte is the lock itself (1 held, 0 free), above it
 * WAKING, HANDOFF and the count of threads that may sleep on the word. Why the lock is a byte of
 * its own: release is then a plain byte store (as the Linux kernel's queued spinlocks do) instead
 * of an atomic exchange, and a locked instruction costs 6-15 ns on these VMs, as much as the rest
 * of an acquire and release together. Under contention that halves the cost of each hand-over
 * from one acquire to the next, which is what a lock's throughput is made of.
 *
 * What the plain store costs: after it the releaser reads the count to see whether to wake anyone,
 * and a store followed by a load may be reordered (the load served before the store is visible), so
 * a waiter could count itself in, find the byte still set and sleep while the releaser read a
 * count of zero - a lost wake-up. The usual pairing of a cheap side and an expensive side (userspace
 * RCU, hazard pointers) fixes it: the waiter, after counting itself in and before sleeping, runs
 * membarrier(PRIVATE_EXPEDITED), a full barrier on every CPU running one of our threads. Either the
 * releaser's load comes after that barrier and sees the count, or its store came before and the
 * kernel's check of the word sees the lock free. It costs a few microseconds (an IPI) per sleep, on
 * the path that is about to sleep anyway. Without membarrier (old kernels, seccomp) the release is an atomic
 * exchange of the byte instead (conc__lock_byte_store false).
 *
 * Why WAKING: a release wakes one sleeper and sets WAKING; until that thread has run (it clears the
 * bit when it takes the lock, sleeps again or gives up) further releases do not wake anybody. A
 * holder that re-takes the lock at once would otherwise pay a futex wake (over a microsecond) on
 * every release while the woken thread is still on its way.
 *
 * Why spin before sleeping, reading only, with growing pauses: the holder usually lets go within
 * nanoseconds, much less than a sleep and a cross-CPU wake-up (tens of microseconds here). But each
 * read pulls the cache line away from the holder, whose next acquire then waits for it to come
 * back; doubling the pause after each read keeps the line with the holder while still catching
 * short holds quickly. Never on one CPU (conc__spin_ok), where the holder cannot run while we spin.
 *
 * Why HANDOFF: plain barging lets a thread that releases and re-takes the lock in a loop keep it
 * for as long as it likes, since it is always nearer than a woken sleeper. A waiter that has waited
 * longer than CONC__LK_STARVE sets HANDOFF; from then on nobody else may take the free lock (their
 * fast-path CAS from 0 fails, the slow path refuses), so the starving waiter gets it at the next
 * release. It clears the bit when it takes the lock or gives up (timeout, -EINTR). This is Go's
 * sync.Mutex starvation mode and CPython 3.13's PyMutex hand-off after 1 ms: throughput first, with
 * a bound on how long anyone waits. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/membarrier.h>
#include <math.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/sync.h"

#define CONC__LK_STARVE   0.001 /* seconds a waiter waits before asking for a hand-off */
#define SPIN_PAUSES       256   /* pauses spun before the first sleep: a few microseconds */
#define SPIN_PAUSES_WOKEN 64    /* after a wake-up, when the lock was just free */
#define SPIN_MAX_GAP      32    /* longest pause run between two reads of the word */

bool conc__lock_byte_store;

__attribute__((constructor)) static void lock_wait_init(void) {
    /* Registration belongs to the process (mm) and is inherited by fork(); exec runs this again. */
    conc__lock_byte_store =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* The heavy side of the barrier pairing described above. false if it failed (then the caller
 * sleeps in short slices, so a lost wake-up costs a delay, never a hang). */
static bool fence_with_releasers(void) {
    if (!__atomic_load_n(&conc__lock_byte_store, __ATOMIC_RELAXED)) return true;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* Take the lock if it is free and not reserved for a starving waiter. counted: we are in the
 * count (leave it); starving: we are the waiter the reservation is for. */
static bool try_take(uint32_t *w, bool counted, bool starving) {
    uint32_t c = conc__load_rlx(w);
    while (!(c & CONC__LK_HELD) && (starving || !(c & CONC__LK_HANDOFF))) {
        uint32_t n = c | 1u;
        if (counted) n = (n - CONC__LK_ONE) & ~CONC__LK_WAKING;
        if (starving) n &= ~CONC__LK_HANDOFF;
        if (conc__cas(w, &c, n)) return true;
    }
    return false;
}

bool conc__lock_try(uint32_t *w) {
    return try_take(w, false, false);
}

static bool spin(uint32_t *w, bool counted, bool starving) {
    if (!conc__spin_ok) return false;
    int budget = counted ? SPIN_PAUSES_WOKEN : SPIN_PAUSES;
    for (int gap = 1, spent = 0; spent < budget; spent += gap) {
        if (try_take(w, counted, starving)) return true;
        for (int i = 0; i < gap; i++) conc__cpu_relax();
        if (gap < SPIN_MAX_GAP) gap *= 2;
    }
    return false;
}

void conc__lock_wake(uint32_t *w) {
    uint32_t c = conc__load_rlx(w);
    do {
        if (c < CONC__LK_ONE || (c & CONC__LK_WAKING)) return;
    } while (!conc__cas(w, &c, c | CONC__LK_WAKING));
    conc__futex_wake(w, 1, false);
}

/* Leaving without the lock: out of the count, WAKING (maybe ours) and our reservation cleared,
 * and if the lock is free a sleeper woken to take it - the wake-up we may have swallowed. */
static void leave(uint32_t *w, bool starving) {
    uint32_t c = conc__load_rlx(w), n;
    do {
        n = (c - CONC__LK_ONE) & ~CONC__LK_WAKING;
        if (starving) n &= ~CONC__LK_HANDOFF;
    } while (!conc__cas(w, &c, n));
    if (!(n & CONC__LK_HELD)) conc__lock_wake(w);
}

int conc__lock_wait(uint32_t *w, double deadline, bool intr) {
    if (spin(w, false, false)) return 0;
    bool counted = false, starving = false;
    double since = conc_monotonic();
    for (;;) {
        if (try_take(w, counted, starving)) return 0;
        uint32_t c = conc__load_rlx(w);
        if (!(c & CONC__LK_HELD)) {
            if (!(c & CONC__LK_HANDOFF) || starving) continue; /* it was just released: retry */
            /* Free but reserved for a starving waiter, who may be asleep behind a wake-up that went
             * to someone else: wake them all (rare: once per CONC__LK_STARVE at most). */
            conc__futex_wake(w, INT_MAX, false);
        }
        if (counted && !starving && conc_monotonic() - since > CONC__LK_STARVE) starving = true;
        uint32_t n = c & ~CONC__LK_WAKING;
        if (!counted) n += CONC__LK_ONE;
        if (starving) n |= CONC__LK_HANDOFF;
        if (n != c) {
            if (!conc__cas(w, &c, n)) continue;
            counted = true;
            c = n;
        }
        /* Before every sleep, not only after changing the word: a releaser's stale read may have
         * missed a change that somebody else made (another waiter leaving cleared WAKING). */
        bool fenced = fence_with_releasers();
        double until = deadline;
        if (!fenced) {
            double slice = conc_monotonic() + 0.001;
            if (slice < until) until = slice;
        }
        int r = intr ? conc__wait(w, c, until, false) : conc__wait_nointr(w, c, until, false);
        if (r == -ETIMEDOUT && until < deadline) r = 0;
        if (r < 0) {
            leave(w, starving);
            return r;
        }
        if (spin(w, true, starving)) return 0;
    }
}
