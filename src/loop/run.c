/* Running a loop: one iteration (asyncio's _run_once), run, run_until_complete, stop.
 *
 * An iteration: compute how long to block (not at all if callbacks are ready or a stop is asked;
 * until the first live timer, rounded up to the next millisecond, never down; forever if there is
 * nothing), poll, dispatch fd events, take the callbacks other threads pushed, move due timers to
 * the ready list, then run exactly the callbacks that are ready at that point. Callbacks they
 * schedule wait for the next iteration, so a callback that re-schedules itself forever cannot
 * starve timers or I/O. With callbacks ready and no fd watched there is nothing epoll could report
 * (thread-safe calls are seen on `remote` directly), so the iteration skips the syscall: a
 * callback chain costs no syscall per step, where libuv's idle handles and asyncio poll each time.
 *
 * One loop per thread: running a loop in a thread already running one (nested, from a callback)
 * and running one loop in two threads are both -EBUSY. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "conc/time.h"
#include "../internal/loop.h"

#define MAX_EVENTS 128

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

static int poll_timeout(conc_loop_t *loop) {
    if (loop->ready_head || __atomic_load_n(&loop->stopping, __ATOMIC_RELAXED)) return 0;
    double next = conc__timers_next(loop);
    if (isinf(next)) return -1;
    double ms = (next - conc_monotonic()) * 1e3;
    if (ms <= 0) return 0;
    return ms >= INT_MAX ? INT_MAX : (int)ceil(ms);
}

static void run_once(conc_loop_t *loop) {
    struct epoll_event ev[MAX_EVENTS];
    int n = 0, timeout = poll_timeout(loop);
    if (timeout != 0) {
        /* publish "may be sleeping", then look again: see call.c for the pairing */
        __atomic_store_n(&loop->sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&loop->remote, __ATOMIC_SEQ_CST) ||
            __atomic_load_n(&loop->stopping, __ATOMIC_SEQ_CST))
            timeout = 0;
        else if (loop->sleep_hook)
            loop->sleep_hook(loop->sleep_hook_arg);
        n = epoll_wait(loop->epfd, ev, MAX_EVENTS, timeout);
        __atomic_store_n(&loop->sleeping, 0, __ATOMIC_SEQ_CST);
    } else if (loop->nwatching > 0) {
        n = epoll_wait(loop->epfd, ev, MAX_EVENTS, 0);
    }
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == CONC__EFD_TOKEN) {
            eventfd_t v;
            eventfd_read(loop->efd, &v);
        } else {
            conc__io_dispatch(loop, ev[i].data.u64, ev[i].events);
        }
    }
    if (__atomic_load_n(&loop->remote, __ATOMIC_RELAXED)) drain_remote(loop);
    if (loop->nheap) conc__timers_due(loop, conc_monotonic());

    conc_handle_t *h = loop->ready_head;
    loop->ready_head = loop->ready_tail = NULL;
    while (h) {
        conc_handle_t *next = h->next;
        if (h->state != CONC__H_CANCELLED) {
            h->state = CONC__H_RUNNING;
            h->cb(h->arg);
        }
        conc__handle_free(loop, h);
        h = next;
    }
}

static int enter(conc_loop_t *loop) {
    if (!loop) return -EINVAL;
    if (conc__current_loop) return -EBUSY;
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&loop->running, &idle, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return -EBUSY;
    conc__current_loop = loop;
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
    do run_once(loop);
    while (!__atomic_load_n(&loop->stopping, __ATOMIC_RELAXED));
    leave(loop);
    return 0;
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
    do run_once(loop);
    while (!__atomic_load_n(&loop->stopping, __ATOMIC_RELAXED));
    if (conc_future_remove_done_callback(f, until_done, &u) == 0) {
        uint32_t v = 0;
        if (__atomic_compare_exchange_n(&u.finished, &v, 2, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&u.finished, __ATOMIC_ACQUIRE) == 2)
                conc__wait_nointr(&u.finished, 2, INFINITY, false);
    }
    leave(loop); /* also clears a stop the callback asked after the loop had stopped */
    return conc_future_result(f, NULL);
}
