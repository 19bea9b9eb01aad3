/* The inside of conc_thread_t, shared by the files of src/thread (and readable by tests).
 *
 * One object per thread, one malloc each (the name lives in the same block). Three kinds: the main
 * thread (a static object, never freed), threads conc started, and "dummies" standing for threads
 * conc did not start, created the first time such a thread asks for conc_thread_current().
 *
 * Lifetime is a reference count: a started thread is held by the creator's handle and by the
 * running thread itself, whose reference also covers its place in the registry (it leaves the
 * registry before dropping it). A dummy is held by its thread's TLS slot alone. Pointers from
 * conc_thread_current/main/enumerate are borrowed.
 *
 * The pthread is joinable. A join with no timeout calls pthread_join, so the kernel wakes the
 * joiner as the thread exits: a wake-up from the thread itself, a moment earlier, costs a syscall
 * and makes the scheduler preempt the exiting thread for the joiner and switch back, a quarter of
 * a thread's start-up cost on one core. Every other wait - timeouts, a second joiner - sleeps on the
 * futex word below. Whoever frees the object detaches the pthread unless a join reaped it.
 *
 * Waiting is done on one futex word, state: RUNNING once the thread runs (its tid and ident are
 * known), DONE once its function returned. A waiter sets the matching WAIT_ bit before sleeping, so
 * the thread makes the wake-up syscall only when someone is actually asleep: a join that comes
 * after the thread finished, or a thread nobody joins, costs no syscall at all. */
#ifndef CONC_INTERNAL_THREAD_H
#define CONC_INTERNAL_THREAD_H

#include <stddef.h>
#include "conc/thread.h"
#include "base.h"

enum { CONC__THREAD_MAIN, CONC__THREAD_STARTED, CONC__THREAD_DUMMY };

#define CONC__T_RUNNING   1u /* the thread runs: ident is set (tid usually is from the start) */
#define CONC__T_DONE      2u /* its function returned (or, in a fork child, it no longer exists) */
#define CONC__T_WAIT_RUN  4u /* someone sleeps until RUNNING */
#define CONC__T_WAIT_DONE 8u /* someone sleeps until DONE */

struct conc__tlink {
    struct conc__tlink *prev, *next;
};

struct conc_thread {
    struct conc__tlink link; /* place in the registry; under the registry lock */
    uint32_t state;          /* futex word: CONC__T_* bits */
    uint32_t refs;
    pid_t tid;      /* native id; written by creator and thread (atomically), known by RUNNING */
    uint64_t ident; /* pthread_t; written by both creator and thread, atomically */
    uint8_t kind;   /* CONC__THREAD_* */
    bool daemon;
    bool listed;     /* in the registry; under the registry lock */
    bool reaped;     /* its pthread was joined (or, in a fork child, does not exist): atomic */
    uint32_t joiner; /* 1 once a join is in pthread_join (stays 1 when that reaped it) */
    conc_thread_fn fn;
    void *arg;
    void *result; /* fn's return value, published by the DONE bit */
    const char *name;
};

#define conc__thread_of(l) ((conc_thread_t *)((char *)(l)-offsetof(conc_thread_t, link)))

/* current.c */
CONC_HIDDEN extern conc_thread_t conc__main_static;    /* "MainThread" */
CONC_HIDDEN extern __thread conc_thread_t *conc__self; /* this thread's object, if known yet */
/* Fork child: make the forking thread the main thread and return its object. */
CONC_HIDDEN conc_thread_t *conc__current_after_fork(void);

/* thread.c */
/* One block holding the object and its name; name NULL or "" gives "<tmpl>-N". */
CONC_HIDDEN conc_thread_t *conc__thread_alloc(const char *name, const char *tmpl);
CONC_HIDDEN void conc__thread_unref(conc_thread_t *t);
/* Set state bits, waking sleepers who asked for them. */
CONC_HIDDEN void conc__thread_post(conc_thread_t *t, uint32_t bits);

/* registry.c: the list of live threads, with the main thread in it from the start. */
CONC_HIDDEN extern struct conc__tlink conc__reg_head;
CONC_HIDDEN void conc__reg_add(conc_thread_t *t);
CONC_HIDDEN void conc__reg_remove(conc_thread_t *t);
/* A referenced, unfinished, non-daemon started thread other than skip1/skip2, or NULL. */
CONC_HIDDEN conc_thread_t *conc__reg_next_to_join(const conc_thread_t *skip1,
                                                  const conc_thread_t *skip2);

/* shutdown.c: register the exit-time join with atexit (once). */
CONC_HIDDEN void conc__shutdown_register(void);

#endif
