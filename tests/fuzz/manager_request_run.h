/* The manager's request path under fuzzing: frame reader, bounded walker, request decoder and every
 * method's argument decoding, shared by the libFuzzer target (tests/fuzz/manager_request.c) and the
 * cmocka test tests/unit/manager_fuzz.c, which replays a corpus so CI runs the same path.
 *
 * Input: bytes written into a socketpair and read back as frames by the server's own connection
 * reader (sconn.c, with the manager's limit, 4 KiB here); each frame goes to conc__dispatch on an
 * authenticated connection of an in-memory server (no listener, no event loop), exactly as the
 * server would handle it: objects are created, parked requests queue up, replies are written to
 * the socket and drained. Everything is freed at the end, so ASan's leak check covers the paths too. */
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
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 0;
    srv_t s;
    memset(&s, 0, sizeof s);
    s.epfd = epoll_create1(EPOLL_CLOEXEC);
    s.lfd = s.ctl_fd = s.bell = -1;
    s.key = (const unsigned char *)"k";
    s.key_len = 1;
    s.max = 4096;
    s.objs.seed = s.seed;
    sconn_t *c = calloc(1, sizeof *c);
    c->s = &s;
    c->conn = conc__conn_new(sv[1], CONC__CONN_READ | CONC__CONN_WRITE, s.max);
    c->fd = sv[1]; /* requests arrive here and replies leave here, drained from sv[0] */
    c->id = 1;
    c->state = S_READY;
    c->events = EPOLLIN;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(s.epfd, EPOLL_CTL_ADD, c->fd, &e);
    s.conns = c;
    /* The server's own reader (sconn.c): whatever arrives is read, framed and dispatched as the
     * event loop would; a bad frame closes the connection (s.conns empties). */
    for (size_t off = 0; off < size && s.conns;) {
        ssize_t w = send(sv[0], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
        conc__sconn_event(c, EPOLLIN);
        s.stop = false; /* a shutdown request: keep going, the rest is still input */
        conc_fuzz_mgr_drain(sv[0]);
        if (s.conns) conc__sconn_event(c, EPOLLOUT); /* what back-pressure held */
        conc_fuzz_mgr_drain(sv[0]);
    }
    if (s.conns) conc__sconn_close(c);
    for (hent_t *h = s.objs.first; h; h = h->next) conc__obj_free(h->val);
    conc__htab_free(&s.objs);
    conc__fast_free(&s);
    close(s.epfd);
    close(sv[0]);
    return 0;
}

#endif
