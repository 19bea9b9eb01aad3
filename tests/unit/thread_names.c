/* Thread names ("Thread-N" generated, or given) and the OS's view of them; ident and native_id. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "conc.h"
#include "test.h"
#include "thread_gate.h"

static void *nothing(void *arg) {
    return arg;
}

static void start_join(conc_thread_t **t, const char *name) {
    conc_thread_opts_t o = {.name = name};
    assert_int_equal(conc_thread_start(t, nothing, NULL, name ? &o : NULL), 0);
    assert_int_equal(conc_thread_join(*t, 10.0, NULL), 0);
}

static void generated_names_count_from_one(void **state) {
    (void)state;
    conc_thread_t *a, *b, *c, *d, *e;
    start_join(&a, NULL);
    start_join(&b, "worker");
    start_join(&c, NULL);
    conc_thread_opts_t empty = {.name = "", .daemon = false};
    assert_int_equal(conc_thread_start(&d, nothing, NULL, &empty), 0);
    conc_thread_opts_t unnamed = {.name = NULL, .daemon = true};
    assert_int_equal(conc_thread_start(&e, nothing, NULL, &unnamed), 0);
    /* This process has started no thread before: Python's counter starts at 1, and a given name
     * does not use a number. */
    assert_string_equal(conc_thread_name(a), "Thread-1");
    assert_string_equal(conc_thread_name(b), "worker");
    assert_string_equal(conc_thread_name(c), "Thread-2");
    assert_string_equal(conc_thread_name(d), "Thread-3");
    assert_string_equal(conc_thread_name(e), "Thread-4");
    assert_int_equal(conc_thread_join(d, 10.0, NULL), 0);
    assert_int_equal(conc_thread_join(e, 10.0, NULL), 0);
    conc_thread_t *all[] = {a, b, c, d, e};
    for (int i = 0; i < 5; i++) conc_thread_release(all[i]);
}

struct seen {
    char comm[64];
    pid_t tid;
    uint64_t self;
    uint32_t ready, release;
};

static void *look_at_myself(void *arg) {
    struct seen *s = arg;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)gettid());
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(s->comm, sizeof s->comm, f)) s->comm[0] = 0;
        fclose(f);
    }
    s->comm[strcspn(s->comm, "\n")] = 0;
    s->tid = gettid();
    s->self = (uint64_t)pthread_self();
    gate_open(&s->ready);
    gate_wait(&s->release, 30);
    return NULL;
}

static void read_comm(pid_t tid, char *buf, size_t n) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, (int)n, f));
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

static void the_os_sees_the_name(void **state) {
    (void)state;
    struct seen s = {0};
    conc_thread_t *t;
    conc_thread_opts_t o = {.name = "db-writer"};
    assert_int_equal(conc_thread_start(&t, look_at_myself, &s, &o), 0);
    assert_int_equal(gate_wait(&s.ready, 10), 0);
    assert_string_equal(s.comm, "db-writer");
    /* And from outside, through native_id. */
    char comm[64];
    read_comm(conc_thread_native_id(t), comm, sizeof comm);
    assert_string_equal(comm, "db-writer");
    gate_open(&s.release);
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    conc_thread_release(t);

    /* Generated names too; long names are cut to the kernel's 15 characters (ours stays whole). */
    struct seen g = {0}, l = {0};
    conc_thread_t *u, *v;
    assert_int_equal(conc_thread_start(&u, look_at_myself, &g, NULL), 0);
    o.name = "a-rather-long-thread-name";
    assert_int_equal(conc_thread_start(&v, look_at_myself, &l, &o), 0);
    assert_int_equal(gate_wait(&g.ready, 10), 0);
    assert_int_equal(gate_wait(&l.ready, 10), 0);
    assert_string_equal(g.comm, conc_thread_name(u));
    assert_true(strncmp(g.comm, "Thread-", 7) == 0);
    assert_string_equal(l.comm, "a-rather-long-t");
    assert_string_equal(conc_thread_name(v), "a-rather-long-thread-name");
    gate_open(&g.release);
    gate_open(&l.release);
    assert_int_equal(conc_thread_join(u, 10.0, NULL), 0);
    assert_int_equal(conc_thread_join(v, 10.0, NULL), 0);
    conc_thread_release(u);
    conc_thread_release(v);
}

static void ident_and_native_id(void **state) {
    (void)state;
    struct seen s = {0};
    conc_thread_t *t;
    assert_int_equal(conc_thread_start(&t, look_at_myself, &s, NULL), 0);
    /* Known as soon as start returns, as in Python. */
    pid_t tid = conc_thread_native_id(t);
    uint64_t ident = conc_thread_ident(t);
    assert_true(tid > 0);
    assert_true(ident != 0);
    assert_int_equal(gate_wait(&s.ready, 10), 0);
    assert_int_equal(tid, s.tid); /* native_id == gettid() inside the thread */
    assert_true(ident == s.self); /* ident == pthread_self() inside the thread */
    assert_int_not_equal(tid, getpid());
    gate_open(&s.release);
    assert_int_equal(conc_thread_join(t, 10.0, NULL), 0);
    /* Still answered after the thread is gone. */
    assert_int_equal(conc_thread_native_id(t), tid);
    assert_true(conc_thread_ident(t) == ident);
    conc_thread_release(t);

    conc_thread_t *m = conc_thread_main();
    assert_int_equal(conc_thread_native_id(m), getpid());
    assert_true(conc_thread_ident(m) == (uint64_t)pthread_self());
}

CONC_TEST_MAIN(cmocka_unit_test(generated_names_count_from_one),
               cmocka_unit_test(the_os_sees_the_name), cmocka_unit_test(ident_and_native_id))
