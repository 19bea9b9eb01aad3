/* conc_wait: multiprocessing.connection.wait over connections, processes and queues.
 *
 * Every waitable object comes down to an fd that is readable when the object is ready: a
 * Connection's socket (a frame has begun to arrive, or EOF - a Connection keeps no read-ahead buffer,
 * so nothing can be ready that the socket does not show), a process's sentinel. One ppoll on all of
 * them, interruptible like every blocking call. A Connection broken by a malformed frame is ready at
 * once (its recv returns CONC_ECLOSED without blocking). A queue is ready when it is not empty;
 * its fd (an eventfd its puts write while somebody polls) is only a hint, so a queue is judged by
 * its contents after each wake-up, and a wake-up that found every queue empty sleeps again
 * (src/queue/poll.c).
 *
 * The process branch lives in wait/process.c, the one place this module calls the process API. */
#include <poll.h>
#include <stdlib.h>
#include "../internal/conn.h"
#include "../internal/queue.h"
#include "wait.h"

#define STACK_FDS 16

int conc_wait(const conc_obj_t *objs, size_t n, double timeout, bool *ready) {
    if (n && (!objs || !ready)) return -EINVAL;
    if (n > (size_t)1 << 20) return -EINVAL;
    double deadline = conc_deadline(timeout);
    struct pollfd stack[STACK_FDS], *p = n <= STACK_FDS ? stack : malloc(n * sizeof *p);
    if (!p) return -ENOMEM;
    int r = 0;
    size_t now = 0, seen = 0; /* ready without waiting; objects looked at (queues registered) */
    for (; seen < n && r == 0; seen++) {
        size_t i = seen;
        ready[i] = false;
        p[i] = (struct pollfd){-1, POLLIN, 0};
        if (!objs[i].obj) {
            r = -EINVAL;
            break;
        }
        switch (objs[i].kind) {
        case CONC_OBJ_KIND_CONN: {
            conc_conn_t *c = objs[i].obj;
            if (!(c->mode & CONC__CONN_READ))
                r = -EINVAL;
            else if (__atomic_load_n(&c->broken, __ATOMIC_ACQUIRE))
                ready[i] = true, now++;
            else
                p[i].fd = c->fd;
            break;
        }
        case CONC_OBJ_KIND_PROCESS: {
            int fd = conc__wait_process_fd(objs[i].obj);
            if (fd < 0)
                r = fd;
            else
                p[i].fd = fd;
            break;
        }
        case CONC_OBJ_KIND_QUEUE:
            /* register before looking: a put after the look then writes the fd */
            p[i].fd = conc__queue_poll_begin(objs[i].obj);
            if (conc__queue_readable(objs[i].obj)) ready[i] = true, now++;
            break;
        default: r = -EINVAL; /* shared memory is not waitable */
        }
    }
    while (r == 0) {
        /* Something is ready already: just collect whatever else is, without sleeping. */
        r = conc__wait_fds(p, n, now ? 0 : deadline, true);
        if (r == -ETIMEDOUT && now) r = 0;
        if (r < 0) break;
        r = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i].revents & POLLNVAL) {
                r = -EBADF;
                break;
            }
            if (objs[i].kind == CONC_OBJ_KIND_QUEUE) {
                ready[i] = conc__queue_readable(objs[i].obj);
                if (!ready[i] && p[i].revents) conc__queue_poll_stale(objs[i].obj);
            } else if (p[i].revents) {
                ready[i] = true;
            }
            if (ready[i]) r++;
        }
        /* Only stale queue hints (or a message taken meanwhile): sleep again until the deadline. */
        if (r == 0 && conc_deadline_expired(deadline)) r = -ETIMEDOUT;
        now = 0;
    }
    for (size_t i = 0; i < seen; i++)
        if (objs[i].obj && objs[i].kind == CONC_OBJ_KIND_QUEUE) conc__queue_poll_end(objs[i].obj);
    if (r < 0)
        for (size_t i = 0; i < n; i++) ready[i] = false;
    if (p != stack) free(p);
    return r;
}
