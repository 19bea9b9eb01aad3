/* The executor interface: what every pool shares - closing, copying arguments, the futures and the
 * bytes they own, map's chunks - in front of a backend (thread.c, process.c, conc-mpi) that only
 * runs tasks.
 *
 * One allocation per task holds the future, the copied argument and the result's conc_bytes_t
 * (the block is the future's destructor context), so it lives exactly as long as somebody can
 * read the result. The backend holds a reference to each future it was given until conc_work_finish, so a
 * caller may release a future it no longer wants while its work still runs.
 *
 * Submits and shutdown do not share a lock: a submit announces itself in `entering` and then checks
 * `closed`; shutdown sets `closed` and waits for `entering` to drain. Either the submit sees the
 * flag, or shutdown sees the submit and waits for it to have reached the backend (which then
 * cancels or runs it, as concurrent.futures' shutdown lock guarantees). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "conc/executor.h"
#include "../internal/future.h"
#include "executor.h"

/* What each task's future carries after it: the result the future owns, the copied argument,
 * the block of futures it shares (a map's, or NULL) and room for a small result, so a tiny task's
 * answer needs no allocation of its own (conc__work_result_buf). */
struct task_block {
    conc_bytes_t result;
    conc_bytes_t arg;
    struct conc__slab *slab;
    unsigned char small[16];
    unsigned char data[];
};

/* A map's futures, SLAB_TASKS consecutive ones (and their small arguments) to one block (slab.c):
 * a map of many tiny tasks would otherwise spend more on malloc and free than on the tasks. The
 * block goes when its last future does; a future the caller keeps holds at most SLAB_TASKS small
 * arguments with it. */
#define SLAB_TASKS   64
#define SLAB_ARG_MAX 256 /* a larger argument gets a future of its own */

static size_t entry_size(size_t len) {
    return sizeof(conc_future_t) + sizeof(struct task_block) + ((len + 7) & ~(size_t)7);
}

static struct task_block *block_of(conc_future_t *f) {
    return (struct task_block *)(f + 1);
}

static void free_data(struct task_block *b, void *data) {
    if (data != b->small) free(data);
}

/* Only the result bytes are freed here: the block lives in the future's own memory. */
static void block_dtor(void *value, void *ctx) {
    struct task_block *b = ctx;
    if (value) free_data(b, b->result.data);
}

static void slab_dispose(conc_future_t *f) {
    conc__slab_unref(block_of(f)->slab);
}

/* Fill in the block after f, copy the argument, and take the backend's reference. */
static conc_future_t *setup(conc_future_t *f, struct conc__slab *s, const void *arg, size_t len,
                            conc_bytes_t *copy) {
    struct task_block *b = block_of(f);
    b->result = (conc_bytes_t){NULL, 0};
    b->slab = s;
    if (len) memcpy(b->data, arg, len);
    b->arg = (conc_bytes_t){b->data, len};
    if (copy) *copy = b->arg;
    conc__future_set_dtor(f, block_dtor, b);
    f->refs = 2; /* the caller's and the backend's (dropped by conc_work_finish): not shared yet */
    return f;
}

conc_future_t *conc__work_future(const void *arg, size_t len, conc_bytes_t *copy) {
    void *b;
    conc_future_t *f = conc__future_new_with(entry_size(len) - sizeof *f, &b);
    return f ? setup(f, NULL, arg, len, copy) : NULL;
}

conc_bytes_t conc__work_arg(conc_future_t *f) {
    return block_of(f)->arg;
}

void *conc__work_result_buf(conc_future_t *f, size_t len) {
    struct task_block *b = block_of(f);
    return len <= sizeof b->small ? b->small : malloc(len);
}

bool conc_work_start(conc_future_t *f) {
    return conc__future_set_running(f);
}

void conc_work_finish(conc_future_t *f, int rc, void *data, size_t len) {
    struct task_block *b = f->dtor_ctx;
    if (rc == -ECANCELED) {
        free_data(b, data);
        /* a started future refuses cancel: it still ends with -ECANCELED */
        if (!conc_future_cancel(f)) conc_future_set_error(f, -ECANCELED);
    } else if (rc < 0) {
        free_data(b, data);
        conc_future_set_error(f, rc);
    } else {
        b->result = (conc_bytes_t){data, len};
        if (conc_future_set_result(f, &b->result) < 0) {
            free_data(b, data);
            b->result = (conc_bytes_t){NULL, 0};
        }
    }
    conc_future_release(f);
}

int conc_executor_new(conc_executor_t **ex, const conc_executor_ops_t *ops, void *impl) {
    if (!ex || !ops || !ops->submit || !ops->shutdown) return -EINVAL;
    conc_executor_t *e = calloc(1, sizeof *e);
    if (!e) return -ENOMEM;
    e->ops = ops;
    e->impl = impl;
    *ex = e;
    return 0;
}

static int enter(conc_executor_t *ex) {
    conc__add(&ex->entering, 1);
    if (conc__load(&ex->closed)) {
        conc__sub(&ex->entering, 1);
        return CONC_ECLOSED;
    }
    return 0;
}

static void leave(conc_executor_t *ex) {
    conc__sub(&ex->entering, 1);
}

/* Undo futures made but not handed to the backend. */
static void drop(conc_future_t **fs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        conc_future_release(fs[i]); /* the backend's */
        conc_future_release(fs[i]); /* the caller's */
        fs[i] = NULL;
    }
}

/* The futures of args[0..n-1], with ex's waiter: small arguments in shared blocks of SLAB_TASKS,
 * the rest alone. */
static int make(conc_executor_t *ex, const conc_bytes_t *args, size_t n, conc_future_t **fs,
                conc_bytes_t *copies) {
    for (size_t i = 0; i < n; i++)
        if (!args[i].data && args[i].len) return -EINVAL;
    for (size_t i = 0; i < n;) {
        size_t k = 0, bytes = sizeof(struct conc__slab);
        while (i + k < n && k < SLAB_TASKS && args[i + k].len <= SLAB_ARG_MAX)
            bytes += entry_size(args[i + k++].len);
        if (k > 1) {
            struct conc__slab *s = conc__slab_new(bytes, (uint32_t)k);
            if (!s) goto nomem;
            unsigned char *m = (unsigned char *)(s + 1);
            for (size_t j = i; j < i + k; j++) {
                conc_future_t *f = conc__future_init_in(m, slab_dispose);
                fs[j] = setup(f, s, args[j].data, args[j].len, copies ? &copies[j] : NULL);
                if (ex->waiter) conc_work_set_waiter(f, ex->waiter, ex->waiter_ctx);
                m += entry_size(args[j].len);
            }
            i += k;
            continue;
        }
        if (!(fs[i] = conc__work_future(args[i].data, args[i].len, copies ? &copies[i] : NULL)))
            goto nomem;
        if (ex->waiter) conc_work_set_waiter(fs[i], ex->waiter, ex->waiter_ctx);
        i++;
        continue;
    nomem:
        drop(fs, i);
        return -ENOMEM;
    }
    return 0;
}

static int name_of(conc_executor_t *ex, conc_work_fn fn, const char **name) {
    *name = NULL;
    if (!ex->ops->by_name) return 0;
    *name = conc_work_name(fn);
    return *name ? 0 : -ENOENT;
}

int conc_executor_submit(conc_executor_t *ex, conc_work_fn fn, const void *arg, size_t len,
                         conc_future_t **f) {
    if (!ex || !fn || !f || (!arg && len)) return -EINVAL;
    *f = NULL;
    const char *name;
    int r = name_of(ex, fn, &name);
    if (r < 0) return r;
    if ((r = enter(ex)) < 0) return r;
    conc_bytes_t a = {(void *)arg, len}, copy;
    conc_future_t *fut;
    r = make(ex, &a, 1, &fut, &copy);
    if (r == 0) {
        r = ex->ops->submit(ex->impl, fn, name, &copy, 1, &fut);
        if (r < 0)
            drop(&fut, 1);
        else
            *f = fut;
    }
    leave(ex);
    return r;
}

int conc_executor_map(conc_executor_t *ex, conc_work_fn fn, const conc_bytes_t *args, size_t n,
                      size_t chunksize, conc_future_t **fs) {
    if (!ex || !fn || (n && (!args || !fs))) return -EINVAL;
    const char *name;
    int r = name_of(ex, fn, &name);
    if (r < 0) return r;
    if (n == 0) return conc__load(&ex->closed) ? CONC_ECLOSED : 0;
    /* submit_chunks reads the arguments from the futures: no array of n copies to fault in */
    bool each = name && ex->submit_chunks;
    conc_bytes_t *copies = each ? NULL : malloc(n * sizeof *copies);
    if (!each && !copies) return -ENOMEM;
    if ((r = enter(ex)) < 0) {
        free(copies);
        return r;
    }
    r = make(ex, args, n, fs, copies);
    if (r == 0) {
        /* A thread pool takes each argument as its own task: chunks would only delay results. */
        size_t step = !name || chunksize <= 1 ? (name ? 1 : n) : chunksize;
        if (each) {
            r = ex->submit_chunks(ex->impl, name, n, step, fs);
            if (r < 0) drop(fs, n);
        }
        for (size_t i = 0; i < n && !each; i += step) {
            size_t k = n - i < step ? n - i : step;
            r = ex->ops->submit(ex->impl, fn, name, copies + i, k, fs + i);
            if (r < 0) {
                for (size_t j = 0; j < i; j++) {
                    conc_future_cancel(fs[j]);
                    conc_future_release(fs[j]);
                    fs[j] = NULL;
                }
                drop(fs + i, n - i);
                break;
            }
        }
    }
    leave(ex);
    free(copies);
    return r;
}

int conc_executor_shutdown(conc_executor_t *ex, bool wait, bool cancel_futures) {
    if (!ex) return -EINVAL;
    conc__store(&ex->closed, 1);
    while (conc__load(&ex->entering))
        sched_yield(); /* a submit is between its check and the
                                                         backend: a few instructions */
    return ex->ops->shutdown(ex->impl, wait, cancel_futures);
}

void conc_executor_free(conc_executor_t *ex) {
    if (!ex) return;
    conc_executor_shutdown(ex, true, false);
    if (ex->ops->free) ex->ops->free(ex->impl);
    free(ex);
}
