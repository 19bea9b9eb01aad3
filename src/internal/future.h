/* The future's layout, shared by the files of src/future/ (and readable by tests).
 *
 * One word, `state`, says everything a reader needs without a lock: the outcome (pending, result,
 * error, cancelled) and a bit telling the completer that a plain thread sleeps on the word. The
 * outcome is written once, together with value/err, and published by the release exchange of
 * `state`; readers (done, result, wait) only load `state` with acquire.
 *
 * Who completes is decided by one compare-and-swap setting BUSY on a pending state; the same word
 * carries RUNNING (set by a compare-and-swap too), so a cancel and an executor starting the work
 * cannot both win. A future without callbacks (an executor's map: millions of them) is completed
 * with that CAS and the exchange alone. `lock` is a three-state futex word (0 free, 1 held, 2 held
 * with sleepers, as in Drepper's "Futexes are tricky") guarding the callback list and the waiter
 * hook: a future with callbacks, or whose hook was entered, has CBS set and is completed under it.
 * Registering a callback (or entering the hook) sets CBS by a CAS that fails once BUSY is set, so
 * a completer either sees CBS and takes the list under the lock, or the registrar sees the
 * completion coming and runs the callback itself (or does not enter the hook).
 * Critical sections are a few stores, so it almost never sleeps; callbacks always run with it
 * released. */
#ifndef CONC_INTERNAL_FUTURE_H
#define CONC_INTERNAL_FUTURE_H

#include <math.h>
#include "conc/future.h"
#include "base.h"

enum {
    CONC__F_PENDING = 0,
    CONC__F_RESULT = 1,
    CONC__F_ERROR = 2,
    CONC__F_CANCELLED = 3,
    CONC__F_KIND = 3,    /* mask of the outcome bits */
    CONC__F_WAITERS = 4, /* a thread sleeps in conc_future_wait: the completer must wake it */
    CONC__F_RUNNING = 8, /* an executor started its work: cancel fails (concurrent.futures) */
    CONC__F_CBS = 16,    /* callbacks or a waiter hook in use: a completer must take `lock` */
    CONC__F_BUSY = 32,   /* a completer won and is writing the outcome: nobody else may */
};

struct conc__fcb {
    void (*fn)(conc_future_t *, void *);
    void *arg;
    struct conc__fcb *next;
};

struct conc_future {
    uint32_t state;
    uint32_t lock;
    uint32_t refs;
    int err;
    void *value;
    /* Callbacks in registration order: `first` (inline, so the common single waiter - a task's
     * await - costs no allocation) comes before the list. `first` is used only while the list is
     * empty, so the order stays FIFO whatever is removed. */
    struct conc__fcb first; /* fn == NULL: empty */
    struct conc__fcb *head, *tail;
    /* Run when the last reference goes (executors: the result bytes the future owns). */
    void (*dtor)(void *value, void *ctx);
    void *dtor_ctx;
    /* Frees the future's memory after dtor; NULL: free(). An executor's map makes its futures in
     * shared blocks (conc__future_init_in) and frees a block when its last future goes. */
    void (*dispose)(conc_future_t *f);
    /* An executor backend that helps its waiters (conc_work_set_waiter): set before the future is
     * shared, read under `lock` while pending. */
    const struct conc_work_waiter *waiter;
    void *waiter_ctx;
};

/* Call the backend's waiter hook if f is still pending: wait (watch false) until deadline, or
 * watch. 0 once f is done; anything else: f may still be pending. */
CONC_HIDDEN int conc__future_help(conc_future_t *f, double deadline, bool watch);

/* Executors: the future owns what it holds; dtor(value, ctx) runs at the last release, whatever
 * the outcome (value is NULL unless it completed with a result). Set before the future is shared. */
static inline void conc__future_set_dtor(conc_future_t *f, void (*dtor)(void *, void *),
                                         void *ctx) {
    f->dtor = dtor;
    f->dtor_ctx = ctx;
}
/* concurrent.futures' set_running_or_notify_cancel: false if the future was cancelled (or is
 * done), else marks it running so that conc_future_cancel fails from now on. */
CONC_HIDDEN bool conc__future_set_running(conc_future_t *f);
/* A future with `extra` bytes of its own after it (*p, aligned as the future), freed with it. */
CONC_HIDDEN conc_future_t *conc__future_new_with(size_t extra, void **p);
/* A fresh future in memory the caller provides (aligned as a pointer); dispose(f) is called
 * instead of free() when its last reference goes. */
static inline conc_future_t *conc__future_init_in(void *mem, void (*dispose)(conc_future_t *)) {
    conc_future_t *f = mem;
    *f = (conc_future_t){.refs = 1, .dispose = dispose};
    return f;
}

static inline void conc__flock(uint32_t *l) {
    uint32_t c = 0;
    if (conc__likely(
            __atomic_compare_exchange_n(l, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
        return;
    if (c != 2) c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        conc__wait_nointr(l, 2, INFINITY, false);
        c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
    }
}

static inline void conc__funlock(uint32_t *l) {
    if (__atomic_exchange_n(l, 0, __ATOMIC_RELEASE) == 2) conc__futex_wake(l, 1, false);
}

/* Under `lock`: set CBS, so that f's completer takes the lock too (to run its callbacks, or after
 * a waiter hook was entered), unless f is done or a completer already won without the lock
 * (false). */
static inline bool conc__future_mark_locked(conc_future_t *f) {
    uint32_t s = conc__load(&f->state);
    for (;;) {
        if ((s & CONC__F_KIND) != CONC__F_PENDING || (s & CONC__F_BUSY)) return false;
        if ((s & CONC__F_CBS) || conc__cas(&f->state, &s, s | CONC__F_CBS)) return true;
    }
}

static inline uint32_t conc__fkind(conc_future_t *f) {
    return conc__load(&f->state) & CONC__F_KIND;
}

#endif
