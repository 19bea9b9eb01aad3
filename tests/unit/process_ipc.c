/* Real objects handed to a child under each start method: a Connection (a duplex Pipe end) and a
 * SharedMemory segment holding a process-shared Event. Under fork the child gets the parent's own
 * objects; under spawn and forkserver they are rebuilt from the fds and bytes that travelled. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include "process_util.h"

struct area {
    conc_event_t done; /* CONC_PSHARED */
    char text[64];
};

/* Echo one message back with a prefix, then report through the shared area. Exit code: 0, or the
 * number of the failed check. */
static int echo(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_conn_t *c = conc_passed_conn(0);
    conc_shm_t *s = conc_passed_shm(1);
    if (!c || !s) return 1;
    if (conc_passed_shm(0) || conc_passed_conn(1) || conc_passed_conn(2)) return 2;
    void *buf;
    size_t n;
    if (conc_conn_recv(c, &buf, &n, 30) != 0) return 3;
    char reply[128];
    int k = snprintf(reply, sizeof reply, "pong:%.*s", (int)n, (char *)buf);
    free(buf);
    if (conc_conn_send(c, reply, (size_t)k) != 0) return 4;
    struct area *a = conc_shm_buf(s);
    if (conc_shm_size(s) < sizeof *a) return 5;
    if (strcmp(a->text, "from parent") != 0) return 6;
    snprintf(a->text, sizeof a->text, "from %s", conc_process_current_name());
    conc_event_set(&a->done);
    return 0;
}
CONC_TARGET(echo)

static void conn_and_shm(conc_start_method_t m) {
    conc_conn_t *mine, *theirs;
    assert_int_equal(conc_pipe(&mine, &theirs, true), 0);
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    struct area *a = conc_shm_buf(s);
    assert_int_equal(conc_event_init(&a->done, CONC_PSHARED), 0);
    snprintf(a->text, sizeof a->text, "from parent");

    conc_obj_t pass[] = {CONC_OBJ_CONN(theirs), CONC_OBJ_SHM(s)};
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = 2;
    o.name = "echoer";
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "echo", NULL, 0, &o), 0);
    /* The child has its own copies now; ours can go (as Python's parent closes its child end). */
    conc_conn_close(theirs);

    assert_int_equal(conc_conn_send(mine, "ping", 4), 0);
    void *buf;
    size_t n;
    assert_int_equal(conc_conn_recv(mine, &buf, &n, 30), 0);
    assert_int_equal(n, 9);
    assert_memory_equal(buf, "pong:ping", 9);
    free(buf);
    assert_int_equal(conc_event_wait(&a->done, 30), 0);
    assert_string_equal(a->text, "from echoer");

    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    /* The child's end is gone with it: the connection reports the peer closed. */
    assert_int_equal(conc_conn_recv(mine, &buf, &n, 30), CONC_ECLOSED);
    conc_conn_close(mine);
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
}
PER_METHOD(conn_and_shm)

/* The segment the child mapped is the parent's even if its name is gone: it travels as an fd. */
static int read_shm(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_shm_t *s = conc_passed_shm(0);
    if (!s) return 1;
    return ((unsigned char *)conc_shm_buf(s))[100];
}
CONC_TARGET(read_shm)

static void shm_unlinked_before_start(conc_start_method_t m) {
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 8192), 0);
    ((unsigned char *)conc_shm_buf(s))[100] = 77;
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_obj_t pass[] = {CONC_OBJ_SHM(s)};
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = 1;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "read_shm", NULL, 0, &o), 0);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 77);
    conc_process_free(p);
    conc_shm_close(s);
}
PER_METHOD(shm_unlinked_before_start)

/* conc_wait on a process: ready once it ended, along with a connection. */
static int wait_then_exit(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_conn_t *c = conc_passed_conn(0);
    void *buf;
    size_t n;
    if (!c || conc_conn_recv(c, &buf, &n, 30) != 0) return 1;
    free(buf);
    return 3;
}
CONC_TARGET(wait_then_exit)

static void waited_with_conc_wait(conc_start_method_t m) {
    conc_conn_t *mine, *theirs;
    assert_int_equal(conc_pipe(&mine, &theirs, true), 0);
    conc_obj_t pass[] = {CONC_OBJ_CONN(theirs)};
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = 1;
    o.daemon = true; /* a failed check must not wait for it at exit */
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "wait_then_exit", NULL, 0, &o), 0);
    conc_conn_close(theirs);
    conc_obj_t objs[] = {CONC_OBJ_PROCESS(p), CONC_OBJ_CONN(mine)};
    bool ready[2];
    assert_int_equal(conc_wait(objs, 2, 0.05, ready), -ETIMEDOUT);
    assert_int_equal(conc_conn_send(mine, "go", 2), 0);
    /* The process ends, and its end of the pipe closes: both become ready. */
    int r;
    while ((r = conc_wait(objs, 1, 30, ready)) == 0) {
    }
    assert_int_equal(r, 1);
    assert_true(ready[0]);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 3);
    conc_process_free(p);
    conc_conn_close(mine);
}
PER_METHOD(waited_with_conc_wait)

PROCESS_TEST_MAIN(cmocka_unit_test(conn_and_shm_fork), cmocka_unit_test(conn_and_shm_spawn),
                  cmocka_unit_test(conn_and_shm_forkserver),
                  cmocka_unit_test(shm_unlinked_before_start_fork),
                  cmocka_unit_test(shm_unlinked_before_start_spawn),
                  cmocka_unit_test(shm_unlinked_before_start_forkserver),
                  cmocka_unit_test(waited_with_conc_wait_fork),
                  cmocka_unit_test(waited_with_conc_wait_spawn),
                  cmocka_unit_test(waited_with_conc_wait_forkserver))
