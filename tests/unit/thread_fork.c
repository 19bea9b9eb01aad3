/* After fork(), only the forking thread exists in the child: the registry says so, the forking
 * thread is the child's main thread (as in Python), and the registry lock is usable. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"
#include "thread_gate.h"

/* Threads that wait on the hold gate. Tests fork only once every one of them is asleep: a thread
 * still starting up may hold the sanitizers' allocator lock, which the child would inherit held
 * (their allocators are not fork-safe; ours is, and glibc's is). */
static uint32_t hold, asleep;
static void *held(void *arg) {
    __atomic_add_fetch(&asleep, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&asleep, 1, false);
    gate_wait(&hold, 60);
    return arg;
}

static void wait_asleep(uint32_t n) {
    double deadline = conc_monotonic() + 30;
    uint32_t v;
    while ((v = __atomic_load_n(&asleep, __ATOMIC_ACQUIRE)) < n)
        assert_int_not_equal(conc__wait_nointr(&asleep, v, deadline, false), -ETIMEDOUT);
}

static void *add_one(void *arg) {
    return (void *)((intptr_t)arg + 1);
}

/* In a child: returns the number of the first failed check, 0 if all passed. */
static int child_checks(conc_thread_t *other, const char *main_name) {
    if (conc_thread_active_count() != 1) return 1;
    if (conc_thread_current() != conc_thread_main()) return 2;
    if (strcmp(conc_thread_name(conc_thread_main()), main_name) != 0) return 3;
    conc_thread_t *all[4];
    if (conc_thread_enumerate(all, 4) != 1 || all[0] != conc_thread_current()) return 4;
    if (!conc_thread_is_alive(conc_thread_current())) return 5;
    if (conc_thread_native_id(conc_thread_current()) != getpid()) return 6;
    /* The threads that did not come along are stopped: not alive, a join returns at once. */
    if (other && conc_thread_is_alive(other)) return 7;
    if (other && conc_thread_join(other, 0, NULL) != 0) return 8;
    /* Threads can be started and joined (the registry lock was not inherited held). Not under
     * TSan: its registry keeps the parent's threads in the child, and a new thread that reuses a
     * vanished one's stack (and so its pthread_t) makes it abort ("dup thread with used id"). */
    const char *san = getenv("CONC_TEST_SANITIZE");
    if (san && strstr(san, "thread")) return 0;
    conc_thread_t *t;
    void *r;
    if (conc_thread_start(&t, add_one, (void *)1, NULL) != 0) return 9;
    if (conc_thread_join(t, 10, &r) != 0 || (intptr_t)r != 2) return 10;
    conc_thread_release(t);
    if (conc_thread_active_count() != 1) return 11;
    return 0;
}

static int wait_child(pid_t pid) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void fork_from_main_keeps_only_main(void **state) {
    (void)state;
    conc_thread_t *t[3];
    for (int i = 0; i < 3; i++) assert_int_equal(conc_thread_start(&t[i], held, NULL, NULL), 0);
    assert_int_equal(conc_thread_active_count(), 4);
    wait_asleep(3);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_checks(t[0], "MainThread"));
    int failed = wait_child(pid);
    /* The parent is untouched. */
    size_t active = conc_thread_active_count();
    bool alive = conc_thread_is_alive(t[0]);
    gate_open(&hold); /* before any assert: a failure must not leave them holding up the exit */
    for (int i = 0; i < 3; i++) {
        /* forever: through pthread_join, so they are gone, not just done, before the next fork */
        assert_int_equal(conc_thread_join(t[i], CONC_FOREVER, NULL), 0);
        conc_thread_release(t[i]);
    }
    assert_int_equal(failed, 0);
    assert_int_equal(active, 4);
    assert_true(alive);
}

struct forker {
    conc_thread_t *main_before;
    pid_t pid;
};

static void *fork_here(void *arg) {
    struct forker *f = arg;
    pid_t pid = fork();
    if (pid == 0) {
        int r = child_checks(NULL, conc_thread_name(conc_thread_current()));
        if (!r && conc_thread_current() == f->main_before) r = 20;
        /* The old main thread is not in the child: stopped. */
        if (!r && conc_thread_is_alive(f->main_before)) r = 21;
        if (!r && strncmp(conc_thread_name(conc_thread_main()), "Thread-", 7) != 0) r = 22;
        _exit(r);
    }
    f->pid = pid;
    return NULL;
}

static void fork_from_a_thread_makes_it_main(void **state) {
    (void)state;
    struct forker f = {.main_before = conc_thread_main()};
    conc_thread_t *t, *other;
    assert_int_equal(conc_thread_start(&other, held, NULL, NULL), 0);
    wait_asleep(1);
    assert_int_equal(conc_thread_start(&t, fork_here, &f, NULL), 0);
    assert_int_equal(conc_thread_join(t, CONC_FOREVER, NULL), 0);
    conc_thread_release(t);
    gate_open(&hold);
    assert_int_equal(conc_thread_join(other, CONC_FOREVER, NULL), 0);
    conc_thread_release(other);
    assert_true(f.pid > 0);
    assert_int_equal(wait_child(f.pid), 0);
    assert_ptr_equal(conc_thread_main(), f.main_before);
}

static uint32_t stop;
/* Takes the registry lock over and over. It does not start threads: that would malloc, and the
 * sanitizers' allocators are not fork-safe (a child can deadlock in ASan's own lock). */
static uint32_t churning;
static void *churn(void *arg) {
    (void)arg;
    gate_open(&churning);
    while (!gate_is_open(&stop)) {
        conc_thread_t *all[8];
        (void)conc_thread_enumerate(all, 8);
        (void)conc_thread_active_count();
    }
    return NULL;
}

static void fork_while_the_registry_is_busy(void **state) {
    (void)state;
    /* A thread keeps taking the registry lock; children forked meanwhile must find it free. */
    conc_thread_t *c;
    conc_thread_opts_t daemon = {.daemon = true}; /* a failed check must not hang the exit */
    assert_int_equal(conc_thread_start(&c, churn, NULL, &daemon), 0);
    assert_int_equal(gate_wait(&churning, 30), 0);
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(child_checks(NULL, "MainThread"));
        assert_int_equal(wait_child(pid), 0);
    }
    gate_open(&stop);
    assert_int_equal(conc_thread_join(c, 30, NULL), 0);
    conc_thread_release(c);
}

CONC_TEST_MAIN(cmocka_unit_test(fork_from_main_keeps_only_main),
               cmocka_unit_test(fork_from_a_thread_makes_it_main),
               cmocka_unit_test(fork_while_the_registry_is_busy))
