/* current_thread(), main_thread(), dummies for foreign threads, enumerate() and active_count(). */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"
#include "thread_gate.h"

static bool listed(conc_thread_t *t) {
    conc_thread_t *all[64];
    size_t n = conc_thread_enumerate(all, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (all[i] == t) return true;
    return false;
}

static void current_in_main_is_main(void **state) {
    (void)state;
    conc_thread_t *m = conc_thread_current();
    assert_non_null(m);
    assert_ptr_equal(m, conc_thread_main());
    assert_ptr_equal(conc_thread_current(), m);
    assert_string_equal(conc_thread_name(m), "MainThread");
    assert_false(conc_thread_is_daemon(m));
    assert_true(conc_thread_is_alive(m));
    assert_int_equal(conc_thread_active_count(), 1);
    conc_thread_t *all[4] = {0};
    assert_int_equal(conc_thread_enumerate(all, 4), 1);
    assert_ptr_equal(all[0], m);
}

static void *who_am_i(void *arg) {
    (void)arg;
    return conc_thread_current();
}

static void current_in_a_started_thread_is_its_handle(void **state) {
    (void)state;
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, who_am_i, NULL, NULL), 0);
    void *r;
    assert_int_equal(conc_thread_join(t, 10.0, &r), 0);
    assert_ptr_equal(r, t);
    conc_thread_release(t);
}

struct foreign {
    conc_thread_t *seen, *seen_again;
    uint32_t ready, release;
    bool daemon, alive, in_list;
    char name[32];
};

static void *raw_pthread(void *arg) {
    struct foreign *f = arg;
    f->seen = conc_thread_current();
    f->seen_again = conc_thread_current();
    if (f->seen) {
        strncpy(f->name, conc_thread_name(f->seen), sizeof f->name - 1);
        f->daemon = conc_thread_is_daemon(f->seen);
        f->alive = conc_thread_is_alive(f->seen);
        f->in_list = listed(f->seen);
    }
    gate_open(&f->ready);
    gate_wait(&f->release, 30);
    return NULL;
}

static void current_in_a_foreign_thread_is_a_dummy(void **state) {
    (void)state;
    struct foreign f = {0};
    pthread_t p;
    assert_int_equal(pthread_create(&p, NULL, raw_pthread, &f), 0);
    assert_int_equal(gate_wait(&f.ready, 10), 0);
    assert_non_null(f.seen);
    assert_ptr_equal(f.seen, f.seen_again); /* made once */
    assert_true(strncmp(f.name, "Dummy-", 6) == 0);
    assert_true(f.daemon);
    assert_true(f.alive);
    assert_true(f.in_list);
    assert_int_equal(conc_thread_active_count(), 2);
    assert_true(listed(f.seen));
    assert_int_equal(conc_thread_join(f.seen, 0, NULL), -EINVAL); /* cannot join a dummy */
    gate_open(&f.release);
    assert_int_equal(pthread_join(p, NULL), 0);
    /* The pthread exited: its dummy left the registry (and was freed: ASan would object to any
     * later use). */
    assert_int_equal(conc_thread_active_count(), 1);
    conc_thread_t *all[4];
    assert_int_equal(conc_thread_enumerate(all, 4), 1);
    assert_ptr_equal(all[0], conc_thread_main());
}

static void *starts_a_thread(void *arg) {
    (void)arg;
    conc_thread_t *t;
    if (conc_thread_start(&t, who_am_i, NULL, NULL) != 0) return (void *)-1;
    intptr_t daemon = conc_thread_is_daemon(t);
    conc_thread_join(t, 10.0, NULL);
    conc_thread_release(t);
    return (void *)daemon;
}

static void a_dummys_threads_are_daemons(void **state) {
    (void)state;
    /* Python: Thread() inherits current_thread().daemon, and a _DummyThread is a daemon. */
    pthread_t p;
    void *r;
    assert_int_equal(pthread_create(&p, NULL, starts_a_thread, NULL), 0);
    assert_int_equal(pthread_join(p, &r), 0);
    assert_int_equal((intptr_t)r, 1);
    assert_int_equal(conc_thread_active_count(), 1);
}

static uint32_t hold;
static void *held(void *arg) {
    gate_wait(&hold, 30);
    return arg;
}

static void enumerate_several_threads(void **state) {
    (void)state;
    enum { N = 5 };
    conc_thread_t *t[N];
    for (int i = 0; i < N; i++) assert_int_equal(conc_thread_start(&t[i], held, NULL, NULL), 0);
    assert_int_equal(conc_thread_active_count(), N + 1);
    conc_thread_t *all[N + 3] = {0};
    assert_int_equal(conc_thread_enumerate(all, N + 3), N + 1);
    assert_ptr_equal(all[0], conc_thread_main());
    for (int i = 0; i < N; i++) {
        bool found = false;
        for (int j = 0; j < N + 1; j++) found |= all[j] == t[i];
        assert_true(found);
    }
    assert_null(all[N + 1]);
    /* A smaller array: filled up to cap, the total still returned. */
    conc_thread_t *few[2] = {0};
    assert_int_equal(conc_thread_enumerate(few, 2), N + 1);
    assert_non_null(few[1]);
    assert_int_equal(conc_thread_enumerate(NULL, 0), N + 1);
    gate_open(&hold);
    for (int i = 0; i < N; i++) {
        assert_int_equal(conc_thread_join(t[i], 10.0, NULL), 0);
        /* Gone from the list once joined. */
        assert_false(listed(t[i]));
        assert_true(conc_thread_active_count() <= (size_t)(N - i)); /* others may be done too */
        conc_thread_release(t[i]);
    }
    assert_int_equal(conc_thread_active_count(), 1);
}

CONC_TEST_MAIN(cmocka_unit_test(current_in_main_is_main),
               cmocka_unit_test(current_in_a_started_thread_is_its_handle),
               cmocka_unit_test(current_in_a_foreign_thread_is_a_dummy),
               cmocka_unit_test(a_dummys_threads_are_daemons),
               cmocka_unit_test(enumerate_several_threads))
