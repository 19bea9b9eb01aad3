/* What the files of src/executor share: the executor object and the internal thread-pool calls
 * the loop's to_thread/run_in_executor use. */
#ifndef CONC_EXECUTOR_EXECUTOR_H
#define CONC_EXECUTOR_EXECUTOR_H

#include <stdint.h>
#include "conc/executor.h"
#include "../internal/base.h"

struct conc_executor {
    const conc_executor_ops_t *ops;
    void *impl;
    uint32_t closed;   /* atomic: shutdown began */
    uint32_t entering; /* atomic: submits between their closed check and the backend */
    /* Optional (the process pool): fs[0..n-1] as batches of `step` tasks (the last one shorter)
     * in one call, as n/step submits would be - a map takes the pool's lock and wakes its workers
     * once, not once per chunk. Each future's argument is conc__work_arg(fs[i]). */
    int (*submit_chunks)(void *impl, const char *name, size_t n, size_t step,
                         conc_future_t *const *fs);
    /* Optional (the process pool): the waiter every future gets as it is made, while its memory
     * is in the cache - not in a pass of its own over a map's megabytes of futures. */
    const conc_work_waiter_t *waiter;
    void *waiter_ctx;
};

/* A fresh pending future owning a copy of arg (in *copy), with one extra reference for the
 * backend. NULL on ENOMEM. */
CONC_HIDDEN conc_future_t *conc__work_future(const void *arg, size_t len, conc_bytes_t *copy);

/* A map's block of futures (slab.c): the futures follow the header, each freed by an unref. */
struct conc__slab {
    _Alignas(16) uint32_t refs; /* the futures after it are aligned as malloc's would be */
    uint32_t cacheable;
};
CONC_HIDDEN struct conc__slab *conc__slab_new(size_t bytes, uint32_t refs); /* NULL: ENOMEM */
CONC_HIDDEN void conc__slab_unref(struct conc__slab *s);

/* The copied argument a future made by the executor layer carries. */
CONC_HIDDEN conc_bytes_t conc__work_arg(conc_future_t *f);

/* Where a backend copies a result of len bytes for conc_work_finish: room inside f's own block
 * for a small one (no allocation, nothing to free), else malloc'd. NULL on ENOMEM. */
CONC_HIDDEN void *conc__work_result_buf(conc_future_t *f, size_t len);

/* Thread pool: run fn(arg) and complete f with its return value as the result (no bytes). */
CONC_HIDDEN int conc__thread_pool_call(conc_executor_t *ex, void *(*fn)(void *), void *arg,
                                       conc_future_t **f);
CONC_HIDDEN unsigned conc__default_workers(void); /* min(32, cores + 4) */

#endif
