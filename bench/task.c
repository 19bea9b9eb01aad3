/* Tasks vs the raw context switch (and vs asyncio, bench/task.py), row by row.
 *
 * Output: one line per row, tab-separated: row, unit, conc, peer, median ratio conc/peer; "nan"
 * where a row has no C peer (its comparison is asyncio's figure from bench/task.py, same row name).
 *   task_switch           ns per switch: 2 tasks ping-ponging on conc_sleep(0); peer: raw switch
 *   ctx_switch_raw        ns per conc__ctx_swap between two contexts; peer: ucontext swapcontext
 *   task_create_complete  ns per task: spawn 1000 tasks that return at once, gather them
 *   aqueue_item           ns per item: producer -> consumer through a Queue(maxsize=128)
 *   sleeping_100k_rss     MiB of RSS added by 100,000 tasks parked in conc_sleep
 * The whole process is pinned to CPU 0 (sched_setaffinity): tasks run in one thread anyway, and
 * pinning keeps the scheduler from moving it mid-sample. */
#include "harness.h"
#include <math.h>
#include <stdint.h>
#include <ucontext.h>
#include "conc.h"
#include "task/ctx.h"

/* ---- raw switch ---- */
static conc__ctx_t main_ctx, co_ctx;
static void co_loop(void *transfer, void *arg) {
    (void)transfer;
    (void)arg;
    for (;;) conc__ctx_swap(&co_ctx, &main_ctx, NULL);
}
static char co_stack[64 * 1024] __attribute__((aligned(16)));
static double raw_switch(long n) {
    conc__ctx_make(&co_ctx, co_stack, sizeof co_stack, co_loop, NULL);
    double t = bench_now();
    for (long i = 0; i < n; i++) conc__ctx_swap(&main_ctx, &co_ctx, NULL);
    return (bench_now() - t) / 2; /* two switches per round */
}

static ucontext_t uc_main, uc_co;
static void uc_loop(void) {
    for (;;) swapcontext(&uc_co, &uc_main);
}
static char uc_stack[64 * 1024] __attribute__((aligned(16)));
static double ucontext_switch(long n) {
    getcontext(&uc_co);
    uc_co.uc_stack.ss_sp = uc_stack;
    uc_co.uc_stack.ss_size = sizeof uc_stack;
    uc_co.uc_link = NULL;
    makecontext(&uc_co, uc_loop, 0);
    double t = bench_now();
    for (long i = 0; i < n; i++) swapcontext(&uc_main, &uc_co);
    return (bench_now() - t) / 2;
}

/* ---- task switch: ping-pong on sleep(0) ---- */
static long rounds;
static void *yielder(void *arg) {
    (void)arg;
    for (long i = 0; i < rounds; i++) conc_sleep(0);
    return NULL;
}
static void *pingpong(void *arg) {
    double *out = arg;
    conc_task_t *a = conc_task_spawn(NULL, yielder, NULL, NULL);
    conc_task_t *b = conc_task_spawn(NULL, yielder, NULL, NULL);
    conc_sleep(0); /* both started */
    double t = bench_now();
    conc_future_t *fs[2] = {conc_task_future(a), conc_task_future(b)};
    conc_gather(fs, 2, false);
    *out = bench_now() - t;
    conc_task_release(a);
    conc_task_release(b);
    return NULL;
}
static double task_switch(long n) {
    double t = 0;
    rounds = n / 2; /* two tasks: n switches in all */
    conc_run(pingpong, &t, NULL);
    return t;
}

/* ---- create + complete ---- */
static void *noop(void *arg) {
    return arg;
}
#define BATCH 1000
static long creates;
static void *create_batches(void *arg) {
    double *out = arg;
    static conc_task_t *ts[BATCH];
    static conc_future_t *fs[BATCH];
    double t = bench_now();
    for (long done = 0; done < creates; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            ts[i] = conc_task_spawn(NULL, noop, NULL, NULL);
            fs[i] = conc_task_future(ts[i]);
        }
        conc_gather(fs, BATCH, false);
        for (int i = 0; i < BATCH; i++) conc_task_release(ts[i]);
    }
    *out = bench_now() - t;
    return NULL;
}
static double create_complete(long n) {
    double t = 0;
    creates = n < BATCH ? BATCH : n;
    conc_run(create_batches, &t, NULL);
    return t * (double)n / (double)creates;
}

/* ---- queue ---- */
static long items;
static conc_aqueue_t *q;
static void *produce(void *arg) {
    (void)arg;
    for (long i = 0; i < items; i++) conc_aqueue_put(q, (void *)(intptr_t)(i + 1), -1);
    return NULL;
}
static void *consume(void *arg) {
    (void)arg;
    void *v;
    for (long i = 0; i < items; i++) conc_aqueue_get(q, &v, -1);
    return NULL;
}
static void *queue_main(void *arg) {
    double *out = arg;
    conc_aqueue_opts_t o = {.maxsize = 128};
    conc_aqueue_new(&q, &o);
    double t = bench_now();
    conc_task_t *c = conc_task_spawn(NULL, consume, NULL, NULL);
    conc_task_t *p = conc_task_spawn(NULL, produce, NULL, NULL);
    conc_future_t *fs[2] = {conc_task_future(c), conc_task_future(p)};
    conc_gather(fs, 2, false);
    *out = bench_now() - t;
    conc_task_release(c);
    conc_task_release(p);
    conc_aqueue_free(q);
    return NULL;
}
static double queue_items(long n) {
    double t = 0;
    items = n;
    conc_run(queue_main, &t, NULL);
    return t;
}

/* ---- 100,000 sleeping tasks ---- */
static double rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lf kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib / 1024;
}
static void *sleep_long(void *arg) {
    (void)arg;
    conc_sleep(3600);
    return NULL;
}
static double rss_added;
static long spawned, maps;
static long count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    long n = 0;
    int c;
    while (f && (c = fgetc(f)) != EOF) n += c == '\n';
    if (f) fclose(f);
    return n;
}
static void *many_sleepers(void *arg) {
    long n = *(long *)arg;
    double before = rss_mib();
    for (long i = 0; i < n; i++) {
        conc_task_t *t = conc_task_spawn(NULL, sleep_long, NULL, NULL);
        spawned += t != NULL;
        conc_task_release(t);
    }
    conc_sleep(0.01); /* every one has started and parked */
    rss_added = rss_mib() - before;
    maps = count_maps();
    return NULL; /* conc_run cancels them all */
}

static void one(const char *row, const char *unit, bench_fn a) {
    long n = bench_calibrate(a, 0.04);
    double v[BENCH_REPS];
    for (int i = 0; i < BENCH_REPS; i++) v[i] = a(n) / (double)n * 1e9;
    printf("%s\t%s\t%.1f\tnan\tnan\n", row, unit, bench_median(v, BENCH_REPS));
    fflush(stdout);
}

int main(void) {
    bench_pin(0);
    bench_pair("task_switch", "ns", task_switch, raw_switch);
    bench_pair("ctx_switch_raw", "ns", raw_switch, ucontext_switch);
    one("task_create_complete", "ns", create_complete);
    one("aqueue_item", "ns", queue_items);
    long n = 100000;
    conc_run(many_sleepers, &n, NULL);
    if (spawned != n) fprintf(stderr, "only %ld of %ld tasks could be spawned\n", spawned, n);
    fprintf(stderr, "100,000 sleeping tasks: %.1f MiB RSS added, %ld mappings\n", rss_added, maps);
    printf("sleeping_100k_rss\tMiB\t%.1f\tnan\tnan\n", rss_added);
    return 0;
}
