/* conc/conn.h - Pipe and Connection: framed byte messages, in Python's multiprocessing.connection
 * framing (a 4-byte big-endian signed length; -1 then an 8-byte length for larger frames), so a
 * Python Connection wrapping the other end of the socket talks to it unchanged.
 *
 * A Connection is one end of an AF_UNIX stream socketpair (close-on-exec), with no read-ahead: a
 * recv reads exactly one frame, so conc_conn_fd is readable in poll/epoll exactly when a message
 * (or EOF) has begun to arrive, and an end handed to a child shares nothing with the parent but
 * the socket. Threads: concurrent sends never interleave their frames (a send lock), concurrent
 * recvs each get whole messages; closing an end while another thread is inside a call on it is an
 * error, as with any fd. Blocking calls return -EINTR in the main thread on SIGINT (after
 * conc_init); a send that has put part of its frame on the wire finishes it first (a torn frame
 * would leave the peer reading garbage). A frame cut short by the peer's death is CONC_ECLOSED, like
 * a clean EOF; the incomplete message is dropped. A send that exceeds the connection's own limit is
 * -EMSGSIZE; one end of a one-way pipe gives -EBADF for the direction it lacks. */
#ifndef CONC_CONN_H
#define CONC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include "conc/error.h"
#include "conc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

CONC_API int conc_pipe(conc_conn_t **a, conc_conn_t **b,
                       bool duplex); /* duplex false: a receives, b sends */
/* CONC_ECLOSED if the peer is gone (never SIGPIPE); -EMSGSIZE over the limit */
CONC_API int conc_conn_send(conc_conn_t *c, const void *buf, size_t len);
/* *buf is malloc'd, free() it; -ETIMEDOUT; CONC_ECLOSED once the peer is gone and nothing is
 * buffered; CONC_EPROTO for a malformed or oversized frame (the connection is then closed, nothing
 * huge allocated) */
CONC_API int conc_conn_recv(conc_conn_t *c, void **buf, size_t *len, double timeout);
/* 0 if a message (or EOF) is ready - at least its first bytes, as in Python - or -ETIMEDOUT */
CONC_API int conc_conn_poll(conc_conn_t *c, double timeout);
CONC_API int conc_conn_set_max_message(conc_conn_t *c, size_t max); /* default 1 GiB */
CONC_API int conc_conn_fd(conc_conn_t *c); /* for poll/epoll; reading it directly desyncs frames */
CONC_API void conc_conn_close(conc_conn_t *c);

#ifdef __cplusplus
}
#endif
#endif
