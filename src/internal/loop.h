/* The event loop's layout and the internal API other modules build on (tasks, I/O).
 *
 * Threads: everything below the "loop thread" line is touched only by the thread running the loop
 * (or, while no thread runs it, by the one thread using it). Other threads reach the loop only
 * through `remote` (a lock-free stack of handles drained by the loop), `stopping`, `sleeping`
 * (is the loop in, or about to enter, epoll_wait: only then do they write the eventfd) and
 * `inflight` (how many of them are inside a loop call, so conc_loop_free can wait them out). */
#ifndef CONC_INTERNAL_LOOP_H
#define CONC_INTERNAL_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include "conc/loop.h"
#include "base.h"

/* A handle's place in the loop; only the loop thread reads or changes it once it is queued. */
enum {
    CONC__H_READY,     /* in the ready list */
    CONC__H_TIMER,     /* in the timer heap */
    CONC__H_REMOTE,    /* pushed by another thread, not yet drained: a call_soon */
    CONC__H_REMOTE_AT, /* the same for a timer: drained into the heap */
    CONC__H_RUNNING,   /* its callback is running; freed when it returns */
    CONC__H_CANCELLED, /* left where it is and freed when the loop reaches it */
};

struct conc_handle {
    void (*cb)(void *);
    void *arg;
    conc_loop_t *loop;
    struct conc_handle *next; /* ready list, remote stack, free list */
    double when;              /* timers */
    uint64_t seq;             /* timers: equal deadlines fire in call order */
    uint32_t state;
};

struct conc__watcher {
    void (*cb)(void *arg, int fd, unsigned events);
    void *arg;
    unsigned events; /* CONC__IO_READ | CONC__IO_WRITE; 0: slot unused */
    uint32_t gen;    /* bumped per registration: stale epoll events of an old one are dropped */
};

struct conc__loop_hook {
    void (*fn)(conc_loop_t *, void *);
    void *arg;
    struct conc__loop_hook *next;
};

enum { CONC__LOOP_SLOT_TASK, CONC__LOOP_SLOT_IO, CONC__LOOP_SLOT_EXEC, CONC__LOOP_NSLOTS };

struct conc_loop {
    /* shared with other threads */
    conc_handle_t *remote;
    uint32_t sleeping; /* 0 awake, 1 in or about to enter epoll_wait, 2 someone woke it */
    uint32_t stopping;
    uint32_t running;
    uint32_t inflight; /* | CONC__INFLIGHT_FREEING once conc_loop_free waits on it */
    uint32_t freeing;
    int epfd, efd;

    /* loop thread */
    conc_handle_t *ready_head, *ready_tail;
    conc_handle_t *batch; /* the running iteration's callbacks not run yet (run.c) */
    bool in_batch;        /* the loop's stack is inside one of the batch's callbacks */
    conc_handle_t **heap; /* binary min-heap on (when, seq) */
    size_t nheap, capheap, ncancelled;
    uint64_t timer_seq;
    conc_handle_t *free_list;
    unsigned nfree;
    struct conc__watcher *watchers; /* indexed by fd */
    int capwatch;
    unsigned nwatching;
    unsigned since_poll; /* callbacks run since the last epoll_wait */
    double now_hint;     /* the latest conc_monotonic() reading made in the loop thread */
    struct conc__loop_hook *on_free;
    int intr_fd; /* conc__intr_efd as registered in epfd (main thread runs), or -1 */
    bool intr;   /* this run reports SIGINT: the main thread, after conc_init (run.c) */
    void (*sleep_hook)(void *);
    void *sleep_hook_arg;
    void *slots[CONC__LOOP_NSLOTS];
};

/* ---- used across src/loop ---- */
CONC_HIDDEN conc_handle_t *conc__handle_alloc(conc_loop_t *loop);
CONC_HIDDEN void conc__handle_free(conc_loop_t *loop, conc_handle_t *h);
CONC_HIDDEN void conc__ready_push(conc_loop_t *loop, conc_handle_t *h);
CONC_HIDDEN void conc__timer_push(conc_loop_t *loop, conc_handle_t *h);
CONC_HIDDEN void conc__timer_cancelled(conc_loop_t *loop);
/* Move due timers (when <= now) to the ready list; drop cancelled ones. */
CONC_HIDDEN void conc__timers_due(conc_loop_t *loop, double now);
/* The next live deadline, or INFINITY; drops cancelled timers at the top. */
CONC_HIDDEN double conc__timers_next(conc_loop_t *loop);
CONC_HIDDEN void conc__timers_free(conc_loop_t *loop);
CONC_HIDDEN void conc__io_dispatch(conc_loop_t *loop, uint64_t data, uint32_t epoll_events);
CONC_HIDDEN void conc__loop_wake(conc_loop_t *loop);    /* from another thread */
CONC_HIDDEN void conc__remote_enter(conc_loop_t *loop); /* bracket every call from another thread */
CONC_HIDDEN void conc__remote_leave(conc_loop_t *loop);
/* The loop running in this thread (conc_loop_current). */
CONC_HIDDEN extern __thread conc_loop_t *conc__current_loop;
/* Push a handle (state CONC__H_REMOTE or _REMOTE_AT) from another thread and wake the loop. */
CONC_HIDDEN void conc__remote_push(conc_loop_t *loop, conc_handle_t *h);
#define CONC__INFLIGHT_FREEING (1u << 31)
#define CONC__EFD_TOKEN        UINT64_MAX       /* epoll data of the wake-up eventfd */
#define CONC__INTR_TOKEN       (UINT64_MAX - 1) /* and of the SIGINT eventfd (conc__intr_efd) */

/* ---- for other modules (tasks, I/O) ---- */

/* Watching file descriptors: level-triggered readiness on the loop's epoll set. cb(arg, fd, events)
 * runs in the loop thread, right after epoll_wait, before the iteration's ready callbacks, with
 * events the ready subset of the watched ones (an error or hang-up reports all watched events, so
 * the next read or write sees it). One watcher per fd: watching a watched fd replaces its events,
 * cb and arg (EPOLL_CTL_MOD). Loop thread only (or while the loop is not running). Returns 0 or
 * -errno from epoll_ctl (-EPERM for a regular file), -EINVAL for no events, -ENOMEM.
 * Unwatch before closing the fd. After unwatch, no callback for that registration runs, even if
 * its event came in the same epoll batch. */
#define CONC__IO_READ  1u
#define CONC__IO_WRITE 2u
CONC_HIDDEN int conc__loop_watch(conc_loop_t *loop, int fd, unsigned events,
                                 void (*cb)(void *arg, int fd, unsigned events), void *arg);
CONC_HIDDEN int conc__loop_unwatch(conc_loop_t *loop, int fd); /* 0, or -ENOENT if not watched */

/* Run fn(loop, arg) when conc_loop_free starts, most recently registered first, while the loop is
 * still whole: hooks may schedule, cancel and even run it (conc_run cancels leftover tasks here).
 * What is still pending after the hooks is freed without running. 0 or -ENOMEM. */
CONC_HIDDEN int conc__loop_on_free(conc_loop_t *loop, void (*fn)(conc_loop_t *, void *), void *arg);

/* A per-loop pointer per module (CONC__LOOP_SLOT_TASK: the task scheduler's state). NULL at first;
 * the loop never looks at it. */
static inline void **conc__loop_slot(conc_loop_t *loop, int slot) {
    return &loop->slots[slot];
}

/* Handing over from task to task (task/park.c). A task that parks would switch to the loop's
 * stack, which would run the next callback - often another task's step - or start the next
 * iteration. When the loop's stack is merely waiting inside a callback of the running batch
 * (in_batch), the parking task may instead take that next callback itself and switch straight to
 * the task it resumes: same callbacks, same order, one switch instead of two.
 *
 * conc__loop_peek: the next live callback of the batch, not taken (cancelled ones at its head are
 * dropped). When the batch is done it starts the next iteration here if the loop's stack would do
 * nothing else first: no stop asked, no SIGINT to report, no I/O poll due, no need to block
 * (something is ready); it then takes what other threads pushed and the due timers, and the
 * snapshot rule holds as in run_once. NULL: leave it to the loop's stack. Loop thread only, with
 * in_batch set. conc__loop_take: remove h (peek's result) from the batch, counted as run, and
 * free it; the caller does what its callback would have done. */
CONC_HIDDEN bool conc__loop_advance(conc_loop_t *loop);
static inline conc_handle_t *conc__loop_peek(conc_loop_t *loop) {
    for (;;) {
        conc_handle_t *h = loop->batch;
        if (conc__likely(h != NULL)) {
            if (conc__likely(h->state != CONC__H_CANCELLED)) return h;
            loop->batch = h->next;
            conc__handle_free(loop, h);
        } else if (!conc__loop_advance(loop)) {
            return NULL;
        }
    }
}
static inline void conc__loop_take(conc_loop_t *loop, conc_handle_t *h) {
    loop->batch = h->next;
    loop->since_poll++;
    conc__handle_free(loop, h);
}

/* Tests: fn(arg) runs in the loop thread each time the loop is about to block in epoll_wait (after
 * it published that it sleeps, so a thread woken by fn that calls conc_call_soon_threadsafe must
 * wake it). NULL removes it. */
CONC_HIDDEN void conc__loop_set_sleep_hook(conc_loop_t *loop, void (*fn)(void *), void *arg);

/* Tests: live + cancelled timers in the heap, and the heap's capacity. */
CONC_HIDDEN size_t conc__loop_timer_count(conc_loop_t *loop, size_t *capacity);

#endif
