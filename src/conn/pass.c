/* Handing a Connection to a child (see internal/pass.h): the socket travels as an fd, the limit and
 * direction as 12 bytes. The child's Connection shares the socket with the parent's, like a Python
 * Connection pickled for a child (DupFd): whoever reads a frame first gets it. Having no read-ahead
 * buffer (see conn.c) is what makes this exact; only a frame that is half-read right now cannot
 * travel (-EBUSY), since the child would start reading in its middle. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "../internal/conn.h"
#include "../internal/pass.h"

struct wire {
    uint64_t max;
    uint32_t mode;
};

static int conn_export(void *obj, int *fds, size_t *nfds, void *buf, size_t *len) {
    conc_conn_t *c = obj;
    if (!c || *nfds < 1 || *len < sizeof(struct wire)) return -EINVAL;
    if (conc_lock_acquire(&c->recv, 0) < 0) return -EBUSY;
    bool mid = c->hdr_have || c->msg;
    conc_lock_release(&c->recv);
    if (mid) return -EBUSY;
    struct wire w = {__atomic_load_n(&c->max, __ATOMIC_RELAXED), c->mode};
    fds[0] = c->fd;
    *nfds = 1;
    memcpy(buf, &w, sizeof w);
    *len = sizeof w;
    return 0;
}

static void *conn_import(const int *fds, size_t nfds, const void *buf, size_t len) {
    struct wire w;
    conc_conn_t *c = NULL;
    if (nfds == 1 && len == sizeof w) {
        memcpy(&w, buf, sizeof w);
        if (w.max && w.mode && !(w.mode & ~(CONC__CONN_READ | CONC__CONN_WRITE)))
            c = conc__conn_new(fds[0], w.mode, (size_t)w.max);
    }
    if (!c) /* the fds are ours now */
        for (size_t i = 0; i < nfds; i++) close(fds[i]);
    return c;
}

CONC_HIDDEN const conc__passer_t conc__conn_passer = {CONC_OBJ_KIND_CONN, conn_export, conn_import};
