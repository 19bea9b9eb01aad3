/* Every proxy method against a real server process, with the errors API.md names: -ENOENT for a
 * missing key, -ERANGE for a bad index or an overflowing add, -ETIMEDOUT for polls and timeouts,
 * -EPERM for releasing a lock not held; objects shared by name, one namespace per kind. */
#define _GNU_SOURCE
#include <math.h>
#include "manager_util.h"

static void dict_methods(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_mdict_t *d, *same;
    assert_int_equal(conc_mdict_open(m, "d", &d), 0);
    assert_int_equal(conc_mdict_open(m, "d", &same), 0);
    void *v;
    size_t n;
    assert_int_equal(conc_mdict_get(d, "k", 1, &v, &n), -ENOENT);
    assert_int_equal(conc_mdict_set(d, "k", 1, "v1", 2), 0);
    assert_int_equal(conc_mdict_set(d, "k", 1, "value", 5), 0); /* replaces */
    assert_int_equal(conc_mdict_get(same, "k", 1, &v, &n), 0);
    expect_bytes(0, v, n, "value");
    assert_int_equal(conc_mdict_set(d, "", 0, "", 0), 0); /* empty key and value */
    assert_int_equal(conc_mdict_get(d, "", 0, &v, &n), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(conc_mdict_len(d, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(conc_mdict_del(d, "", 0), 0);
    assert_int_equal(conc_mdict_del(d, "", 0), -ENOENT);
    /* update and items: many pairs in one call, insertion order kept */
    enum { N = 1000 };
    conc_bytes_t *kv = malloc(2 * N * sizeof *kv);
    char(*keys)[16] = malloc(N * 16), (*vals)[16] = malloc(N * 16);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], 16, "key%d", i);
        snprintf(vals[i], 16, "val%d", i * 3);
        kv[2 * i] = (conc_bytes_t){keys[i], strlen(keys[i])};
        kv[2 * i + 1] = (conc_bytes_t){vals[i], strlen(vals[i])};
    }
    assert_int_equal(conc_mdict_update(d, kv, N), 0);
    assert_int_equal(conc_mdict_len(d, &n), 0);
    assert_int_equal(n, N + 1);
    conc_bytes_t *items;
    size_t np;
    assert_int_equal(conc_mdict_items(d, &items, &np), 0);
    assert_int_equal(np, N + 1);
    assert_int_equal(items[0].len, 1);
    assert_memory_equal(items[0].data, "k", 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal(items[2 * (i + 1)].len, strlen(keys[i]));
        assert_memory_equal(items[2 * (i + 1)].data, keys[i], strlen(keys[i]));
        assert_memory_equal(items[2 * (i + 1) + 1].data, vals[i], strlen(vals[i]));
    }
    free(items);
    assert_int_equal(conc_mdict_update(d, NULL, 0), 0);
    free(kv);
    free(keys);
    free(vals);
    /* another name is another dict */
    conc_mdict_t *other;
    assert_int_equal(conc_mdict_open(m, "other", &other), 0);
    assert_int_equal(conc_mdict_len(other, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(conc_mdict_items(other, &items, &np), 0);
    assert_int_equal(np, 0);
    free(items);
    conc_mproxy_close(other);
    conc_mproxy_close(same);
    conc_mproxy_close(d);
    assert_int_equal(conc_manager_shutdown(m), 0);
    conc_manager_free(m);
}

static void list_methods(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_mlist_t *l;
    assert_int_equal(conc_mlist_open(m, "l", &l), 0);
    void *v;
    size_t n;
    assert_int_equal(conc_mlist_get(l, 0, &v, &n), -ERANGE);
    assert_int_equal(conc_mlist_pop(l, -1, &v, &n), -ERANGE);
    assert_int_equal(conc_mlist_append(l, "a", 1), 0);
    assert_int_equal(conc_mlist_append(l, "bb", 2), 0);
    assert_int_equal(conc_mlist_append(l, "ccc", 3), 0);
    assert_int_equal(conc_mlist_len(l, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(conc_mlist_get(l, -1, &v, &n), 0);
    expect_bytes(0, v, n, "ccc");
    assert_int_equal(conc_mlist_get(l, 1, &v, &n), 0);
    expect_bytes(0, v, n, "bb");
    assert_int_equal(conc_mlist_get(l, 3, &v, &n), -ERANGE);
    assert_int_equal(conc_mlist_get(l, -4, &v, &n), -ERANGE);
    assert_int_equal(conc_mlist_set(l, -3, "A", 1), 0);
    assert_int_equal(conc_mlist_set(l, 5, "x", 1), -ERANGE);
    assert_int_equal(conc_mlist_pop(l, 0, &v, &n), 0);
    expect_bytes(0, v, n, "A");
    assert_int_equal(conc_mlist_pop(l, -1, &v, &n), 0);
    expect_bytes(0, v, n, "ccc");
    assert_int_equal(conc_mlist_len(l, &n), 0);
    assert_int_equal(n, 1);
    conc_mproxy_close(l);
    conc_manager_free(m); /* stops the server it started */
}

static void value_methods(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_mvalue_t *v;
    assert_int_equal(conc_mvalue_open(m, "v", &v), 0);
    int64_t x = -1;
    assert_int_equal(conc_mvalue_get(v, &x), 0);
    assert_int_equal(x, 0);
    assert_int_equal(conc_mvalue_set(v, -42), 0);
    assert_int_equal(conc_mvalue_add(v, 50, &x), 0);
    assert_int_equal(x, 8);
    assert_int_equal(conc_mvalue_set(v, INT64_MAX), 0);
    assert_int_equal(conc_mvalue_add(v, 1, &x), -ERANGE);
    assert_int_equal(conc_mvalue_get(v, &x), 0);
    assert_true(x == INT64_MAX);
    assert_int_equal(conc_mvalue_set(v, INT64_MIN), 0);
    assert_int_equal(conc_mvalue_get(v, &x), 0);
    assert_true(x == INT64_MIN);
    assert_int_equal(conc_mvalue_add(v, -1, NULL), -ERANGE);
    conc_mproxy_close(v);
    conc_manager_free(m);
}

static void queue_methods(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_mqueue_t *q, *same;
    assert_int_equal(conc_mqueue_open(m, "q", 2, &q), 0);
    assert_int_equal(conc_mqueue_open(m, "q", 0, &same), 0); /* maxsize of the first open holds */
    void *v;
    size_t n;
    assert_int_equal(conc_mqueue_get(q, &v, &n, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_mqueue_get(q, &v, &n, 0.2), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_mqueue_put(q, "1", 1, 0), 0);
    assert_int_equal(conc_mqueue_put(same, "2", 1, CONC_FOREVER), 0);
    assert_int_equal(conc_mqueue_put(q, "3", 1, 0), -ETIMEDOUT); /* full */
    t0 = conc_monotonic();
    assert_int_equal(conc_mqueue_put(q, "3", 1, 0.2), -ETIMEDOUT);
    dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_mqueue_get(same, &v, &n, 1), 0);
    expect_bytes(0, v, n, "1");
    assert_int_equal(conc_mqueue_put(q, "", 0, 1), 0);
    assert_int_equal(conc_mqueue_get(q, &v, &n, CONC_FOREVER), 0);
    expect_bytes(0, v, n, "2");
    assert_int_equal(conc_mqueue_get(q, &v, &n, 0), 0);
    assert_int_equal(n, 0);
    free(v);
    conc_mproxy_close(same);
    conc_mproxy_close(q);
    conc_manager_free(m);
}

static void lock_and_event_methods(void **state) {
    (void)state;
    conc_manager_t *m = start_manager(CONC_START_FORK, NULL);
    conc_manager_t *m2;
    size_t klen;
    const void *key = conc_manager_authkey(m, &klen);
    assert_int_equal(klen, 32);
    assert_int_equal(conc_manager_connect(&m2, conc_manager_address(m), key, klen), 0);
    conc_mlock_t *l, *l2;
    assert_int_equal(conc_mlock_open(m, "l", &l), 0);
    assert_int_equal(conc_mlock_open(m2, "l", &l2), 0);
    assert_int_equal(conc_mlock_release(l), -EPERM);
    assert_int_equal(conc_mlock_acquire(l, 0), 0);
    assert_int_equal(conc_mlock_acquire(l2, 0), -ETIMEDOUT);
    double t0 = conc_monotonic();
    assert_int_equal(conc_mlock_acquire(l2, 0.2), -ETIMEDOUT);
    double dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_mlock_release(l2), -EPERM); /* held by the other connection */
    assert_int_equal(conc_mlock_release(l), 0);
    assert_int_equal(conc_mlock_acquire(l2, 5), 0);
    assert_int_equal(conc_mlock_release(l2), 0);
    assert_int_equal(conc_mlock_release(l2), -EPERM);

    conc_mevent_t *e, *e2;
    assert_int_equal(conc_mevent_open(m, "e", &e), 0);
    assert_int_equal(conc_mevent_open(m2, "e", &e2), 0);
    assert_int_equal(conc_mevent_wait(e, 0), -ETIMEDOUT);
    t0 = conc_monotonic();
    assert_int_equal(conc_mevent_wait(e2, 0.2), -ETIMEDOUT);
    dt = conc_monotonic() - t0;
    assert_true(dt >= 0.2 && dt < 5);
    assert_int_equal(conc_mevent_set(e2), 0);
    assert_int_equal(conc_mevent_wait(e, 0), 0);
    assert_int_equal(conc_mevent_wait(e, CONC_FOREVER), 0);
    assert_int_equal(conc_mevent_clear(e), 0);
    assert_int_equal(conc_mevent_wait(e2, 0), -ETIMEDOUT);
    /* kinds have their own namespaces: a dict "l" is not the lock "l" */
    conc_mdict_t *d;
    size_t n;
    assert_int_equal(conc_mdict_open(m2, "l", &d), 0);
    assert_int_equal(conc_mdict_len(d, &n), 0);
    assert_int_equal(n, 0);
    conc_mproxy_close(d);
    conc_mproxy_close(e);
    conc_mproxy_close(e2);
    conc_mproxy_close(l);
    conc_mproxy_close(l2);
    /* any client may shut the server down; the others then see it gone */
    assert_int_equal(conc_manager_shutdown(m2), 0);
    conc_manager_free(m2);
    conc_mvalue_t *v;
    int r = conc_mvalue_open(m, "v", &v);
    assert_true(r == CONC_ECLOSED || r == -EPIPE);
    conc_manager_free(m);
}

static void wrong_key(void **state) {
    (void)state;
    conc_manager_opts_t o = {.method = CONC_START_FORK, .authkey = "secret", .authkey_len = 6};
    conc_manager_t *m, *bad;
    assert_int_equal(conc_manager_start(&m, &o), 0);
    assert_int_equal(conc_manager_connect(&bad, conc_manager_address(m), "secreT", 6), CONC_EAUTH);
    assert_int_equal(conc_manager_connect(&bad, conc_manager_address(m), "secret!", 7), CONC_EAUTH);
    assert_int_equal(conc_manager_connect(&bad, conc_manager_address(m), "secret", 6), 0);
    conc_manager_free(bad);
    assert_int_equal(conc_manager_connect(&bad, conc_manager_address(m), NULL, 0), -EINVAL);
    assert_int_equal(conc_manager_connect(&bad, "bogus:1", "secret", 6), -EINVAL);
    assert_int_equal(conc_manager_connect(&bad, "unix:/nonexistent/x", "secret", 6), -ENOENT);
    conc_manager_free(m);
}

static void check_address(const char *address, const char *prefix) {
    conc_manager_t *m = start_manager(CONC_START_FORK, address);
    const char *a = conc_manager_address(m);
    assert_non_null(a);
    if (strncmp(a, prefix, strlen(prefix)) != 0) fail_msg("address %s, want %s...", a, prefix);
    if (!strncmp(a, "tcp:", 4)) assert_null(strstr(a, ":0\0")); /* a real port */
    conc_mvalue_t *v;
    assert_int_equal(conc_mvalue_open(m, "v", &v), 0);
    assert_int_equal(conc_mvalue_add(v, 1, NULL), 0);
    conc_mproxy_close(v);
    conc_manager_free(m);
}

static void addresses(void **state) {
    (void)state;
    check_address(NULL, "unix:/tmp/conc-manager-");
    check_address("tcp:127.0.0.1:0", "tcp:127.0.0.1:");
    check_address("tcp:localhost:0", "tcp:");
    char path[64];
    snprintf(path, sizeof path, "unix:/tmp/conc-mtest-%d.sock", (int)getpid());
    check_address(path, path);
    assert_int_equal(access(path + 5, F_OK), -1); /* removed at shutdown */
    snprintf(path, sizeof path, "unix:@conc-mtest-%d", (int)getpid());
    check_address(path, path);
    if (access("/proc/net/if_inet6", F_OK) == 0) check_address("tcp:[::1]:0", "tcp:[::1]:");
    conc_manager_t *m;
    conc_manager_opts_t o = {.address = "tcp:nonsense", .method = CONC_START_FORK};
    assert_int_equal(conc_manager_start(&m, &o), -EINVAL);
    o.address = "unix:/nonexistent-dir/x.sock";
    assert_int_equal(conc_manager_start(&m, &o), -ENOENT);
}

PROCESS_TEST_MAIN(cmocka_unit_test(dict_methods), cmocka_unit_test(list_methods),
                  cmocka_unit_test(value_methods), cmocka_unit_test(queue_methods),
                  cmocka_unit_test(lock_and_event_methods), cmocka_unit_test(wrong_key),
                  cmocka_unit_test(addresses))
