/* The process pool's messages, one frame each on the Pipe between the pool and a worker.
 *
 * pool -> worker: TASKS (a work name and one or more arguments: a map chunk travels as one frame)
 * or STOP. worker -> pool: one RESULT frame per task, in order, sent as each finishes - so when a
 * worker dies mid-chunk the pool knows exactly which task it was running (the first unanswered
 * one) and can hand the rest to another worker; or INIT_FAILED once, when the initializer failed.
 * All integers little-endian as this host (both ends are the same binary on the same machine). */
#ifndef CONC_EXECUTOR_WIRE_H
#define CONC_EXECUTOR_WIRE_H

#include <stdint.h>
#include "../internal/base.h"

#define CONC__W_TASKS       1u
#define CONC__W_STOP        2u
#define CONC__W_RESULT      3u
#define CONC__W_INIT_FAILED 4u

/* TASKS: hdr, name (name_len bytes), then n times { uint64_t len; bytes } */
struct conc__w_tasks {
    uint32_t kind;
    uint32_t n;
    uint32_t name_len;
    uint32_t pad;
};

/* RESULT: hdr then len bytes; INIT_FAILED: hdr with rc, len 0 */
struct conc__w_result {
    uint32_t kind;
    int32_t rc;
    uint64_t len;
};

/* The worker's start argument: { uint32_t max_tasks; initializer name or empty } */
#define CONC__POOL_TARGET "conc.pool_worker"
/* The target (worker.c); registered by process.c's constructor, which every program that makes a
 * process pool links - also in its spawned children, which run the same constructors. */
CONC_HIDDEN int conc__pool_worker(const void *arg, size_t len);

#endif
