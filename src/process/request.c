/* A start request on the wire, and the child that reads it (spawn and forkserver).
 *
 * A request is a fixed header, then the target name, the child's name and identity (each with its
 * NUL), the passed objects' records and the argument; the fds of every passed object travel as one
 * SCM_RIGHTS message with the header's first byte, so the child gets them all with the header and
 * no later read can mix stream bytes with descriptors. Objects are described by their kind's
 * passer (internal/pass.h) and rebuilt by it in the child, in order.
 *
 * It travels one of two ways. Streamed, over the child's own socket (spawn always; forkserver for
 * large requests): the write is blocking and may be large (a 1 MiB argument) while the child reads
 * as it goes; a child that dies before reading makes it fail with EPIPE, never SIGPIPE. Inline, in
 * the forkserver's control message (forkserver.c): the server's fork copies it into the child,
 * which reads it from memory, so a start costs no extra wake-up. Either way the child uses the
 * same parser, through a reader over a socket or over memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "proc.h"
#include "../internal/pass.h"
#include "conc/thread.h"

#define MAGIC      0x434f4e43u /* "CONC" */
#define VERSION    1u
#define F_DAEMON   1u
#define TARGET_MAX 256 /* with the NUL */
#define OBJS_MAX   (CONC__PASS_MAX_OBJS * (sizeof(struct wire_obj) + CONC__PASS_MAX_BYTES))

struct wire {
    uint32_t magic, version, flags;
    int32_t method;
    uint32_t target_len, name_len, ident_len; /* with the NUL */
    uint32_t n_pass, nfds, objs_len;
    uint64_t arg_len;
};
_Static_assert(sizeof(struct wire) <= sizeof(((conc__wire_t *)0)->hdr), "header fits");

struct wire_obj {
    int32_t kind;
    uint32_t nfds, len;
};

/* ---- parent side ---- */

int conc__sendmsg_all(int fd, struct iovec *iov, int niov, const int *fds, size_t nfds) {
    union {
        char buf[CMSG_SPACE(CONC__MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
    if (nfds) {
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    while (msg.msg_iovlen > 0) {
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        msg.msg_control = NULL; /* the fds went with the first byte */
        msg.msg_controllen = 0;
        while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
            n -= (ssize_t)msg.msg_iov->iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
            msg.msg_iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* Describe every passed object: their records into m->objs, their fds into m->fds. */
static int export_all(const conc__request_t *rq, conc__wire_t *m) {
    if (rq->n_pass > CONC__PASS_MAX_OBJS) return -EINVAL;
    size_t cap = rq->n_pass * (sizeof(struct wire_obj) + CONC__PASS_MAX_BYTES);
    char *buf = malloc(cap ? cap : 1);
    if (!buf) return -ENOMEM;
    size_t off = 0, nf = 0;
    for (size_t i = 0; i < rq->n_pass; i++) {
        const conc__passer_t *ps = conc__passer_find(rq->pass[i].kind);
        if (!ps || !rq->pass[i].obj || nf + CONC__PASS_MAX_FDS > CONC__MAX_FDS - 1) {
            free(buf);
            return -EINVAL;
        }
        struct wire_obj o = {.kind = rq->pass[i].kind};
        size_t ofds = CONC__PASS_MAX_FDS, len = CONC__PASS_MAX_BYTES;
        int r = ps->export_obj(rq->pass[i].obj, m->fds + nf, &ofds, buf + off + sizeof o, &len);
        if (r < 0 || ofds > CONC__PASS_MAX_FDS || len > CONC__PASS_MAX_BYTES) {
            free(buf);
            return r < 0 ? r : -EINVAL;
        }
        o.nfds = (uint32_t)ofds;
        o.len = (uint32_t)len;
        memcpy(buf + off, &o, sizeof o);
        off += sizeof o + len;
        nf += ofds;
    }
    m->objs = buf;
    m->nfds = nf;
    return (int)off;
}

int conc__request_build(const conc__request_t *rq, conc__wire_t *m) {
    memset(m, 0, sizeof *m);
    int objs_len = export_all(rq, m);
    if (objs_len < 0) return objs_len;
    struct wire w = {
        .magic = MAGIC,
        .version = VERSION,
        .flags = rq->daemon ? F_DAEMON : 0,
        .method = rq->method,
        .target_len = (uint32_t)strlen(rq->target) + 1,
        .name_len = (uint32_t)strlen(rq->name) + 1,
        .ident_len = (uint32_t)strlen(rq->identity) + 1,
        .n_pass = (uint32_t)rq->n_pass,
        .nfds = (uint32_t)m->nfds,
        .objs_len = (uint32_t)objs_len,
        .arg_len = rq->len,
    };
    memcpy(m->hdr, &w, sizeof w);
    struct iovec iov[] = {
        {m->hdr, sizeof w},
        {(void *)rq->target, w.target_len},
        {(void *)rq->name, w.name_len},
        {(void *)rq->identity, w.ident_len},
        {m->objs, (size_t)objs_len},
        {(void *)rq->arg, rq->len},
    };
    memcpy(m->iov, iov, sizeof iov);
    m->niov = 6;
    m->total = 0;
    for (int i = 0; i < m->niov; i++) m->total += m->iov[i].iov_len;
    return 0;
}

void conc__request_done(conc__wire_t *m) {
    free(m->objs);
    m->objs = NULL;
}

int conc__request_send(int fd, const conc__request_t *rq) {
    conc__wire_t m;
    int r = conc__request_build(rq, &m);
    if (r < 0) return r;
    r = conc__sendmsg_all(fd, m.iov, m.niov, m.fds, m.nfds);
    conc__request_done(&m);
    return r;
}

/* ---- child side ---- */

/* Where a child reads its request from: a socket (fds arrive with the bytes), or memory (fds
 * given). */
struct reader {
    int fd;
    const char *mem;
    size_t left;
    int *fds;
    size_t nfds;
};

/* Read exactly len bytes from the socket; fds that come along are appended (closed past max). */
static int recv_exact(struct reader *r, void *buf, size_t len) {
    union {
        char buf[CMSG_SPACE(CONC__MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } u;
    while (len > 0) {
        struct iovec iov = {buf, len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        ssize_t n = recvmsg(r->fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EPIPE;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int got[CONC__MAX_FDS];
            memcpy(got, CMSG_DATA(c), k * sizeof(int));
            for (size_t i = 0; i < k; i++) {
                if (r->nfds < CONC__MAX_FDS)
                    r->fds[r->nfds++] = got[i];
                else
                    close(got[i]);
            }
        }
        buf = (char *)buf + n;
        len -= (size_t)n;
    }
    return 0;
}

/* The next len bytes: in place from memory, else read into a new buffer. NULL if cut short. */
static const char *take(struct reader *r, size_t len, size_t max) {
    if (len > max) return NULL;
    if (r->mem) {
        if (len > r->left) return NULL;
        const char *p = r->mem;
        r->mem += len;
        r->left -= len;
        return p;
    }
    char *p = malloc(len ? len : 1);
    if (p && recv_exact(r, p, len) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static const char *take_string(struct reader *r, uint32_t len, size_t max) {
    const char *s = take(r, len, max);
    return s && len > 0 && s[len - 1] == 0 ? s : NULL;
}

void conc__die_with_parent(pid_t ppid) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The parent may have died before the prctl; then nobody will send the signal. */
    if (getppid() != ppid) _exit(255);
}

/* Status of a child that could not run its target: a malformed or cut-off request (the parent died
 * while writing it), an unknown target, an object that would not import. */
#define START_FAILED 255

/* The objects a child was handed: static, so they stay reachable (and out of a leak checker's
 * report) while the target runs and exit handlers run after it. */
static conc_obj_t *passed;

static void import_all(const struct wire *w, const char *objs, const int *fds, size_t nfds) {
    /* Nothing handed over: nothing to allocate (in a forkserver child, the allocator's first use
     * alone is two copy-on-write faults, on its arena and on the heap). */
    if (w->n_pass == 0) return;
    passed = calloc(w->n_pass ? w->n_pass : 1, sizeof *passed);
    if (!passed) _exit(START_FAILED);
    size_t off = 0, fd_off = 0;
    for (uint32_t i = 0; i < w->n_pass; i++) {
        struct wire_obj o;
        if (w->objs_len - off < sizeof o) _exit(START_FAILED);
        memcpy(&o, objs + off, sizeof o);
        off += sizeof o;
        if (o.len > w->objs_len - off || o.nfds > nfds - fd_off) _exit(START_FAILED);
        const conc__passer_t *ps = conc__passer_find(o.kind);
        void *obj = ps ? ps->import_obj(fds + fd_off, o.nfds, objs + off, o.len) : NULL;
        if (!obj) _exit(START_FAILED);
        passed[i].kind = o.kind;
        passed[i].obj = obj;
        off += o.len;
        fd_off += o.nfds;
    }
    conc__proc_set_passed(passed, w->n_pass);
}

void conc__child_main(int fd, const void *mem, size_t len, int *fds, size_t nfds, pid_t ppid,
                      bool forked) {
    int got[CONC__MAX_FDS];
    struct reader r = {
        .fd = fd, .mem = mem, .left = len, .fds = mem ? fds : got, .nfds = mem ? nfds : 0};
    struct wire w;
    const char *h = take(&r, sizeof w, sizeof w);
    if (!h) _exit(START_FAILED);
    memcpy(&w, h, sizeof w);
    if (!mem) free((void *)h);
    if (w.magic != MAGIC || w.version != VERSION || w.n_pass > CONC__PASS_MAX_OBJS)
        _exit(START_FAILED);
    if (w.flags & F_DAEMON) conc__die_with_parent(ppid);
    const char *target = take_string(&r, w.target_len, TARGET_MAX);
    const char *name = take_string(&r, w.name_len, CONC__NAME_MAX);
    const char *ident = take_string(&r, w.ident_len, CONC__IDENT_MAX);
    const char *objs = take(&r, w.objs_len, OBJS_MAX);
    const void *arg = take(&r, w.arg_len, SIZE_MAX);
    if (!target || !name || !ident || !objs || !arg || r.nfds != w.nfds) _exit(START_FAILED);
    close(fd);
    conc_target_fn fn = conc__target_find(target);
    if (!fn) _exit(START_FAILED);
    import_all(&w, objs, r.fds, r.nfds);
    conc__proc_set_self(ident, name, w.flags & F_DAEMON); /* keeps both */
    conc_set_start_method((conc_start_method_t)w.method);
    if (!mem) {
        free((void *)target);
        free((void *)objs);
    }
    int status = fn(arg, w.arg_len);
    if (!mem) free((void *)arg);
    /* A forkserver child is a fork of the server: as in Python 3.14, the server's atexit handlers
     * are not its own. A spawned child is a program of its own and exits like one. */
    if (forked) conc__child_exit_fork(status);
    exit(status);
}

void conc__child_exit_fork(int status) {
    /* Python's _bootstrap epilogue in a fork child: the parent's atexit handlers are not ours to
     * run, so only conc's own duties are done - join our threads, see to our children - then
     * stdio is flushed and the process ends with _exit. */
    conc_shutdown();
    conc__proc_exit_children();
    conc__flush_std();
    _exit(status);
}

void conc__flush_std(void) {
    /* Only what holds data: fflush writes the stream's lock even when there is nothing to do. */
    if (__fpending(stdout)) fflush(stdout);
    if (__fpending(stderr)) fflush(stderr);
}
