/* File-descriptor watchers: the loop's epoll set, minimal for now (the I/O layer builds on it).
 *
 * Watchers live in a table indexed by fd, and the epoll data of a registration is (generation <<
 * 32 | fd). A callback that unwatches another fd - or unwatches, closes and re-watches a reused
 * fd number - while events of the same epoll_wait batch are still to be dispatched cannot get a
 * stale event delivered: an unused slot or a different generation drops it (libuv scans the batch
 * instead, uv__platform_invalidate_fd). Level-triggered, as asyncio's selectors. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "../internal/loop.h"

static uint32_t to_epoll(unsigned events) {
    return (events & CONC__IO_READ ? EPOLLIN : 0) | (events & CONC__IO_WRITE ? EPOLLOUT : 0);
}

static int grow(conc_loop_t *loop, int fd) {
    if (fd < loop->capwatch) return 0;
    int cap = loop->capwatch ? loop->capwatch : 64;
    while (cap <= fd) cap *= 2;
    struct conc__watcher *w = realloc(loop->watchers, (size_t)cap * sizeof *w);
    if (!w) return -ENOMEM;
    memset(w + loop->capwatch, 0, (size_t)(cap - loop->capwatch) * sizeof *w);
    loop->watchers = w;
    loop->capwatch = cap;
    return 0;
}

int conc__loop_watch(conc_loop_t *loop, int fd, unsigned events,
                     void (*cb)(void *arg, int fd, unsigned events), void *arg) {
    if (fd < 0) return -EBADF;
    events &= CONC__IO_READ | CONC__IO_WRITE;
    if (!events || !cb) return -EINVAL;
    if (grow(loop, fd) < 0) return -ENOMEM;
    struct conc__watcher *w = &loop->watchers[fd];
    bool add = w->events == 0;
    if (add || w->events != events) {
        uint32_t gen = add ? w->gen + 1 : w->gen;
        struct epoll_event ev = {.events = to_epoll(events),
                                 .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd};
        if (epoll_ctl(loop->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0) return -errno;
        w->gen = gen;
    }
    if (add) loop->nwatching++;
    w->events = events;
    w->cb = cb;
    w->arg = arg;
    return 0;
}

int conc__loop_unwatch(conc_loop_t *loop, int fd) {
    if (fd < 0 || fd >= loop->capwatch || loop->watchers[fd].events == 0) return -ENOENT;
    /* the fd may be closed already (then the kernel dropped it): nothing to report */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->watchers[fd].events = 0;
    loop->watchers[fd].cb = NULL;
    loop->nwatching--;
    return 0;
}

void conc__io_dispatch(conc_loop_t *loop, uint64_t data, uint32_t ev) {
    int fd = (int)(uint32_t)data;
    if (fd >= loop->capwatch) return;
    struct conc__watcher *w = &loop->watchers[fd];
    if (w->events == 0 || w->gen != (uint32_t)(data >> 32)) return;
    unsigned ready = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) ready |= CONC__IO_READ;
    if (ev & EPOLLOUT) ready |= CONC__IO_WRITE;
    if (ev & (EPOLLERR | EPOLLHUP)) ready |= CONC__IO_READ | CONC__IO_WRITE;
    ready &= w->events;
    /* the callback may watch more fds and move the table: copy out first */
    void (*cb)(void *, int, unsigned) = w->cb;
    if (ready) cb(w->arg, fd, ready);
}
