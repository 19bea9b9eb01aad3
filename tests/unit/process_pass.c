/* Handing objects to a child (conc_process_opts_t.pass) under each start method, with a test-only
 * object kind: a pipe's write end plus a tag. Under fork the child sees the parent's own object;
 * under spawn and forkserver the passer rebuilds it from the fd and bytes that travelled. The parent
 * then sees EOF on the pipe once the child ended, which proves no other process (the forkserver
 * included) kept a copy of the fd. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal/pass.h"
#include "process_util.h"

#define KIND_TPIPE 99

struct tpipe {
    int fd;
    char tag[32];
};

static int tpipe_export(void *obj, int *fds, size_t *nfds, void *buf, size_t *len) {
    struct tpipe *t = obj;
    size_t n = strlen(t->tag) + 1;
    if (*nfds < 1 || *len < n) return -ENOSPC;
    fds[0] = t->fd;
    *nfds = 1;
    memcpy(buf, t->tag, n);
    *len = n;
    return 0;
}

static void *tpipe_import(const int *fds, size_t nfds, const void *buf, size_t len) {
    if (nfds != 1 || len == 0 || len > sizeof(((struct tpipe *)0)->tag)) return NULL;
    struct tpipe *t = malloc(sizeof *t);
    if (!t) return NULL;
    t->fd = fds[0];
    memcpy(t->tag, buf, len);
    t->tag[len - 1] = 0;
    return t;
}

static const conc__passer_t tpipe_passer = {KIND_TPIPE, tpipe_export, tpipe_import};

__attribute__((constructor)) static void tpipe_register(void) {
    conc__passer_register(&tpipe_passer);
}

/* Writes each passed pipe's tag into it. The argument: the number of objects, and under fork the
 * parent's pointers, which the child must get back as they are. */
static int write_tags(const void *arg, size_t len) {
    size_t n;
    if (len < sizeof n) return 100;
    memcpy(&n, arg, sizeof n);
    for (size_t i = 0; i < n; i++) {
        struct tpipe *t = conc__passed_obj(i, KIND_TPIPE);
        if (!t) return 1;
        if (len == sizeof n + n * sizeof t) {
            struct tpipe *want;
            memcpy(&want, (const char *)arg + sizeof n + i * sizeof t, sizeof t);
            if (t != want) return 2;
        }
        if (write(t->fd, t->tag, strlen(t->tag)) != (ssize_t)strlen(t->tag)) return 3;
    }
    if (conc__passed_obj(n, KIND_TPIPE)) return 4;          /* absent */
    if (n && conc__passed_obj(0, KIND_TPIPE + 1)) return 5; /* another kind */
    if (conc_passed_conn(0) || conc_passed_shm(0) || conc_passed_queue(0)) return 6;
    return 0;
}
CONC_TARGET(write_tags)

#define NOBJ 40 /* 40 fds in one SCM_RIGHTS message */

static void handed_over(conc_start_method_t m, size_t n) {
    static struct tpipe objs[NOBJ];
    static int readers[NOBJ];
    conc_obj_t pass[NOBJ];
    char arg[sizeof(size_t) + NOBJ * sizeof(void *)];
    memcpy(arg, &n, sizeof n);
    for (size_t i = 0; i < n; i++) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        readers[i] = p[0];
        objs[i].fd = p[1];
        snprintf(objs[i].tag, sizeof objs[i].tag, "tag-%zu", i);
        pass[i] = (conc_obj_t){KIND_TPIPE, &objs[i]};
        struct tpipe *ptr = &objs[i];
        memcpy(arg + sizeof n + i * sizeof ptr, &ptr, sizeof ptr);
    }
    conc_process_opts_t o = opts_for(m);
    o.pass = pass;
    o.n_pass = n;
    conc_process_t *p;
    size_t len = sizeof n + (m == CONC_START_FORK ? n * sizeof(void *) : 0);
    assert_int_equal(conc_process_start(&p, "write_tags", arg, len, &o), 0);
    for (size_t i = 0; i < n; i++) close(objs[i].fd);
    assert_int_equal(conc_process_join(p, 30), 0);
    int code = -1;
    assert_int_equal(conc_process_exitcode(p, &code), 0);
    assert_int_equal(code, 0);
    conc_process_free(p);
    for (size_t i = 0; i < n; i++) {
        char buf[64], want[32];
        snprintf(want, sizeof want, "tag-%zu", i);
        ssize_t k = read(readers[i], buf, sizeof buf);
        assert_int_equal(k, (ssize_t)strlen(want));
        assert_memory_equal(buf, want, strlen(want));
        assert_int_equal(read(readers[i], buf, sizeof buf), 0); /* EOF: no copy left anywhere */
        close(readers[i]);
    }
}

static void one_object(conc_start_method_t m) {
    handed_over(m, 1);
}
PER_METHOD(one_object)

static void many_objects(conc_start_method_t m) {
    handed_over(m, NOBJ);
    handed_over(m, 0);
}
PER_METHOD(many_objects)

/* A kind with no passer cannot travel to a fresh exec: -EINVAL before anything starts. Under fork
 * any pointer can be handed over. */
static void kind_without_passer(void **state) {
    (void)state;
    int x = 7;
    conc_obj_t pass[] = {{KIND_TPIPE + 1, &x}};
    conc_process_opts_t o = {.method = CONC_START_SPAWN, .pass = pass, .n_pass = 1};
    conc_process_t *p;
    assert_int_equal(conc_process_start(&p, "write_tags", NULL, 0, &o), -EINVAL);
    o.method = CONC_START_FORKSERVER;
    assert_int_equal(conc_process_start(&p, "write_tags", NULL, 0, &o), -EINVAL);
    pass[0].kind = KIND_TPIPE;
    pass[0].obj = NULL;
    assert_int_equal(conc_process_start(&p, "write_tags", NULL, 0, &o), -EINVAL);
}

PROCESS_TEST_MAIN(cmocka_unit_test(one_object_fork), cmocka_unit_test(one_object_spawn),
                  cmocka_unit_test(one_object_forkserver), cmocka_unit_test(many_objects_fork),
                  cmocka_unit_test(many_objects_spawn), cmocka_unit_test(many_objects_forkserver),
                  cmocka_unit_test(kind_without_passer))
