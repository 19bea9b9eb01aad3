/* Helpers shared by the conn, wait and shm tests: raw frame bytes, forking a body into a child. */
#ifndef CONC_IPC_TEST_UTIL_H
#define CONC_IPC_TEST_UTIL_H

#include "sync_util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/socket.h>

/* Fork a child that runs body(arg) and exits with its result (see CHECK). */
static inline pid_t fork_body(int (*body)(void *), void *arg) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(body(arg));
    return pid;
}

static inline void reap_killed(pid_t pid) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* Write all of buf to a raw fd (the other end of a socketpair under test). */
static inline void write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* A 4-byte big-endian header for n, as Python's struct.pack("!i", n). */
static inline void be32(unsigned char *h, int32_t n) {
    uint32_t u = (uint32_t)n;
    h[0] = (unsigned char)(u >> 24), h[1] = (unsigned char)(u >> 16);
    h[2] = (unsigned char)(u >> 8), h[3] = (unsigned char)u;
}

static inline void be64(unsigned char *h, uint64_t n) {
    for (int i = 0; i < 8; i++) h[i] = (unsigned char)(n >> (56 - 8 * i));
}

/* A connection under test and a raw socket for its peer: conn reads what raw writes. */
static inline conc_conn_t *conn_with_raw_peer(int *raw) {
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    *raw = dup(conc_conn_fd(b));
    assert_true(*raw >= 0);
    conc_conn_close(b);
    return a;
}

static inline long max_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static inline bool sanitized(void) {
    const char *s = getenv("CONC_TEST_SANITIZE");
    return s && *s;
}

#endif
