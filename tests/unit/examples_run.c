/* Every program in examples/ runs, exits 0 and prints the lines that show its concept.
 *
 * The examples are the guide's proof (docs/guide.md links each one), so they are tested as a user
 * would run them: the real binary, a fresh process, stdout captured. Each example is its own case
 * and so its own ctest entry. The runner starts the example with an empty signal mask and default
 * dispositions, so what the example does with signals does not depend on how ctest was started;
 * examples only ever signal their own pid or their own children. */
/* TEST_TIMEOUT: 60 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"

#define EXAMPLE_DIR CONC_BINARY_DIR "/examples/"

/* Under sanitizers a program may be several times slower; normally each takes well under 2 s. */
#define RUN_LIMIT 20.0

struct run {
    const char *name;
    int status;
    double seconds;
    char out[32768];
};

static void run_example(struct run *r, const char *name) {
    char path[512];
    snprintf(path, sizeof path, EXAMPLE_DIR "%s", name);
    r->name = name;
    r->out[0] = 0;
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    double t0 = conc_monotonic();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int sigs[] = {SIGINT, SIGTERM, SIGTSTP, SIGCONT, SIGUSR1, SIGQUIT, SIGPIPE};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(fds[1], 1);
        execl(path, name, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    /* Read to EOF: the example and anything it forked have closed stdout. */
    size_t len = 0;
    double deadline = t0 + RUN_LIMIT;
    for (;;) {
        double left = deadline - conc_monotonic();
        if (left <= 0) {
            kill(pid, SIGKILL); /* our own child only */
            fprintf(stderr, "%s: still running after %.0f s, killed\n", name, RUN_LIMIT);
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) continue;
        ssize_t n = read(fds[0], r->out + len, sizeof r->out - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        if (len == sizeof r->out - 1) break;
    }
    r->out[len] = 0;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &r->status, 0), pid);
    r->seconds = conc_monotonic() - t0;
    fprintf(stderr, "---- %s (%.2f s) ----\n%s", name, r->seconds, r->out);
}

static void expect_success(struct run *r) {
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
        if (WIFSIGNALED(r->status))
            fail_msg("%s was killed by signal %d", r->name, WTERMSIG(r->status));
        fail_msg("%s exited with status %d", r->name, WEXITSTATUS(r->status));
    }
    if (r->seconds >= RUN_LIMIT) fail_msg("%s took %.1f s", r->name, r->seconds);
}

/* The output contains text; returns where, so callers can check order. */
static const char *expect_text(struct run *r, const char *text) {
    const char *at = strstr(r->out, text);
    if (!at) fail_msg("%s: output lacks \"%s\"", r->name, text);
    return at;
}

static void expect_before(struct run *r, const char *first, const char *second) {
    if (expect_text(r, first) > expect_text(r, second))
        fail_msg("%s: \"%s\" should come before \"%s\"", r->name, first, second);
}

/* The line that starts with `start` also contains `text`. */
static void expect_on_line(struct run *r, const char *start, const char *text) {
    const char *at = expect_text(r, start);
    const char *eol = strchr(at, '\n');
    const char *hit = strstr(at, text);
    if (!hit || (eol && hit > eol))
        fail_msg("%s: the line \"%s...\" lacks \"%s\"", r->name, start, text);
}

static void expect_absent(struct run *r, const char *text) {
    if (strstr(r->out, text)) fail_msg("%s: output should not contain \"%s\"", r->name, text);
}

static struct run run; /* large: not on the stack */

static void bound_cpu_vs_io(void **state) {
    (void)state;
    run_example(&run, "bound_cpu_vs_io");
    expect_success(&run);
    expect_before(&run, "crunch:", "nap:");
    expect_text(&run, "crunch is CPU-bound, nap is IO-bound");
}

static void timeouts_errors(void **state) {
    (void)state;
    run_example(&run, "timeouts_errors");
    expect_success(&run);
    expect_text(&run, "poll a held lock:      -110 ETIMEDOUT");
    expect_text(&run, "0.1 s timeout:         ETIMEDOUT after 0.1");
    expect_text(&run, "release unlocked lock: EPERM");
    expect_text(&run, "CONC_EBROKEN    = -4001");
    expect_text(&run, "CONC_EOWNERDEAD = -4004");
    expect_text(&run, "deadline passed: 0.000 s left");
}

static void threads_basics(void **state) {
    (void)state;
    run_example(&run, "threads_basics");
    expect_success(&run);
    expect_text(&run, "main thread is \"MainThread\"");
    expect_text(&run, "summer-0: summed [0, 1000)");
    expect_text(&run, "summer-2: summed [2000, 3000)");
    expect_text(&run, "total = 4498500 (expected 4498500)");
    expect_on_line(&run, "active_count() = ", " MainThread");
    expect_on_line(&run, "active_count() = ", " Thread-");
    expect_text(&run, "join(timeout=0.1): ETIMEDOUT, is_alive=1");
    expect_text(&run, "after stop: is_alive=0");
    expect_text(&run, "join(current_thread()): EDEADLK");
}

static void daemon_threads(void **state) {
    (void)state;
    run_example(&run, "daemon_threads");
    expect_success(&run);
    expect_text(&run, "worker daemon=0, watchdog daemon=1");
    expect_on_line(&run, "watchdog (daemon) started", "daemon=1"); /* the helper inherited it */
    expect_before(&run, "watchdog (daemon) started", "main: returning");
    expect_before(&run, "main: returning", "worker (non-daemon): finished its work after main");
    expect_absent(&run, "never printed");
    /* the exit-time join waited for the worker's 0.2 s */
    assert_true(run.seconds >= 0.2);
}

static void lock_counter(void **state) {
    (void)state;
    run_example(&run, "lock_counter");
    expect_success(&run);
    expect_text(&run, "counter = 200000 (expected 200000)");
    expect_text(&run, "locked() = 1, acquire(timeout=0) = ETIMEDOUT");
    expect_before(&run, "releaser: releasing", "main: acquired again after the other thread");
}

static void rlock_recursive(void **state) {
    (void)state;
    run_example(&run, "rlock_recursive");
    expect_success(&run);
    expect_text(&run, "after 3 transfers of 30: a = 10, b = 90");
    expect_text(&run, "another thread releasing the RLock: EPERM");
    expect_text(&run, "releasing once more than acquired: EPERM");
    expect_text(&run, "a plain Lock taken twice by its holder: ETIMEDOUT");
}

static void semaphore_pool(void **state) {
    (void)state;
    run_example(&run, "semaphore_pool");
    expect_success(&run);
    expect_text(&run, "6 workers, 2 slots: at most ");
    expect_text(&run, "release past the initial value: EOVERFLOW, value stays 2");
    expect_text(&run, "acquire on an empty semaphore, timeout 0.1: ETIMEDOUT");
    expect_text(&run, "Semaphore(1).release(3) -> value 4");
}

static void condition_queue(void **state) {
    (void)state;
    run_example(&run, "condition_queue");
    expect_success(&run);
    expect_text(&run, "total 210 (expected 210) through a queue of 3 slots");
    expect_text(&run, "wait(0.1) on an empty queue: ETIMEDOUT, lock held again: 1");
    expect_text(&run, "notify() without the lock: EPERM");
}

static void event_start(void **state) {
    (void)state;
    run_example(&run, "event_start");
    expect_success(&run);
    expect_before(&run, "before the gun: is_set=0, wait(0.1)=ETIMEDOUT, started=0", "bang");
    expect_before(&run, "bang", "runner 0: off");
    expect_before(&run, "bang", "runner 2: off");
    expect_text(&run, "all 3 runners started; wait() on a set event returns at once: OK");
    expect_text(&run, "after clear(): is_set=0");
}

static void barrier_rounds(void **state) {
    (void)state;
    run_example(&run, "barrier_rounds");
    expect_success(&run);
    expect_before(&run, "round 1 complete: sum 6", "round 2 complete: sum 12");
    expect_before(&run, "round 2 complete: sum 12", "round 3 complete: sum 18");
    expect_text(&run, "3 rounds, total 36");
    expect_text(&run, "timed out got ETIMEDOUT, the other CONC_EBROKEN; broken=1");
    expect_text(&run, "a broken barrier refuses new waiters: CONC_EBROKEN");
    expect_text(&run, "after reset(): broken=0, n_waiting=0, parties=3");
    expect_text(&run, "after abort(): broken=1");
}

static void timer(void **state) {
    (void)state;
    run_example(&run, "timer");
    expect_success(&run);
    expect_before(&run, "reminder after 0.1", "main: the timer fired (OK)");
    expect_text(&run, "main: cancelled the 30 s timer; its thread ended after 0.");
    expect_text(&run, "s (OK)");
    expect_absent(&run, "cancelled timer ran");
    assert_true(run.seconds < 10); /* the cancelled 30 s timer did not hold up the exit */
}

static void pshared_lock(void **state) {
    (void)state;
    run_example(&run, "pshared_lock");
    expect_success(&run);
    expect_text(&run, "3 processes x 20000 increments: counter = 60000");
    expect_text(&run, "child SIGKILLed while holding the lock");
    expect_text(&run, "parent: acquire -> CONC_EOWNERDEAD");
    expect_text(&run, "parent: recovered; next acquire -> OK, counter = 60000");
}

static void keyboard_interrupt(void **state) {
    (void)state;
    run_example(&run, "keyboard_interrupt");
    expect_success(&run);
    expect_text(&run, "main: wait() returned EINTR after 0.");
    expect_text(&run, "main: CPU loop stopped by conc_check_interrupt() = EINTR");
    expect_text(&run, "main: next wait(0.05): ETIMEDOUT");
    expect_text(&run, "ended with OK: never interrupted");
}

static void interrupt_twice(void **state) {
    (void)state;
    run_example(&run, "interrupt_twice");
    expect_success(&run);
    expect_text(&run, "ignored first Ctrl+C, then a second: child killed by SIGINT");
    expect_text(&run, "consumed each Ctrl+C (-EINTR): child exited normally");
}

static void signal_handler(void **state) {
    (void)state;
    run_example(&run, "signal_handler");
    expect_success(&run);
    expect_before(&run, "handler: got User defined signal 1", "main: the handler ran in thread");
    expect_text(&run, "(OS name \"conc-signals\"");
    expect_text(&run, "main: handling SIGKILL: EINVAL");
}

static void stop_continue(void **state) {
    (void)state;
    run_example(&run, "stop_continue");
    expect_success(&run);
    expect_before(&run, "main: pressing Ctrl+Z", "before_stop: editor: restoring the terminal");
    expect_before(&run, "before_stop: editor", "after_continue: editor: continued");
    expect_before(&run, "after_continue: editor",
                  "main: running again (OK), the shell sent SIGCONT: yes");
}

CONC_TEST_MAIN(cmocka_unit_test(bound_cpu_vs_io), cmocka_unit_test(timeouts_errors),
               cmocka_unit_test(threads_basics), cmocka_unit_test(daemon_threads),
               cmocka_unit_test(lock_counter), cmocka_unit_test(rlock_recursive),
               cmocka_unit_test(semaphore_pool), cmocka_unit_test(condition_queue),
               cmocka_unit_test(event_start), cmocka_unit_test(barrier_rounds),
               cmocka_unit_test(timer), cmocka_unit_test(pshared_lock),
               cmocka_unit_test(keyboard_interrupt), cmocka_unit_test(interrupt_twice),
               cmocka_unit_test(signal_handler), cmocka_unit_test(stop_continue))
