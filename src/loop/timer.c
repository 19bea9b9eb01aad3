/* Timers: call_later/call_at on a binary min-heap ordered by (when, seq), with lazy cancellation.
 *
 * Cancelling only flags the handle (O(1)); a cancelled timer stays in the heap until it reaches
 * the top, where it is dropped. If cancelled timers become more than half of a heap of at least
 * 64, the heap is rebuilt without them at once (O(n), so O(1) amortised per cancel) and its array
 * shrinks: a program that arms and cancels timeouts in a loop never grows the heap past twice its
 * live timers. (asyncio rebuilds at the start of an iteration, so one callback cancelling in a
 * loop grows it unboundedly until then.)
 *
 * Never early: a timer due at t runs only in an iteration that read conc_monotonic() >= t after
 * polling (asyncio fires timers up to one clock resolution early). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "conc/time.h"
#include "../internal/loop.h"

#define COMPACT_MIN 64

static inline bool before(const conc_handle_t *a, const conc_handle_t *b) {
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void sift_up(conc_handle_t **heap, size_t i) {
    conc_handle_t *h = heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(h, heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = h;
}

static void sift_down(conc_handle_t **heap, size_t n, size_t i) {
    conc_handle_t *h = heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(heap[c + 1], heap[c])) c++;
        if (!before(heap[c], h)) break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = h;
}

static conc_handle_t *pop(conc_loop_t *loop) {
    conc_handle_t *top = loop->heap[0];
    if (--loop->nheap > 0) {
        loop->heap[0] = loop->heap[loop->nheap];
        sift_down(loop->heap, loop->nheap, 0);
    }
    return top;
}

/* Local calls grow the array before they make the handle, so a failure leaves nothing behind. */
static int reserve(conc_loop_t *loop) {
    if (loop->nheap < loop->capheap) return 0;
    size_t cap = loop->capheap ? loop->capheap * 2 : COMPACT_MIN;
    conc_handle_t **heap = realloc(loop->heap, cap * sizeof *heap);
    if (!heap) return -ENOMEM;
    loop->heap = heap;
    loop->capheap = cap;
    return 0;
}

void conc__timer_push(conc_loop_t *loop, conc_handle_t *h) {
    h->seq = loop->timer_seq++;
    h->state = CONC__H_TIMER;
    if (reserve(loop) < 0) {
        /* only when draining a timer from another thread (local calls reserve first): out of
         * memory, put it back on the remote stack to retry next iteration rather than lose it or
         * run it early */
        h->state = CONC__H_REMOTE_AT;
        h->next = __atomic_load_n(&loop->remote, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&loop->remote, &h->next, h, true, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED)) {
        }
        return;
    }
    loop->heap[loop->nheap] = h;
    sift_up(loop->heap, loop->nheap++);
}

static void compact(conc_loop_t *loop) {
    size_t n = 0;
    for (size_t i = 0; i < loop->nheap; i++) {
        conc_handle_t *h = loop->heap[i];
        if (h->state == CONC__H_CANCELLED)
            conc__handle_free(loop, h);
        else
            loop->heap[n++] = h;
    }
    loop->nheap = n;
    loop->ncancelled = 0;
    for (size_t i = n / 2; i-- > 0;) sift_down(loop->heap, n, i);
    if (loop->capheap > COMPACT_MIN && n < loop->capheap / 4) {
        size_t cap = n * 2 > COMPACT_MIN ? n * 2 : COMPACT_MIN;
        conc_handle_t **heap = realloc(loop->heap, cap * sizeof *heap);
        if (heap) {
            loop->heap = heap;
            loop->capheap = cap;
        }
    }
}

void conc__timer_cancelled(conc_loop_t *loop) {
    loop->ncancelled++;
    if (loop->nheap >= COMPACT_MIN && loop->ncancelled * 2 > loop->nheap) compact(loop);
}

double conc__timers_next(conc_loop_t *loop) {
    while (loop->nheap > 0 && loop->heap[0]->state == CONC__H_CANCELLED) {
        conc__handle_free(loop, pop(loop));
        loop->ncancelled--;
    }
    return loop->nheap ? loop->heap[0]->when : INFINITY;
}

void conc__timers_due(conc_loop_t *loop, double now) {
    while (loop->nheap > 0 && loop->heap[0]->when <= now) {
        conc_handle_t *h = pop(loop);
        if (h->state == CONC__H_CANCELLED) {
            loop->ncancelled--;
            conc__handle_free(loop, h);
            continue;
        }
        h->state = CONC__H_READY;
        conc__ready_push(loop, h);
    }
}

void conc__timers_free(conc_loop_t *loop) {
    for (size_t i = 0; i < loop->nheap; i++) free(loop->heap[i]);
    free(loop->heap);
    loop->heap = NULL;
    loop->nheap = loop->capheap = loop->ncancelled = 0;
}

size_t conc__loop_timer_count(conc_loop_t *loop, size_t *capacity) {
    if (capacity) *capacity = loop->capheap;
    return loop->nheap;
}

static bool foreign(conc_loop_t *loop) {
    return conc__current_loop != loop && __atomic_load_n(&loop->running, __ATOMIC_ACQUIRE);
}

conc_handle_t *conc_call_at(conc_loop_t *loop, double when, void (*cb)(void *), void *arg) {
    if (!loop || !cb || isnan(when)) {
        errno = EINVAL;
        return NULL;
    }
    if (foreign(loop)) {
        /* another thread while the loop runs: the loop files it into its heap when it drains */
        conc_handle_t *h = malloc(sizeof *h);
        if (!h) return NULL;
        *h = (conc_handle_t){.cb = cb, .arg = arg, .loop = loop, .when = when};
        h->state = CONC__H_REMOTE_AT;
        conc__remote_push(loop, h);
        return h;
    }
    if (reserve(loop) < 0) return NULL;
    conc_handle_t *h = conc__handle_alloc(loop);
    if (!h) return NULL;
    h->cb = cb;
    h->arg = arg;
    h->loop = loop;
    h->when = when;
    conc__timer_push(loop, h);
    return h;
}

conc_handle_t *conc_call_later(conc_loop_t *loop, double delay, void (*cb)(void *), void *arg) {
    if (isnan(delay)) {
        errno = EINVAL;
        return NULL;
    }
    double now = conc_monotonic();
    if (loop && conc__current_loop == loop) loop->now_hint = now;
    return conc_call_at(loop, now + delay, cb, arg);
}
