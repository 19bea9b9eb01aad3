/* Tasks: conc_run, spawn, await, sleep, names, lifetime, threads. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((int)(intptr_t)(p))

static void *return_42(void *arg) {
    (void)arg;
    return V(42);
}

static void run_returns_mains_value(void **state) {
    (void)state;
    void *res = NULL;
    assert_int_equal(conc_run(return_42, NULL, &res), 0);
    assert_int_equal(I(res), 42);
    assert_null(conc_loop_current());
}

static void *fail_eio(void *arg) {
    (void)arg;
    return conc_task_error(-EIO);
}

static void run_returns_mains_error(void **state) {
    (void)state;
    void *res = V(1);
    assert_int_equal(conc_run(fail_eio, NULL, &res), -EIO);
    assert_null(res);
}

static void *square(void *arg) {
    int x = I(arg);
    conc_sleep(0);
    return V(x * x);
}

static void *spawn_and_await(void *arg) {
    (void)arg;
    conc_task_t *ts[10];
    for (int i = 0; i < 10; i++) ts[i] = conc_task_spawn(NULL, square, V(i), NULL);
    int sum = 0;
    for (int i = 0; i < 10; i++) {
        void *v;
        assert_int_equal(conc_await(conc_task_future(ts[i]), &v), 0);
        sum += I(v);
        conc_task_release(ts[i]);
    }
    return V(sum);
}

static void tasks_spawn_and_await_each_other(void **state) {
    (void)state;
    void *res;
    assert_int_equal(conc_run(spawn_and_await, NULL, &res), 0);
    assert_int_equal(I(res), 285);
}

/* ---- sleep(0) interleaves in FIFO order ---- */
static char trace[64];
static int ntrace;

static void *tracer(void *arg) {
    char c = (char)I(arg);
    for (int i = 0; i < 3; i++) {
        trace[ntrace++] = c;
        assert_int_equal(conc_sleep(0), 0);
    }
    return NULL;
}

static void *two_tracers(void *arg) {
    (void)arg;
    conc_task_t *a = conc_task_spawn(NULL, tracer, V('a'), NULL);
    conc_task_t *b = conc_task_spawn(NULL, tracer, V('b'), NULL);
    conc_await(conc_task_future(a), NULL);
    conc_await(conc_task_future(b), NULL);
    conc_task_release(a);
    conc_task_release(b);
    return NULL;
}

static void sleep_zero_yields_in_turn(void **state) {
    (void)state;
    ntrace = 0;
    assert_int_equal(conc_run(two_tracers, NULL, NULL), 0);
    trace[ntrace] = 0;
    assert_string_equal(trace, "ababab");
}

static void *sleeper(void *arg) {
    double d = *(double *)arg;
    double t0 = conc_monotonic();
    assert_int_equal(conc_sleep(d), 0);
    double took = conc_monotonic() - t0;
    assert_true(took >= d);
    assert_true(took < d + 5);
    return NULL;
}

static void sleep_never_wakes_early(void **state) {
    (void)state;
    double ds[] = {0.001, 0.02, 0.1};
    for (int i = 0; i < 3; i++) assert_int_equal(conc_run(sleeper, &ds[i], NULL), 0);
}

/* ---- awaiting a done future does not switch ---- */
static int ticks;
static void *ticker(void *arg) {
    (void)arg;
    for (;;) {
        ticks++;
        if (conc_sleep(0) < 0) return NULL;
    }
}

static void *await_done_future(void *arg) {
    (void)arg;
    conc_task_t *tk = conc_task_spawn(NULL, ticker, NULL, NULL);
    conc_sleep(0);
    conc_sleep(0);
    conc_future_t *f = conc_future_new();
    conc_future_set_result(f, V(7));
    int before = ticks;
    void *v;
    for (int i = 0; i < 100; i++) assert_int_equal(conc_await(f, &v), 0);
    assert_int_equal(ticks, before); /* nobody else ran */
    assert_int_equal(I(v), 7);
    conc_future_release(f);
    conc_task_release(tk); /* conc_run cancels it */
    return NULL;
}

static void awaiting_a_done_future_does_not_switch(void **state) {
    (void)state;
    assert_int_equal(conc_run(await_done_future, NULL, NULL), 0);
}

/* ---- the runtime keeps released tasks alive; conc_run cancels leftovers ---- */
static int finished_detached, cleaned_up;

static void *detached(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) conc_sleep(0.001);
    finished_detached = 1;
    return NULL;
}

static void *forever(void *arg) {
    (void)arg;
    int r = conc_sleep(3600);
    if (r == -ECANCELED) cleaned_up = 1; /* cleanup runs */
    return NULL;
}

static void *spawn_and_forget(void *arg) {
    (void)arg;
    conc_task_release(conc_task_spawn(NULL, detached, NULL, NULL));
    conc_task_release(conc_task_spawn(NULL, forever, NULL, NULL));
    conc_sleep(0.05);
    return NULL;
}

static void released_tasks_finish_and_leftovers_are_cancelled(void **state) {
    (void)state;
    finished_detached = cleaned_up = 0;
    assert_int_equal(conc_run(spawn_and_forget, NULL, NULL), 0);
    assert_int_equal(finished_detached, 1);
    assert_int_equal(cleaned_up, 1);
}

/* ---- names, current ---- */
static void *names(void *arg) {
    (void)arg;
    conc_task_t *me = conc_task_current();
    assert_non_null(me);
    assert_string_equal(conc_task_name(me), "main");
    assert_int_equal(conc_await(conc_task_future(me), NULL), -EDEADLK);
    conc_task_opts_t o = {.name = "worker-1", .stack_size = 64 * 1024};
    conc_task_t *a = conc_task_spawn(NULL, return_42, NULL, &o);
    conc_task_t *b = conc_task_spawn(NULL, return_42, NULL, NULL);
    assert_string_equal(conc_task_name(a), "worker-1");
    assert_true(strncmp(conc_task_name(b), "Task-", 5) == 0);
    assert_false(conc_task_done(a));
    conc_await(conc_task_future(a), NULL);
    conc_await(conc_task_future(b), NULL);
    assert_true(conc_task_done(a));
    conc_task_release(a);
    conc_task_release(b);
    return NULL;
}

static void names_and_current(void **state) {
    (void)state;
    assert_null(conc_task_current());
    assert_int_equal(conc_run(names, NULL, NULL), 0);
    assert_null(conc_task_current());
    assert_int_equal(conc_await(NULL, NULL), -EPERM);
    assert_int_equal(conc_sleep(0), -EPERM);
}

/* ---- a future completed in another thread wakes the task ---- */
struct cross {
    conc_future_t *f;
    uint32_t parked;
};

static void *completer(void *arg) {
    struct cross *c = arg;
    while (!__atomic_load_n(&c->parked, __ATOMIC_ACQUIRE)) conc__wait(&c->parked, 0, INFINITY, 0);
    conc_future_set_result(c->f, V(99));
    return NULL;
}

static void *await_cross(void *arg) {
    struct cross *c = arg;
    pthread_t th;
    pthread_create(&th, NULL, completer, c);
    /* announce before awaiting: the completer may finish before or after the task parks */
    __atomic_store_n(&c->parked, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&c->parked, 1, false);
    void *v;
    int r = conc_await(c->f, &v);
    pthread_join(th, NULL);
    return r == 0 ? v : conc_task_error(r);
}

static void a_future_completed_in_another_thread_wakes_the_task(void **state) {
    (void)state;
    for (int i = 0; i < 50; i++) {
        struct cross c = {conc_future_new(), 0};
        void *res;
        assert_int_equal(conc_run(await_cross, &c, &res), 0);
        assert_int_equal(I(res), 99);
        conc_future_release(c.f);
    }
}

/* ---- spawning from another thread ---- */
struct remote {
    conc_loop_t *loop;
    conc_task_t *t;
    uint32_t spawned;
};

static void *remote_spawner(void *arg) {
    struct remote *r = arg;
    r->t = conc_task_spawn(r->loop, return_42, NULL, NULL);
    __atomic_store_n(&r->spawned, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *wait_for_remote(void *arg) {
    struct remote *r = arg;
    pthread_t th;
    pthread_create(&th, NULL, remote_spawner, r);
    while (!__atomic_load_n(&r->spawned, __ATOMIC_ACQUIRE)) conc_sleep(0.001);
    pthread_join(th, NULL);
    void *v;
    assert_int_equal(conc_await(conc_task_future(r->t), &v), 0);
    conc_task_release(r->t);
    return v;
}

static void spawn_from_another_thread(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    struct remote r = {loop, NULL, 0};
    conc_task_t *t = conc_task_spawn(loop, wait_for_remote, &r, NULL);
    assert_int_equal(conc_loop_run_until_complete(loop, conc_task_future(t)), 0);
    void *v;
    assert_int_equal(conc_future_result(conc_task_future(t), &v), 0);
    assert_int_equal(I(v), 42);
    conc_task_release(t);
    conc_loop_free(loop);
}

/* ---- the task's future can be waited for by a plain thread ---- */
static void *slow_value(void *arg) {
    (void)arg;
    conc_sleep(0.02);
    return V(5);
}

struct plain {
    conc_future_t *f;
    int r;
    void *v;
};

static void *plain_waiter(void *arg) {
    struct plain *p = arg;
    p->r = conc_future_wait(p->f, 30);
    conc_future_result(p->f, &p->v);
    return NULL;
}

static void a_plain_thread_waits_for_a_task(void **state) {
    (void)state;
    conc_loop_t *loop = conc_loop_new();
    conc_task_t *t = conc_task_spawn(loop, slow_value, NULL, NULL);
    struct plain p = {conc_task_future(t), 1, NULL};
    conc_future_retain(p.f);
    pthread_t th;
    pthread_create(&th, NULL, plain_waiter, &p);
    conc_task_release(t);
    assert_int_equal(conc_loop_run_until_complete(loop, p.f), 0);
    pthread_join(th, NULL);
    assert_int_equal(p.r, 0);
    assert_int_equal(I(p.v), 5);
    conc_future_release(p.f);
    conc_loop_free(loop);
}

/* ---- a task overflowing its stack is named; in a child process ---- */
static volatile int sink;
static volatile int depth_limit = 1 << 30;
static __attribute__((noinline)) int recurse(int n) {
    volatile char frame[256];
    frame[0] = (char)n;
    if (n >= depth_limit) return 0;
    int r = recurse(n + 1);
    sink = frame[0];
    return r + 1;
}
static void *overflow(void *arg) {
    (void)arg;
    sink = recurse(0);
    return NULL;
}
static void *spawn_overflow(void *arg) {
    (void)arg;
    conc_task_opts_t o = {.name = "parser", .stack_size = 20000};
    conc_task_t *t = conc_task_spawn(NULL, overflow, NULL, &o);
    conc_await(conc_task_future(t), NULL);
    return NULL;
}

static void a_task_stack_overflow_names_the_task(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        conc_run(spawn_overflow, NULL, NULL);
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t k;
    while (n + 1 < sizeof buf && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    /* 20000 rounds up to whole pages: 20480 */
    assert_non_null(strstr(buf, "conc: task 'parser' overflowed its 20480-byte stack"));
}

CONC_TEST_MAIN(cmocka_unit_test(run_returns_mains_value), cmocka_unit_test(run_returns_mains_error),
               cmocka_unit_test(tasks_spawn_and_await_each_other),
               cmocka_unit_test(sleep_zero_yields_in_turn),
               cmocka_unit_test(sleep_never_wakes_early),
               cmocka_unit_test(awaiting_a_done_future_does_not_switch),
               cmocka_unit_test(released_tasks_finish_and_leftovers_are_cancelled),
               cmocka_unit_test(names_and_current),
               cmocka_unit_test(a_future_completed_in_another_thread_wakes_the_task),
               cmocka_unit_test(spawn_from_another_thread),
               cmocka_unit_test(a_plain_thread_waits_for_a_task),
               cmocka_unit_test(a_task_stack_overflow_names_the_task))
