/* Fork: in the child, the forking thread keeps the GIL if it held it, the GIL is free if another
 * thread held it, and threads that were waiting for it in the parent are forgotten. Each child
 * checks itself, with an alarm so that a wedged GIL fails instead of hanging, and reports through
 * its exit status. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

static conc_gil_t gil;
static uint32_t flag_waiting, flag_release;

static void *acquire_release(void *p) {
    (void)p;
    conc_gil_acquire(&gil);
    conc_gil_release(&gil);
    return NULL;
}

static void *queued_waiter(void *p) {
    (void)p;
    __atomic_store_n(&flag_waiting, 1, __ATOMIC_RELEASE);
    conc_gil_acquire(&gil); /* queues behind main, which holds the GIL across fork */
    conc_gil_release(&gil);
    return NULL;
}

static uint64_t misuse(void) {
    conc_gil_stats_t st;
    conc_gil_stats(&gil, &st);
    return st.misuse;
}

/* TSan mistakes a thread created in the child for one of the parent's (glibc reuses the dead
 * threads' stacks, so the ids collide) and aborts: under TSan the children skip that part. */
static bool threads_in_child(void) {
    const char *s = getenv("CONC_TEST_SANITIZE");
    return !s || !strstr(s, "thread");
}

static int wait_child(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void forking_holder_keeps_the_gil(void **state) {
    (void)state;
    assert_int_equal(conc_gil_init(&gil, NULL), 0);
    conc_gil_acquire(&gil);
    pthread_t w;
    assert_int_equal(pthread_create(&w, NULL, queued_waiter, NULL), 0);
    while (!__atomic_load_n(&flag_waiting, __ATOMIC_ACQUIRE))
        conc__wait(&flag_waiting, 0, conc_deadline(1), false);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        uint64_t before = misuse();
        conc_gil_tick(&gil);
        conc_gil_yield(&gil); /* nobody waits in the child: returns at once */
        conc_gil_release(&gil);
        if (misuse() != before) _exit(1); /* the release was by the holder */
        pthread_t t;
        if (threads_in_child()) {
            if (pthread_create(&t, NULL, acquire_release, NULL)) _exit(2);
            pthread_join(t, NULL);
        }
        conc_gil_acquire(&gil);
        conc_gil_yield(&gil); /* the parent's waiter is not queued here: this must not block */
        conc_gil_release(&gil);
        _exit(misuse() == before ? 0 : 3);
    }
    assert_int_equal(wait_child(pid), 0);
    conc_gil_release(&gil);
    pthread_join(w, NULL);
    conc_gil_destroy(&gil);
}

static void *holder(void *p) {
    (void)p;
    conc_gil_acquire(&gil);
    __atomic_store_n(&flag_waiting, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&flag_waiting, 1, false);
    while (!__atomic_load_n(&flag_release, __ATOMIC_ACQUIRE))
        conc__wait(&flag_release, 0, conc_deadline(1), false);
    conc_gil_release(&gil);
    return NULL;
}

static void gil_held_by_another_thread_is_free_in_the_child(void **state) {
    (void)state;
    assert_int_equal(conc_gil_init(&gil, NULL), 0);
    pthread_t h;
    assert_int_equal(pthread_create(&h, NULL, holder, NULL), 0);
    while (!__atomic_load_n(&flag_waiting, __ATOMIC_ACQUIRE))
        conc__wait(&flag_waiting, 0, conc_deadline(1), false);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        conc_gil_release(&gil); /* not ours: ignored */
        if (misuse() != 1) _exit(1);
        conc_gil_acquire(&gil); /* free: its holder does not exist here */
        conc_gil_release(&gil);
        pthread_t t;
        if (threads_in_child()) {
            if (pthread_create(&t, NULL, acquire_release, NULL)) _exit(2);
            pthread_join(t, NULL);
        }
        _exit(misuse() == 1 ? 0 : 3);
    }
    assert_int_equal(wait_child(pid), 0);
    __atomic_store_n(&flag_release, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&flag_release, 1, false);
    pthread_join(h, NULL);
    /* the parent's GIL was untouched by the child */
    conc_gil_acquire(&gil);
    conc_gil_release(&gil);
    assert_int_equal(misuse(), 0);
    conc_gil_destroy(&gil);
}

CONC_TEST_MAIN(cmocka_unit_test(forking_holder_keeps_the_gil),
               cmocka_unit_test(gil_held_by_another_thread_is_free_in_the_child))
