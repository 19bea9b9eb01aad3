/* The thread pool: concurrent.futures.ThreadPoolExecutor.
 *
 * A FIFO of tasks under one mutex, and threads started on demand: a submit starts a new thread
 * (up to the maximum) only when more tasks wait than idle threads wait for them, so a pool that
 * is used one task at a time keeps one thread, as CPython's (_adjust_thread_count). Workers are
 * daemon conc threads, so a pool never shut down does not hold up exit; shutdown(wait) joins
 * them. Each worker holds a reference to the pool, so a shutdown without wait followed by free is
 * safe: the last worker to leave frees it.
 *
 * Tasks are either work (bytes in, bytes out: the executor interface) or, for the loop's
 * to_thread, a plain call whose void * becomes the future's result. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "conc/thread.h"
#include "executor.h"

struct item {
    struct item *next;
    conc_future_t *f;
    conc_work_fn fn;       /* work, or NULL for a call */
    conc_bytes_t arg;      /* work */
    void *(*call)(void *); /* call */
    void *call_arg;
};

struct tpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, *tail;
    size_t queued;
    unsigned max, nthreads, idle, joined;
    bool closing;
    uint32_t refs;
    unsigned id;
    conc_thread_t **threads;
};

static uint32_t pool_counter;

static void pool_unref(struct tpool *p) {
    if (conc__sub(&p->refs, 1)) return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}

static void run_item(struct item *it) {
    if (it->fn) {
        if (!conc_work_start(it->f)) {
            conc_work_finish(it->f, -ECANCELED, NULL, 0);
            return;
        }
        conc_bytes_t out = {NULL, 0};
        int rc = it->fn(it->arg.data, it->arg.len, &out);
        conc_work_finish(it->f, rc < 0 ? rc : 0, out.data, out.len);
    } else {
        if (conc_work_start(it->f)) conc_future_set_result(it->f, it->call(it->call_arg));
        conc_future_release(it->f);
    }
}

static void cancel_item(struct item *it) {
    if (it->fn) {
        conc_work_finish(it->f, -ECANCELED, NULL, 0);
    } else {
        conc_future_cancel(it->f);
        conc_future_release(it->f);
    }
    free(it);
}

static void *worker(void *arg) {
    struct tpool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->closing) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
        }
        struct item *it = p->head;
        if (!it) break; /* closing, and nothing left to run */
        p->head = it->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        run_item(it);
        free(it);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    pool_unref(p);
    return NULL;
}

/* Under the lock: queue the items, then start a thread if they outnumber the idle ones. */
static int enqueue_locked(struct tpool *p, struct item *first, struct item *last, size_t n) {
    if (p->closing) return CONC_ECLOSED;
    if (p->tail)
        p->tail->next = first;
    else
        p->head = first;
    p->tail = last;
    p->queued += n;
    if (p->queued > p->idle && p->nthreads < p->max) {
        char name[48];
        snprintf(name, sizeof name, "ThreadPoolExecutor-%u_%u", p->id, p->nthreads);
        conc_thread_opts_t o = {.name = name, .daemon = true};
        conc__add(&p->refs, 1);
        int r = conc_thread_start(&p->threads[p->nthreads], worker, p, &o);
        if (r == 0)
            p->nthreads++;
        else
            conc__sub(&p->refs, 1);
        /* With no thread at all the tasks could never run: give them back. */
        if (r < 0 && p->nthreads == 0) {
            p->head = p->tail = NULL;
            p->queued = 0;
            return r;
        }
    }
    if (p->idle) {
        if (n == 1)
            pthread_cond_signal(&p->cv);
        else
            pthread_cond_broadcast(&p->cv);
    }
    return 0;
}

static int tp_submit(void *impl, conc_work_fn fn, const char *name, const conc_bytes_t *args,
                     size_t n, conc_future_t *const *fs) {
    (void)name;
    struct tpool *p = impl;
    struct item *first = NULL, *last = NULL;
    for (size_t i = 0; i < n; i++) {
        struct item *it = malloc(sizeof *it);
        if (!it) {
            while (first) {
                struct item *next = first->next;
                free(first);
                first = next;
            }
            return -ENOMEM;
        }
        *it = (struct item){.f = fs[i], .fn = fn, .arg = args[i]};
        if (last)
            last->next = it;
        else
            first = it;
        last = it;
    }
    pthread_mutex_lock(&p->mu);
    int r = enqueue_locked(p, first, last, n);
    pthread_mutex_unlock(&p->mu);
    if (r < 0) {
        while (first) {
            struct item *next = first->next;
            free(first);
            first = next;
        }
    }
    return r;
}

static int tp_shutdown(void *impl, bool wait, bool cancel_futures) {
    struct tpool *p = impl;
    struct item *cancelled = NULL;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    if (cancel_futures) {
        cancelled = p->head;
        p->head = p->tail = NULL;
        p->queued = 0;
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    while (cancelled) {
        struct item *next = cancelled->next;
        cancel_item(cancelled);
        cancelled = next;
    }
    if (!wait) return 0;
    /* No thread starts once closing is set, so nthreads is final. */
    conc_thread_t *self = conc_thread_current();
    int r = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        conc_thread_t *t = p->joined < p->nthreads ? p->threads[p->joined] : NULL;
        if (t) p->threads[p->joined++] = NULL;
        pthread_mutex_unlock(&p->mu);
        if (!t) break;
        if (t == self) {
            r = -EDEADLK; /* shutdown from one of the pool's own tasks: it cannot wait for itself */
        } else {
            int j;
            while ((j = conc_thread_join(t, CONC_FOREVER, NULL)) == -EINTR) r = -EINTR;
        }
        conc_thread_release(t);
    }
    return r == -EDEADLK ? 0 : r;
}

static void tp_free(void *impl) {
    pool_unref(impl);
}

static const conc_executor_ops_t thread_ops = {
    .submit = tp_submit, .shutdown = tp_shutdown, .free = tp_free, .by_name = false};

unsigned conc__default_workers(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    return n + 4 < 32 ? (unsigned)n + 4 : 32;
}

int conc_thread_pool_new(conc_executor_t **ex, unsigned workers) {
    if (!ex) return -EINVAL;
    *ex = NULL;
    if (workers == 0) workers = conc__default_workers();
    struct tpool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->threads = calloc(workers, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->max = workers;
    p->refs = 1;
    p->id = __atomic_fetch_add(&pool_counter, 1, __ATOMIC_RELAXED);
    int r = conc_executor_new(ex, &thread_ops, p);
    if (r < 0) pool_unref(p);
    return r;
}

int conc__thread_pool_call(conc_executor_t *ex, void *(*fn)(void *), void *arg, conc_future_t **f) {
    if (ex->ops != &thread_ops) return -EINVAL;
    struct tpool *p = ex->impl;
    struct item *it = malloc(sizeof *it);
    conc_future_t *fut = conc_future_new();
    if (!it || !fut) {
        free(it);
        conc_future_release(fut);
        return -ENOMEM;
    }
    /* as conc_executor_submit (executor.c): announce, then check closed */
    conc__add(&ex->entering, 1);
    int r = conc__load(&ex->closed) ? CONC_ECLOSED : 0;
    conc_future_retain(fut); /* the worker's */
    *it = (struct item){.f = fut, .call = fn, .call_arg = arg};
    if (r == 0) {
        pthread_mutex_lock(&p->mu);
        r = enqueue_locked(p, it, it, 1);
        pthread_mutex_unlock(&p->mu);
    }
    conc__sub(&ex->entering, 1);
    if (r < 0) {
        free(it);
        conc_future_release(fut);
        conc_future_release(fut);
        return r;
    }
    *f = fut;
    return 0;
}
