/* conc's event loop vs libuv, row by row: how fast callbacks, timers and cross-thread calls go.
 *
 * Output: one tab-separated line per row like bench/sync.c: row, unit, conc ns, libuv ns, median
 * ratio conc/libuv (below 1: conc is faster). bench/loop.py prints asyncio's figures for the same
 * rows. What each libuv column measures, as libuv users would write it (libuv has no call_soon):
 *   call_soon_chain      one callback re-scheduling itself: a uv_idle_t left started, its callback
 *                        runs once per loop iteration (the "run this soon, again" idiom);
 *   call_soon_chain_fd   the same with a (silent) pipe watched by both loops: conc then polls
 *                        epoll every 64 callbacks, libuv every iteration (it always watches its
 *                        own signal pipe, so its column is the same as call_soon_chain's);
 *   call_soon_batch      1000 callbacks scheduled at once, then run: 1000 uv_idle_t started, each
 *                        stopping itself in its callback (per callback: schedule + run + retire);
 *   call_later0_chain    a timer re-armed from its own callback with timeout 0: uv_timer_start(0);
 *   threadsafe_roundtrip another thread asks the sleeping loop to run a callback that wakes it back
 *                        (uv_async_send; conc_call_soon_threadsafe). Loop on CPU 0, thread on 1.
 * Each row uses a fresh loop of each library; single-thread rows pin to CPU 0. */
#include "harness.h"
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <uv.h>
#include "conc.h"
#include <unistd.h>
#include "../src/internal/loop.h"

/* ---- call_soon chain ---- */
static conc_loop_t *cl;
static uv_loop_t ul;
static long left;

static void c_chain_cb(void *arg) {
    (void)arg;
    if (--left > 0)
        conc_call_soon(cl, c_chain_cb, NULL);
    else
        conc_loop_stop(cl);
}
static double c_chain(long n) {
    left = n;
    double t = bench_now();
    conc_call_soon(cl, c_chain_cb, NULL);
    conc_loop_run(cl);
    return bench_now() - t;
}

static uv_idle_t u_idle;
static void u_idle_cb(uv_idle_t *h) {
    if (--left == 0) uv_idle_stop(h);
}
static double u_chain(long n) {
    left = n;
    double t = bench_now();
    uv_idle_start(&u_idle, u_idle_cb);
    uv_run(&ul, UV_RUN_DEFAULT);
    return bench_now() - t;
}

static void silent(void *arg, int fd, unsigned events) {
    (void)arg;
    (void)fd;
    (void)events;
}
static int quiet_pipe[2];
static double c_chain_fd(long n) {
    conc__loop_watch(cl, quiet_pipe[0], CONC__IO_READ, silent, NULL);
    double t = c_chain(n);
    conc__loop_unwatch(cl, quiet_pipe[0]);
    return t;
}
static uv_poll_t u_quiet;
static void u_silent(uv_poll_t *h, int status, int events) {
    (void)h;
    (void)status;
    (void)events;
}
static double u_chain_fd(long n) {
    uv_poll_start(&u_quiet, UV_READABLE, u_silent);
    left = n;
    double t = bench_now();
    uv_idle_start(&u_idle, u_idle_cb);
    uv_run(&ul, UV_RUN_ONCE);
    while (left > 0) uv_run(&ul, UV_RUN_ONCE);
    t = bench_now() - t;
    uv_poll_stop(&u_quiet);
    return t;
}

/* ---- call_soon batch ---- */
#define BATCH 1000
static long ran;
static void c_count(void *arg) {
    (void)arg;
    ran++;
}
static double c_batch(long n) {
    double t = bench_now();
    for (long done = 0; done < n; done += BATCH) {
        for (int i = 0; i < BATCH; i++) conc_call_soon(cl, c_count, NULL);
        conc_loop_stop(cl); /* before run: exactly one iteration */
        conc_loop_run(cl);
    }
    return (bench_now() - t) * (double)n / (double)((n + BATCH - 1) / BATCH * BATCH);
}

static uv_idle_t u_idles[BATCH];
static void u_count(uv_idle_t *h) {
    ran++;
    uv_idle_stop(h);
}
static double u_batch(long n) {
    double t = bench_now();
    for (long done = 0; done < n; done += BATCH) {
        for (int i = 0; i < BATCH; i++) uv_idle_start(&u_idles[i], u_count);
        uv_run(&ul, UV_RUN_DEFAULT);
    }
    return (bench_now() - t) * (double)n / (double)((n + BATCH - 1) / BATCH * BATCH);
}

/* ---- call_later(0) chain ---- */
static void c_timer_cb(void *arg) {
    (void)arg;
    if (--left > 0)
        conc_call_later(cl, 0, c_timer_cb, NULL);
    else
        conc_loop_stop(cl);
}
static double c_timer(long n) {
    left = n;
    double t = bench_now();
    conc_call_later(cl, 0, c_timer_cb, NULL);
    conc_loop_run(cl);
    return bench_now() - t;
}

static uv_timer_t u_timer_h;
static void u_timer_cb(uv_timer_t *h) {
    if (--left > 0) uv_timer_start(h, u_timer_cb, 0, 0);
}
static double u_timer(long n) {
    left = n;
    double t = bench_now();
    uv_timer_start(&u_timer_h, u_timer_cb, 0, 0);
    uv_run(&ul, UV_RUN_DEFAULT);
    return bench_now() - t;
}

/* ---- thread-safe round trip ---- */
static uint32_t answered; /* futex word: the loop's callback sets it, the thread sleeps on it */
static void answer(void) {
    __atomic_store_n(&answered, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&answered, 1, false);
}
static void await_answer(void) {
    while (!__atomic_load_n(&answered, __ATOMIC_ACQUIRE))
        conc__wait_nointr(&answered, 0, INFINITY, false);
    __atomic_store_n(&answered, 0, __ATOMIC_RELAXED);
}

static void c_pong(void *arg) {
    (void)arg;
    answer();
}
struct rt {
    long n;
    double took;
};
static void *c_pinger(void *arg) {
    struct rt *r = arg;
    bench_pin(1);
    double t = bench_now();
    for (long i = 0; i < r->n; i++) {
        conc_call_soon_threadsafe(cl, c_pong, NULL);
        await_answer();
    }
    r->took = bench_now() - t;
    conc_loop_stop(cl);
    return NULL;
}
static double c_roundtrip(long n) {
    struct rt r = {n, 0};
    pthread_t th;
    pthread_create(&th, NULL, c_pinger, &r);
    conc_loop_run(cl);
    pthread_join(th, NULL);
    return r.took;
}

static uv_async_t u_async;
static int u_done;
static void u_pong(uv_async_t *h) {
    if (__atomic_load_n(&u_done, __ATOMIC_ACQUIRE)) {
        uv_close((uv_handle_t *)h, NULL);
        return;
    }
    answer();
}
static void *u_pinger(void *arg) {
    struct rt *r = arg;
    bench_pin(1);
    double t = bench_now();
    for (long i = 0; i < r->n; i++) {
        uv_async_send(&u_async);
        await_answer();
    }
    r->took = bench_now() - t;
    __atomic_store_n(&u_done, 1, __ATOMIC_RELEASE);
    uv_async_send(&u_async);
    return NULL;
}
static double u_roundtrip(long n) {
    struct rt r = {n, 0};
    pthread_t th;
    u_done = 0;
    uv_async_init(&ul, &u_async, u_pong);
    pthread_create(&th, NULL, u_pinger, &r);
    uv_run(&ul, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    return r.took;
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    struct {
        const char *row;
        bench_fn c, u;
    } rows[] = {
        {"loop_call_soon_chain", c_chain, u_chain},
        {"loop_call_soon_chain_fd", c_chain_fd, u_chain_fd},
        {"loop_call_soon_batch", c_batch, u_batch},
        {"loop_call_later0_chain", c_timer, u_timer},
        {"loop_threadsafe_roundtrip", c_roundtrip, u_roundtrip},
    };
    bench_pin(0);
    if (pipe(quiet_pipe) < 0) return 1;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (only && strcmp(only, rows[i].row) != 0) continue;
        cl = conc_loop_new();
        uv_loop_init(&ul);
        uv_idle_init(&ul, &u_idle);
        for (int k = 0; k < BATCH; k++) uv_idle_init(&ul, &u_idles[k]);
        uv_timer_init(&ul, &u_timer_h);
        uv_poll_init(&ul, &u_quiet, quiet_pipe[0]);
        bench_pair(rows[i].row, "ns", rows[i].c, rows[i].u);
        conc_loop_free(cl);
        uv_close((uv_handle_t *)&u_idle, NULL);
        for (int k = 0; k < BATCH; k++) uv_close((uv_handle_t *)&u_idles[k], NULL);
        uv_close((uv_handle_t *)&u_timer_h, NULL);
        uv_close((uv_handle_t *)&u_quiet, NULL);
        uv_run(&ul, UV_RUN_DEFAULT);
        uv_loop_close(&ul);
    }
    return 0;
}
