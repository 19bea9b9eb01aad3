/* Waiting in a task for an fd to become readable or writable (conc_wait_readable/_writable, and
 * every conc_sock_* call once its first attempt said EAGAIN).
 *
 * The fd stays registered after a wake-up: a task that reads, gets EAGAIN and waits again (the
 * usual rhythm) costs no epoll_ctl. Interest is dropped lazily, when an event comes that nobody
 * waits for - libuv and asyncio's selector re-arm per wait instead. The loop's watcher table says
 * what is registered (its cb is ours, and its events), so an fd closed and reused behind our back
 * is never mistaken for a live registration of ours. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conc/time.h"
#include "../internal/net.h"

static void fd_ready(void *arg, int fd, unsigned events);
static struct conc__fdw *entry(struct conc__net *net, int fd);

static unsigned armed(conc_loop_t *loop, int fd) {
    if (fd >= loop->capwatch || loop->watchers[fd].cb != fd_ready) return 0;
    return loop->watchers[fd].events;
}

static void fd_ready(void *arg, int fd, unsigned events) {
    struct conc__net *net = arg;
    struct conc__fdw *w = entry(net, fd); /* exists: it was made before the fd was watched */
    unsigned wanted = (w->rd ? CONC__IO_READ : 0) | (w->wr ? CONC__IO_WRITE : 0);
    if (events & CONC__IO_READ) conc__slot_wake(&w->rd, 0);
    if (events & CONC__IO_WRITE) conc__slot_wake(&w->wr, 0);
    if (events & ~wanted) {
        /* nobody waited for that: stop watching it */
        unsigned keep = armed(net->loop, fd) & ~(events & ~wanted);
        if (keep)
            conc__loop_watch(net->loop, fd, keep, fd_ready, net);
        else
            conc__loop_unwatch(net->loop, fd);
    }
}

/* Entries live in chunks of CONC__FDW_CHUNK that never move, since a parked task's slot is a
 * pointer into one. */
static struct conc__fdw *entry(struct conc__net *net, int fd) {
    int c = fd / CONC__FDW_CHUNK;
    if (c >= net->nchunks) {
        int n = net->nchunks ? net->nchunks : 4;
        while (n <= c) n *= 2;
        struct conc__fdw **p = realloc(net->chunks, (size_t)n * sizeof *p);
        if (!p) return NULL;
        memset(p + net->nchunks, 0, (size_t)(n - net->nchunks) * sizeof *p);
        net->chunks = p;
        net->nchunks = n;
    }
    if (!net->chunks[c] && !(net->chunks[c] = calloc(CONC__FDW_CHUNK, sizeof(struct conc__fdw))))
        return NULL;
    return &net->chunks[c][fd % CONC__FDW_CHUNK];
}

int conc__fd_wait(int fd, unsigned events, double deadline) {
    conc_task_t *t = conc__task_running;
    if (!t) return -EPERM;
    if (fd < 0) return -EBADF;
    struct conc__net *net = conc__net_of(t->loop);
    struct conc__fdw *w = net ? entry(net, fd) : NULL;
    if (!w) return -ENOMEM;
    conc_task_t **slot = events == CONC__IO_READ ? &w->rd : &w->wr;
    if (*slot) return -EBUSY;
    unsigned have = armed(t->loop, fd);
    if ((have & events) != events) {
        int r = conc__net_watch(t->loop, fd, have | events, fd_ready, net);
        if (r < 0) return r;
    }
    return conc__slot_wait(slot, deadline);
}

void conc__fd_forget(conc_loop_t *loop, int fd) {
    if (!loop) return;
    if (armed(loop, fd)) conc__loop_unwatch(loop, fd);
}

static double deadline_of(double timeout) {
    return timeout < 0 || isnan(timeout) ? INFINITY : conc_monotonic() + timeout;
}

int conc_wait_readable(int fd, double timeout) {
    return conc__fd_wait(fd, CONC__IO_READ, deadline_of(timeout));
}

int conc_wait_writable(int fd, double timeout) {
    return conc__fd_wait(fd, CONC__IO_WRITE, deadline_of(timeout));
}
