/* The MPI pool, run by ctest under `mpirun -n 4` (static mode: rank 0 drives ranks 1-3) and as a
 * plain run that spawns 3 workers. Cases: results, -ENOENT, map chunks and as_completed across
 * ranks; a worker rank that dies mid-task (CONC_EBROKEN for that task only, the rest completes on
 * the other ranks). Exit status 0 and "PASS" on success; each check prints what failed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "conc.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int square_pid(const void *arg, size_t len, conc_bytes_t *out) {
    if (len != sizeof(long)) return -EINVAL;
    long v[2];
    memcpy(&v[0], arg, sizeof(long));
    v[0] *= v[0];
    v[1] = getpid();
    out->data = malloc(sizeof v);
    memcpy(out->data, v, sizeof v);
    out->len = sizeof v;
    return 0;
}
CONC_WORK(square_pid)

static int die(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    raise(SIGKILL);
    return 0;
}
CONC_WORK(die)

static int slow(const void *arg, size_t len, conc_bytes_t *out) {
    (void)arg;
    (void)len;
    (void)out;
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 0;
}
CONC_WORK(slow)

static int unregistered(const void *arg, size_t len, conc_bytes_t *out) {
    return square_pid(arg, len, out);
}

static void map_and_check(conc_executor_t *ex, size_t n, size_t chunk) {
    conc_bytes_t *args = calloc(n, sizeof *args);
    long *vals = calloc(n, sizeof *vals);
    conc_future_t **fs = calloc(n, sizeof *fs);
    for (size_t i = 0; i < n; i++) {
        vals[i] = (long)i;
        args[i] = (conc_bytes_t){&vals[i], sizeof(long)};
    }
    CHECK(conc_executor_map(ex, square_pid, args, n, chunk, fs) == 0);
    size_t idx, seen = 0;
    int r;
    bool other_pid = false;
    while ((r = conc_as_completed(fs, n, 60, &idx)) == 0) {
        void *v;
        CHECK(conc_future_result(fs[idx], &v) == 0);
        long got[2];
        memcpy(got, ((conc_bytes_t *)v)->data, sizeof got);
        CHECK(got[0] == vals[idx] * vals[idx]);
        other_pid = other_pid || got[1] != getpid();
        seen++;
    }
    CHECK(r == CONC_ECLOSED);
    CHECK(seen == n);
    CHECK(other_pid);
    for (size_t i = 0; i < n; i++) conc_future_release(fs[i]);
    free(fs);
    free(vals);
    free(args);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* submit and wait, over and over: run by two threads at once, each fetching results (its own or
 * the other's) while the other also waits */
static void *round_trips(void *arg) {
    conc_executor_t *ex = arg;
    for (long i = 0; i < 300; i++) {
        conc_future_t *f;
        CHECK(conc_executor_submit(ex, square_pid, &i, sizeof i, &f) == 0);
        CHECK(conc_future_wait(f, 60) == 0);
        void *v;
        CHECK(conc_future_result(f, &v) == 0);
        long got[2];
        memcpy(got, ((conc_bytes_t *)v)->data, sizeof got);
        CHECK(got[0] == i * i);
        conc_future_release(f);
    }
    return NULL;
}

/* the ways of getting a result other than one plain wait */
static void waits(conc_executor_t *ex) {
    /* nobody waits: the pool still completes it (polled here, with a deadline) */
    long x = 3;
    conc_future_t *f;
    CHECK(conc_executor_submit(ex, square_pid, &x, sizeof x, &f) == 0);
    double end = now() + 30;
    while (!conc_future_done(f)) {
        CHECK(now() < end);
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(conc_future_result(f, NULL) == 0);
    conc_future_release(f);
    /* a poll and a short timeout on a task still running, then its result */
    CHECK(conc_executor_submit(ex, slow, NULL, 0, &f) == 0);
    CHECK(conc_future_wait(f, 0) == -ETIMEDOUT);
    double t = now();
    CHECK(conc_future_wait(f, 0.01) == -ETIMEDOUT);
    CHECK(now() - t >= 0.01);
    CHECK(conc_future_wait(f, 60) == 0);
    CHECK(conc_future_result(f, NULL) == 0);
    conc_future_release(f);
    /* two threads waiting at once */
    conc_thread_t *th;
    CHECK(conc_thread_start(&th, round_trips, ex, NULL) == 0);
    round_trips(ex);
    CHECK(conc_thread_join(th, 60, NULL) == 0);
    conc_thread_release(th);
}

static void basic(conc_executor_t *ex) {
    long x = 7;
    conc_future_t *f;
    CHECK(conc_executor_submit(ex, square_pid, &x, sizeof x, &f) == 0);
    CHECK(conc_future_wait(f, 60) == 0);
    void *v;
    CHECK(conc_future_result(f, &v) == 0);
    long got[2];
    memcpy(got, ((conc_bytes_t *)v)->data, sizeof got);
    CHECK(got[0] == 49 && got[1] != getpid());
    conc_future_release(f);
    CHECK(conc_executor_submit(ex, unregistered, &x, sizeof x, &f) == -ENOENT);
    CHECK(conc_executor_submit(ex, square_pid, "x", 1, &f) == 0);
    CHECK(conc_future_wait(f, 60) == 0);
    CHECK(conc_future_result(f, NULL) == -EINVAL);
    conc_future_release(f);
    map_and_check(ex, 200, 1);
    map_and_check(ex, 200, 16);
    waits(ex);
}

static void dead_rank(conc_executor_t *ex) {
    conc_future_t *victim;
    CHECK(conc_executor_submit(ex, die, NULL, 0, &victim) == 0);
    map_and_check(ex, 60, 3);
    CHECK(conc_future_wait(victim, 60) == 0);
    CHECK(conc_future_result(victim, NULL) == CONC_EBROKEN);
    conc_future_release(victim);
    map_and_check(ex, 30, 1); /* the pool goes on with the ranks left */
}

int main(int argc, char **argv) {
    if (conc_init(argc, argv) != 0) return 99;
    if (conc_mpi_init(&argc, &argv) != 0) return 98;
    const char *what = argc > 1 ? argv[1] : "basic";
    conc_executor_t *ex;
    conc_mpi_opts_t o = {.spawn = strncmp(what, "spawn", 5) == 0 ? 3 : 0};
    int r = conc_mpi_pool_new(&ex, &o);
    if (r != 0) {
        fprintf(stderr, "conc_mpi_pool_new: %s\n", conc_strerror(r));
        return 1;
    }
    if (strstr(what, "dead"))
        dead_rank(ex);
    else
        basic(ex);
    CHECK(conc_executor_shutdown(ex, true, false) == 0);
    conc_future_t *f;
    CHECK(conc_executor_submit(ex, square_pid, "12345678", 8, &f) == CONC_ECLOSED);
    conc_executor_free(ex);
    printf("PASS %s\n", what);
    return 0;
}
