/* The futex wrapper and the one wait loop every blocking call in conc goes through.
 *
 * Why futex_waitv: the main thread must return -EINTR on SIGINT without a race. Checking a flag
 * and then sleeping on the lock word leaves a window where the signal lands after the check and the
 * thread sleeps anyway. Waiting on two words at once - the lock word and conc__intr_seq, which the
 * SIGINT handler bumps - closes it: if the handler ran after we read conc__intr_seq, the kernel sees
 * the changed value and returns at once. Kernels before 5.16 lack futex_waitv; there the main thread
 * sleeps in slices of 20 ms and checks the flag between them.
 *
 * Under ThreadSanitizer a signal handler does not run when the signal arrives: TSan's own handler
 * queues it and returns, and it runs at the thread's next intercepted call or atomic operation
 * (measured with gcc 12 and clang 14, even for a thread blocked in read()). A futex sleep restarted
 * by the kernel (SA_RESTART) would then go on sleeping with the handler unrun - a lost SIGINT - so
 * in TSan builds conc installs its handlers without SA_RESTART, the sleep ends with EINTR, and
 * conc__signals_flush(), an intercepted call, runs the queued handler before we look at what it
 * writes. That leaves a signal that lands after our last flush but before the syscall: the kernel
 * no longer holds it, so nothing ends the sleep. Hence every sleep is sliced under TSan as well. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/base.h"

#define SLICE 0.020 /* seconds; see above */

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
struct futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};
#endif

uint32_t conc__intr_seq;
uint32_t conc__intr_pending;
int conc__intr_enabled;

static int waitv_missing; /* set once the kernel answered ENOSYS */

static void to_timespec(double t, struct timespec *ts) {
    double s = floor(t);
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)((t - s) * 1e9);
    if (ts->tv_nsec >= 1000000000L) ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

int conc__futex_wake(uint32_t *word, int n, bool shared) {
    int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    long r = syscall(SYS_futex, word, op, n, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}

/* One futex sleep; 0 on wake, value change or a foreign signal, -ETIMEDOUT at the deadline. */
static int sleep_on(uint32_t *word, uint32_t val, double deadline, bool shared) {
    struct timespec ts, *tsp = NULL;
    if (!isinf(deadline)) {
        to_timespec(deadline, &ts);
        tsp = &ts;
    }
    int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
    long r = syscall(SYS_futex, word, op, val, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
    if (r == 0) return 0;
    if (errno == ETIMEDOUT) return -ETIMEDOUT;
    return 0; /* EAGAIN (value changed) or EINTR: the caller re-checks */
}

static int sleep_on_two(uint32_t *word, uint32_t val, bool shared, uint32_t intr_val,
                        double deadline) {
    struct futex_waitv w[2] = {
        {.val = val,
         .uaddr = (uintptr_t)word,
         .flags = FUTEX_32 | (shared ? 0 : FUTEX_PRIVATE_FLAG)},
        {.val = intr_val, .uaddr = (uintptr_t)&conc__intr_seq, .flags = FUTEX_32},
    };
    struct timespec ts, *tsp = NULL;
    if (!isinf(deadline)) {
        to_timespec(deadline, &ts);
        tsp = &ts;
    }
    long r = syscall(SYS_futex_waitv, w, 2, 0, tsp, CLOCK_MONOTONIC);
    if (r >= 0) return 0;
    if (errno == ETIMEDOUT) return -ETIMEDOUT;
    if (errno == ENOSYS) {
        __atomic_store_n(&waitv_missing, 1, __ATOMIC_RELAXED);
        return -ENOSYS;
    }
    return 0;
}

bool conc__intr_take(void) {
    uint32_t p = __atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE);
    while (p > 0)
        if (__atomic_compare_exchange_n(&conc__intr_pending, &p, p - 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return true;
    return false;
}

#ifdef CONC_TSAN
#include <pthread.h>
/* TSan runs the handlers it deferred when an intercepted call returns; any would do, but this one
 * (a null signal to ourselves) also makes TSan set up the thread's signal state. TSan otherwise
 * does that inside the thread's first signal handler, and there loses that signal now and then
 * (measured: 2-5% of first signals in a fresh process, gcc 12 and clang 14). The signal module
 * calls this when it installs a handler, so the installing thread - usually the main one - is
 * ready before any signal comes. */
void conc__signals_flush(void) {
    pthread_kill(pthread_self(), 0);
}
#define ALWAYS_SLICED 1
#else
#define ALWAYS_SLICED 0
#endif

/* The end of the next sleep: the deadline, or the end of a slice when sleeps must be sliced. */
static double sleep_until(double deadline, bool sliced) {
    if (!sliced) return deadline;
    double slice = conc_monotonic() + SLICE;
    return slice < deadline ? slice : deadline;
}

int conc__wait_nointr(uint32_t *word, uint32_t val, double deadline, bool shared) {
    for (;;) {
        if (!isinf(deadline) && conc_deadline_expired(deadline)) return -ETIMEDOUT;
        double until = sleep_until(deadline, ALWAYS_SLICED);
        int r = sleep_on(word, val, until, shared);
        conc__signals_flush();
        if (r != -ETIMEDOUT || until >= deadline) return r;
        /* a slice ended: sleep on unless the word changed meanwhile */
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) return 0;
    }
}

int conc__wait(uint32_t *word, uint32_t val, double deadline, bool shared) {
    if (!__atomic_load_n(&conc__intr_enabled, __ATOMIC_RELAXED) || !conc__is_main_thread())
        return conc__wait_nointr(word, val, deadline, shared);
    for (;;) {
        conc__signals_flush(); /* TSan: a SIGINT handler still deferred runs now */
        /* Read the sequence before testing for a pending interrupt: a SIGINT after this read
         * changes conc__intr_seq, and futex_waitv then refuses to sleep. */
        uint32_t seq = __atomic_load_n(&conc__intr_seq, __ATOMIC_SEQ_CST);
        if (conc__intr_take()) return -EINTR;
        if (!isinf(deadline) && conc_deadline_expired(deadline)) return -ETIMEDOUT;
        bool missing = __atomic_load_n(&waitv_missing, __ATOMIC_RELAXED);
        double until = sleep_until(deadline, ALWAYS_SLICED || missing);
        int r = -ENOSYS;
        if (!missing) r = sleep_on_two(word, val, shared, seq, until);
        if (r == -ENOSYS) {
            /* no futex_waitv: the flag is only seen between slices */
            until = sleep_until(deadline, true);
            r = sleep_on(word, val, until, shared);
        }
        conc__signals_flush();
        if (conc__intr_take()) return -EINTR;
        if (r != -ETIMEDOUT || until >= deadline) return r;
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val) return 0;
    }
}
