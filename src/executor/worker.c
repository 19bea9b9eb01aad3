/* A process pool worker: the target every pool process runs, under any start method.
 *
 * It serves one Pipe: reads TASKS frames, looks the work up by name (conc_work_find; the same
 * binary registered the same names before main), runs each argument and publishes each answer
 * (wire.h) before starting the next, so that its death points at the task that caused it. Answers
 * go into the result ring the pool handed over (no syscall per task); a result too large for the
 * ring's free space goes on the Pipe instead. The worker is the Pipe's only reader and writer, so
 * it reads ahead in bulk - a stream of queued batches costs one read, not two per frame.
 * After max_tasks_per_child tasks it exits by itself and the pool replaces it (as CPython's
 * worker does); an initializer that fails is reported once and ends the worker. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "conc/conn.h"
#include "../internal/conn.h"
#include "../internal/sync.h"
#include "executor.h"
#include "wire.h"

struct wk {
    int fd;
    unsigned char *buf; /* bytes read ahead from the Pipe: buf[off, len) */
    size_t off, len, cap;
    struct conc__w_ring *ring; /* NULL: every answer goes on the Pipe */
    unsigned char *rdata;
    uint64_t tail, announced, seq;
    uint64_t head;               /* the pool's head as last read */
    uint64_t ran, busy_ns, mark; /* the ring's ran and busy_ns; when the worker last got busy */
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A batch of n tasks ran: one clock read a batch (the start is the end of the previous batch, or
 * the end of the wait for this one). */
static void account(struct wk *w, uint64_t n) {
    uint64_t now = now_ns();
    w->busy_ns += now - w->mark;
    w->mark = now;
    w->ran += n;
    if (!w->ring) return;
    __atomic_store_n(&w->ring->ran, w->ran, __ATOMIC_RELAXED);
    __atomic_store_n(&w->ring->busy_ns, w->busy_ns, __ATOMIC_RELAXED);
}

static int send_all(int fd, struct iovec *iov, int n) {
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    while (mh.msg_iovlen) {
        ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return CONC_ECLOSED;
        }
        size_t k = (size_t)r;
        while (mh.msg_iovlen && k >= mh.msg_iov->iov_len) {
            k -= mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (mh.msg_iovlen) {
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + k;
            mh.msg_iov->iov_len -= k;
        }
    }
    return 0;
}

/* One frame: the Connection header, ours, and the body in one sendmsg, without copying the body.
 * A result too large for a 4-byte frame length is sent as an error instead. */
static int send_frame(struct wk *w, uint32_t kind, int32_t rc, uint64_t seq, const void *data,
                      size_t len) {
    if (len > 0x7fffffff - sizeof(struct conc__w_result)) rc = -EMSGSIZE, len = 0;
    struct conc__w_result h = {kind, rc, len, seq};
    uint32_t n = (uint32_t)(sizeof h + len);
    unsigned char fh[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                           (unsigned char)(n >> 8), (unsigned char)n};
    struct iovec iov[3] = {{fh, 4}, {&h, sizeof h}, {(void *)data, len}};
    return send_all(w->fd, iov, len ? 3 : 2);
}

/* Ring the BELL if records wait unannounced and the manager is about to sleep. */
static int bell(struct wk *w) {
    if (!w->ring || w->announced == w->tail) return 0;
    w->announced = w->tail;
    /* seq_cst read-modify-write of `tail`, then a seq_cst load of `sleeping`, paired with the
     * manager's store of `sleeping` then load of `tail`: one of the two sides sees the other */
    __atomic_exchange_n(&w->ring->tail, w->tail, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&w->ring->sleeping, __ATOMIC_SEQ_CST)) return 0;
    if (!__atomic_exchange_n(&w->ring->sleeping, 0, __ATOMIC_SEQ_CST)) return 0;
    return send_frame(w, CONC__W_BELL, 0, 0, NULL, 0);
}

/* A batch ended: wake the pool's thread that sleeps until then (wire.h). */
static void nudge(struct wk *w) {
    if (!w->ring) return;
    __atomic_exchange_n(&w->ring->tail, w->tail, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&w->ring->napping, __ATOMIC_SEQ_CST)) conc__ring_wake_nappers(w->ring);
}

static void ring_copy(struct wk *w, uint64_t pos, const void *src, size_t n) {
    size_t off = (size_t)(pos & (CONC__RING_SIZE - 1));
    size_t first = n < CONC__RING_SIZE - off ? n : CONC__RING_SIZE - off;
    memcpy(w->rdata + off, src, first);
    if (n > first) memcpy(w->rdata, (const char *)src + first, n - first);
}

/* Publish the answer of task `seq`: in the ring if it fits, else on the Pipe. */
static int answer(struct wk *w, int32_t rc, const void *data, size_t len) {
    uint64_t seq = w->seq++;
    if (w->ring && len <= CONC__RING_MAX) {
        /* the pool's head is read only when the ring looks full: it is a line the pool writes */
        size_t span = CONC__REC_SPAN(len);
        if (CONC__RING_SIZE - (size_t)(w->tail - w->head) < span)
            w->head = __atomic_load_n(&w->ring->head, __ATOMIC_ACQUIRE);
        if (CONC__RING_SIZE - (size_t)(w->tail - w->head) >= span) {
            struct conc__w_rec r = {seq, rc, (uint32_t)len};
            ring_copy(w, w->tail, &r, sizeof r);
            if (len) ring_copy(w, w->tail + sizeof r, data, len);
            w->tail += span;
            /* a release store, no barrier per task: bell() orders it before its look at
             * `sleeping` */
            __atomic_store_n(&w->ring->tail, w->tail, __ATOMIC_RELEASE);
            return 0;
        }
    }
    return send_frame(w, CONC__W_RESULT, rc, seq, data, len);
}

/* Map the ring whose memory file came with the SHM frame. */
static void take_ring(struct wk *w, int fd) {
    void *m =
        mmap(NULL, CONC__RING_HDR + CONC__RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED || w->ring) {
        if (m != MAP_FAILED) munmap(m, CONC__RING_HDR + CONC__RING_SIZE);
        return;
    }
    w->ring = m;
    w->rdata = (unsigned char *)m + CONC__RING_HDR;
    w->tail = w->announced = __atomic_load_n(&w->ring->tail, __ATOMIC_ACQUIRE);
    w->ran = __atomic_load_n(&w->ring->ran, __ATOMIC_RELAXED);
    w->busy_ns = __atomic_load_n(&w->ring->busy_ns, __ATOMIC_RELAXED);
    w->head = __atomic_load_n(&w->ring->head, __ATOMIC_ACQUIRE);
}

/* Read more from the Pipe (blocking unless nowait: then -EAGAIN if there is nothing); a file
 * descriptor that comes along is the ring's. */
static int fill(struct wk *w, bool nowait) {
    if (w->off && w->off == w->len) w->off = w->len = 0;
    if (w->cap - w->len < 4096) {
        if (w->off) {
            memmove(w->buf, w->buf + w->off, w->len - w->off);
            w->len -= w->off;
            w->off = 0;
        }
        if (w->cap - w->len < 4096) {
            size_t cap = w->cap ? w->cap * 2 : 65536;
            unsigned char *nb = realloc(w->buf, cap);
            if (!nb) return -ENOMEM;
            w->buf = nb;
            w->cap = cap;
        }
    }
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cb;
    struct iovec iov = {w->buf + w->len, w->cap - w->len};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof cb.b};
    ssize_t r;
    while ((r = recvmsg(w->fd, &mh, MSG_CMSG_CLOEXEC | (nowait ? MSG_DONTWAIT : 0))) < 0 &&
           errno == EINTR) {
    }
    if (r < 0 && nowait && (errno == EAGAIN || errno == EWOULDBLOCK)) return -EAGAIN;
    for (struct cmsghdr *c = r >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
            take_ring(w, fd);
        }
    }
    if (r <= 0) return CONC_ECLOSED;
    w->len += (size_t)r;
    return 0;
}

/* Out of work: wait for more. A pool streaming tiny tasks tops its workers up every few tens of
 * microseconds, and a write that wakes a sleeping reader on another CPU costs the writer tens of
 * microseconds on a VM (the wake-up's interrupt): so the worker first lingers - watching the
 * ring's `sent`, which the pool bumps after each write, and yielding its CPU between looks -
 * and blocks only after LINGER_NS without work. */
#define LINGER_NS 100000
static int idle(struct wk *w) {
    if (w->ring) {
        uint64_t seen = __atomic_load_n(&w->ring->sent, __ATOMIC_ACQUIRE), end = 0;
        for (unsigned i = 0;; i++) {
            int r = fill(w, true);
            if (r != -EAGAIN) return r;
            while (__atomic_load_n(&w->ring->sent, __ATOMIC_ACQUIRE) == seen) {
                if (++i % 64 == 0) {
                    uint64_t now = now_ns();
                    if (!end) end = now + LINGER_NS;
                    if (now >= end) return fill(w, false);
                    sched_yield();
                }
                conc__cpu_relax();
            }
            seen = __atomic_load_n(&w->ring->sent, __ATOMIC_ACQUIRE);
        }
    }
    return fill(w, false);
}

/* The next whole frame read ahead, if any: its body in [*m, *m + *n). */
static bool next_frame(struct wk *w, size_t at, bool grow, const unsigned char **m, size_t *n,
                       size_t *end) {
    size_t have = w->len - at;
    if (have < 4) return false;
    const unsigned char *q = w->buf + at;
    uint64_t len = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    size_t hl = 4;
    if (len == 0xffffffffu) {
        if (have < 12) return false;
        len = 0;
        for (int i = 4; i < 12; i++) len = len << 8 | q[i];
        hl = 12;
    }
    if (have - hl < len) {
        if (!grow) return false;
        /* make room for a large frame before the next read */
        size_t need = at - w->off + hl + (size_t)len;
        if (w->cap < need) {
            if (w->off) {
                memmove(w->buf, w->buf + w->off, w->len - w->off);
                w->len -= w->off;
                w->off = 0;
            }
            unsigned char *nb = realloc(w->buf, need + 4096);
            if (nb) {
                w->buf = nb;
                w->cap = need + 4096;
            }
        }
        return false;
    }
    *m = q + hl;
    *n = (size_t)len;
    *end = at + hl + (size_t)len;
    return true;
}

/* Run the tasks of one frame; returns how many ran, or a negative code if the pipe is gone. */
static long run_frame(struct wk *w, const unsigned char *m, size_t len) {
    struct conc__w_tasks h;
    memcpy(&h, m, sizeof h);
    size_t off = sizeof h;
    if (h.name_len > 255 || off + h.name_len > len) return CONC_EPROTO;
    char name[256];
    memcpy(name, m + off, h.name_len);
    name[h.name_len] = 0;
    off += h.name_len;
    conc_work_fn fn = conc_work_find(name);
    for (uint32_t i = 0; i < h.n; i++) {
        uint64_t alen;
        if (off + sizeof alen > len) return CONC_EPROTO;
        memcpy(&alen, m + off, sizeof alen);
        off += sizeof alen;
        if (alen > len - off) return CONC_EPROTO;
        /* the manager sleeps without a timer (it had nothing in flight when it went to sleep):
         * what is answered must not wait for this task */
        if (w->ring && w->announced != w->tail &&
            __atomic_load_n(&w->ring->sleeping, __ATOMIC_SEQ_CST) == 2 && bell(w) < 0)
            return CONC_ECLOSED;
        conc_bytes_t out = {NULL, 0};
        int rc = fn ? fn(m + off, (size_t)alen, &out) : -ENOENT;
        off += (size_t)alen;
        if (rc > 0) rc = 0;
        /* before the batch's last answer: the figures then go out with its `tail`, in one
         * ownership of that line (after it, the pool would pull the line back once more) */
        if (i + 1 == h.n) account(w, h.n);
        int r = answer(w, rc, rc < 0 ? NULL : out.data, rc < 0 ? 0 : out.len);
        free(out.data);
        if (r < 0) return r;
    }
    return (long)h.n;
}

static int serve(struct wk *w, uint32_t max_tasks) {
    uint64_t done = 0;
    for (;;) {
        const unsigned char *m;
        size_t mlen, end;
        if (!next_frame(w, w->off, true, &m, &mlen, &end)) {
            /* about to idle: whatever is unannounced must reach the pool now */
            if (bell(w) < 0 || idle(w) < 0) return 0;
            w->mark = now_ns();
            continue;
        }
        uint32_t kind = 0;
        if (mlen >= sizeof kind) memcpy(&kind, m, sizeof kind);
        if (kind == CONC__W_SHM) {
            w->off = end;
            continue;
        }
        if (kind != CONC__W_TASKS || mlen < sizeof(struct conc__w_tasks)) return 0; /* STOP */
        const unsigned char *m2;
        size_t n2, e2;
        /* the last batch this worker holds: let the pool send the next one while it runs (a peek:
         * m stays where it is) */
        if (!next_frame(w, end, false, &m2, &n2, &e2) && bell(w) < 0) return 0;
        long ran = run_frame(w, m, mlen);
        w->off = end;
        if (ran < 0) return 0;
        nudge(w);
        done += (uint64_t)ran;
        if (max_tasks && done >= max_tasks) {
            bell(w);
            return 0;
        }
    }
}

int conc__pool_worker(const void *arg, size_t len) {
    conc_conn_t *c = conc_passed_conn(0);
    if (!c || len < sizeof(uint32_t)) return 2;
    uint32_t max_tasks;
    memcpy(&max_tasks, arg, sizeof max_tasks);
    if (len > sizeof max_tasks) {
        char init[256];
        size_t n = len - sizeof max_tasks < 255 ? len - sizeof max_tasks : 255;
        memcpy(init, (const char *)arg + sizeof max_tasks, n);
        init[n] = 0;
        conc_work_fn fn = conc_work_find(init);
        conc_bytes_t out = {NULL, 0};
        int rc = fn ? fn(NULL, 0, &out) : -ENOENT;
        free(out.data);
        if (rc < 0) {
            struct conc__w_result h = {CONC__W_INIT_FAILED, rc, 0, 0};
            conc_conn_send(c, &h, sizeof h);
            return 1;
        }
    }
    struct wk w = {.fd = conc_conn_fd(c)};
    int r = serve(&w, max_tasks);
    free(w.buf);
    if (w.ring) munmap(w.ring, CONC__RING_HDR + CONC__RING_SIZE);
    return r;
}
