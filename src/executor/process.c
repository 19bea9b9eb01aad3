/* The process pool: ProcessPoolExecutor, minus its two known failure modes.
 *
 * Each worker is a daemon process (any start method) serving one duplex Pipe (worker.c). A worker
 * runs one batch at a time - a single task, or a map chunk - and answers each task as it finishes,
 * into a shared-memory result ring of its own (wire.h): a stream of tiny tasks is answered without
 * a syscall per task, and what a worker published survives its death. A submit hands its batch
 * straight to an idle worker (no queue thread on the way out); a manager thread watches every
 * worker's Pipe and sentinel in one epoll set (and the rings, on a short timer while work is in
 * flight), completes futures, sends a worker its next queued batches - several in one write when
 * it streams tiny tasks - and replaces workers. A thread waiting on one of the pool's futures takes
 * the ring answers itself while they keep coming (see "a waiting submitter helps").
 *
 * A worker that dies (SIGKILL, a crashing work function, anything) is seen through its sentinel
 * or the end of its Pipe. Everything it published is then read (the Pipe to its end, the ring to
 * its last whole record); the task it was running - the first one not yet answered, since each
 * answer is published whole or not at all, in order - fails with CONC_EBROKEN; the rest of the
 * batch goes back to the front of the queue; a new worker takes the dead one's place. Nothing
 * else is affected: CPython's Pool hangs here (bpo-22393) and ProcessPoolExecutor fails every
 * pending future (BrokenProcessPool). Only an initializer that fails breaks the pool, as in
 * CPython, since every replacement would fail the same way.
 *
 * Futures are completed outside the pool's lock (their callbacks may submit again): what is
 * decided under the lock is collected in a `done` list and finished after unlocking.
 *
 * Shutdown: no new work; queued work still runs unless cancel_futures; each worker gets STOP once
 * it is idle and nothing is queued, and the manager leaves when every worker has been reaped - so
 * a waiting shutdown leaves no worker process behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conc/conn.h"
#include "conc/signal.h"
#include "conc/thread.h"
#include "conc/time.h"
#include "../internal/conn.h"
#include "../internal/sync.h"
#include "executor.h"
#include "wire.h"

struct batch {
    struct batch *next;
    const char *name;
    size_t n, answered;
    bool started;
    conc_future_t **fs; /* each carries its argument (conc__work_arg) */
};

/* Batches sent to one worker and not fully answered, oldest first: the worker runs them in this
 * order, so the first unanswered task of `cur` is the one it is running. At most DEPTH of them:
 * one running and one waiting in the pipe, so a worker never idles between two batches (CPython
 * queues one extra call the same way) while what waits can still be cancelled. A worker whose
 * last batch took under FAST_TASK per task is streaming tiny tasks: it may hold as many batches
 * of that same work as take QUEUE_S by its own clock (at most DEPTH_MAX), sent together in a few
 * writes and answered into its ring, and is topped up once half of them are done - so a map of
 * tiny tasks costs a few syscalls per hundred batches rather than several per task, and the
 * worker rarely runs dry between two top-ups (a write that wakes a sleeping worker on another
 * vCPU costs the writer 35-40 us here; under a CPU hog a 20,000-task map took 179 ns a task with
 * 32 batches at most, 118 ns like this). What waits there is at most about QUEUE_S of work of the
 * kind just seen - too little to matter for cancelling or for balancing the workers; a slow
 * batch, or other work, brings it back to DEPTH. DEPTH_MAX batches of 64 tiny answers fit the
 * ring. */
#define DEPTH     2
#define DEPTH_MAX 128
#define QUEUE_S   1e-3
#define FAST_TASK 50e-6

struct worker {
    conc_process_t *proc;
    conc_conn_t *conn;
    struct batch *cur, *last;
    unsigned inflight;
    const char *fast_name; /* its last batch was quick, and of this work: a deeper queue of it */
    double task_s;         /* its time a task over its latest batches (the ring's ran, busy_ns) */
    uint64_t ran0, busy0;  /* the ring's ran and busy_ns when task_s was last measured */
    unsigned char *rbuf;   /* the manager reads the socket in bulk and cuts frames itself */
    size_t rlen, rcap;
    struct conc__w_ring *ring; /* NULL: the worker answers on the Pipe alone */
    uint64_t rhead;            /* what the pool consumed of the ring */
    uint64_t done, sent;
    uint32_t gen;
    bool alive, retiring, stopping, dead;
};

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

struct ppool {
    pthread_mutex_t mu;
    unsigned n;
    struct worker *w;
    struct batch *head, *tail;
    bool closing, broken, manager_joined;
    uint32_t max_tasks;
    int method;
    char *init;
    int epfd, efd;
    conc_thread_t *manager;
    uint32_t refs;
    uint32_t helpers;    /* atomic: waiting threads taking ring answers themselves (help_wait) */
    double help_at;      /* when one last found answers there (lock held; 0: it gave up) */
    uint32_t sleep_mode; /* the rings' `sleeping` the sleeping manager asked for; 0: no bells */
    bool quiet;          /* helpers told the workers not to ring meanwhile (help_wait) */
    unsigned char *fbuf; /* where dispatch frames batches (lock held), kept between calls */
    size_t fcap;
};

static void pool_unref(struct ppool *p) {
    if (conc__sub(&p->refs, 1)) return;
    if (p->epfd >= 0) close(p->epfd);
    if (p->efd >= 0) close(p->efd);
    pthread_mutex_destroy(&p->mu);
    free(p->init);
    free(p->fbuf);
    free(p->w);
    free(p);
}

static void done_add(struct donelist *d, conc_future_t *f, int rc, void *data, size_t len) {
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct done *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            /* no room to defer it: finish now (callbacks under the lock, but nothing is lost) */
            conc_work_finish(f, rc, data, len);
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = (struct done){f, rc, data, len};
}

/* Finish what was collected; the list keeps its memory for the next round (the manager's does:
 * a list of thousands of answers is an mmap'd block, freed and faulted in again each round). */
static void done_run(struct donelist *d) {
    for (size_t i = 0; i < d->n; i++)
        conc_work_finish(d->v[i].f, d->v[i].rc, d->v[i].data, d->v[i].len);
    d->n = 0;
}

static void done_flush(struct donelist *d) {
    done_run(d);
    free(d->v);
    *d = (struct donelist){0};
}

/* A batch of fs[0..n-1]. */
static struct batch *batch_new(const char *name, size_t n, conc_future_t *const *fs) {
    struct batch *b = malloc(sizeof *b + n * sizeof *b->fs);
    if (!b) return NULL;
    *b = (struct batch){.name = name, .n = n};
    b->fs = (conc_future_t **)(b + 1);
    memcpy(b->fs, fs, n * sizeof *fs);
    return b;
}

static void fail_batch(struct batch *b, size_t from, int err, struct donelist *d) {
    for (size_t i = from; i < b->n; i++) done_add(d, b->fs[i], err, NULL, 0);
    free(b);
}

static void wake_manager(struct ppool *p) {
    uint64_t one = 1;
    ssize_t r = write(p->efd, &one, sizeof one);
    (void)r;
}

/* memcpy for the few bytes of a tiny task's argument or result: inline moves rather than a call
 * per task (up to 16 bytes as two overlapping moves). */
static inline void copy_bytes(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++) d[i] = s[i];
    } else {
        memcpy(d, s, n);
    }
}

/* Append the TASKS frame of a batch (with its Connection header) to a growing buffer. */
static int frame_batch(unsigned char **buf, size_t *len, size_t *cap, const struct batch *b) {
    size_t nlen = strlen(b->name), body = sizeof(struct conc__w_tasks) + nlen;
    for (size_t i = 0; i < b->n; i++) body += sizeof(uint64_t) + conc__work_arg(b->fs[i]).len;
    size_t need = *len + CONC__FRAME_HDR_MAX + body;
    if (need > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < need) nc *= 2;
        unsigned char *nb = realloc(*buf, nc);
        if (!nb) return -ENOMEM;
        *buf = nb;
        *cap = nc;
    }
    unsigned char *q = *buf + *len;
    q += conc__frame_header(body, q);
    struct conc__w_tasks h = {CONC__W_TASKS, (uint32_t)b->n, (uint32_t)nlen, 0};
    memcpy(q, &h, sizeof h);
    q += sizeof h;
    memcpy(q, b->name, nlen);
    q += nlen;
    for (size_t i = 0; i < b->n; i++) {
        conc_bytes_t a = conc__work_arg(b->fs[i]);
        uint64_t alen = a.len;
        memcpy(q, &alen, sizeof alen);
        q += sizeof alen;
        copy_bytes(q, a.data, (size_t)alen);
        q += alen;
    }
    *len = (size_t)(q - *buf);
    return 0;
}

/* Write frames to a worker's Pipe (lock held: the pool's writes never interleave). */
static int send_raw(struct worker *w, const unsigned char *m, size_t len) {
    int fd = conc_conn_fd(w->conn);
    while (len) {
        ssize_t r = send(fd, m, len, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return CONC_ECLOSED;
        m += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Mark a batch's futures running; the cancelled ones leave it. false: nothing is left. */
static bool start_batch(struct batch *b, struct donelist *d) {
    if (b->started) return b->n > 0;
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (conc_work_start(b->fs[i]))
            b->fs[k++] = b->fs[i];
        else
            done_add(d, b->fs[i], -ECANCELED, NULL, 0);
    }
    b->n = k;
    b->started = true;
    return k > 0;
}

/* How many batches like b worker w may hold (see DEPTH): never fewer than DEPTH. */
static unsigned depth_of(const struct worker *w, const struct batch *b) {
    if (w->fast_name != b->name) return DEPTH;
    double d = QUEUE_S / (w->task_s * (double)(b->n ? b->n : 1));
    return d < DEPTH ? DEPTH : d > DEPTH_MAX ? DEPTH_MAX : (unsigned)d;
}

/* May worker w take batch b now? */
static bool room_for(const struct worker *w, const struct batch *b) {
    return w->inflight < depth_of(w, b);
}

/* Is it worth a write to worker w now? A streaming worker is topped up once half of what it
 * holds is done, not after each batch: one write (and one read on its side) per half of its
 * depth rather than one per batch. */
static bool worth_a_write(const struct worker *w, const struct batch *b) {
    return w->inflight <= depth_of(w, b) / 2; /* DEPTH / 2: one batch running, room for one */
}

static void dispatch_locked(struct ppool *p, struct donelist *d) {
    while (p->head) {
        struct worker *w = NULL;
        for (unsigned i = 0; i < p->n; i++) {
            struct worker *c = &p->w[i];
            if (!c->alive || c->retiring || c->stopping || !worth_a_write(c, p->head)) continue;
            if (p->max_tasks && c->sent >= p->max_tasks) continue;
            if (!w || c->inflight < w->inflight) w = c;
        }
        if (!w) break;
        /* as many queued batches as it may hold, in one write */
        struct batch *before = w->last, *first = NULL;
        unsigned inflight0 = w->inflight;
        uint64_t sent0 = w->sent;
        size_t len = 0;
        while (p->head && room_for(w, p->head) && !(p->max_tasks && w->sent >= p->max_tasks) &&
               len < 65536) {
            struct batch *b = p->head;
            if (!start_batch(b, d)) {
                p->head = b->next;
                if (!p->head) p->tail = NULL;
                free(b);
                continue;
            }
            if (frame_batch(&p->fbuf, &len, &p->fcap, b) < 0) break;
            p->head = b->next;
            if (!p->head) p->tail = NULL;
            b->next = NULL;
            if (b->name != w->fast_name) w->fast_name = NULL;
            if (w->last)
                w->last->next = b;
            else
                w->cur = b;
            w->last = b;
            if (!first) first = b;
            w->inflight++;
            w->sent += b->n;
        }
        if (!first) break; /* no memory for a frame: the queue waits for the next call */
        int sr = send_raw(w, p->fbuf, len);
        /* a worker out of work lingers watching this before it blocks (worker.c) */
        if (sr == 0 && w->ring) __atomic_add_fetch(&w->ring->sent, 1, __ATOMIC_RELEASE);
        if (sr < 0) {
            /* the worker is gone: the manager will see it; these batches go back to the queue */
            w->retiring = true;
            w->last->next = p->head;
            p->head = first;
            if (!p->tail) p->tail = w->last;
            if (before) {
                before->next = NULL;
                w->last = before;
            } else {
                w->cur = w->last = NULL;
            }
            w->inflight = inflight0;
            w->sent = sent0;
            wake_manager(p);
            break;
        }
    }
}

static int pp_submit(void *impl, conc_work_fn fn, const char *name, const conc_bytes_t *args,
                     size_t n, conc_future_t *const *fs) {
    (void)fn, (void)args; /* the futures carry their arguments */
    struct ppool *p = impl;
    struct batch *b = batch_new(name, n, fs);
    if (!b) return -ENOMEM;
    struct donelist d = {0};
    pthread_mutex_lock(&p->mu);
    if (p->broken) {
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
    pthread_mutex_unlock(&p->mu);
    done_flush(&d);
    return 0;
}

/* A map: its chunks, as batches, queued under one lock and dispatched together. */
static int pp_submit_chunks(void *impl, const char *name, size_t n, size_t step,
                            conc_future_t *const *fs) {
    struct ppool *p = impl;
    struct batch *first = NULL, *last = NULL;
    for (size_t i = 0; i < n; i += step) {
        struct batch *b = batch_new(name, n - i < step ? n - i : step, fs + i);
        if (!b) {
            for (struct batch *o = first, *next; o; o = next) {
                next = o->next;
                free(o);
            }
            return -ENOMEM;
        }
        if (last)
            last->next = b;
        else
            first = b;
        last = b;
    }
    struct donelist d = {0};
    pthread_mutex_lock(&p->mu);
    if (p->broken) {
        pthread_mutex_unlock(&p->mu);
        for (struct batch *o = first, *next; o; o = next) {
            next = o->next;
            free(o);
        }
        return CONC_EBROKEN;
    }
    if (first) {
        if (p->tail)
            p->tail->next = first;
        else
            p->head = first;
        p->tail = last;
    }
    dispatch_locked(p, &d);
    pthread_mutex_unlock(&p->mu);
    done_flush(&d);
    return 0;
}

/* ---- the manager thread ---- */

#define EV(idx, gen, sentinel) ((uint64_t)(gen) << 32 | (uint64_t)(idx) << 1 | (sentinel))

/* The worker's result ring (wire.h): a memory file, mapped here and handed over the Pipe as its
 * first message. NULL if anything fails: the worker then answers on the Pipe alone. */
static struct conc__w_ring *make_ring(conc_conn_t *c) {
    size_t size = CONC__RING_HDR + CONC__RING_SIZE;
    int fd = memfd_create("conc-pool-ring", MFD_CLOEXEC);
    if (fd < 0) return NULL;
    void *m = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0)
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        close(fd);
        return NULL;
    }
    madvise(m, size, MADV_DONTFORK); /* not into workers forked later, nor the user's children */
    struct conc__w_result h = {CONC__W_SHM, 0, CONC__RING_SIZE, 0};
    uint32_t n = sizeof h;
    unsigned char fh[4] = {0, 0, 0, (unsigned char)n};
    struct iovec iov[2] = {{fh, 4}, {&h, sizeof h}};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cb;
    memset(&cb, 0, sizeof cb);
    struct msghdr mh = {
        .msg_iov = iov, .msg_iovlen = 2, .msg_control = cb.b, .msg_controllen = sizeof cb.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t r;
    while ((r = sendmsg(conc_conn_fd(c), &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    close(fd);
    if (r != (ssize_t)(4 + sizeof h)) {
        /* a short send cannot happen on a fresh socket; if it did the stream is out of step */
        munmap(m, size);
        return NULL;
    }
    return m;
}

static int start_worker(struct ppool *p, unsigned idx) {
    struct worker *w = &p->w[idx];
    conc_conn_t *mine, *theirs;
    int r = conc_pipe(&mine, &theirs, true);
    if (r < 0) return r;
    size_t ilen = p->init ? strlen(p->init) : 0;
    unsigned char arg[4 + 256];
    memcpy(arg, &p->max_tasks, 4);
    if (ilen) memcpy(arg + 4, p->init, ilen);
    conc_obj_t pass = CONC_OBJ_CONN(theirs);
    conc_process_opts_t o = {
        .method = (conc_start_method_t)p->method, .daemon = true, .pass = &pass, .n_pass = 1};
    conc_process_t *proc;
    r = conc_process_start(&proc, CONC__POOL_TARGET, arg, 4 + ilen, &o);
    conc_conn_close(theirs);
    if (r < 0) {
        conc_conn_close(mine);
        return r;
    }
    uint32_t gen = w->gen + 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV(idx, gen, 0)};
    struct epoll_event es = {.events = EPOLLIN, .data.u64 = EV(idx, gen, 1)};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, conc_conn_fd(mine), &ev) < 0 ||
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, conc_process_sentinel(proc), &es) < 0) {
        r = -errno;
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, conc_conn_fd(mine), NULL);
        conc_process_kill(proc);
        conc_process_join(proc, CONC_FOREVER);
        conc_process_free(proc);
        conc_conn_close(mine);
        return r;
    }
    struct conc__w_ring *ring = make_ring(mine);
    pthread_mutex_lock(&p->mu);
    *w = (struct worker){
        .proc = proc, .conn = mine, .gen = gen, .alive = true, .ring = ring, .task_s = INFINITY};
    pthread_mutex_unlock(&p->mu);
    return 0;
}

/* The answer to worker w's next task (lock held): complete it; data is copied. */
static void on_answer(struct ppool *p, struct worker *w, int32_t rc, const unsigned char *m,
                      size_t len, struct donelist *d) {
    struct batch *b = w->cur;
    conc_future_t *f = b->fs[b->answered++];
    void *data = NULL;
    if (len && rc >= 0) {
        data = conc__work_result_buf(f, len);
        if (data)
            copy_bytes(data, m, len);
        else
            rc = -ENOMEM;
    }
    done_add(d, f, rc, data, rc >= 0 ? len : 0);
    w->done++;
    if (b->answered == b->n) {
        /* The worker's own clock, not the pool's: timed from when the previous answer was seen,
         * two answers collected together (a late manager) made a 2 ms task look instant, and
         * its worker was then sent a pile of batches of it while the other workers idled. The
         * figures come from untrusted memory: they only tune the depth. */
        if (w->ring) {
            uint64_t ran = __atomic_load_n(&w->ring->ran, __ATOMIC_RELAXED),
                     busy = __atomic_load_n(&w->ring->busy_ns, __ATOMIC_RELAXED);
            if (ran > w->ran0 && busy >= w->busy0)
                w->task_s = (double)(busy - w->busy0) * 1e-9 / (double)(ran - w->ran0);
            if (ran != w->ran0) w->ran0 = ran, w->busy0 = busy;
        }
        bool fast = b->n && w->task_s < FAST_TASK;
        /* quick for this work only, and only while nothing else waits in the worker: a batch of
         * the same work then never waits behind something slower */
        for (struct batch *o = b->next; o && fast; o = o->next) fast = o->name == b->name;
        w->fast_name = fast ? b->name : NULL;
        w->cur = b->next;
        if (!w->cur) w->last = NULL;
        w->inflight--;
        free(b);
        if (p->max_tasks && w->sent >= p->max_tasks) w->retiring = true; /* it exits by itself */
    }
}

/* n bytes of w's ring at pos, where they lie whole; NULL where they wrap. */
static const unsigned char *ring_at(const struct worker *w, uint64_t pos, size_t n) {
    size_t off = (size_t)(pos & (CONC__RING_SIZE - 1));
    return CONC__RING_SIZE - off >= n ? (const unsigned char *)w->ring + CONC__RING_HDR + off
                                      : NULL;
}

static void ring_out(const struct worker *w, uint64_t pos, void *dst, size_t n) {
    const unsigned char *data = (const unsigned char *)w->ring + CONC__RING_HDR;
    size_t off = (size_t)(pos & (CONC__RING_SIZE - 1));
    size_t first = n < CONC__RING_SIZE - off ? n : CONC__RING_SIZE - off;
    memcpy(dst, data + off, first);
    if (n > first) memcpy((char *)dst + first, data, n - first);
}

/* Is there something in w's ring the pool has not consumed? */
static bool ring_pending(const struct worker *w) {
    return w->ring && __atomic_load_n(&w->ring->tail, __ATOMIC_SEQ_CST) != w->rhead;
}

/* Wake the threads napping on w's ring (help_wait): the manager completed a future they may wait
 * for (an answer that came on the Pipe), or the ring goes away. */
static void wake_nappers(struct worker *w) {
    if (w->ring) conc__ring_wake_nappers(w->ring);
}

/* Where take_answers looks: a waiting submitter takes from the rings alone (the manager reads into
 * rbuf without the lock); the manager takes from both, or from the Pipe alone while a submitter
 * takes the rings' answers (see "a waiting submitter helps"). */
#define FROM_PIPE 1u
#define FROM_RING 2u

/* Consume what worker w has published (lock held): the frames read ahead in rbuf and the
 * records of its ring, merged by sequence number (wire.h), from the sources src names; it stops
 * at an answer that is in the other one. Anything that does not add up - the worker's memory is
 * not trusted, a crashing work function may have scribbled on the ring - marks the worker dead.
 * Returns how many bytes of rbuf were consumed. */
static size_t take_answers(struct ppool *p, struct worker *w, struct donelist *d, unsigned src,
                           size_t max) {
    size_t off = 0;
    /* The worker's tail is read again only once what was seen is consumed, and the head is
     * published once at the end: both are lines the other side writes. */
    uint64_t tail = w->ring ? __atomic_load_n(&w->ring->tail, __ATOMIC_ACQUIRE) : 0,
             head0 = w->rhead;
    for (size_t taken = 0; !w->dead && taken < max; taken++) {
        /* the Pipe's next RESULT, past bells and reports */
        bool have_frame = false;
        struct conc__w_result h = {0};
        const unsigned char *body = NULL;
        size_t flen = 0;
        while ((src & FROM_PIPE) && w->rlen - off >= 4) {
            const unsigned char *q = w->rbuf + off;
            uint32_t n = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
            if (n > 0x7fffffffu || n < sizeof h) {
                w->dead = true;
                break;
            }
            if (w->rlen - off - 4 < n) break;
            memcpy(&h, q + 4, sizeof h);
            if (h.kind == CONC__W_RESULT && h.len == n - sizeof h) {
                have_frame = true;
                body = q + 4 + sizeof h;
                flen = n;
                break;
            }
            if (h.kind == CONC__W_INIT_FAILED)
                p->broken = true;
            else if (h.kind != CONC__W_BELL)
                w->dead = true; /* a worker that says nonsense is treated as dead */
            off += 4 + (size_t)n;
        }
        if (w->dead) break;
        /* the ring's next record */
        bool have_rec = false;
        struct conc__w_rec r = {0};
        if (w->ring && (src & FROM_RING)) {
            if (tail == w->rhead) tail = __atomic_load_n(&w->ring->tail, __ATOMIC_ACQUIRE);
            uint64_t avail = tail - w->rhead;
            if (avail > CONC__RING_SIZE || avail % 8) {
                w->dead = true;
                break;
            }
            if (avail) {
                if (avail < sizeof r) {
                    w->dead = true;
                    break;
                }
                const unsigned char *hdr = ring_at(w, w->rhead, sizeof r);
                if (hdr)
                    memcpy(&r, hdr, sizeof r);
                else
                    ring_out(w, w->rhead, &r, sizeof r);
                if (r.len > CONC__RING_MAX || CONC__REC_SPAN(r.len) > avail) {
                    w->dead = true;
                    break;
                }
                have_rec = true;
            }
        }
        if (!have_rec && !have_frame) break;
        if (!w->cur) {
            w->dead = true;
            break;
        }
        if (have_rec && r.seq == w->done) {
            /* copied once, straight into the future, unless the bytes wrap around the ring */
            const unsigned char *at = ring_at(w, w->rhead + sizeof r, r.len);
            unsigned char small[256], *buf = NULL;
            if (!at) {
                buf = r.len <= sizeof small ? small : malloc(r.len);
                if (!buf) break; /* retried at the next wake */
                ring_out(w, w->rhead + sizeof r, buf, r.len);
            }
            on_answer(p, w, r.rc, at ? at : buf, r.len, d);
            if (buf && buf != small) free(buf);
            w->rhead += CONC__REC_SPAN(r.len);
        } else if (have_frame && h.seq == w->done) {
            on_answer(p, w, h.rc, body, (size_t)h.len, d);
            off += 4 + flen;
        } else {
            /* the next answer is on its way in the other source; an older one is nonsense */
            if ((have_rec && r.seq < w->done) || (have_frame && h.seq < w->done)) w->dead = true;
            break;
        }
    }
    if (w->ring && w->rhead != head0) __atomic_store_n(&w->ring->head, w->rhead, __ATOMIC_RELEASE);
    return off;
}

/* Read what worker idx has sent - everything the socket holds, in one recv - and take every
 * answer it published (Connection framing: a 4-byte big-endian length; results never need the
 * 8-byte form). The manager is the socket's only reader, so reading ahead is safe here. At EOF
 * the worker is dead. */
static void drain(struct ppool *p, unsigned idx, unsigned src, struct donelist *d) {
    struct worker *w = &p->w[idx];
    int fd = conc_conn_fd(w->conn);
    for (;;) {
        if (w->rcap - w->rlen < 4096) {
            size_t cap = w->rcap ? w->rcap * 2 : 65536;
            unsigned char *nb = realloc(w->rbuf, cap);
            if (!nb) return; /* retried at the next readiness */
            w->rbuf = nb;
            w->rcap = cap;
        }
        size_t room = w->rcap - w->rlen;
        ssize_t r = recv(fd, w->rbuf + w->rlen, room, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) continue;
        /* a short read emptied the socket: no second recv just to hear EAGAIN */
        bool again =
            (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) || (r > 0 && (size_t)r < room);
        bool ended = !again && r <= 0;
        pthread_mutex_lock(&p->mu);
        if (r > 0) w->rlen += (size_t)r;
        /* at the end of the Pipe the worker is gone: its ring is read to its end whoever helps,
         * or its burial would fail a task it answered there (a retiring worker's last one) */
        size_t off = take_answers(p, w, d, ended ? FROM_PIPE | FROM_RING : src, SIZE_MAX);
        if (off || ended) wake_nappers(w);
        memmove(w->rbuf, w->rbuf + off, w->rlen - off);
        w->rlen -= off;
        if (ended) w->dead = true;
        bool stop = w->dead || again;
        pthread_mutex_unlock(&p->mu);
        if (stop) return;
    }
}

/* Lock held: take a dead worker out; its running task fails, the rest of its batch is queued
 * again at the front. Returns the process to reap. */
static conc_process_t *bury_locked(struct ppool *p, struct worker *w, struct donelist *d) {
    struct batch *b = w->cur;
    if (b) {
        /* the batches behind the running one never started: back to the queue, in order */
        struct batch *behind = b->next;
        if (behind) {
            w->last->next = p->head;
            p->head = behind;
            if (!p->tail) p->tail = w->last;
            b->next = NULL;
        }
        done_add(d, b->fs[b->answered], CONC_EBROKEN, NULL, 0);
        b->answered++;
        if (b->answered < b->n && !p->broken) {
            struct batch *rest = batch_new(b->name, b->n - b->answered, b->fs + b->answered);
            if (rest) {
                rest->started = true;
                rest->next = p->head;
                p->head = rest;
                if (!p->tail) p->tail = rest;
            } else {
                for (size_t i = b->answered; i < b->n; i++) done_add(d, b->fs[i], -ENOMEM, NULL, 0);
            }
        } else {
            for (size_t i = b->answered; i < b->n; i++)
                done_add(d, b->fs[i], CONC_EBROKEN, NULL, 0);
        }
        free(b);
        w->cur = w->last = NULL;
        w->inflight = 0;
    }
    free(w->rbuf);
    w->rbuf = NULL;
    w->rlen = w->rcap = 0;
    wake_nappers(w);
    if (w->ring) munmap(w->ring, CONC__RING_HDR + CONC__RING_SIZE);
    w->ring = NULL;
    w->rhead = 0;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, conc_conn_fd(w->conn), NULL);
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, conc_process_sentinel(w->proc), NULL);
    conc_conn_close(w->conn);
    conc_process_t *proc = w->proc;
    w->conn = NULL;
    w->proc = NULL;
    w->alive = w->dead = w->retiring = w->stopping = false;
    return proc;
}

static void reap(conc_process_t *proc) {
    /* It has exited or is about to (its pipe ended); a worker that closed its pipe but lingers
     * gets a SIGKILL after a grace period, so a pool never waits forever on one. */
    if (conc_process_join(proc, 5) == -ETIMEDOUT) {
        conc_process_kill(proc);
        conc_process_join(proc, CONC_FOREVER);
    }
    conc_process_free(proc);
}

/* Every live ring's `sleeping` (lock held): what the manager, or a helper, asks of the workers. */
static void set_sleeping(struct ppool *p, uint32_t v) {
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].alive && p->w[i].ring)
            __atomic_store_n(&p->w[i].ring->sleeping, v, __ATOMIC_SEQ_CST);
}

/* The manager's timer while tasks are in flight: from 1 ms, doubling while nothing comes. */
#define POLL_MIN_MS 1
#define POLL_MAX_MS 32
/* How long the manager leaves the rings to a waiting thread after it last found answers there:
 * between two waits it walks through the futures it completed, or makes the next map. */
#define HELP_RECENT 2e-3

static void *manager(void *arg) {
    struct ppool *p = arg;
    struct epoll_event evs[32];
    int poll_ms = POLL_MIN_MS;
    /* A waiting thread takes the ring answers, or did a moment ago: the rings are its own (see
     * "a waiting submitter helps"). */
    bool defer = false;
    struct donelist d = {0};
    for (;;) {
        /* Going to sleep: tell every worker to ring (wire.h), then look once more, so that a
         * record published meanwhile is not slept on. While tasks are in flight the sleep is
         * bounded: a worker running a long task after short ones does not ring for the short
         * ones' answers, the timer picks them up. While deferring to a helper no bell is needed
         * either: the shortest timer is the fallback should the helper be gone. */
        int timeout = -1;
        pthread_mutex_lock(&p->mu);
        for (unsigned i = 0; i < p->n; i++)
            if (p->w[i].alive && p->w[i].ring && p->w[i].inflight)
                timeout = defer ? POLL_MIN_MS : poll_ms;
        /* (a waiting thread that helps takes the rings' answers: no bells while it does, and no
         * need to hurry for them - the last helper to leave asks for bells again) */
        bool helping = conc__load(&p->helpers) != 0;
        p->sleep_mode = timeout < 0 ? 2 : defer ? 0 : 1;
        p->quiet = helping;
        set_sleeping(p, helping ? 0 : p->sleep_mode);
        for (unsigned i = 0; i < p->n; i++)
            if (p->w[i].alive && p->sleep_mode && !helping && ring_pending(&p->w[i])) timeout = 0;
        pthread_mutex_unlock(&p->mu);
        int n = epoll_wait(p->epfd, evs, 32, timeout);
        bool found = false;
        pthread_mutex_lock(&p->mu);
        p->sleep_mode = 0;
        p->quiet = false;
        for (unsigned i = 0; i < p->n; i++)
            if (p->w[i].alive && p->w[i].ring)
                __atomic_store_n(&p->w[i].ring->sleeping, 0, __ATOMIC_RELAXED);
        defer = conc__load(&p->helpers) != 0 || conc_monotonic() < p->help_at + HELP_RECENT;
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < n; i++) {
            uint64_t u = evs[i].data.u64;
            if (u == UINT64_MAX) {
                uint64_t v;
                ssize_t r = read(p->efd, &v, sizeof v);
                (void)r;
                continue;
            }
            unsigned idx = (unsigned)(u & 0xffffffffu) >> 1;
            uint32_t gen = (uint32_t)(u >> 32);
            pthread_mutex_lock(&p->mu);
            bool current = p->w[idx].alive && p->w[idx].gen == gen;
            pthread_mutex_unlock(&p->mu);
            if (!current) continue;
            /* a dead worker's ring is read to its end whoever helps: its burial needs that */
            drain(p, idx, defer && !(u & 1) ? FROM_PIPE : FROM_PIPE | FROM_RING, &d);
            found = true;
            if (u & 1) {
                pthread_mutex_lock(&p->mu);
                p->w[idx].dead = true; /* the process ended: what it sent was read above */
                pthread_mutex_unlock(&p->mu);
            }
        }
        /* Answers published in rings without a bell, unless a waiting thread takes them (the
         * two would only fight over the futures' cache lines); and frames read ahead earlier that
         * waited behind a ring record the waiting thread has taken since - no new data on the
         * socket will come to announce them. */
        pthread_mutex_lock(&p->mu);
        helping = defer || conc__load(&p->helpers) != 0;
        for (unsigned i = 0; i < p->n; i++) {
            struct worker *w = &p->w[i];
            if (!w->alive || w->dead) continue;
            unsigned src = w->rlen ? FROM_PIPE : 0;
            if (!helping && ring_pending(w)) src = FROM_PIPE | FROM_RING;
            if (!src) continue;
            size_t before = d.n, off = take_answers(p, w, &d, src, SIZE_MAX);
            if (off) memmove(w->rbuf, w->rbuf + off, w->rlen - off);
            w->rlen -= off;
            if (off) wake_nappers(w);
            if (d.n != before) found = true;
        }
        pthread_mutex_unlock(&p->mu);
        if (found || defer)
            poll_ms = POLL_MIN_MS;
        else if (n == 0 && poll_ms < POLL_MAX_MS)
            poll_ms *= 2;
        /* Deaths, the queue, stops, replacements. */
        conc_process_t *gone[64];
        size_t ngone = 0;
        unsigned need[64];
        size_t nneed = 0;
        pthread_mutex_lock(&p->mu);
        for (unsigned i = 0; i < p->n; i++)
            if (p->w[i].alive && p->w[i].dead && ngone < 64)
                gone[ngone++] = bury_locked(p, &p->w[i], &d);
        if (p->broken) {
            while (p->head) {
                struct batch *b = p->head;
                p->head = b->next;
                fail_batch(b, 0, CONC_EBROKEN, &d);
            }
            p->tail = NULL;
        }
        dispatch_locked(p, &d);
        bool alive = false;
        for (unsigned i = 0; i < p->n; i++) {
            struct worker *w = &p->w[i];
            if (p->closing && w->alive && !w->cur && !w->stopping && !p->head) {
                struct conc__w_result stop = {CONC__W_STOP, 0, 0, 0};
                conc_conn_send(w->conn, &stop, sizeof stop);
                w->stopping = true;
            }
            if (w->alive) alive = true;
            if (!w->alive && !p->broken && (!p->closing || p->head) && nneed < 64)
                need[nneed++] = i;
        }
        bool leave = p->closing && !alive && (!p->head || p->broken);
        pthread_mutex_unlock(&p->mu);
        done_run(&d);
        for (size_t i = 0; i < ngone; i++) reap(gone[i]);
        for (size_t i = 0; i < nneed; i++) {
            int r = start_worker(p, need[i]);
            if (r < 0) {
                /* cannot start a worker: fail what is queued rather than wait forever */
                pthread_mutex_lock(&p->mu);
                bool any = false;
                for (unsigned k = 0; k < p->n; k++) any = any || p->w[k].alive;
                if (!any) p->broken = true;
                pthread_mutex_unlock(&p->mu);
                wake_manager(p);
            }
        }
        if (nneed) {
            pthread_mutex_lock(&p->mu);
            dispatch_locked(p, &d);
            pthread_mutex_unlock(&p->mu);
            done_run(&d);
        }
        if (leave) break;
    }
    free(d.v);
    pool_unref(p);
    return NULL;
}

/* ---- a waiting submitter helps ----
 * A thread waiting on one of the pool's futures takes the answers from the rings itself, while
 * they keep coming: no hop through the manager (a futex wake-up per round of answers, and every
 * future's cache lines crossing to the manager's CPU and back). It tops the workers up as the
 * manager would. It never reads the Pipes (the manager reads them without the lock) and gives up
 * after HELP_IDLE without an answer, or at once when no worker's last batch was quick (under
 * FAST_TASK a task): then it sleeps as usual and the manager completes the future.
 * - Meanwhile, and for HELP_RECENT after it last found answers, the manager leaves the rings
 *   alone: between two waits the thread walks through the futures it completed, and had the
 *   manager completed the next ones meanwhile, every one would be a cache miss on this side -
 *   measured, the manager then kept the lead for whole maps, at twice the cost a task.
 * - With nothing to take after a few spins it sleeps until the worker that owes the answer
 *   ends a batch (nap): a spinning or yielding thread keeps its CPU looking busy, and a worker
 *   waiting for a CPU then waits behind the other one instead of moving here. */
#define HELP_IDLE  2e-3
#define HELP_SPINS 32
/* A nap ends by this at the latest: meanwhile the other workers' answers wait (the manager leaves
 * them to this thread), and a worker that owes the answer may be running a long task. Not
 * shorter: measured on the warm round trip, naps with a 200 us timeout took 19 us to be woken,
 * with 1 ms 11 us (the idle CPU's state differs), the round trip 24 vs 14 us. */
#define NAP_MAX 1e-3
/* Answers a waiting thread takes from a ring at once: it then tops the workers up and completes
 * them while their memory is still in its cache. Taking all there is, it fell behind for good:
 * thousands of answers at a time, while the workers, not topped up meanwhile, went idle. */
#define HELP_TAKE 256

static void help_enter(void *ctx) {
    struct ppool *p = ctx;
    conc__add(&p->refs, 1);
}

static void help_watch(void *ctx, conc_future_t *f) {
    (void)f;
    pool_unref(ctx);
}

/* Take what the rings hold (lock held); true if anything was. */
static bool take_rings(struct ppool *p, struct donelist *d) {
    bool got = false;
    for (unsigned i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        if (w->alive && !w->dead && ring_pending(w)) {
            take_answers(p, w, d, FROM_RING, HELP_TAKE);
            got = true;
        }
    }
    if (got) {
        p->help_at = conc_monotonic();
        dispatch_locked(p, d);
    }
    return got;
}

/* The worker whose batches hold f, unanswered (lock held); NULL if none does. */
static struct worker *owner(struct ppool *p, conc_future_t *f) {
    for (unsigned i = 0; i < p->n; i++)
        for (struct batch *b = p->w[i].alive ? p->w[i].cur : NULL; b; b = b->next)
            for (size_t k = b->answered; k < b->n; k++)
                if (b->fs[k] == f) return &p->w[i];
    return NULL;
}

/* Nothing to take: sleep until the worker that owes f's answer ends a batch (wire.h), or until -
 * at most NAP_MAX, should the ring go away meanwhile (a dead worker's is unmapped: the futex call
 * then fails or sleeps to its end, it never reads the memory). Where no worker holds f (its answer
 * is on the Pipe, for the manager), yield instead. -EINTR: a SIGINT, consumed. */
static int nap(struct ppool *p, conc_future_t *f, double until) {
    uint32_t *word = NULL, val = 0;
    bool pending = false;
    pthread_mutex_lock(&p->mu);
    struct worker *w = owner(p, f);
    if (w && w->ring) {
        word = &w->ring->wake;
        val = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        __atomic_store_n(&w->ring->napping, 1, __ATOMIC_SEQ_CST);
        pending = ring_pending(w); /* it answered meanwhile */
    }
    pthread_mutex_unlock(&p->mu);
    if (pending || conc_future_done(f)) return 0;
    if (!word) {
        sched_yield();
        return 0;
    }
    double end = conc_monotonic() + NAP_MAX;
    return conc__wait(word, val, until < end ? until : end, true) == -EINTR ? -EINTR : 0;
}

static int help_wait(void *ctx, conc_future_t *f, double deadline) {
    struct ppool *p = ctx;
    double give_up = 0;
    unsigned empty = 0;
    int r = -EAGAIN;
    /* Only while some worker streams quick answers: otherwise the next one is at least
     * FAST_TASK away, and a spin would take CPU time from the workers (a CPU-bound map). */
    bool quick = false;
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].alive && p->w[i].fast_name) quick = true;
    if (quick) {
        conc__add(&p->helpers, 1);
        p->help_at = conc_monotonic(); /* a thread waits for the rings' answers: the manager's
                                          own takes would only make it walk cold futures */
        /* a sleeping manager need not be woken for what this thread takes */
        if (p->sleep_mode && !p->quiet) {
            p->quiet = true;
            set_sleeping(p, 0);
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (!quick) {
        pool_unref(p);
        return -EAGAIN;
    }
    while (!conc_future_done(f)) {
        bool got = false;
        if (pthread_mutex_trylock(&p->mu) == 0) {
            struct donelist d = {0};
            got = take_rings(p, &d);
            pthread_mutex_unlock(&p->mu);
            done_flush(&d);
        }
        if (got) {
            empty = 0;
            /* a stream of answers must not hold off a KeyboardInterrupt, nor the deadline */
            if ((r = conc_check_interrupt()) < 0) break;
            if (!isinf(deadline) && conc_monotonic() >= deadline) break;
            continue;
        }
        /* Nothing yet: look again after a short spin, then sleep until the worker that owes
         * the answer ends a batch - a spinning or yielding thread would keep the CPU looking
         * busy while that worker waits for one. */
        if (empty++ % 8 == 0 || empty > HELP_SPINS) {
            double now = conc_monotonic();
            if (empty == 1) give_up = now + HELP_IDLE < deadline ? now + HELP_IDLE : deadline;
            if (now >= give_up || (r = conc_check_interrupt()) < 0) break;
        }
        if (empty <= HELP_SPINS)
            conc__cpu_relax();
        else if ((r = nap(p, f, give_up)) < 0)
            break;
    }
    /* Leaving: the last helper asks for bells again, then looks once more. A worker that
     * published while bells were off rang none; the order that makes the look enough (all
     * sequentially consistent): the worker's exchange of `tail`, its load of `sleeping` (0),
     * the store of `sleeping` below (or the manager's, which saw `helpers` not 0 before the
     * decrement and took the lock before this section), the load of `tail` in ring_pending.
     * The look takes HELP_TAKE answers a ring at most: what it leaves, no worker rang for, so
     * a sleeping manager is woken for it - without a timer (nothing was in flight when it went
     * to sleep) it would sleep on for ever, with one until the timer. An awake manager, or one
     * leaving the rings to helpers (sleep_mode 0), looks again soon anyway. */
    struct donelist d = {0};
    pthread_mutex_lock(&p->mu);
    bool last = conc__sub(&p->helpers, 1) == 0;
    if (last && p->quiet) {
        p->quiet = false;
        set_sleeping(p, p->sleep_mode);
    }
    if (!take_rings(p, &d) && !conc_future_done(f)) p->help_at = 0; /* gave up: the manager's */
    bool left = false;
    for (unsigned i = 0; last && p->sleep_mode && i < p->n; i++)
        if (p->w[i].alive && !p->w[i].dead && ring_pending(&p->w[i])) left = true;
    pthread_mutex_unlock(&p->mu);
    if (left) wake_manager(p);
    done_flush(&d);
    pool_unref(p);
    if (r == -EINTR) return r;
    return conc_future_done(f) ? 0 : -EAGAIN;
}

static const conc_work_waiter_t helper = {help_enter, help_wait, help_watch};

static int pp_shutdown(void *impl, bool wait, bool cancel_futures) {
    struct ppool *p = impl;
    struct donelist d = {0};
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    if (cancel_futures) {
        while (p->head) {
            struct batch *b = p->head;
            p->head = b->next;
            fail_batch(b, 0, -ECANCELED, &d);
        }
        p->tail = NULL;
    }
    conc_thread_t *m = NULL;
    if (wait && !p->manager_joined) {
        m = p->manager;
        p->manager_joined = true;
    }
    pthread_mutex_unlock(&p->mu);
    done_flush(&d);
    wake_manager(p);
    if (!m) return 0;
    int r;
    while ((r = conc_thread_join(m, CONC_FOREVER, NULL)) == -EINTR) {
    }
    conc_thread_release(m);
    return r == -EDEADLK ? 0 : r;
}

static void pp_free(void *impl) {
    struct ppool *p = impl;
    if (!p->manager_joined && p->manager) conc_thread_release(p->manager);
    pool_unref(p);
}

__attribute__((constructor)) static void process_pool_init(void) {
    conc_target_register(CONC__POOL_TARGET, conc__pool_worker);
}

static const conc_executor_ops_t process_ops = {
    .submit = pp_submit, .shutdown = pp_shutdown, .free = pp_free, .by_name = true};

int conc_process_pool_new(conc_executor_t **ex, unsigned workers, const conc_pool_opts_t *opts) {
    if (!ex) return -EINVAL;
    *ex = NULL;
    static const conc_pool_opts_t none;
    if (!opts) opts = &none;
    if (opts->initializer && (strlen(opts->initializer) > 255 || !*opts->initializer))
        return -EINVAL;
    if (workers == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        workers = c > 0 ? (unsigned)c : 1;
    }
    if (workers > 1024) return -EINVAL;
    struct ppool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->epfd = p->efd = -1;
    p->refs = 1;
    pthread_mutex_init(&p->mu, NULL);
    p->n = workers;
    p->max_tasks = opts->max_tasks_per_child;
    p->method = opts->method;
    int r = -ENOMEM;
    p->w = calloc(workers, sizeof *p->w);
    if (!p->w) goto fail;
    if (opts->initializer && !(p->init = strdup(opts->initializer))) goto fail;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->epfd < 0 || p->efd < 0) {
        r = -errno;
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->efd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    for (unsigned i = 0; i < workers; i++) {
        if ((r = start_worker(p, i)) < 0) {
            for (unsigned k = 0; k < i; k++) {
                conc_process_kill(p->w[k].proc);
                conc_process_join(p->w[k].proc, CONC_FOREVER);
                conc_process_free(p->w[k].proc);
                conc_conn_close(p->w[k].conn);
            }
            goto fail;
        }
    }
    char name[48];
    static uint32_t counter;
    snprintf(name, sizeof name, "ProcessPoolManager-%u",
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    conc_thread_opts_t to = {.name = name, .daemon = true};
    p->refs = 2;
    if ((r = conc_thread_start(&p->manager, manager, p, &to)) < 0) {
        p->refs = 1;
        pp_shutdown(p, false, true);
        for (unsigned k = 0; k < workers; k++) {
            conc_process_kill(p->w[k].proc);
            conc_process_join(p->w[k].proc, CONC_FOREVER);
            conc_process_free(p->w[k].proc);
            conc_conn_close(p->w[k].conn);
        }
        goto fail;
    }
    if ((r = conc_executor_new(ex, &process_ops, p)) < 0) {
        pp_shutdown(p, true, true);
        pp_free(p);
        return r;
    }
    (*ex)->submit_chunks = pp_submit_chunks;
    (*ex)->waiter = &helper;
    (*ex)->waiter_ctx = p;
    return r;
fail:
    pool_unref(p);
    return r;
}
