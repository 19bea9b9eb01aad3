/* A process pool worker: the target every pool process runs, under any start method.
 *
 * It serves one Pipe: reads a TASKS frame, looks the work up by name (conc_work_find; the same
 * binary registered the same names before main), runs each argument and answers each with its own
 * RESULT frame before starting the next, so that its death points at the task that caused it.
 * After max_tasks_per_child tasks it exits by itself and the pool replaces it (as CPython's
 * worker does); an initializer that fails is reported once and ends the worker. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "conc/conn.h"
#include "../internal/conn.h"
#include "executor.h"
#include "wire.h"

/* One RESULT frame: the Connection header, ours, and the body in one sendmsg, without copying
 * the body (conc_conn_send takes one buffer). The worker is the socket's only writer. A result too
 * large for a 4-byte frame length is sent as an error instead. */
static int send_result(conc_conn_t *c, int32_t rc, const void *data, size_t len) {
    if (len > 0x7fffffff - sizeof(struct conc__w_result)) rc = -EMSGSIZE, len = 0;
    struct conc__w_result h = {CONC__W_RESULT, rc, len};
    uint32_t n = (uint32_t)(sizeof h + len);
    unsigned char fh[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                           (unsigned char)(n >> 8), (unsigned char)n};
    struct iovec iov[3] = {{fh, 4}, {&h, sizeof h}, {(void *)data, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 3 : 2};
    int fd = conc_conn_fd(c);
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

/* Run the tasks of one frame; returns how many ran, or a negative code if the pipe is gone. */
static long run_frame(conc_conn_t *c, const unsigned char *m, size_t len) {
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
        conc_bytes_t out = {NULL, 0};
        int rc = fn ? fn(m + off, (size_t)alen, &out) : -ENOENT;
        off += (size_t)alen;
        if (rc > 0) rc = 0;
        int r = send_result(c, rc, rc < 0 ? NULL : out.data, rc < 0 ? 0 : out.len);
        free(out.data);
        if (r < 0) return r;
    }
    return (long)h.n;
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
            struct conc__w_result h = {CONC__W_INIT_FAILED, rc, 0};
            conc_conn_send(c, &h, sizeof h);
            return 1;
        }
    }
    uint64_t done = 0;
    for (;;) {
        void *m;
        size_t mlen;
        int r = conc_conn_recv(c, &m, &mlen, CONC_FOREVER);
        if (r == -EINTR) continue;
        if (r < 0) return 0; /* the pool is gone */
        uint32_t kind = 0;
        if (mlen >= sizeof kind) memcpy(&kind, m, sizeof kind);
        long ran = 0;
        if (kind == CONC__W_TASKS && mlen >= sizeof(struct conc__w_tasks))
            ran = run_frame(c, m, mlen);
        free(m);
        if (kind != CONC__W_TASKS || ran < 0) return 0;
        done += (uint64_t)ran;
        if (max_tasks && done >= max_tasks) return 0;
    }
}
