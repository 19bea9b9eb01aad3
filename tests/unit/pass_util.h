/* For the passer tests: send an exported object (fds + bytes) over a socketpair with SCM_RIGHTS, as
 * the process module does for spawn and forkserver children, and receive it on the other side. */
#ifndef CONC_PASS_TEST_UTIL_H
#define CONC_PASS_TEST_UTIL_H

#include "ipc_util.h"
#include "internal/pass.h"

struct passed {
    int fds[CONC__PASS_MAX_FDS];
    size_t nfds;
    unsigned char bytes[CONC__PASS_MAX_BYTES];
    size_t len;
};

static inline int pass_send(int sock, const conc__passer_t *p, void *obj) {
    struct passed m;
    m.nfds = CONC__PASS_MAX_FDS;
    m.len = sizeof m.bytes;
    int r = p->export_obj(obj, m.fds, &m.nfds, m.bytes, &m.len);
    if (r < 0) return r;
    char ctl[CMSG_SPACE(sizeof(int) * CONC__PASS_MAX_FDS)];
    memset(ctl, 0, sizeof ctl);
    struct iovec iov[2] = {{&m.len, sizeof m.len}, {m.bytes, m.len}};
    struct msghdr mh = {.msg_iov = iov,
                        .msg_iovlen = 2,
                        .msg_control = ctl,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * m.nfds)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * m.nfds);
    memcpy(CMSG_DATA(c), m.fds, sizeof(int) * m.nfds);
    return sendmsg(sock, &mh, 0) > 0 ? 0 : -errno;
}

static inline void *pass_recv(int sock, const conc__passer_t *p) {
    struct passed m;
    char ctl[CMSG_SPACE(sizeof(int) * CONC__PASS_MAX_FDS)];
    struct iovec iov[2] = {{&m.len, sizeof m.len}, {m.bytes, sizeof m.bytes}};
    struct msghdr mh = {
        .msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl, .msg_controllen = sizeof ctl};
    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0) return NULL;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    m.nfds = c ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
    if (c) memcpy(m.fds, CMSG_DATA(c), sizeof(int) * m.nfds);
    return p->import_obj(m.fds, m.nfds, m.bytes, m.len);
}

static inline bool fd_open(int fd) {
    return fcntl(fd, F_GETFD) >= 0;
}

#endif
