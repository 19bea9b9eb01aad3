/* conc-mpi: an executor whose workers are MPI ranks, on this machine or across a cluster.
 *
 * Two ways to get workers, as mpi4py.futures: static (`mpirun -n N prog`: rank 0 returns from
 * conc_mpi_init and drives, ranks 1..N-1 serve inside it) and spawn (MPI_Comm_spawn of this same
 * program from a plain run; the children serve the parent intercommunicator). The static mode is
 * the robust one - spawn is often disabled on clusters - so it is the default.
 *
 * Protocol: one task batch in flight per worker, as mpi4py (one message out, one RESULT back per
 * task, so a dead rank points at its task). Work is found by its CONC_WORK name: every rank runs
 * the same binary. A rank polls with MPI_Improbe and a backoff (spins for 1 ms after the last
 * message, then sleeps growing to 1 ms) rather than a blocking receive: Open MPI's blocking receive
 * spins at 100% CPU, which N idle workers on a shared machine cannot afford (mpi4py#419).
 *
 * On the driver, the thread waiting for a result fetches it itself (the executor's waiter hook),
 * as a bare send+recv pair does: a progress thread that receives it and then wakes the waiter
 * costs a futex wake and a scheduler round, ten times the whole exchange on a VM. A manager
 * thread covers everything else (futures nobody waits on, done-callbacks, shutdown).
 *
 * A dead worker rank: MPI itself (without ULFM) never reports it - a receive from it just never
 * completes. Each worker sends its pid and host name first; for a worker on this host the driver
 * watches a pidfd, and a rank whose process ended fails its task with CONC_EBROKEN and leaves the
 * pool (unlike the process pool it cannot be replaced). mpirun must not abort the job when a rank
 * dies: run with `--enable-recovery` (or OMPI_MCA_orte_enable_recovery=1). A rank on another host
 * that dies is not detected (docs/executors.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <mpi.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "conc/executor.h"
#include "conc/signal.h"
#include "conc/thread.h"

#define TAG_HELLO  11
#define TAG_TASKS  12
#define TAG_RESULT 13
#define TAG_STOP   14

struct hello {
    int32_t pid;
    char host[64];
};

struct result_hdr {
    int32_t rc;
    uint32_t pad;
    uint64_t len;
};

/* A rank died: Open MPI (without ULFM) cannot finalize a job with a dead member - MPI_Finalize's
 * fence then waits forever - so after a death nobody finalizes; the processes just exit, and
 * mpirun reports that they did not finalize. */
static bool lost_rank;
static int saved_argc;
static char **saved_argv;
static bool static_used;

/* ---- shared: polling with backoff ---- */

struct backoff {
    double since; /* last activity */
    long sleep_ns;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void backoff_reset(struct backoff *b) {
    b->since = now_s();
    b->sleep_ns = 10000;
}

/* For 1 ms after the last message: spin, as MPI's own blocking receive does (a warm exchange
 * answers well within it; a yield or the shortest nanosleep - ~60 us of timer slack - would cost
 * a scheduler round on a busy machine); then sleep, doubling up to 1 ms, so idle ranks cost
 * nothing. */
static void backoff_wait(struct backoff *b) {
    if (now_s() - b->since < 1e-3) return;
    struct timespec ts = {0, b->sleep_ns};
    nanosleep(&ts, NULL);
    if (b->sleep_ns < 1000000) b->sleep_ns *= 2;
}

/* Receive one message of any size from src with tag (blocking via Iprobe + backoff). */
static int recv_any(MPI_Comm comm, int src, int *tag, void **buf, int *len, int *from) {
    struct backoff bo;
    backoff_reset(&bo);
    MPI_Status st;
    MPI_Message msg;
    for (;;) {
        int flag = 0;
        if (MPI_Improbe(src, MPI_ANY_TAG, comm, &flag, &msg, &st) != MPI_SUCCESS) return -EIO;
        if (flag) break;
        backoff_wait(&bo);
    }
    MPI_Get_count(&st, MPI_BYTE, len);
    *buf = malloc(*len ? (size_t)*len : 1);
    if (!*buf) return -ENOMEM;
    MPI_Mrecv(*buf, *len, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    *tag = st.MPI_TAG;
    if (from) *from = st.MPI_SOURCE;
    return 0;
}

/* ---- the worker side ---- */

static void send_result(MPI_Comm comm, int driver, int rc, const void *data, size_t len) {
    size_t total = sizeof(struct result_hdr) + len;
    unsigned char small[256]; /* a tiny result goes out without an allocation */
    unsigned char *m = total <= sizeof small ? small : malloc(total);
    struct result_hdr h = {rc, 0, len};
    if (!m) {
        h = (struct result_hdr){-ENOMEM, 0, 0};
        MPI_Send(&h, sizeof h, MPI_BYTE, driver, TAG_RESULT, comm);
        return;
    }
    memcpy(m, &h, sizeof h);
    if (len) memcpy(m + sizeof h, data, len);
    MPI_Send(m, (int)total, MPI_BYTE, driver, TAG_RESULT, comm);
    if (m != small) free(m);
}

/* TASKS: uint32 n, uint32 name_len, name, n x { uint64 len, bytes } */
static void run_tasks(MPI_Comm comm, int driver, const unsigned char *m, size_t len) {
    uint32_t n, nlen;
    if (len < 8) return;
    memcpy(&n, m, 4);
    memcpy(&nlen, m + 4, 4);
    size_t off = 8;
    if (nlen > 255 || off + nlen > len) return;
    char name[256];
    memcpy(name, m + off, nlen);
    name[nlen] = 0;
    off += nlen;
    conc_work_fn fn = conc_work_find(name);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t alen;
        if (off + 8 > len) return;
        memcpy(&alen, m + off, 8);
        off += 8;
        if (alen > len - off) return;
        conc_bytes_t out = {NULL, 0};
        int rc = fn ? fn(m + off, (size_t)alen, &out) : -ENOENT;
        off += (size_t)alen;
        if (rc > 0) rc = 0;
        send_result(comm, driver, rc, rc < 0 ? NULL : out.data, rc < 0 ? 0 : out.len);
        free(out.data);
    }
}

static _Noreturn void serve(MPI_Comm comm, int driver, bool spawned) {
    struct hello h = {.pid = getpid()};
    gethostname(h.host, sizeof h.host - 1);
    MPI_Send(&h, sizeof h, MPI_BYTE, driver, TAG_HELLO, comm);
    for (;;) {
        void *m;
        int len, tag;
        if (recv_any(comm, driver, &tag, &m, &len, NULL) < 0) break;
        if (tag == TAG_TASKS) run_tasks(comm, driver, m, (size_t)len);
        if (tag == TAG_STOP && len >= 1 && ((unsigned char *)m)[0]) lost_rank = true;
        free(m);
        if (tag == TAG_STOP) break;
    }
    if (lost_rank) exit(0);
    if (spawned) MPI_Comm_disconnect(&comm);
    MPI_Finalize();
    exit(0);
}

static void finalize_at_exit(void) {
    if (__atomic_load_n(&lost_rank, __ATOMIC_ACQUIRE)) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

int conc_mpi_init(int *argc, char ***argv) {
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
        return -EIO;
    if (inited) MPI_Query_thread(&provided);
    if (provided < MPI_THREAD_MULTIPLE) return -ENOTSUP;
    saved_argc = argc ? *argc : 0;
    saved_argv = argv ? *argv : NULL;
    MPI_Comm parent;
    MPI_Comm_get_parent(&parent);
    if (parent != MPI_COMM_NULL) serve(parent, 0, true);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) serve(MPI_COMM_WORLD, 0, false);
    atexit(finalize_at_exit);
    return 0;
}

/* ---- the driver: the executor ---- */

struct batch {
    struct batch *next;
    const char *name;
    size_t n, answered;
    bool started;
    conc_bytes_t *args;
    conc_future_t **fs;
};

struct mworker {
    int rank;
    int pidfd; /* -1: not on this host */
    struct batch *cur;
    bool alive, stopping;
};

struct mpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* the manager sleeps on it */
    pthread_cond_t freecv; /* mp_free waits on it for the hook users to leave */
    MPI_Comm comm;
    bool spawned, closing, stop_thread;
    unsigned n;
    struct mworker *w;
    struct batch *head, *tail;
    conc_thread_t *manager;
    bool joined;
    unsigned helpers; /* threads in hook_wait, fetching results themselves */
    bool polling;     /* a thread is between Iprobe and Recv: one poller at a time */
    bool deep;        /* the manager sleeps without a timeout: a submit must wake it */
    double active;    /* the last submit */
    double last_result;
    unsigned users; /* hook uses begun by hook_enter (atomic) */
};

static struct batch *batch_new(const char *name, const conc_bytes_t *args, size_t n,
                               conc_future_t *const *fs) {
    struct batch *b = malloc(sizeof *b + n * (sizeof *b->args + sizeof *b->fs));
    if (!b) return NULL;
    *b = (struct batch){.name = name, .n = n};
    b->args = (conc_bytes_t *)(b + 1);
    b->fs = (conc_future_t **)(b->args + n);
    memcpy(b->args, args, n * sizeof *args);
    memcpy(b->fs, fs, n * sizeof *fs);
    return b;
}

/* Completions decided under the lock, run after it (callbacks may submit). */
struct done {
    conc_future_t *f;
    int rc;
    void *data;
    size_t len;
};
struct donelist {
    struct done *v;
    size_t n, cap;
};

static void done_add(struct donelist *d, conc_future_t *f, int rc, void *data, size_t len) {
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct done *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            conc_work_finish(f, rc, data, len);
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = (struct done){f, rc, data, len};
}

static void done_flush(struct donelist *d) {
    for (size_t i = 0; i < d->n; i++)
        conc_work_finish(d->v[i].f, d->v[i].rc, d->v[i].data, d->v[i].len);
    free(d->v);
    *d = (struct donelist){0};
}

static int send_batch(struct mpool *p, struct mworker *w, struct batch *b) {
    size_t nlen = strlen(b->name), total = 8 + nlen;
    for (size_t i = 0; i < b->n; i++) total += 8 + b->args[i].len;
    if (total > INT32_MAX) return -EMSGSIZE;
    unsigned char small[256]; /* a tiny task goes out without an allocation */
    unsigned char *m = total <= sizeof small ? small : malloc(total), *q = m;
    if (!m) return -ENOMEM;
    uint32_t n32 = (uint32_t)b->n, l32 = (uint32_t)nlen;
    memcpy(q, &n32, 4);
    memcpy(q + 4, &l32, 4);
    q += 8;
    memcpy(q, b->name, nlen);
    q += nlen;
    for (size_t i = 0; i < b->n; i++) {
        uint64_t len = b->args[i].len;
        memcpy(q, &len, 8);
        q += 8;
        if (len) memcpy(q, b->args[i].data, len);
        q += len;
    }
    int r =
        MPI_Send(m, (int)total, MPI_BYTE, w->rank, TAG_TASKS, p->comm) == MPI_SUCCESS ? 0 : -EIO;
    if (m != small) free(m);
    return r;
}

static void dispatch_locked(struct mpool *p, struct donelist *d) {
    while (p->head) {
        struct mworker *w = NULL;
        for (unsigned i = 0; i < p->n && !w; i++)
            if (p->w[i].alive && !p->w[i].cur && !p->w[i].stopping) w = &p->w[i];
        if (!w) break;
        struct batch *b = p->head;
        p->head = b->next;
        if (!p->head) p->tail = NULL;
        b->next = NULL;
        if (!b->started) {
            size_t k = 0;
            for (size_t i = 0; i < b->n; i++) {
                if (conc_work_start(b->fs[i])) {
                    b->fs[k] = b->fs[i];
                    b->args[k++] = b->args[i];
                } else {
                    done_add(d, b->fs[i], -ECANCELED, NULL, 0);
                }
            }
            b->n = k;
            b->started = true;
        }
        if (b->n == 0) {
            free(b);
            continue;
        }
        int r = send_batch(p, w, b);
        if (r < 0) {
            for (size_t i = 0; i < b->n; i++) done_add(d, b->fs[i], r, NULL, 0);
            free(b);
            continue;
        }
        w->cur = b;
    }
    /* no worker left alive: nothing queued can ever run */
    bool any = false;
    for (unsigned i = 0; i < p->n; i++) any = any || p->w[i].alive;
    while (!any && p->head) {
        struct batch *b = p->head;
        p->head = b->next;
        for (size_t i = 0; i < b->n; i++) done_add(d, b->fs[i], CONC_EBROKEN, NULL, 0);
        free(b);
    }
    if (!p->head) p->tail = NULL;
}

static struct mworker *by_rank(struct mpool *p, int rank) {
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].rank == rank) return &p->w[i];
    return NULL;
}

static void on_result(struct mworker *w, unsigned char *m, int len, struct donelist *d) {
    struct batch *b = w->cur;
    struct result_hdr h;
    if (!b || len < (int)sizeof h) {
        free(m);
        return;
    }
    memcpy(&h, m, sizeof h);
    void *data = NULL;
    if (h.rc >= 0 && h.len && h.len <= (uint64_t)len - sizeof h) {
        /* the message buffer becomes the result: no second allocation and copy */
        memmove(m, m + sizeof h, h.len);
        data = m;
    } else {
        if (h.rc >= 0 && h.len) h.rc = -EPROTO;
        free(m);
    }
    done_add(d, b->fs[b->answered++], h.rc, data, h.rc >= 0 ? h.len : 0);
    if (b->answered == b->n) {
        free(b);
        w->cur = NULL;
    }
}

static void on_death_locked(struct mpool *p, struct mworker *w, struct donelist *d) {
    struct batch *b = w->cur;
    w->alive = false;
    __atomic_store_n(&lost_rank, true, __ATOMIC_RELEASE);
    if (w->pidfd >= 0) close(w->pidfd);
    w->pidfd = -1;
    if (!b) return;
    done_add(d, b->fs[b->answered++], CONC_EBROKEN, NULL, 0);
    if (b->answered < b->n) {
        struct batch *rest =
            batch_new(b->name, b->args + b->answered, b->n - b->answered, b->fs + b->answered);
        if (rest) {
            rest->started = true;
            rest->next = p->head;
            p->head = rest;
            if (!p->tail) p->tail = rest;
        } else {
            for (size_t i = b->answered; i < b->n; i++) done_add(d, b->fs[i], -ENOMEM, NULL, 0);
        }
    }
    free(b);
    w->cur = NULL;
}

static bool busy_locked(struct mpool *p) {
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].cur) return true;
    return false;
}

/* One look for a result, by the one thread that polls (mu held, p->polling clear): receive it
 * (or, if check_deaths, see whether a busy worker is gone) and dispatch what is queued. */
static bool poll_once(struct mpool *p, struct donelist *d, bool check_deaths) {
    p->polling = true;
    pthread_mutex_unlock(&p->mu);
    int flag = 0;
    MPI_Status st;
    MPI_Message msg;
    MPI_Improbe(MPI_ANY_SOURCE, TAG_RESULT, p->comm, &flag, &msg, &st);
    unsigned char *m = NULL;
    int len = 0;
    if (flag) {
        MPI_Get_count(&st, MPI_BYTE, &len);
        m = malloc(len ? (size_t)len : 1);
        MPI_Mrecv(m, len, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    }
    pthread_mutex_lock(&p->mu);
    p->polling = false;
    if (flag) {
        struct mworker *w = by_rank(p, st.MPI_SOURCE);
        if (w && m)
            on_result(w, m, len, d);
        else
            free(m);
        p->last_result = now_s();
    } else if (check_deaths) {
        for (unsigned i = 0; i < p->n; i++) {
            struct mworker *w = &p->w[i];
            if (!w->alive || !w->cur || w->pidfd < 0) continue;
            struct pollfd pf = {w->pidfd, POLLIN, 0};
            if (poll(&pf, 1, 0) == 1) on_death_locked(p, w, d);
        }
    }
    dispatch_locked(p, d);
    return flag;
}

static void timed_wait(struct mpool *p, double secs) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(secs * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

/* The manager drives the pool when no waiter does: for futures nobody waits on, those with
 * done-callbacks (as_completed, a loop), a waiter that gave up spinning, and shutdown. A submit
 * does not wake it (that would cost the warm round trip a wake-up): while the pool was used in the
 * last second it looks every 2 ms, and after that it sleeps until a submit wakes it. */
static void *manager(void *arg) {
    struct mpool *p = arg;
    struct backoff bo;
    backoff_reset(&bo);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        bool busy = busy_locked(p);
        if (p->closing && !busy && !p->head && !p->polling) break;
        if (!busy || p->helpers) {
            if (busy && !p->closing) {
                pthread_cond_wait(&p->cv, &p->mu); /* a helper drives; it signals when it leaves */
            } else if (!p->closing && now_s() - p->active > 1.0) {
                p->deep = true;
                pthread_cond_wait(&p->cv, &p->mu);
                p->deep = false;
            } else {
                timed_wait(p, 2e-3);
            }
            continue;
        }
        struct donelist d = {0};
        bool got = poll_once(p, &d, true);
        bo.since = p->last_result;
        pthread_mutex_unlock(&p->mu);
        done_flush(&d);
        if (got)
            bo.sleep_ns = 10000;
        else
            backoff_wait(&bo);
        pthread_mutex_lock(&p->mu);
    }
    /* stop every worker still alive */
    bool clean = true;
    for (unsigned i = 0; i < p->n; i++) clean = clean && p->w[i].alive;
    unsigned char lost = !clean || __atomic_load_n(&lost_rank, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].alive) MPI_Send(&lost, 1, MPI_BYTE, p->w[i].rank, TAG_STOP, p->comm);
    pthread_mutex_unlock(&p->mu);
    if (p->spawned && clean) MPI_Comm_disconnect(&p->comm);
    return NULL;
}

/* ---- the waiter hook: the thread that waits for a result fetches it ----
 * The warm round trip is then what a bare MPI send+recv pair does - the submitter sends, then
 * polls for the answer - with no hand-over from a progress thread (a futex wake and a scheduler
 * round, 10-40 us on a VM). The waiter spins for at most 1 ms after the last result (as MPI's own
 * blocking receive does), then leaves the rest to the manager and sleeps on the future. */

static void hook_enter(void *ctx) {
    struct mpool *p = ctx;
    __atomic_add_fetch(&p->users, 1, __ATOMIC_RELAXED);
}

static void hook_leave_locked(struct mpool *p) {
    if (__atomic_sub_fetch(&p->users, 1, __ATOMIC_ACQ_REL) == 0) pthread_cond_broadcast(&p->freecv);
}

static int hook_wait(void *ctx, conc_future_t *f, double deadline) {
    struct mpool *p = ctx;
    int r = -EAGAIN;
    pthread_mutex_lock(&p->mu);
    p->helpers++;
    double start = now_s();
    for (;;) {
        if (conc_future_done(f)) {
            r = 0;
            break;
        }
        /* f pending but nothing in flight: a thread is completing it right now */
        if (!busy_locked(p)) break;
        if (p->polling) {
            pthread_mutex_unlock(&p->mu);
            __builtin_ia32_pause();
            pthread_mutex_lock(&p->mu);
        } else {
            struct donelist d = {0};
            poll_once(p, &d, false);
            if (d.n) {
                pthread_mutex_unlock(&p->mu);
                done_flush(&d);
                pthread_mutex_lock(&p->mu);
                continue;
            }
        }
        double t = now_s(), since = p->last_result > start ? p->last_result : start;
        if (t - since > 1e-3 || t >= deadline) break;
        /* results that keep coming must not hold off a KeyboardInterrupt */
        if (conc_check_interrupt() < 0) {
            r = -EINTR;
            break;
        }
    }
    p->helpers--;
    if (!p->helpers && busy_locked(p)) pthread_cond_signal(&p->cv); /* the manager takes over */
    hook_leave_locked(p);
    pthread_mutex_unlock(&p->mu);
    return r;
}

/* a done-callback on f: nobody may wait for it, the manager must fetch it */
static void hook_watch(void *ctx, conc_future_t *f) {
    (void)f;
    struct mpool *p = ctx;
    pthread_mutex_lock(&p->mu);
    if (!p->helpers) pthread_cond_signal(&p->cv);
    hook_leave_locked(p);
    pthread_mutex_unlock(&p->mu);
}

static const conc_work_waiter_t mpi_waiter = {
    .enter = hook_enter, .wait = hook_wait, .watch = hook_watch};

static int mp_submit(void *impl, conc_work_fn fn, const char *name, const conc_bytes_t *args,
                     size_t n, conc_future_t *const *fs) {
    (void)fn;
    struct mpool *p = impl;
    struct batch *b = batch_new(name, args, n, fs);
    if (!b) return -ENOMEM;
    for (size_t i = 0; i < n; i++) conc_work_set_waiter(fs[i], &mpi_waiter, p);
    struct donelist d = {0};
    pthread_mutex_lock(&p->mu);
    bool any = false;
    for (unsigned i = 0; i < p->n; i++) any = any || p->w[i].alive;
    if (!any) {
        pthread_mutex_unlock(&p->mu);
        free(b);
        return CONC_EBROKEN;
    }
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    dispatch_locked(p, &d);
    p->active = now_s();
    /* queued behind busy workers, or a manager in deep sleep: the manager must look (otherwise
     * the waiter fetches the result, or the manager finds it within 2 ms) */
    if ((p->head && !p->helpers) || p->deep) pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    done_flush(&d);
    return 0;
}

static int mp_shutdown(void *impl, bool wait, bool cancel_futures) {
    struct mpool *p = impl;
    struct donelist d = {0};
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    if (cancel_futures) {
        while (p->head) {
            struct batch *b = p->head;
            p->head = b->next;
            for (size_t i = 0; i < b->n; i++) done_add(&d, b->fs[i], -ECANCELED, NULL, 0);
            free(b);
        }
        p->tail = NULL;
    }
    pthread_cond_broadcast(&p->cv);
    conc_thread_t *m = NULL;
    if (wait && !p->joined) {
        m = p->manager;
        p->joined = true;
    }
    pthread_mutex_unlock(&p->mu);
    done_flush(&d);
    if (m) {
        while (conc_thread_join(m, CONC_FOREVER, NULL) == -EINTR) {
        }
        conc_thread_release(m);
    }
    return 0;
}

static void mp_free(void *impl) {
    struct mpool *p = impl;
    pthread_mutex_lock(&p->mu);
    while (__atomic_load_n(&p->users, __ATOMIC_ACQUIRE)) pthread_cond_wait(&p->freecv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pidfd >= 0) close(p->w[i].pidfd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->freecv);
    free(p->w);
    free(p);
}

static const conc_executor_ops_t mpi_ops = {
    .submit = mp_submit, .shutdown = mp_shutdown, .free = mp_free, .by_name = true};

static int spawn_workers(unsigned n, MPI_Comm *inter) {
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return -errno;
    exe[k] = 0;
    char **args = saved_argc > 1 ? saved_argv + 1 : MPI_ARGV_NULL;
    int *codes = calloc(n, sizeof *codes);
    if (!codes) return -ENOMEM;
    int r = MPI_Comm_spawn(exe, args, (int)n, MPI_INFO_NULL, 0, MPI_COMM_SELF, inter, codes);
    free(codes);
    return r == MPI_SUCCESS ? 0 : -EIO;
}

int conc_mpi_pool_new(conc_executor_t **ex, const conc_mpi_opts_t *opts) {
    if (!ex) return -EINVAL;
    *ex = NULL;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) return -EPERM; /* conc_mpi_init first */
    unsigned spawn = opts ? opts->spawn : 0;
    MPI_Comm comm;
    int n;
    if (spawn) {
        int r = spawn_workers(spawn, &comm);
        if (r < 0) return r;
        MPI_Comm_remote_size(comm, &n);
    } else {
        if (__atomic_exchange_n(&static_used, true, __ATOMIC_ACQ_REL)) return CONC_ECLOSED;
        comm = MPI_COMM_WORLD;
        MPI_Comm_size(comm, &n);
        n -= 1;
        if (n < 1) return -ECHILD; /* a plain run has no worker ranks: use opts.spawn */
    }
    struct mpool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->w = calloc((size_t)n, sizeof *p->w);
    if (!p->w) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->freecv, NULL);
    p->comm = comm;
    p->active = now_s();
    p->spawned = spawn > 0;
    p->n = (unsigned)n;
    char host[64] = {0};
    gethostname(host, sizeof host - 1);
    for (int i = 0; i < n; i++) {
        /* every worker says hello first: its pid and host, for the death watch */
        struct hello h;
        MPI_Status st;
        MPI_Recv(&h, sizeof h, MPI_BYTE, MPI_ANY_SOURCE, TAG_HELLO, comm, &st);
        h.host[sizeof h.host - 1] = 0;
        struct mworker *w = &p->w[i];
        w->rank = st.MPI_SOURCE;
        w->alive = true;
        w->pidfd = strcmp(h.host, host) == 0 ? (int)syscall(SYS_pidfd_open, h.pid, 0) : -1;
    }
    conc_thread_opts_t to = {.name = "MPIPoolManager", .daemon = true};
    int r = conc_thread_start(&p->manager, manager, p, &to);
    if (r == 0) r = conc_executor_new(ex, &mpi_ops, p);
    if (r < 0) {
        if (p->manager) {
            mp_shutdown(p, true, true);
        }
        mp_free(p);
    }
    return r;
}
