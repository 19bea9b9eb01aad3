/* The I/O layer's insides (src/net): per-loop state, waiting for fds in tasks, the stream layout.
 *
 * Everything here runs on the loop's thread. A task waiting for I/O parks in a "slot" (a task
 * pointer kept by what it waits on: an fd's reader or writer, a stream's reader or writer): the
 * loop's fd callback empties the slot and wakes the task; a cancellation or deadline empties it
 * through the park's detach. One task per slot: a second waiter gets -EBUSY. */
#ifndef CONC_INTERNAL_NET_H
#define CONC_INTERNAL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include "conc/net.h"
#include "conc/aio.h"
#include "loop.h"
#include "task.h"

#define CONC__FDW_CHUNK 256
struct conc__fdw {
    conc_task_t *rd, *wr;
};

struct conc__net {
    conc_loop_t *loop;
    struct conc__fdw **chunks; /* waiters of conc_wait_readable/_writable, by fd (fdwait.c) */
    int nchunks;
    struct conc_stream *closing; /* closed streams still sending what they buffered */
    struct conc__sigh *sigs;     /* loop signal handlers (signal.c) */
    int sigfd;
};

/* The loop's I/O state, created on first use (NULL: ENOMEM). Freed with the loop: first every
 * task still running is cancelled and run to its end, then closing streams are closed. */
CONC_HIDDEN struct conc__net *conc__net_of(conc_loop_t *loop);
CONC_HIDDEN void conc__net_sig_free(struct conc__net *net); /* signal.c */

/* conc__loop_watch, also when fd was closed and its number reused behind the loop's back. */
CONC_HIDDEN int conc__net_watch(conc_loop_t *loop, int fd, unsigned events,
                                void (*cb)(void *, int, unsigned), void *arg);

/* Park the running task in *slot until conc__slot_wake (its code), the deadline (-ETIMEDOUT) or a
 * cancellation (-ECANCELED, marks the task). -EBUSY if the slot is taken, -EPERM outside a task. */
CONC_HIDDEN int conc__slot_wait(conc_task_t **slot, double deadline);
CONC_HIDDEN void conc__slot_wake(conc_task_t **slot, int code);
/* The running task, if it runs on loop; else NULL (and the caller returns -EPERM). */
CONC_HIDDEN conc_task_t *conc__net_task(conc_loop_t *loop);

/* Wait for fd readiness (one direction) on the running task's loop. */
CONC_HIDDEN int conc__fd_wait(int fd, unsigned events, double deadline);
CONC_HIDDEN void conc__fd_forget(conc_loop_t *loop, int fd);

struct conc_stream {
    conc_loop_t *loop;
    int fd;
    bool is_sock;
    bool closing;     /* close started: no more reading, flushing then closing the fd */
    bool user_closed; /* the user's reference was dropped by conc_stream_close/abort */
    unsigned refs;    /* the user's, a server's client task's */
    unsigned armed;   /* events watched */
    /* reading: bytes [rpos, rlen) of rbuf; at most maxbuf() bytes are read ahead */
    char *rbuf;
    size_t rpos, rlen, rcap, limit;
    bool eof;
    int rerr;
    conc_task_t *reader;
    /* writing: bytes [wpos, wlen) of wbuf */
    char *wbuf;
    size_t wpos, wlen, wcap, high, low;
    bool wpaused, weof_pending, weof_done;
    int werr;
    conc_task_t *writer;
    struct conc_stream *cnext, *cprev; /* the loop's closing list */
};

CONC_HIDDEN int conc__stream_new(conc_loop_t *loop, int fd, bool is_sock, conc_stream_t **s);
CONC_HIDDEN void conc__stream_update(conc_stream_t *s); /* re-arm the watcher */
CONC_HIDDEN void conc__stream_begin_close(conc_stream_t *s);
CONC_HIDDEN void conc__stream_unref(conc_stream_t *s);
CONC_HIDDEN void conc__stream_finish(conc_stream_t *s); /* close the fd now, free if unused */
CONC_HIDDEN void conc__stream_close_fd(conc_stream_t *s);
/* Streams read ahead at most this much (twice the limit, as asyncio pauses reading). */
static inline size_t conc__stream_maxbuf(const conc_stream_t *s) {
    return s->limit * 2 < 64 ? 64 : s->limit * 2;
}

#endif
