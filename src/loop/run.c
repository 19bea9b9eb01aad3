/* Running a loop: one iteration (asyncio's _run_once), run, run_until_complete, stop.
 *
 * An iteration: compute how long to block (not at all if callbacks are ready or a stop is asked;
 * until the first live timer, rounded up to the next millisecond, never down; forever if there is
 * nothing), poll, dispatch fd events, take the callbacks other threads pushed, move due timers to
 * the ready list, then run exactly the callbacks that are ready at that point. Callbacks they
 * schedule wait for the next iteration, so a callback that re-schedules itself forever cannot
 * starve timers or I/O.
 *
 * While callbacks are ready the loop does not block, and asyncio and libuv then still pay an
 * epoll_wait(0) every iteration (about 2 µs on this VM: the whole cost of a callback chain). Here
 * the non-blocking poll is made only once at least POLL_EVERY callbacks ran since the last poll
 * (Tokio's event_interval, 61, is the same idea), and never when no fd is watched: thread-safe
 * calls and stop requests are seen on `remote`/`stopping` directly, timers by reading the clock,
 * so nothing else needs the syscall. I/O waits at most POLL_EVERY callbacks, never starves. The
 * clock is read at most once per iteration, and not at all when the first timer is due by the
 * latest reading the loop thread made (now_hint; conc_call_later's counts, so a call_later(0)
 * chain reads the clock once per step): a reading made earlier can only make a timer later,
 * never early.
 *
 * One loop per thread: running a loop in a thread already running one (nested, from a callback)
 * and running one loop in two threads are both -EBUSY.
 *
 * KeyboardInterrupt: a loop run by the main thread after conc_init returns -EINTR when a SIGINT
 * comes, consuming it (conc_check_interrupt's "once"); loops in other threads never see it. The
 * handler (signal/interrupt.c) counts the signal and writes conc__intr_efd, so the count is looked
 * at once per iteration (a busy loop never blocks) and the eventfd sits in the epoll set (a loop
 * asleep in epoll_wait, or about to be, wakes at once: no window between the look and the sleep,
 * and no extra syscall per sleep). It is registered the first time the loop runs in the main
 * thread and stays (removed if the loop later runs in another thread, which must not be woken).
 * Under ThreadSanitizer, whose deferred handlers would write the eventfd too late, and if the
 * eventfd cannot be made, SIGINT is blocked while the count is looked at and epoll_pwait unblocks
 * it atomically, as base/fdwait.c does with ppoll. An interrupted iteration runs nothing: what was
 * ready stays ready for the next run. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "conc/time.h"
#include "../internal/loop.h"

#define MAX_EVENTS 128
#define POLL_EVERY 64 /* callbacks run between two non-blocking polls, at most */

static void drain_remote(conc_loop_t *loop) {
    conc_handle_t *h = __atomic_exchange_n(&loop->remote, NULL, __ATOMIC_ACQUIRE), *rev = NULL;
    while (h) { /* the stack is newest first: reverse to call order */
        conc_handle_t *next = h->next;
        h->next = rev;
        rev = h;
        h = next;
    }
    while (rev) {
        conc_handle_t *next = rev->next;
        switch (rev->state) {
        case CONC__H_REMOTE:
            rev->state = CONC__H_READY;
            conc__ready_push(loop, rev);
            break;
        case CONC__H_REMOTE_AT: conc__timer_push(loop, rev); break;
        default: conc__handle_free(loop, rev); break; /* cancelled before it arrived */
        }
        rev = next;
    }
}

/* A SIGINT for this run: consumed, true. */
static inline bool interrupted(conc_loop_t *loop) {
    if (conc__likely(!loop->intr)) return false;
    conc__signals_flush(); /* TSan: a deferred handler runs now */
    return __atomic_load_n(&conc__intr_pending, __ATOMIC_RELAXED) > 0 && conc__intr_take();
}

/* Keep the SIGINT eventfd in the epoll set while the main thread runs the loop; out otherwise. */
static void intr_register(conc_loop_t *loop) {
    int fd = -1;
#ifndef CONC_TSAN
    if (loop->intr) fd = conc__intr_fd();
#endif
    if (fd == loop->intr_fd) return;
    if (loop->intr_fd >= 0) epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->intr_fd, NULL);
    loop->intr_fd = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = CONC__INTR_TOKEN};
    if (fd >= 0 && epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) loop->intr_fd = fd;
}

/* Block in epoll; with SIGINT to report but no eventfd for it, as base/fdwait.c's TSan path. */
static int poll_wait(conc_loop_t *loop, struct epoll_event *ev, int timeout) {
    if (conc__likely(!loop->intr || loop->intr_fd >= 0))
        return epoll_wait(loop->epfd, ev, MAX_EVENTS, timeout);
    sigset_t sigint, old;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint, &old);
    conc__signals_flush();
    int n = 0;
    if (!__atomic_load_n(&conc__intr_pending, __ATOMIC_ACQUIRE))
        n = epoll_pwait(loop->epfd, ev, MAX_EVENTS, timeout, &old);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n;
}

/* 0, or -EINTR (a SIGINT, consumed) with nothing run. */
static int run_once(conc_loop_t *loop) {
    struct epoll_event ev[MAX_EVENTS];
    int n = 0, timeout = 0;
    if (interrupted(loop)) return -EINTR;
    double now = NAN; /* read at most once per iteration; a stale reading only delays timers */
    if (!loop->ready_head && !__atomic_load_n(&loop->stopping, __ATOMIC_RELAXED)) {
        double next = conc__timers_next(loop);
        if (isinf(next)) {
            timeout = -1;
        } else if (next <= loop->now_hint) {
            now = loop->now_hint; /* due by a reading already made (call_later's): no new one */
        } else {
            now = loop->now_hint = conc_monotonic();
            double ms = (next - now) * 1e3;
            timeout = ms <= 0 ? 0 : ms >= INT_MAX ? INT_MAX : (int)ceil(ms);
        }
    }
    if (timeout != 0) {
        /* publish "may be sleeping", then look again: see call.c for the pairing */
        __atomic_store_n(&loop->sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&loop->remote, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&loop->stopping, __ATOMIC_SEQ_CST))
            timeout = 0;
        else if (loop->sleep_hook)
            loop->sleep_hook(loop->sleep_hook_arg);
        n = poll_wait(loop, ev, timeout);
        __atomic_store_n(&loop->sleeping, 0, __ATOMIC_SEQ_CST);
        loop->since_poll = 0;
        now = NAN;
        if (interrupted(loop)) return -EINTR; /* fd events not taken are reported again */
    } else if (loop->nwatching > 0 && loop->since_poll >= POLL_EVERY) {
        n = epoll_wait(loop->epfd, ev, MAX_EVENTS, 0);
        loop->since_poll = 0;
    }
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == CONC__EFD_TOKEN) {
            eventfd_t v;
            eventfd_read(loop->efd, &v);
        } else if (ev[i].data.u64 == CONC__INTR_TOKEN) {
            eventfd_t v; /* re-arm: the count says what happened (seen at the next iteration) */
            eventfd_read(loop->intr_fd, &v);
        } else {
            conc__io_dispatch(loop, ev[i].data.u64, ev[i].events);
        }
    }
    if (__atomic_load_n(&loop->remote, __ATOMIC_RELAXED)) drain_remote(loop);
    if (loop->nheap) {
        if (isnan(now)) now = loop->now_hint = conc_monotonic();
        conc__timers_due(loop, now);
    }

    /* The batch lives in the loop, not here: a task may run part of it, or the next iterations,
     * from its own stack while this frame waits inside a callback (conc__loop_peek). */
    loop->batch = loop->ready_head;
    loop->ready_head = loop->ready_tail = NULL;
    loop->in_batch = true;
    for (conc_handle_t *h; (h = loop->batch) != NULL;) {
        loop->batch = h->next;
        if (h->state != CONC__H_CANCELLED) {
            h->state = CONC__H_RUNNING;
            loop->since_poll++;
            h->cb(h->arg);
        }
        conc__handle_free(loop, h);
    }
    loop->in_batch = false;
    return 0;
}

/* The next iteration without blocking, for a task that parks at the end of a batch (see
 * internal/loop.h): run_once's steps when it would neither block nor poll. */
bool conc__loop_advance(conc_loop_t *loop) {
    if (!loop->in_batch || __atomic_load_n(&loop->stopping, __ATOMIC_RELAXED)) return false;
    if (loop->intr) {
        conc__signals_flush();
        if (__atomic_load_n(&conc__intr_pending, __ATOMIC_RELAXED)) return false;
    }
    if (loop->nwatching > 0 && loop->since_poll >= POLL_EVERY) return false;
    if (__atomic_load_n(&loop->remote, __ATOMIC_RELAXED)) drain_remote(loop);
    if (!loop->ready_head) return false; /* to block, or to wait for a timer: the loop's job */
    if (loop->nheap) conc__timers_due(loop, loop->now_hint = conc_monotonic());
    loop->batch = loop->ready_head;
    loop->ready_head = loop->ready_tail = NULL;
    return true;
}

static int enter(conc_loop_t *loop) {
    if (!loop) return -EINVAL;
    if (conc__current_loop) return -EBUSY;
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&loop->running, &idle, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return -EBUSY;
    conc__current_loop = loop;
    loop->intr = conc__intr_here();
    if (loop->intr || loop->intr_fd >= 0) intr_register(loop);
    return 0;
}

static void leave(conc_loop_t *loop) {
    __atomic_store_n(&loop->stopping, 0, __ATOMIC_RELAXED);
    conc__current_loop = NULL;
    __atomic_store_n(&loop->running, 0, __ATOMIC_RELEASE);
}

int conc_loop_run(conc_loop_t *loop) {
    int r = enter(loop);
    if (r < 0) return r;
    do r = run_once(loop);
    while (r == 0 && !__atomic_load_n(&loop->stopping, __ATOMIC_RELAXED));
    leave(loop);
    return r;
}

/* A stop asked before the loop runs is honoured after one iteration, as in asyncio. From another
 * thread it wakes the loop; the caller must have returned before the loop is freed, which
 * conc_loop_free ensures by waiting for `inflight`. */
void conc_loop_stop(conc_loop_t *loop) {
    if (!loop) return;
    if (conc__current_loop == loop) {
        __atomic_store_n(&loop->stopping, 1, __ATOMIC_RELAXED);
        return;
    }
    conc__remote_enter(loop);
    __atomic_store_n(&loop->stopping, 1, __ATOMIC_SEQ_CST);
    conc__loop_wake(loop);
    conc__remote_leave(loop);
}

/* run_until_complete's done-callback lives on the caller's stack. It may run in the thread that
 * completes the future, so before returning the loop either takes it back from the future or
 * waits until it has finished (finished: 0 not yet, 1 done, 2 the loop waits for it). */
struct until {
    conc_loop_t *loop;
    uint32_t finished;
};

static void until_done(conc_future_t *f, void *arg) {
    (void)f;
    struct until *u = arg;
    conc_loop_stop(u->loop);
    if (__atomic_exchange_n(&u->finished, 1, __ATOMIC_ACQ_REL) == 2)
        conc__futex_wake(&u->finished, 1, false);
}

int conc_loop_run_until_complete(conc_loop_t *loop, conc_future_t *f) {
    if (!f) return -EINVAL;
    int r = enter(loop);
    if (r < 0) return r;
    struct until u = {loop, 0};
    r = conc_future_add_done_callback(f, until_done, &u);
    if (r < 0) {
        leave(loop);
        return r;
    }
    int intr;
    do intr = run_once(loop);
    while (intr == 0 && !__atomic_load_n(&loop->stopping, __ATOMIC_RELAXED));
    if (conc_future_remove_done_callback(f, until_done, &u) == 0) {
        uint32_t v = 0;
        if (__atomic_compare_exchange_n(&u.finished, &v, 2, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&u.finished, __ATOMIC_ACQUIRE) == 2)
                conc__wait_nointr(&u.finished, 2, INFINITY, false);
    }
    leave(loop); /* also clears a stop the callback asked after the loop had stopped */
    return intr ? intr : conc_future_result(f, NULL);
}
