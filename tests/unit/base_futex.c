/* The futex wrapper and conc__wait: deadlines, wake-ups, value changes, shared words. */
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conc.h"
#include "internal/base.h"
#include "test.h"

static void wait_on_changed_value_returns_at_once(void **state) {
    (void)state;
    uint32_t w = 1;
    double t0 = conc_monotonic();
    assert_int_equal(conc__wait(&w, 0, conc_deadline(5), false), 0);
    assert_true(conc_monotonic() - t0 < 1);
}

static void wait_times_out_at_the_deadline_never_early(void **state) {
    (void)state;
    uint32_t w = 0;
    double t0 = conc_monotonic();
    assert_int_equal(conc__wait(&w, 0, conc_deadline(0.1), false), -ETIMEDOUT);
    double took = conc_monotonic() - t0;
    assert_true(took >= 0.1);
    assert_true(took < 5);
    /* a deadline already past does not sleep at all */
    t0 = conc_monotonic();
    assert_int_equal(conc__wait(&w, 0, conc_deadline(0), false), -ETIMEDOUT);
    assert_true(conc_monotonic() - t0 < 1);
}

struct waker {
    uint32_t word, ready;
};

static void *wake_after_ready(void *arg) {
    struct waker *k = arg;
    /* wait for the main thread to announce it is about to sleep, then change and wake */
    while (!__atomic_load_n(&k->ready, __ATOMIC_ACQUIRE)) conc__wait(&k->ready, 0, INFINITY, false);
    __atomic_store_n(&k->word, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&k->word, 1, false);
    return NULL;
}

static void wake_ends_a_wait(void **state) {
    (void)state;
    struct waker k = {0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wake_after_ready, &k), 0);
    __atomic_store_n(&k.ready, 1, __ATOMIC_RELEASE);
    conc__futex_wake(&k.ready, 1, false);
    double d = conc_deadline(30);
    while (__atomic_load_n(&k.word, __ATOMIC_ACQUIRE) == 0)
        assert_int_not_equal(conc__wait(&k.word, 0, d, false), -ETIMEDOUT);
    pthread_join(th, NULL);
}

static void shared_word_wakes_another_process(void **state) {
    (void)state;
    uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(w != MAP_FAILED);
    w[0] = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        double d = conc_deadline(30);
        while (__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) == 0)
            if (conc__wait(&w[0], 0, d, true) == -ETIMEDOUT) _exit(1);
        _exit(0);
    }
    __atomic_store_n(&w[0], 1, __ATOMIC_RELEASE);
    conc__futex_wake(&w[0], 1, true);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    munmap(w, 4096);
}

static void no_interrupt_without_conc_init(void **state) {
    (void)state;
    /* conc_init was not called: conc__wait never reports -EINTR, even in the main thread */
    uint32_t w = 0;
    assert_int_equal(conc_check_interrupt(), 0);
    assert_int_equal(conc__wait(&w, 0, conc_deadline(0.01), false), -ETIMEDOUT);
}

CONC_TEST_MAIN(cmocka_unit_test(wait_on_changed_value_returns_at_once),
               cmocka_unit_test(wait_times_out_at_the_deadline_never_early),
               cmocka_unit_test(wake_ends_a_wait),
               cmocka_unit_test(shared_word_wakes_another_process),
               cmocka_unit_test(no_interrupt_without_conc_init))
