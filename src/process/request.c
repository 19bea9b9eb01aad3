/* A start request on the wire, and the child that reads it (spawn and forkserver).
 *
 * One stream socket carries everything from the parent to the child: a fixed header, then the
 * target name, the child's name and identity, the passed objects' bytes and the argument. The fds
 * of every passed object ride on the header's sendmsg as one SCM_RIGHTS message, so the child gets
 * them all with the header and no later read can mix stream bytes with descriptors. Objects are
 * described by their kind's passer (internal/pass.h) and rebuilt by it in the child, in order.
 *
 * The write is blocking and may be large (a 1 MiB argument); the child reads as it goes. A child
 * that dies before reading makes the write fail with EPIPE, never SIGPIPE (MSG_NOSIGNAL); the start
 * still succeeds, and the child's exit status tells what happened, as with any early death. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
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
#define MAX_FDS    253 /* SCM_MAX_FD */
#define TARGET_MAX 255
#define OBJS_MAX   (CONC__PASS_MAX_OBJS * (sizeof(struct wire_obj) + CONC__PASS_MAX_BYTES))

struct wire {
    uint32_t magic, version, flags;
    int32_t method;
    uint32_t target_len, name_len, ident_len;
    uint32_t n_pass, nfds, objs_len;
    uint64_t arg_len;
};

struct wire_obj {
    int32_t kind;
    uint32_t nfds, len;
};

/* ---- parent side ---- */

static int send_all(int fd, struct iovec *iov, int niov, const int *fds, size_t nfds) {
    union {
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
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

/* Describe every passed object: their records into *objs, their fds into fds. */
static int export_all(const conc__request_t *rq, char **objs, size_t *objs_len, int *fds,
                      size_t *nfds) {
    if (rq->n_pass > CONC__PASS_MAX_OBJS) return -EINVAL;
    size_t cap = rq->n_pass * (sizeof(struct wire_obj) + CONC__PASS_MAX_BYTES);
    char *buf = malloc(cap ? cap : 1);
    if (!buf) return -ENOMEM;
    size_t off = 0, nf = 0;
    for (size_t i = 0; i < rq->n_pass; i++) {
        const conc__passer_t *ps = conc__passer_find(rq->pass[i].kind);
        if (!ps || !rq->pass[i].obj || nf + CONC__PASS_MAX_FDS > MAX_FDS) {
            free(buf);
            return -EINVAL;
        }
        struct wire_obj o = {.kind = rq->pass[i].kind};
        size_t ofds = CONC__PASS_MAX_FDS, len = CONC__PASS_MAX_BYTES;
        int r = ps->export_obj(rq->pass[i].obj, fds + nf, &ofds, buf + off + sizeof o, &len);
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
    *objs = buf;
    *objs_len = off;
    *nfds = nf;
    return 0;
}

int conc__request_send(int fd, const conc__request_t *rq) {
    char *objs;
    size_t objs_len, nfds;
    int fds[MAX_FDS];
    int r = export_all(rq, &objs, &objs_len, fds, &nfds);
    if (r < 0) return r;
    struct wire w = {
        .magic = MAGIC,
        .version = VERSION,
        .flags = rq->daemon ? F_DAEMON : 0,
        .method = rq->method,
        .target_len = (uint32_t)strlen(rq->target),
        .name_len = (uint32_t)strlen(rq->name),
        .ident_len = (uint32_t)strlen(rq->identity),
        .n_pass = (uint32_t)rq->n_pass,
        .nfds = (uint32_t)nfds,
        .objs_len = (uint32_t)objs_len,
        .arg_len = rq->len,
    };
    struct iovec iov[] = {
        {&w, sizeof w},
        {(void *)rq->target, w.target_len},
        {(void *)rq->name, w.name_len},
        {(void *)rq->identity, w.ident_len},
        {objs, objs_len},
        {(void *)rq->arg, rq->len},
    };
    r = send_all(fd, iov, 6, fds, nfds);
    free(objs);
    return r;
}

/* ---- child side ---- */

/* Read exactly len bytes; descriptors that come along are appended to fds (closed past max). */
static int recv_exact(int fd, void *buf, size_t len, int *fds, size_t max, size_t *nfds) {
    union {
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } u;
    while (len > 0) {
        struct iovec iov = {buf, len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EPIPE;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int got[MAX_FDS];
            memcpy(got, CMSG_DATA(c), k * sizeof(int));
            for (size_t i = 0; i < k; i++) {
                if (*nfds < max)
                    fds[(*nfds)++] = got[i];
                else
                    close(got[i]);
            }
        }
        buf = (char *)buf + n;
        len -= (size_t)n;
    }
    return 0;
}

void conc__die_with_parent(pid_t ppid) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The parent may have died before the prctl; then nobody will send the signal. */
    if (getppid() != ppid) _exit(255);
}

/* Status of a child that could not run its target: a malformed or cut-off request (the parent died
 * while writing it), an unknown target, an object that would not import. */
#define START_FAILED 255

static char *read_string(int fd, uint32_t len, size_t max, int *fds, size_t *nfds) {
    if (len > max) return NULL;
    char *s = malloc(len + 1);
    if (!s) return NULL;
    if (recv_exact(fd, s, len, fds, MAX_FDS, nfds) < 0) {
        free(s);
        return NULL;
    }
    s[len] = 0;
    return s;
}

/* Everything a child keeps of its request: static, so it stays reachable (and out of a leak
 * checker's report) while the target runs and exit handlers run after it. */
static conc_obj_t *passed;

static void import_all(const struct wire *w, const char *objs, const int *fds, size_t nfds) {
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

void conc__child_main(int fd, pid_t ppid) {
    struct wire w;
    int fds[MAX_FDS];
    size_t nfds = 0;
    if (recv_exact(fd, &w, sizeof w, fds, MAX_FDS, &nfds) < 0 || w.magic != MAGIC ||
        w.version != VERSION || w.n_pass > CONC__PASS_MAX_OBJS)
        _exit(START_FAILED);
    if (w.flags & F_DAEMON) conc__die_with_parent(ppid);
    char *target = read_string(fd, w.target_len, TARGET_MAX, fds, &nfds);
    char *name = read_string(fd, w.name_len, CONC__NAME_MAX - 1, fds, &nfds);
    char *ident = read_string(fd, w.ident_len, CONC__IDENT_MAX - 1, fds, &nfds);
    char *objs = read_string(fd, w.objs_len, OBJS_MAX, fds, &nfds);
    void *arg = malloc(w.arg_len ? w.arg_len : 1);
    if (!target || !name || !ident || !objs || !arg ||
        recv_exact(fd, arg, w.arg_len, fds, MAX_FDS, &nfds) < 0 || nfds != w.nfds)
        _exit(START_FAILED);
    close(fd);
    conc_target_fn fn = conc__target_find(target);
    if (!fn) _exit(START_FAILED);
    import_all(&w, objs, fds, nfds);
    conc__proc_set_self(ident, name, w.flags & F_DAEMON);
    conc_set_start_method((conc_start_method_t)w.method);
    free(target);
    free(name);
    free(ident);
    free(objs);
    int status = fn(arg, w.arg_len);
    free(arg);
    exit(status);
}

void conc__child_exit_fork(int status) {
    /* Python's _bootstrap epilogue in a fork child: the parent's atexit handlers are not ours to
     * run, so only conc's own duties are done - join our threads, see to our children - then
     * stdio is flushed and the process ends with _exit. */
    conc_shutdown();
    conc__proc_exit_children();
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
