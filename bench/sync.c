/* conc's threading primitives vs their pthread equivalents, row by row (docs/BENCHMARKS.md).
 *
 * Output: one line per row, tab-separated: row, unit, conc ns, pthread ns, median ratio conc/pthread.
 * bench/run joins it with bench/sync.py (CPython) and prints the table. Two-thread rows pin the two
 * threads to CPUs 0 and 1 (a wake-up across vCPUs costs tens of µs on these VMs, so unpinned
 * figures swing with placement); single-thread rows pin to CPU 0. */
#include "harness.h"
#include <pthread.h>
#include <semaphore.h>
#include "conc.h"

/* ---- uncontended ---- */
static conc_lock_t c_lock = CONC_LOCK_INIT;
static pthread_mutex_t p_mutex = PTHREAD_MUTEX_INITIALIZER;
static double c_lock_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_lock_acquire(&c_lock, CONC_FOREVER);
        conc_lock_release(&c_lock);
    }
    return bench_now() - t;
}
static double p_lock_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&p_mutex);
        pthread_mutex_unlock(&p_mutex);
    }
    return bench_now() - t;
}

static conc_rlock_t c_rlock = CONC_RLOCK_INIT;
static pthread_mutex_t p_rmutex;
static double c_rlock_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_rlock_acquire(&c_rlock, CONC_FOREVER);
        conc_rlock_release(&c_rlock);
    }
    return bench_now() - t;
}
static double p_rlock_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&p_rmutex);
        pthread_mutex_unlock(&p_rmutex);
    }
    return bench_now() - t;
}

static conc_sem_t c_sem;
static sem_t p_sem;
static double c_sem_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_sem_acquire(&c_sem, CONC_FOREVER);
        conc_sem_release(&c_sem, 1);
    }
    return bench_now() - t;
}
static double p_sem_1(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        sem_wait(&p_sem);
        sem_post(&p_sem);
    }
    return bench_now() - t;
}

/* ---- two threads: run body(n) on CPU 0 and partner(n) on CPU 1 ---- */
struct pair {
    void (*fn)(long);
    long n;
};
static void *partner_main(void *arg) {
    struct pair *p = arg;
    bench_pin(1);
    p->fn(p->n);
    return NULL;
}
static double two_threads(void (*mine)(long), void (*theirs)(long), long n) {
    struct pair p = {theirs, n};
    pthread_t th;
    double t = bench_now();
    pthread_create(&th, NULL, partner_main, &p);
    mine(n);
    pthread_join(th, NULL);
    return bench_now() - t;
}

static volatile long shared_counter;
static void c_contend(long n) {
    for (long i = 0; i < n; i++) {
        conc_lock_acquire(&c_lock, CONC_FOREVER);
        shared_counter++;
        conc_lock_release(&c_lock);
    }
}
static void p_contend(long n) {
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&p_mutex);
        shared_counter++;
        pthread_mutex_unlock(&p_mutex);
    }
}
/* per operation: 2n acquisitions in total */
static double c_lock_2(long n) {
    return two_threads(c_contend, c_contend, n / 2);
}
static double p_lock_2(long n) {
    return two_threads(p_contend, p_contend, n / 2);
}

static conc_event_t ev_ping, ev_pong;
static void c_ev_a(long n) {
    for (long i = 0; i < n; i++) {
        conc_event_set(&ev_ping);
        conc_event_wait(&ev_pong, CONC_FOREVER);
        conc_event_clear(&ev_pong);
    }
}
static void c_ev_b(long n) {
    for (long i = 0; i < n; i++) {
        conc_event_wait(&ev_ping, CONC_FOREVER);
        conc_event_clear(&ev_ping);
        conc_event_set(&ev_pong);
    }
}
static double c_event_pp(long n) {
    return two_threads(c_ev_a, c_ev_b, n);
}

/* The pthread peer of both ping-pongs: a mutex, a condvar and a turn flag. */
static pthread_cond_t p_cond = PTHREAD_COND_INITIALIZER;
static int p_turn;
static void p_pp_a(long n) {
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&p_mutex);
        p_turn = 1;
        pthread_cond_signal(&p_cond);
        while (p_turn != 0) pthread_cond_wait(&p_cond, &p_mutex);
        pthread_mutex_unlock(&p_mutex);
    }
}
static void p_pp_b(long n) {
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&p_mutex);
        while (p_turn != 1) pthread_cond_wait(&p_cond, &p_mutex);
        p_turn = 0;
        pthread_cond_signal(&p_cond);
        pthread_mutex_unlock(&p_mutex);
    }
}
static double p_pingpong(long n) {
    return two_threads(p_pp_a, p_pp_b, n);
}

static conc_lock_t cc_lock = CONC_LOCK_INIT;
static conc_cond_t c_cond;
static int c_turn;
static void c_cv_a(long n) {
    for (long i = 0; i < n; i++) {
        conc_cond_acquire(&c_cond, CONC_FOREVER);
        c_turn = 1;
        conc_cond_notify(&c_cond, 1);
        while (c_turn != 0) conc_cond_wait(&c_cond, CONC_FOREVER);
        conc_cond_release(&c_cond);
    }
}
static void c_cv_b(long n) {
    for (long i = 0; i < n; i++) {
        conc_cond_acquire(&c_cond, CONC_FOREVER);
        while (c_turn != 1) conc_cond_wait(&c_cond, CONC_FOREVER);
        c_turn = 0;
        conc_cond_notify(&c_cond, 1);
        conc_cond_release(&c_cond);
    }
}
static double c_cond_pp(long n) {
    return two_threads(c_cv_a, c_cv_b, n);
}

static conc_barrier_t c_barrier;
static pthread_barrier_t p_barrier;
static void c_bar(long n) {
    for (long i = 0; i < n; i++) conc_barrier_wait(&c_barrier, CONC_FOREVER);
}
static void p_bar(long n) {
    for (long i = 0; i < n; i++) pthread_barrier_wait(&p_barrier);
}
static double c_barrier_2(long n) {
    return two_threads(c_bar, c_bar, n);
}
static double p_barrier_2(long n) {
    return two_threads(p_bar, p_bar, n);
}

/* ---- thread start + join ---- */
static void *noop(void *arg) {
    return arg;
}
static double c_thread(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        conc_thread_t *th;
        conc_thread_start(&th, noop, NULL, NULL);
        conc_thread_join(th, CONC_FOREVER, NULL);
        conc_thread_release(th);
    }
    return bench_now() - t;
}
static double p_thread(long n) {
    double t = bench_now();
    for (long i = 0; i < n; i++) {
        pthread_t th;
        pthread_create(&th, NULL, noop, NULL);
        pthread_join(th, NULL);
    }
    return bench_now() - t;
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    const char *only = argc > 1 ? argv[1] : NULL;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&p_rmutex, &ma);
    conc_sem_init(&c_sem, 1, 0);
    sem_init(&p_sem, 0, 1);
    conc_event_init(&ev_ping, 0);
    conc_event_init(&ev_pong, 0);
    conc_cond_init_with(&c_cond, &cc_lock);
    conc_barrier_init(&c_barrier, 2, NULL, NULL, 0);
    pthread_barrier_init(&p_barrier, NULL, 2);

    struct {
        const char *row;
        bench_fn c, p;
    } rows[] = {
        /* The uncontended rows come first, while the process still has one thread, as in the
           single-threaded program they stand for (CPython's rows run so too). Private Lock and
           RLock take a plain-store path then, as glibc's default pthread_mutex does; glibc's
           recursive mutex and sem_t do not. */
        {"lock_uncontended", c_lock_1, p_lock_1},
        {"rlock_uncontended", c_rlock_1, p_rlock_1},
        {"semaphore_uncontended", c_sem_1, p_sem_1},
        {"lock_contended_2t", c_lock_2, p_lock_2},
        {"event_pingpong", c_event_pp, p_pingpong},
        {"condition_pingpong", c_cond_pp, p_pingpong},
        {"barrier_2t_round", c_barrier_2, p_barrier_2},
        {"thread_start_join", c_thread, p_thread},
    };
    bench_pin(0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (only && strcmp(only, rows[i].row)) continue;
        if (!strcmp(rows[i].row, "thread_start_join")) {
            /* new threads inherit the affinity; let them use both CPUs, as pthread_create's do */
            cpu_set_t all;
            CPU_ZERO(&all);
            CPU_SET(0, &all);
            CPU_SET(1, &all);
            sched_setaffinity(0, sizeof all, &all);
        }
        bench_pair(rows[i].row, "ns", rows[i].c, rows[i].p);
    }
    return 0;
}
