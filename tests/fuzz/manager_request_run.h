/* The manager's request path under fuzzing: frame reader, bounded walker, request decoder and every
 * method's argument decoding, shared by the libFuzzer target (tests/fuzz/manager_request.c) and the
 * cmocka test tests/unit/manager_fuzz.c, which replays a corpus so CI runs the same path.
 *
 * Input: bytes written into a socketpair and read back as frames by the conn module's reader (with
 * the manager's limit, 4 KiB here); each frame goes to conc__dispatch on an authenticated
 * connection of an in-memory server (no listener, no event loop), exactly as the server would
 * handle it: objects are created, parked requests queue up, replies are written to the socket and
 * drained. Everything is freed at the end, so ASan's leak check covers the paths too. */
#ifndef CONC_FUZZ_MANAGER_REQUEST_RUN_H
#define CONC_FUZZ_MANAGER_REQUEST_RUN_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "manager/srv.h"
#include "internal/conn.h"

#define CONC_FUZZ_MGR_MAX_INPUT 65536

static void conc_fuzz_mgr_drain(int fd) {
    char buf[4096];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

/* 0 when everything behaved (a crash or a sanitizer report is the failure). */
static int conc_fuzz_manager_request(const uint8_t *data, size_t size) {
    if (size > CONC_FUZZ_MGR_MAX_INPUT) size = CONC_FUZZ_MGR_MAX_INPUT;
    int in[2], out[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) < 0) {
        close(in[0]);
        close(in[1]);
        return 0;
    }
    srv_t s;
    memset(&s, 0, sizeof s);
    s.epfd = epoll_create1(EPOLL_CLOEXEC);
    s.lfd = s.ctl_fd = -1;
    s.key = (const unsigned char *)"k";
    s.key_len = 1;
    s.max = 4096;
    s.objs.seed = s.seed;
    sconn_t *c = calloc(1, sizeof *c);
    c->s = &s;
    c->conn = conc__conn_new(in[1], CONC__CONN_READ | CONC__CONN_WRITE, s.max);
    c->fd = out[0]; /* replies go here and are drained from out[1] */
    c->id = 1;
    c->state = S_READY;
    c->events = EPOLLIN;
    s.conns = c;
    for (size_t off = 0; off < size;) {
        ssize_t w = send(in[0], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
        for (;;) {
            void *buf;
            size_t len;
            if (c->closing || conc_conn_recv(c->conn, &buf, &len, 0) != 0) break;
            conc__dispatch(c, buf, len);
            free(buf);
            conc_fuzz_mgr_drain(out[1]);
        }
        if (c->closing) break;
    }
    /* what conc__sconn_close and the server's cleanup do, minus epoll */
    conc__park_drop_conn(c);
    conc__lock_conn_died(&s, c->id);
    conc_conn_close(c->conn);
    conc__mbuf_free(&c->out);
    free(c);
    for (hent_t *e = s.objs.first; e; e = e->next) conc__obj_free(e->val);
    conc__htab_free(&s.objs);
    close(s.epfd);
    close(in[0]);
    close(out[0]);
    close(out[1]);
    return 0;
}

#endif
