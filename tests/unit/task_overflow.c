/* A fiber that runs off its stack hits the guard region and the process dies explaining it:
 * "conc: task 'NAME' overflowed its N-byte stack" then SIGABRT. Other crashes still reach the
 * handler that was there before, or the default action. Every case crashes a child process. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "task/fiber.h"
#include "test.h"

static volatile int sink;
static volatile int depth_limit = 1 << 30; /* not reached: the stack is far smaller */

static __attribute__((noinline)) int recurse(int n) {
    volatile char frame[512];
    frame[0] = (char)n;
    frame[511] = (char)n;
    if (n >= depth_limit) return 0;
    int r = recurse(n + 1);
    sink = frame[0] + frame[511];
    return r + 1;
}

static __attribute__((noinline)) int big_frame(void) {
    volatile char huge[200 * 1024]; /* jumps over the 16 KiB guard of a 32 KiB stack */
    huge[0] = 1;
    return huge[0];
}

static struct conc__fiber *main_fiber;
static struct conc__fiber child;
static int (*crash)(void);

static int crash_recursion(void) {
    return recurse(0);
}

static void crashing_entry(void *arg) {
    (void)arg;
    sink = crash();
    conc__fiber_exit(&child, main_fiber);
}

/* Runs fn in a child whose stderr goes into buf; returns the wait status. */
static int run_child(void (*fn)(void), char *buf, size_t cap) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fds[0], buf + n, cap - 1 - n)) > 0) n += (size_t)r;
    buf[n] = 0;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void overflow_in_fiber(size_t size) {
    main_fiber = conc__fiber_thread();
    if (!main_fiber || conc__fiber_init(&child, size, "deep-recursion", crashing_entry, NULL) < 0)
        _exit(3);
    conc__fiber_switch(main_fiber, &child);
    _exit(4); /* not reached */
}
static void child_recursion(void) {
    crash = crash_recursion;
    overflow_in_fiber(16 * 1024);
}
/* The frame lands 200 KiB below the stack; whatever the kernel mapped there would be silently
 * overwritten (the stack clash no guard page can stop, which -fstack-clash-protection exists for),
 * so the test lays the memory out itself: 256 KiB of nothing, the 16 KiB guard, a 32 KiB stack. */
static void child_big_frame(void) {
    crash = big_frame;
    main_fiber = conc__fiber_thread();
    size_t below = 256 * 1024, guard = 16 * 1024, size = 32 * 1024;
    char *m = mmap(NULL, below + guard + size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!main_fiber || m == MAP_FAILED ||
        mprotect(m + below + guard, size, PROT_READ | PROT_WRITE) != 0)
        _exit(3);
    struct conc__stack s = {m + below, m + below + guard, size};
    conc__fiber_init_stack(&child, &s, "deep-recursion", crashing_entry, NULL);
    conc__fiber_switch(main_fiber, &child);
    _exit(4); /* not reached */
}

static void recursion_reports_the_task_name_and_size(void **state) {
    (void)state;
    char buf[4096];
    int st = run_child(child_recursion, buf, sizeof buf);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(buf, "conc: task 'deep-recursion' overflowed its 16384-byte stack"));
}

static void a_frame_that_jumps_the_guard_is_reported_too(void **state) {
    (void)state;
    char buf[4096];
    int st = run_child(child_big_frame, buf, sizeof buf);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(buf, "overflowed its 32768-byte stack"));
}

/* Any other SIGSEGV goes to the handler installed before ours. */
static void user_handler(int sig) {
    (void)sig;
    _exit(42);
}
static void child_other_fault_chains(void) {
    signal(SIGSEGV, user_handler);
    main_fiber = conc__fiber_thread(); /* installs the overflow handler on top */
    static volatile uintptr_t bad = 8;
    *(volatile int *)bad = 1;
}

static void other_faults_reach_the_previous_handler(void **state) {
    (void)state;
    char buf[4096];
    int st = run_child(child_other_fault_chains, buf, sizeof buf);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 42);
    assert_null(strstr(buf, "overflowed"));
}

static void child_sigsegv_default(void) {
    signal(SIGSEGV, SIG_DFL);
    main_fiber = conc__fiber_thread();
    kill(getpid(), SIGSEGV); /* not a fault: raised again with the default action */
}

static void a_sent_sigsegv_keeps_its_default_action(void **state) {
    (void)state;
    char buf[4096];
    int st = run_child(child_sigsegv_default, buf, sizeof buf);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
}

CONC_TEST_MAIN(cmocka_unit_test(recursion_reports_the_task_name_and_size),
               cmocka_unit_test(a_frame_that_jumps_the_guard_is_reported_too),
               cmocka_unit_test(other_faults_reach_the_previous_handler),
               cmocka_unit_test(a_sent_sigsegv_keeps_its_default_action))
