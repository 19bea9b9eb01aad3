/* loop.sock_*: non-blocking socket calls that park the task while the kernel says EAGAIN.
 *
 * Each call tries first and waits only if it must (asyncio does the same): a socket that already
 * has data costs one syscall and no trip through epoll. The timeout covers the whole call. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conc/time.h"
#include "../internal/net.h"

static double deadline_of(double timeout) {
    if (isnan(timeout) || timeout < 0) return INFINITY;
    return conc_monotonic() + timeout;
}

/* -EAGAIN says: wait (or -ETIMEDOUT at once for a poll, -EPERM outside a task) */
static int wait_for(int fd, unsigned events, double timeout, double deadline) {
    if (timeout == 0) return -ETIMEDOUT;
    if (!conc__task_running) return -EPERM;
    return conc__fd_wait(fd, events, deadline);
}

int conc_sock_socket(int family, int type, int protocol) {
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    return fd < 0 ? -errno : fd;
}

int conc_sock_connect(int fd, const struct sockaddr *addr, socklen_t len, double timeout) {
    if (!addr) return -EINVAL;
    double deadline = deadline_of(timeout);
    if (connect(fd, addr, len) == 0) return 0;
    if (errno != EINPROGRESS && errno != EAGAIN) return errno == EINTR ? -EINTR : -errno;
    int r = wait_for(fd, CONC__IO_WRITE, timeout, deadline);
    if (r < 0) return r;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) return -errno;
    return -err;
}

int conc_sock_accept(int fd, struct sockaddr *addr, socklen_t *len, double timeout) {
    double deadline = deadline_of(timeout);
    for (;;) {
        int c = accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) return c;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN) return -errno;
        int r = wait_for(fd, CONC__IO_READ, timeout, deadline);
        if (r < 0) return r;
    }
}

ssize_t conc_sock_recv(int fd, void *buf, size_t n, double timeout) {
    double deadline = deadline_of(timeout);
    for (;;) {
        ssize_t m = recv(fd, buf, n, MSG_DONTWAIT);
        if (m >= 0) return m;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        int r = wait_for(fd, CONC__IO_READ, timeout, deadline);
        if (r < 0) return r;
    }
}

ssize_t conc_sock_send(int fd, const void *buf, size_t n, double timeout) {
    double deadline = deadline_of(timeout);
    for (;;) {
        ssize_t m = send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (m >= 0) return m;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        int r = wait_for(fd, CONC__IO_WRITE, timeout, deadline);
        if (r < 0) return r;
    }
}

int conc_sock_sendall(int fd, const void *buf, size_t n, double timeout) {
    double deadline = deadline_of(timeout);
    const char *p = buf;
    while (n > 0) {
        double left = timeout;
        if (deadline < INFINITY) {
            left = deadline - conc_monotonic();
            if (left < 0) left = 0;
        }
        ssize_t m = conc_sock_send(fd, p, n, left);
        if (m < 0) return (int)m;
        p += m;
        n -= (size_t)m;
    }
    return 0;
}

int conc_sock_close(int fd) {
    if (fd < 0) return -EBADF;
    conc__fd_forget(conc_loop_current(), fd);
    return close(fd) < 0 ? -errno : 0;
}
