/* call_soon, call_soon_threadsafe and handle cancellation.
 *
 * call_soon appends to the ready list; handles come from a small per-loop free list, so a callback
 * chain allocates nothing in the steady state.
 *
 * call_soon_threadsafe pushes onto `remote`, a lock-free stack (a CAS loop; the loop takes the
 * whole stack with one exchange and reverses it, so each producer's calls keep their order). No
 * lock, no self-pipe: the eventfd is written only if the loop said it may be sleeping, and only by
 * the first producer to see that (sleeping 1 -> 2). The loop stores sleeping = 1 and then looks at
 * `remote`; a producer pushes and then looks at `sleeping`. Both sequentially consistent, so at
 * least one of them sees the other: either the loop finds the handle and does not block, or the
 * producer wakes it (Dekker's pattern). CPython's self-pipe write on every call is the cost
 * gh-98984 measures. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include "../internal/loop.h"

#define FREE_LIST_MAX 1024

conc_handle_t *conc__handle_alloc(conc_loop_t *loop) {
    conc_handle_t *h = loop->free_list;
    if (h) {
        loop->free_list = h->next;
        loop->nfree--;
        return h;
    }
    return malloc(sizeof *h);
}

void conc__handle_free(conc_loop_t *loop, conc_handle_t *h) {
    if (loop->nfree >= FREE_LIST_MAX) {
        free(h);
        return;
    }
    h->next = loop->free_list;
    loop->free_list = h;
    loop->nfree++;
}

void conc__ready_push(conc_loop_t *loop, conc_handle_t *h) {
    h->next = NULL;
    if (loop->ready_tail)
        loop->ready_tail->next = h;
    else
        loop->ready_head = h;
    loop->ready_tail = h;
}

void conc__remote_enter(conc_loop_t *loop) {
    __atomic_add_fetch(&loop->inflight, 1, __ATOMIC_SEQ_CST);
}

/* The last touch of the loop by another thread: once inflight is 0, conc_loop_free may proceed.
 * conc_loop_free sets CONC__INFLIGHT_FREEING in the same word, so the decrement itself tells us
 * whether to wake it: reading another field after it could read freed memory. The wake-up is a
 * syscall on the word's address, harmless even if the loop is gone by then (as glibc's mutex
 * unlock-then-free). */
void conc__remote_leave(conc_loop_t *loop) {
    if (__atomic_sub_fetch(&loop->inflight, 1, __ATOMIC_SEQ_CST) == CONC__INFLIGHT_FREEING)
        conc__futex_wake(&loop->inflight, INT_MAX, false);
}

void conc__loop_wake(conc_loop_t *loop) {
    uint32_t one = 1;
    if (__atomic_load_n(&loop->sleeping, __ATOMIC_SEQ_CST) == 1 &&
        __atomic_compare_exchange_n(&loop->sleeping, &one, 2, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_RELAXED))
        eventfd_write(loop->efd, 1);
}

void conc__remote_push(conc_loop_t *loop, conc_handle_t *h) {
    conc__remote_enter(loop);
    h->next = __atomic_load_n(&loop->remote, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&loop->remote, &h->next, h, true, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED)) {
    }
    conc__loop_wake(loop);
    conc__remote_leave(loop);
}

/* Not the loop's thread, and the loop runs in another: the call must take the thread-safe path. */
static inline bool foreign(conc_loop_t *loop) {
    return conc__current_loop != loop && __atomic_load_n(&loop->running, __ATOMIC_ACQUIRE);
}

conc_handle_t *conc_call_soon_threadsafe(conc_loop_t *loop, void (*cb)(void *), void *arg) {
    if (!loop || !cb) {
        errno = EINVAL;
        return NULL;
    }
    if (conc__current_loop == loop) return conc_call_soon(loop, cb, arg);
    conc_handle_t *h = malloc(sizeof *h);
    if (!h) return NULL;
    h->cb = cb;
    h->arg = arg;
    h->loop = loop;
    h->state = CONC__H_REMOTE;
    conc__remote_push(loop, h);
    return h;
}

conc_handle_t *conc_call_soon(conc_loop_t *loop, void (*cb)(void *), void *arg) {
    if (conc__unlikely(!loop || !cb)) {
        errno = EINVAL;
        return NULL;
    }
    if (conc__unlikely(foreign(loop))) return conc_call_soon_threadsafe(loop, cb, arg);
    conc_handle_t *h = conc__handle_alloc(loop);
    if (conc__unlikely(!h)) return NULL;
    h->cb = cb;
    h->arg = arg;
    h->loop = loop;
    h->state = CONC__H_READY;
    conc__ready_push(loop, h);
    return h;
}

/* Loop thread only. A handle whose callback runs or ran, or that was cancelled, is left alone
 * (while it is still valid: see conc/loop.h). Cancelled handles stay where they are and are freed
 * when the loop gets to them; cancelled timers are counted so the heap can be compacted. */
void conc_handle_cancel(conc_handle_t *h) {
    if (!h) return;
    switch (h->state) {
    case CONC__H_READY:
    case CONC__H_REMOTE:
    case CONC__H_REMOTE_AT: h->state = CONC__H_CANCELLED; break;
    case CONC__H_TIMER:
        h->state = CONC__H_CANCELLED;
        conc__timer_cancelled(h->loop);
        break;
    default: break;
    }
}
