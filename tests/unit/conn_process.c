/* Connections and SharedMemory handed to a child under each start method (conc_process_opts_t.pass):
 * the child talks over the passed Connection (a small and a 1 MiB message each way), writes into
 * the passed segment, and exits; the parent then reads EOF (no other process - the forkserver
 * included - kept the end), and the segment's name survives the child (attaching never unlinks). */
/* TEST_TIMEOUT: 120 */
#include <stdio.h>
#include <unistd.h>
#include "process_util.h"

#define BIG (1 << 20)

static int talk(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_conn_t *c = conc_passed_conn(0);
    conc_shm_t *s = conc_passed_shm(1);
    if (!c || !s) return 1;
    void *buf;
    size_t n;
    if (conc_conn_recv(c, &buf, &n, 30) != 0 || n != 5 || memcmp(buf, "hello", 5)) return 2;
    free(buf);
    if (conc_conn_recv(c, &buf, &n, 30) != 0 || n != BIG) return 3;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char *)buf)[i] != (unsigned char)i) return 4;
    if (conc_conn_send(c, buf, n) != 0) return 5;
    free(buf);
    if (conc_shm_size(s) != 4096 || strcmp(conc_shm_buf(s), "from the parent")) return 6;
    strcpy((char *)conc_shm_buf(s) + 100, "from the child");
    if (conc_conn_send(c, conc_shm_name(s), strlen(conc_shm_name(s))) != 0) return 7;
    return 0;
}
CONC_TARGET(talk)

static void passed_conn_and_shm(conc_start_method_t m) {
    conc_conn_t *a, *b;
    assert_int_equal(conc_pipe(&a, &b, true), 0);
    conc_shm_t *s;
    assert_int_equal(conc_shm_create(&s, NULL, 4096), 0);
    strcpy(conc_shm_buf(s), "from the parent");
    conc_obj_t pass[] = {CONC_OBJ_CONN(b), CONC_OBJ_SHM(s)};
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = 2;
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "talk", NULL, 0, &o), 0);
    conc_conn_close(b);
    assert_int_equal(conc_conn_send(a, "hello", 5), 0);
    unsigned char *big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++) big[i] = (unsigned char)i;
    assert_int_equal(conc_conn_send(a, big, BIG), 0);
    void *buf;
    size_t n;
    assert_int_equal(conc_conn_recv(a, &buf, &n, 30), 0);
    assert_int_equal(n, BIG);
    assert_memory_equal(buf, big, BIG);
    free(buf);
    free(big);
    assert_int_equal(conc_conn_recv(a, &buf, &n, 30), 0);
    assert_int_equal(n, strlen(conc_shm_name(s)));
    assert_memory_equal(buf, conc_shm_name(s), n);
    free(buf);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    assert_int_equal(conc_conn_recv(a, &buf, &n, 30), CONC_ECLOSED);
    assert_string_equal((char *)conc_shm_buf(s) + 100, "from the child");
    conc_shm_t *again;
    assert_int_equal(conc_shm_attach(&again, conc_shm_name(s)), 0); /* still named */
    conc_shm_close(again);
    assert_int_equal(conc_shm_unlink(s), 0);
    conc_shm_close(s);
    conc_conn_close(a);
}
PER_METHOD(passed_conn_and_shm)

PROCESS_TEST_MAIN(cmocka_unit_test(passed_conn_and_shm_fork),
                  cmocka_unit_test(passed_conn_and_shm_spawn),
                  cmocka_unit_test(passed_conn_and_shm_forkserver))
