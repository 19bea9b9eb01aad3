/* A fiber: a context (ctx.h) on a guarded stack (stack.h), switched with the annotations the
 * sanitizers need, so AddressSanitizer knows which stack is live and ThreadSanitizer keeps a
 * separate shadow call stack and happens-before clock per fiber. Tasks are built on fibers; the
 * thread's own stack is a fiber too (conc__fiber_thread), the one the event loop runs on. */
#ifndef CONC_TASK_FIBER_H
#define CONC_TASK_FIBER_H

#include <stdbool.h>
#include "ctx.h"
#include "stack.h"

struct conc__fiber {
    conc__ctx_t ctx;
    struct conc__stack stack; /* zeroed for a thread's own fiber */
    const char *name;         /* for the stack overflow report; NULL: "Task-<id>" */
    unsigned long long id;
    void (*entry)(void *arg);
    void *arg;
    /* AddressSanitizer: the fake stack of a suspended fiber, and the bounds of the stack (for a
     * thread's fiber, learnt at the first switch away from it). */
    void *asan_fake;
    const void *asan_lo;
    size_t asan_size;
    void *tsan; /* ThreadSanitizer's fiber handle */
};

/* The fiber running on this thread, NULL until the thread first switches to a fiber. Read by the
 * SIGSEGV handler to tell a task's stack overflow from any other crash. */
CONC_HIDDEN extern __thread struct conc__fiber *conc__fiber_running;

/* This thread's own fiber (its original stack), set up on first use together with an alternate
 * signal stack, so a task overflowing its stack can still be reported. */
CONC_HIDDEN struct conc__fiber *conc__fiber_thread(void);

/* Prepare f to run entry(arg) on a new stack of stack_size bytes (0: the default) at the first
 * switch to it. entry must end with conc__fiber_exit. name must outlive the fiber. Returns 0 or
 * -ENOMEM. */
CONC_HIDDEN int conc__fiber_init(struct conc__fiber *f, size_t stack_size, const char *name,
                                 void (*entry)(void *arg), void *arg);
/* The same on a stack the caller mapped (tests lay out memory around it); the fiber owns it. */
CONC_HIDDEN void conc__fiber_init_stack(struct conc__fiber *f, const struct conc__stack *s,
                                        const char *name, void (*entry)(void *arg), void *arg);
/* Free the stack of a fiber that is not running (it ended, or never started). */
CONC_HIDDEN void conc__fiber_destroy(struct conc__fiber *f);

/* Suspend from (the running fiber) and run to; returns when something switches back to from. */
CONC_HIDDEN void conc__fiber_switch(struct conc__fiber *from, struct conc__fiber *to);
/* The last switch away from a fiber whose entry has finished; to then destroys it. */
CONC_HIDDEN _Noreturn void conc__fiber_exit(struct conc__fiber *from, struct conc__fiber *to);

/* Install the SIGSEGV/SIGBUS handler that reports task stack overflows (once per process). */
CONC_HIDDEN void conc__overflow_install(void);
/* Give this thread an alternate signal stack if it has none (once per thread). */
CONC_HIDDEN int conc__overflow_altstack(void);

#endif
