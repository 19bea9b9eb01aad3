/* Connection objects: creation around a socket, the size limit, close, and breaking a connection
 * after a malformed frame.
 *
 * A Connection is a blocking stream socket and nothing else - no read-ahead buffer. Each message is
 * read as exactly its header and then exactly its body, so the socket's readability (what
 * conc_conn_fd hands to poll/epoll, and what conc_wait looks at) always means "the next message has
 * started to arrive", as with a Python Connection, and a Connection handed to a child carries no
 * bytes that only the parent could see. The price is a second recv per message (header, body);
 * round trips are dominated by the wake-up of the other side, not by that syscall. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../internal/conn.h"

conc_conn_t *conc__conn_new(int fd, unsigned mode, size_t max) {
    conc_conn_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->mode = mode;
    c->max = max;
    conc_lock_t init = CONC_LOCK_INIT;
    c->send = init;
    c->recv = init;
    return c;
}

void conc__conn_break(conc_conn_t *c) {
    __atomic_store_n(&c->broken, 1, __ATOMIC_RELEASE);
    shutdown(c->fd, SHUT_RDWR);
    free(c->msg);
    c->msg = NULL;
    c->hdr_have = c->msg_len = c->msg_cap = c->msg_have = 0;
}

int conc_conn_set_max_message(conc_conn_t *c, size_t max) {
    if (!c || max == 0) return -EINVAL;
    __atomic_store_n(&c->max, max, __ATOMIC_RELAXED);
    return 0;
}

int conc_conn_fd(conc_conn_t *c) {
    return c ? c->fd : -EINVAL;
}

void conc_conn_close(conc_conn_t *c) {
    if (!c) return;
    close(c->fd);
    free(c->msg);
    free(c);
}
