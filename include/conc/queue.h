/* conc/queue.h - multiprocessing.Queue, SimpleQueue and JoinableQueue: byte messages between any
 * threads and processes, through a ring in shared memory with futex waits.
 *
 * No pipe and no feeder thread: a put copies the message into the ring before it returns, so its
 * errors reach its caller (CPython's feeder thread loses them, and a dead feeder deadlocks a join:
 * gh-73983). A message too large for the ring goes to a spill area of the same memory file. Every
 * blocking call takes a timeout (-ETIMEDOUT) and returns -EINTR in the main thread on SIGINT (after
 * conc_init). A process SIGKILLed at any point inside put or get leaves the queue usable by the
 * others: a completed put is delivered exactly once, an unfinished one never, and no message is torn.
 *
 * maxsize counts messages (0: no limit); besides it, the ring's bytes bound what is buffered, so an
 * "unbounded" put also waits (within its timeout) while the ring is full - where CPython would
 * buffer without limit in the putting process. close is per process, as in CPython: after it this
 * process's puts are CONC_ECLOSED, and its gets return what is buffered, then CONC_ECLOSED instead
 * of waiting (CPython refuses the gets too). See docs/processes.md. */
#ifndef CONC_QUEUE_H
#define CONC_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include "conc/error.h"
#include "conc/process.h"

typedef struct {
    size_t maxsize;    /* messages, 0 = unbounded */
    size_t ring_bytes; /* 0 = default (1 MiB); rounded up to a power of two, 4 KiB .. 1 GiB */
    bool joinable;
} conc_queue_opts_t;

/* The largest message a queue carries (-EMSGSIZE above): 16 GiB. */
#define CONC_QUEUE_MAX_MESSAGE ((size_t)1 << 34)

#ifdef __cplusplus
extern "C" {
#endif

/* NULL opts: unbounded (SimpleQueue). -EINVAL for a ring_bytes over 1 GiB. */
CONC_API int conc_queue_new(conc_queue_t **q, const conc_queue_opts_t *opts);
/* -ETIMEDOUT when full (queue.Full); CONC_ECLOSED after close; -EMSGSIZE over the maximum */
CONC_API int conc_queue_put(conc_queue_t *q, const void *buf, size_t len, double timeout);
/* *buf is malloc'd (free it); -ETIMEDOUT when empty (queue.Empty); CONC_ECLOSED when empty after
 * close; CONC_EPROTO if the shared ring was scribbled on (nothing is consumed) */
CONC_API int conc_queue_get(conc_queue_t *q, void **buf, size_t *len, double timeout);
CONC_API size_t conc_queue_qsize(conc_queue_t *q);
CONC_API bool conc_queue_empty(conc_queue_t *q);
CONC_API bool conc_queue_full(conc_queue_t *q); /* maxsize reached; always false with no maxsize */
/* joinable only (-EINVAL otherwise); -EOVERFLOW if more than were put */
CONC_API int conc_queue_task_done(conc_queue_t *q);
/* until every item put has been task_done; -EINVAL if not joinable */
CONC_API int conc_queue_join(conc_queue_t *q, double timeout);
CONC_API void conc_queue_close(conc_queue_t *q); /* this process puts no more */
CONC_API void conc_queue_free(conc_queue_t *q);

#ifdef __cplusplus
}
#endif
#endif
