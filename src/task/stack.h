/* Task stacks: mmap'd, with a guard region below, recycled through a per-thread cache. */
#ifndef CONC_TASK_STACK_H
#define CONC_TASK_STACK_H

#include <stddef.h>
#include "../internal/base.h"

#define CONC__STACK_DEFAULT (256u * 1024u) /* documented in conc/task.h */
#define CONC__STACK_MIN     (16u * 1024u)
#define CONC__STACK_GUARD   (16u * 1024u)

struct conc__stack {
    void *map;   /* the whole mapping: [map, lo) is the guard region */
    void *lo;    /* lowest usable byte; the stack grows down from lo + size */
    size_t size; /* usable bytes */
};

/* Map a stack of at least size usable bytes (0: the default), rounded up to whole pages and to
 * CONC__STACK_MIN. Returns 0 or -ENOMEM. */
CONC_HIDDEN int conc__stack_alloc(struct conc__stack *s, size_t size);
/* Give a stack back: to this thread's cache if there is room, else to the kernel. */
CONC_HIDDEN void conc__stack_free(struct conc__stack *s);
/* Usable size conc__stack_alloc would give for a request (0: the default). */
CONC_HIDDEN size_t conc__stack_round(size_t size);

#endif
