/* Creating and freeing a loop, the calling thread's current loop, and the hooks other modules
 * hang on it.
 *
 * Freeing drops what is still pending (ready callbacks, remote ones, timers) without running it,
 * as closing an asyncio loop does, after the on-free hooks have had their say. It also waits until
 * no other thread is still inside one of the loop's thread-safe calls: a thread that pushed a
 * callback the loop already ran may not have returned from conc_call_soon_threadsafe yet. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/loop.h"

__thread conc_loop_t *conc__current_loop;

conc_loop_t *conc_loop_current(void) {
    return conc__current_loop;
}

double conc_loop_time(conc_loop_t *loop) {
    (void)loop;
    return conc_monotonic();
}

conc_loop_t *conc_loop_new(void) {
    conc_loop_t *loop = calloc(1, sizeof *loop);
    if (!loop) return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    loop->intr_fd = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = CONC__EFD_TOKEN};
    if (loop->epfd < 0 || loop->efd < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->efd, &ev)) {
        int saved = errno;
        if (loop->epfd >= 0) close(loop->epfd);
        if (loop->efd >= 0) close(loop->efd);
        free(loop);
        errno = saved;
        return NULL;
    }
    return loop;
}

int conc__loop_on_free(conc_loop_t *loop, void (*fn)(conc_loop_t *, void *), void *arg) {
    struct conc__loop_hook *h = malloc(sizeof *h);
    if (!h) return -ENOMEM;
    h->fn = fn;
    h->arg = arg;
    h->next = loop->on_free;
    loop->on_free = h;
    return 0;
}

void conc__loop_set_sleep_hook(conc_loop_t *loop, void (*fn)(void *), void *arg) {
    loop->sleep_hook = fn;
    loop->sleep_hook_arg = arg;
}

static void free_chain(conc_handle_t *h) {
    while (h) {
        conc_handle_t *next = h->next;
        free(h);
        h = next;
    }
}

void conc_loop_free(conc_loop_t *loop) {
    if (!loop) return;
    if (conc__load(&loop->running)) return; /* freeing a running loop: refuse rather than crash */
    while (loop->on_free) {
        struct conc__loop_hook *h = loop->on_free;
        loop->on_free = h->next;
        h->fn(loop, h->arg);
        free(h);
    }
    __atomic_store_n(&loop->freeing, 1, __ATOMIC_SEQ_CST);
    __atomic_or_fetch(&loop->inflight, CONC__INFLIGHT_FREEING, __ATOMIC_SEQ_CST);
    for (uint32_t n;
         (n = __atomic_load_n(&loop->inflight, __ATOMIC_SEQ_CST)) != CONC__INFLIGHT_FREEING;)
        conc__wait_nointr(&loop->inflight, n, INFINITY, false);
    free_chain(loop->ready_head);
    free_chain(conc__xchg(&loop->remote, NULL));
    free_chain(loop->free_list);
    conc__timers_free(loop);
    free(loop->watchers);
    close(loop->epfd);
    close(loop->efd);
    free(loop);
}
