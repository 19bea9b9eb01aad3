/* conc_pipe: multiprocessing.Pipe over one AF_UNIX stream socketpair.
 *
 * Python uses os.pipe() for a one-way Pipe; a socketpair with the unused directions shut down
 * behaves the same for the user and lets send use MSG_NOSIGNAL (a closed peer is an error code,
 * never SIGPIPE) and both ends share one code path. Close-on-exec: an end reaches a child only when
 * it is handed over explicitly. */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <unistd.h>
#include "../internal/conn.h"

int conc_pipe(conc_conn_t **a, conc_conn_t **b, bool duplex) {
    if (!a || !b) return -EINVAL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    unsigned ma = CONC__CONN_READ | CONC__CONN_WRITE, mb = ma;
    if (!duplex) {
        /* a receives, b sends */
        shutdown(sv[0], SHUT_WR);
        shutdown(sv[1], SHUT_RD);
        ma = CONC__CONN_READ;
        mb = CONC__CONN_WRITE;
    }
    conc_conn_t *ca = conc__conn_new(sv[0], ma, CONC__CONN_DEFAULT_MAX);
    conc_conn_t *cb = ca ? conc__conn_new(sv[1], mb, CONC__CONN_DEFAULT_MAX) : NULL;
    if (!cb) {
        if (ca)
            conc_conn_close(ca);
        else
            close(sv[0]);
        close(sv[1]);
        return -ENOMEM;
    }
    *a = ca;
    *b = cb;
    return 0;
}
