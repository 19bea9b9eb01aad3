/* Helpers shared by the sync tests: polling for a state another thread or process sets (never a
 * blind sleep), threads, shared mappings, and running a body in a forked child that gets SIGINT. */
#ifndef CONC_SYNC_TEST_UTIL_H
#define CONC_SYNC_TEST_UTIL_H

#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

/* Poll cond until it holds; fail after 30 s instead of hanging. */
#define WAIT_UNTIL(cond)                                                                           \
    do {                                                                                           \
        double wait_until_end_ = conc_monotonic() + 30;                                            \
        while (!(cond)) {                                                                          \
            assert_true(conc_monotonic() < wait_until_end_);                                       \
            struct timespec wait_until_ts_ = {0, 200000};                                          \
            nanosleep(&wait_until_ts_, NULL);                                                      \
        }                                                                                          \
    } while (0)

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define INC(p)      __atomic_add_fetch((p), 1, __ATOMIC_ACQ_REL)

static inline pthread_t start_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}

static inline void *join_thread(pthread_t t) {
    void *r;
    assert_int_equal(pthread_join(t, &r), 0);
    return r;
}

static inline void *shared_map(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

/* Wait for a child and return its exit status; fail if it did not exit normally. */
static inline int reap(pid_t pid) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* In a child: conc_init (SIGINT becomes -EINTR in the main thread), then body(arg, ready), which
 * writes one byte to `ready` once it wants the SIGINT; the parent then sends it, whether or not
 * body is asleep yet: a pending interrupt is seen by the next wait. body returns 0 when everything
 * it checked held (see CHECK). */
static inline void run_interrupted_when(int (*body)(void *, int), void *arg) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (conc_init(0, NULL) < 0) _exit(200);
        _exit(body(arg, p[1]));
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_int_equal(reap(pid), 0);
}

struct conc__intr_body {
    int (*fn)(void *);
    void *arg;
};

static inline int conc__ready_first(void *arg, int ready) {
    struct conc__intr_body *b = arg;
    if (write(ready, "x", 1) != 1) return 201;
    return b->fn(b->arg);
}

/* The same, with the SIGINT sent as soon as the child is initialised. */
static inline void run_interrupted(int (*body)(void *), void *arg) {
    struct conc__intr_body b = {body, arg};
    run_interrupted_when(conc__ready_first, &b);
}

/* Interrupted waits use INTR_TIMEOUT and must end well before it: the SIGINT woke them. Except
 * under TSan, which runs a signal handler only once the thread leaves a raw syscall it does not
 * intercept (the futex wait), so there the wait reports -EINTR only when its timeout ends. */
#define INTR_TIMEOUT 3.0
#if defined(__SANITIZE_THREAD__)
#define WOKEN_EARLY(t0) ((void)(t0), true)
#else
#define WOKEN_EARLY(t0) (conc_monotonic() - (t0) < 2.5)
#endif

/* For child bodies: report the failing check and return non-zero. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#endif
