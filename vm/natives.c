/* The native functions a program calls with `native NAME`: the VM's C extension modules.
 *
 * The ones that wait (sleep, read, write, roundtrips) or compute for long (spin) release the GIL
 * around their work, as CPython's C code does with Py_BEGIN_ALLOW_THREADS: they touch nothing the
 * GIL protects while it is released (their arguments were copied off the VM stack first), so other
 * VM threads run meanwhile. print and clock are quick and keep it, as print keeps it in CPython.
 * Failures of system calls are values (-errno), not runtime errors: a program can test them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "conc/time.h"
#include "vm_int.h"

static int n_print(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    (void)ret;
    fprintf(t->run->out, "%" PRId64 "\n", a[0]);
    fflush(t->run->out);
    return 0;
}

static int n_clock(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    (void)t, (void)a;
    ret[0] = (int64_t)(conc_monotonic() * 1e6);
    return 0;
}

/* sleep MS: time.sleep, whole milliseconds (negative: 0). */
static int n_sleep(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    (void)ret;
    int64_t ms = a[0] < 0 ? 0 : a[0] > 86400000 ? 86400000 : a[0];
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    CONC_GIL_BEGIN_ALLOW_THREADS(t->run->gil)
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    CONC_GIL_END_ALLOW_THREADS(t->run->gil)
    return 0;
}

static int fd_arg(int64_t v) {
    return v < 0 || v > INT32_MAX ? -1 : (int)v;
}

/* Write one byte, never SIGPIPE: send on sockets, write on anything else. */
static ssize_t put_byte(int fd, unsigned char c) {
    ssize_t n;
    do n = send(fd, &c, 1, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK) {
        do n = write(fd, &c, 1);
        while (n < 0 && errno == EINTR);
    }
    return n;
}

static ssize_t get_byte(int fd, unsigned char *c) {
    ssize_t n;
    do n = read(fd, c, 1);
    while (n < 0 && errno == EINTR);
    return n;
}

/* read FD: one byte (0..255), -1 at end of file, -errno. */
static int n_read(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    int fd = fd_arg(a[0]);
    unsigned char c = 0;
    ssize_t n;
    int e = EBADF;
    CONC_GIL_BEGIN_ALLOW_THREADS(t->run->gil)
    n = fd < 0 ? -1 : get_byte(fd, &c);
    if (n < 0 && fd >= 0) e = errno;
    CONC_GIL_END_ALLOW_THREADS(t->run->gil)
    ret[0] = n == 1 ? c : n == 0 ? -1 : -e;
    return 0;
}

/* write FD BYTE: 1, or -errno (EPIPE when the reader is gone). */
static int n_write(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    int fd = fd_arg(a[0]);
    ssize_t n;
    int e = EBADF;
    CONC_GIL_BEGIN_ALLOW_THREADS(t->run->gil)
    n = fd < 0 ? -1 : put_byte(fd, (unsigned char)a[1]);
    if (n < 0 && fd >= 0) e = errno;
    CONC_GIL_END_ALLOW_THREADS(t->run->gil)
    ret[0] = n == 1 ? 1 : -e;
    return 0;
}

/* roundtrips FD N: the IO kernel - N times, send one byte and wait for one back, all without the
 * GIL. Returns how many round trips completed, or -errno if the first one failed. */
static int n_roundtrips(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    int fd = fd_arg(a[0]);
    int64_t n = a[1], done = 0;
    int e = EBADF;
    CONC_GIL_BEGIN_ALLOW_THREADS(t->run->gil)
    unsigned char c = 'x';
    while (fd >= 0 && done < n) {
        ssize_t k = put_byte(fd, c);
        if (k == 1) k = get_byte(fd, &c);
        if (k != 1) {
            e = k < 0 ? errno : EPIPE; /* 0: the peer closed */
            break;
        }
        done++;
    }
    CONC_GIL_END_ALLOW_THREADS(t->run->gil)
    ret[0] = done == 0 && n > 0 ? -e : done;
    return 0;
}

static int n_pipe(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    (void)t, (void)a;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        ret[0] = ret[1] = -errno;
        return 0;
    }
    ret[0] = fds[0];
    ret[1] = fds[1];
    return 0;
}

static int n_socketpair(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    (void)t, (void)a;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        ret[0] = ret[1] = -errno;
        return 0;
    }
    ret[0] = fds[0];
    ret[1] = fds[1];
    return 0;
}

static int n_close(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    (void)t;
    int fd = fd_arg(a[0]);
    ret[0] = fd < 0 ? -EBADF : close(fd) == 0 ? 0 : -errno;
    return 0;
}

/* spin N: the CPU kernel - N steps of a 64-bit LCG on private data with the GIL released (numpy
 * crunching an array). Returns the final state, so the work cannot be optimised away. */
static int n_spin(vm_thread_t *t, const int64_t *a, int64_t *ret) {
    uint64_t x = 1;
    int64_t n = a[0];
    CONC_GIL_BEGIN_ALLOW_THREADS(t->run->gil)
    for (int64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        __asm__ volatile("" : "+r"(x)); /* one step per iteration: no closed form */
    }
    CONC_GIL_END_ALLOW_THREADS(t->run->gil)
    ret[0] = (int64_t)(x >> 1);
    return 0;
}

const vm_native_t vm_natives[] = {
    {"print", 1, 0, n_print}, {"clock", 0, 1, n_clock},
    {"sleep", 1, 0, n_sleep}, {"read", 1, 1, n_read},
    {"write", 2, 1, n_write}, {"roundtrips", 2, 1, n_roundtrips},
    {"pipe", 0, 2, n_pipe},   {"socketpair", 0, 2, n_socketpair},
    {"close", 1, 1, n_close}, {"spin", 1, 1, n_spin},
};
const size_t vm_nnatives = sizeof vm_natives / sizeof vm_natives[0];
