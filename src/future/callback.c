/* Done-callbacks: registering and removing them.
 *
 * A plain callback runs where the future completes: in the thread that calls set_result/set_error/
 * cancel, or at once in the caller of conc_future_add_done_callback if the future is already done.
 * (asyncio schedules callbacks on the loop instead; here the future belongs to no loop, and a task
 * that awaits registers a callback that hops to its own loop itself.) The allocation for a second
 * callback is made outside the lock. */
#include <errno.h>
#include <stdlib.h>
#include "../internal/future.h"

/* A completer that won (BUSY) is a few stores from publishing: wait for it, without -EINTR. */
static void await_outcome(conc_future_t *f) {
    uint32_t s;
    while (((s = conc__load(&f->state)) & CONC__F_KIND) == CONC__F_PENDING) {
        if (!(s & CONC__F_WAITERS) && !conc__cas(&f->state, &s, s | CONC__F_WAITERS)) continue;
        conc__wait_nointr(&f->state, s | CONC__F_WAITERS, INFINITY, false);
    }
}

int conc_future_add_done_callback(conc_future_t *f, void (*cb)(conc_future_t *, void *),
                                  void *arg) {
    if (!f || !cb) return -EINVAL;
    struct conc__fcb *node = NULL;
    for (;;) {
        conc__flock(&f->lock);
        if (!conc__future_mark_locked(f)) break;
        if (!f->first.fn && !f->head) {
            f->first.fn = cb;
            f->first.arg = arg;
            conc__funlock(&f->lock);
            free(node);
            if (f->waiter) conc__future_help(f, 0, true);
            return 0;
        }
        if (node) {
            node->fn = cb;
            node->arg = arg;
            node->next = NULL;
            if (f->tail)
                f->tail->next = node;
            else
                f->head = node;
            f->tail = node;
            conc__funlock(&f->lock);
            if (f->waiter) conc__future_help(f, 0, true);
            return 0;
        }
        conc__funlock(&f->lock);
        node = malloc(sizeof *node);
        if (!node) return -ENOMEM;
    }
    conc__funlock(&f->lock);
    free(node);
    await_outcome(f);
    cb(f, arg);
    return 0;
}

int conc_future_remove_done_callback(conc_future_t *f, void (*cb)(conc_future_t *, void *),
                                     void *arg) {
    if (!f || !cb) return -EINVAL;
    struct conc__fcb *gone = NULL;
    int n = 0;
    conc__flock(&f->lock);
    if (f->first.fn == cb && f->first.arg == arg) {
        f->first.fn = NULL;
        n++;
    }
    struct conc__fcb **p = &f->head, *prev = NULL;
    while (*p) {
        struct conc__fcb *c = *p;
        if (c->fn == cb && c->arg == arg) {
            *p = c->next;
            c->next = gone;
            gone = c;
            n++;
        } else {
            prev = c;
            p = &c->next;
        }
    }
    f->tail = prev;
    conc__funlock(&f->lock);
    while (gone) {
        struct conc__fcb *next = gone->next;
        free(gone);
        gone = next;
    }
    return n;
}
