/* conc/conn.h - Pipe and Connection: framed byte messages, in Python's multiprocessing.connection
 * framing (a 4-byte big-endian signed length; -1 then an 8-byte length for larger frames), so a
 * Python Connection wrapping the other end of the socket talks to it unchanged. */
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
CONC_API int conc_conn_poll(conc_conn_t *c,
                            double timeout); /* 0 if a message (or EOF) is ready, -ETIMEDOUT */
CONC_API int conc_conn_set_max_message(conc_conn_t *c, size_t max); /* default 1 GiB */
CONC_API int conc_conn_fd(conc_conn_t *c);
CONC_API void conc_conn_close(conc_conn_t *c);

#ifdef __cplusplus
}
#endif
#endif
