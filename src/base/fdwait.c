/* The fd counterpart of conc__wait: sleep in ppoll until an fd is ready, a deadline passes, or -
 * in the main thread after conc_init - a SIGINT arrives (-EINTR, the interrupt consumed).
 *
 * The race to close: the SIGINT handler only counts the signal (signal/interrupt.c), so checking
 * the count and then calling ppoll leaves a window where the signal lands after the check and ppoll
 * sleeps anyway. Two ways to close it:
 * - An eventfd the handler writes to (conc__intr_efd), polled along with the caller's fds: a
 *   SIGINT after the check leaves it readable, so ppoll returns at once. No extra syscall on the
 *   way to sleep - which matters, a syscall costs about a microsecond on these VMs and a Pipe round
 *   trip is only a few dozen. The eventfd is created on first use; a fork child closes its copy
 *   (the parent's SIGINTs must not wake the child, nor the child drain the parent's wake-ups).
 * - Under ThreadSanitizer, which runs a handler only when the thread next passes an intercepted
 *   call (internal/base.h), a signal that arrives just before ppoll would have its handler - and
 *   the eventfd write - deferred until ppoll returns, which it would not. There SIGINT is blocked
 *   while the count is checked and ppoll unblocks it atomically: the kernel holds the signal until
 *   ppoll runs, ppoll returns EINTR (ppoll is never restarted, SA_RESTART or not), and the loop
 *   flushes the deferred handler before it looks at the count. Two sigprocmask calls more; no
 *   slicing needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/base.h"

int conc__intr_efd = -1;

bool conc__intr_here(void) {
    return __atomic_load_n(&conc__intr_enabled, __ATOMIC_RELAXED) && conc__is_main_thread();
}

#ifndef CONC_TSAN
static void efd_after_fork(void) {
    int fd = __atomic_exchange_n(&conc__intr_efd, -1, __ATOMIC_ACQ_REL);
    if (fd >= 0) close(fd);
}

static void efd_atfork(void) {
    pthread_atfork(NULL, NULL, efd_after_fork);
}

/* Only the main thread waits on it (here, or in a loop's epoll set: loop/run.c), and the handler
 * runs in the main thread: no ordering to arrange beyond the atomics' own. */
int conc__intr_fd(void) {
    int fd = __atomic_load_n(&conc__intr_efd, __ATOMIC_ACQUIRE);
    if (fd >= 0) return fd;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, efd_atfork);
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return -errno;
    int none = -1;
    if (!__atomic_compare_exchange_n(&conc__intr_efd, &none, fd, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        close(fd);
        fd = none;
    }
    return fd;
}
#endif

static struct timespec *remaining(double deadline, struct timespec *ts) {
    if (isinf(deadline)) return NULL;
    double left = deadline - conc_monotonic();
    if (left < 0) left = 0;
    ts->tv_sec = (time_t)left;
    ts->tv_nsec = (long)((left - (double)ts->tv_sec) * 1e9);
    if (ts->tv_nsec > 999999999L) ts->tv_nsec = 999999999L;
    return ts;
}

/* Without SIGINT: plain ppoll, retried after other signals' handlers. */
static int wait_plain(struct pollfd *fds, size_t n, double deadline) {
    for (;;) {
        struct timespec ts;
        int k = ppoll(fds, (nfds_t)n, remaining(deadline, &ts), NULL);
        if (k > 0) return k;
        if (k == 0) return -ETIMEDOUT;
        if (errno != EINTR) return -errno;
    }
}

#ifdef CONC_TSAN
static int wait_intr(struct pollfd *fds, size_t n, double deadline) {
    sigset_t sigint, old;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint, &old);
    int r;
    for (;;) {
        conc__signals_flush();
        if (conc__intr_take()) {
            r = -EINTR;
            break;
        }
        struct timespec ts;
        int k = ppoll(fds, (nfds_t)n, remaining(deadline, &ts), &old);
        if (k > 0 || k == 0 || errno != EINTR) {
            r = k > 0 ? k : k == 0 ? -ETIMEDOUT : -errno;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}
#else
#define STACK_FDS 16
static int wait_intr(struct pollfd *fds, size_t n, double deadline) {
    int efd = conc__intr_fd();
    if (efd < 0) return efd;
    struct pollfd stack[STACK_FDS + 1],
        *all = n < STACK_FDS ? stack : malloc((n + 1) * sizeof *all);
    if (!all) return -ENOMEM;
    memcpy(all, fds, n * sizeof *fds);
    all[n] = (struct pollfd){efd, POLLIN, 0};
    int r;
    for (;;) {
        if (conc__intr_take()) {
            r = -EINTR;
            break;
        }
        struct timespec ts;
        int k = ppoll(all, (nfds_t)n + 1, remaining(deadline, &ts), NULL);
        if (k < 0 && errno != EINTR) {
            r = -errno;
            break;
        }
        if (k == 0) {
            r = -ETIMEDOUT;
            break;
        }
        if (k < 0) continue; /* some handler ran: SIGINT is seen at the top */
        if (all[n].revents) {
            uint64_t v;
            ssize_t rd = read(efd, &v, sizeof v); /* re-arm; the count says what happened */
            (void)rd;
            k--;
            if (conc__intr_take()) {
                r = -EINTR;
                break;
            }
        }
        if (k > 0) {
            for (size_t i = 0; i < n; i++) fds[i].revents = all[i].revents;
            r = k;
            break;
        }
    }
    if (all != stack) free(all);
    return r;
}
#endif

int conc__wait_fds(struct pollfd *fds, size_t n, double deadline, bool intr) {
    if (intr && conc__intr_here()) return wait_intr(fds, n, deadline);
    return wait_plain(fds, n, deadline);
}
