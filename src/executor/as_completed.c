/* conc_as_completed: concurrent.futures.as_completed without a generator.
 *
 * C has no generator to hold the iteration, so the calling thread keeps it: an iteration is
 * identified by (fs, n) and lives in a small per-thread table until it has reported every future
 * (CONC_ECLOSED ends it; the next call starts over). At its start a done-callback goes on every
 * future; each one pushes its index onto the iteration's queue (at once for those already done),
 * so every call is O(1) and the futures come out in the order they finished - registering and
 * removing callbacks at every call would make a loop over n futures O(n^2).
 *
 * The callbacks run in whatever thread completes a future, so the queue is under a mutex and the
 * caller sleeps on `seq` (bumped per push). Each registered callback holds a reference to the
 * iteration: one dropped early (evicted, or its thread exited) unregisters what it can, and the
 * callbacks that are already running free it last. The iteration holds a reference to each
 * future, so a caller may release them after breaking out of its loop: an abandoned iteration
 * keeps them until it is evicted or the thread exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "conc/time.h"
#include "executor.h"

#define MAX_ITERS 4

struct iter;
struct slot {
    struct iter *it;
    size_t index;
};

struct iter {
    conc_future_t *const *fs; /* the caller's array: only the key */
    conc_future_t **futs;     /* our copy, one reference each */
    size_t n;
    uint32_t refs;
    uint32_t seq; /* futex word: bumped at each push */
    pthread_mutex_t mu;
    size_t *queue; /* indices of finished futures, in finishing order */
    size_t pushed, popped;
    struct slot *slots;
    uint64_t used; /* for LRU */
};

static __thread struct iter *iters[MAX_ITERS];
static __thread uint64_t use_clock;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void iter_unref(struct iter *it) {
    if (conc__sub(&it->refs, 1)) return;
    pthread_mutex_destroy(&it->mu);
    free(it->queue);
    free(it->slots);
    free(it->futs);
    free(it);
}

static void on_done(conc_future_t *f, void *arg) {
    (void)f;
    struct slot *s = arg;
    struct iter *it = s->it;
    pthread_mutex_lock(&it->mu);
    it->queue[it->pushed++] = s->index;
    pthread_mutex_unlock(&it->mu);
    conc__add(&it->seq, 1);
    conc__futex_wake(&it->seq, 1, false);
    iter_unref(it);
}

/* End an iteration: unregister the callbacks that have not run. */
static void iter_end(struct iter *it) {
    for (size_t i = 0; i < it->n; i++) {
        if (conc_future_remove_done_callback(it->futs[i], on_done, &it->slots[i]) > 0)
            iter_unref(it);
        conc_future_release(it->futs[i]);
    }
    iter_unref(it);
}

static void thread_exit(void *unused) {
    (void)unused;
    for (int i = 0; i < MAX_ITERS; i++) {
        if (iters[i]) iter_end(iters[i]);
        iters[i] = NULL;
    }
}

static void make_key(void) {
    pthread_key_create(&key, thread_exit);
}

static int iter_begin(conc_future_t *const *fs, size_t n, struct iter **out) {
    for (size_t i = 0; i < n; i++)
        if (!fs[i]) return -EINVAL;
    struct iter *it = calloc(1, sizeof *it);
    if (!it) return -ENOMEM;
    it->queue = malloc((n ? n : 1) * sizeof *it->queue);
    it->slots = malloc((n ? n : 1) * sizeof *it->slots);
    it->futs = malloc((n ? n : 1) * sizeof *it->futs);
    if (!it->queue || !it->slots || !it->futs) {
        free(it->queue);
        free(it->slots);
        free(it->futs);
        free(it);
        return -ENOMEM;
    }
    pthread_mutex_init(&it->mu, NULL);
    it->fs = fs;
    it->n = n;
    it->refs = 1;
    for (size_t i = 0; i < n; i++) {
        it->slots[i] = (struct slot){it, i};
        conc__add(&it->refs, 1);
        it->futs[i] = fs[i];
        conc_future_retain(fs[i]);
        int r = conc_future_add_done_callback(fs[i], on_done, &it->slots[i]);
        if (r < 0) {
            conc__sub(&it->refs, 1);
            conc_future_release(fs[i]);
            it->n = i; /* unregister only what was registered */
            iter_end(it);
            return r;
        }
    }
    pthread_once(&key_once, make_key);
    pthread_setspecific(key, (void *)1); /* any non-NULL value makes the destructor run */
    int victim = 0;
    for (int i = 0; i < MAX_ITERS; i++) {
        if (!iters[i]) {
            victim = i;
            break;
        }
        if (iters[i]->used < iters[victim]->used) victim = i;
    }
    if (iters[victim]) iter_end(iters[victim]);
    iters[victim] = it;
    *out = it;
    return 0;
}

int conc_as_completed(conc_future_t *const *fs, size_t n, double timeout, size_t *index) {
    if ((!fs && n) || !index) return -EINVAL;
    double deadline = conc_deadline(timeout);
    int at = -1;
    for (int i = 0; i < MAX_ITERS; i++)
        if (iters[i] && iters[i]->fs == fs && iters[i]->n == n) at = i;
    struct iter *it;
    if (at < 0) {
        int r = iter_begin(fs, n, &it);
        if (r < 0) return r;
        for (int i = 0; i < MAX_ITERS; i++)
            if (iters[i] == it) at = i;
    } else {
        it = iters[at];
    }
    it->used = ++use_clock;
    if (it->popped == n) {
        iters[at] = NULL;
        iter_end(it);
        return CONC_ECLOSED;
    }
    for (;;) {
        uint32_t seq = conc__load(&it->seq);
        pthread_mutex_lock(&it->mu);
        bool have = it->popped < it->pushed;
        if (have) *index = it->queue[it->popped++];
        pthread_mutex_unlock(&it->mu);
        if (have) return 0;
        int r = conc__wait(&it->seq, seq, deadline, false);
        if (r == -EINTR) return r;
        if (r == -ETIMEDOUT) {
            pthread_mutex_lock(&it->mu);
            have = it->popped < it->pushed;
            if (have) *index = it->queue[it->popped++];
            pthread_mutex_unlock(&it->mu);
            return have ? 0 : -ETIMEDOUT;
        }
    }
}
