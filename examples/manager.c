/* Managers: a server process holding a shared dict, a queue and a counter; worker processes use
 * them through proxies (multiprocessing.Manager() in Python).
 *
 * The parent starts the manager, puts ten tasks on a queue and starts three workers, handing each
 * the manager. Each worker takes numbers off the queue until it gets "stop", writes n*n into the
 * results dict, and counts what it did on a shared value - an atomic add on the server, so no
 * update is lost. The parent reads all results in one round trip (items). A Python program could
 * use the same objects: see docs/managers.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"

static int worker(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_manager_t *m = conc_passed_manager(0);
    conc_mqueue_t *tasks;
    conc_mdict_t *results;
    conc_mvalue_t *done;
    if (!m || conc_mqueue_open(m, "tasks", 0, &tasks) || conc_mdict_open(m, "results", &results) ||
        conc_mvalue_open(m, "done", &done))
        return 1;
    for (;;) {
        void *v;
        size_t n;
        if (conc_mqueue_get(tasks, &v, &n, 30) != 0) return 2;
        char text[32];
        snprintf(text, sizeof text, "%.*s", (int)n, (char *)v);
        free(v);
        if (!strcmp(text, "stop")) break;
        long x = atol(text);
        char sq[32];
        int k = snprintf(sq, sizeof sq, "%ld", x * x);
        if (conc_mdict_set(results, text, strlen(text), sq, (size_t)k) != 0) return 3;
        if (conc_mvalue_add(done, 1, NULL) != 0) return 4;
    }
    conc_mproxy_close(tasks);
    conc_mproxy_close(results);
    conc_mproxy_close(done);
    return 0;
}
CONC_TARGET(worker)

int main(int argc, char **argv) {
    conc_init(argc, argv);
    conc_manager_t *m;
    int r = conc_manager_start(&m, NULL); /* a private unix socket, a random key */
    if (r != 0) {
        fprintf(stderr, "manager: %s\n", conc_strerror(r));
        return 1;
    }
    printf("manager listening on %s\n",
           strncmp(conc_manager_address(m), "unix:", 5) ? "tcp" : "a unix socket");
    conc_mqueue_t *tasks;
    conc_mdict_t *results;
    conc_mvalue_t *done;
    conc_mqueue_open(m, "tasks", 0, &tasks);
    conc_mdict_open(m, "results", &results);
    conc_mvalue_open(m, "done", &done);
    for (int i = 1; i <= 10; i++) {
        char t[8];
        int k = snprintf(t, sizeof t, "%d", i);
        conc_mqueue_put(tasks, t, (size_t)k, CONC_FOREVER);
    }
    conc_obj_t pass[] = {CONC_OBJ_MANAGER(m)};
    conc_process_opts_t o = {.pass = pass, .n_pass = 1};
    conc_process_t *w[3];
    for (int i = 0; i < 3; i++) {
        if (conc_process_start(&w[i], "worker", NULL, 0, &o) != 0) return 1;
        conc_mqueue_put(tasks, "stop", 4, CONC_FOREVER); /* one stop per worker */
    }
    for (int i = 0; i < 3; i++) {
        int code = -1;
        conc_process_join(w[i], CONC_FOREVER);
        conc_process_exitcode(w[i], &code);
        printf("worker %d exit code %d\n", i + 1, code);
        conc_process_free(w[i]);
    }
    int64_t n = 0;
    conc_mvalue_get(done, &n);
    printf("tasks done: %lld\n", (long long)n);
    conc_bytes_t *kv;
    size_t np;
    if (conc_mdict_items(results, &kv, &np) == 0) {
        long sum = 0;
        for (size_t i = 0; i < np; i++) {
            char v[32]; /* the bytes are not NUL-terminated */
            snprintf(v, sizeof v, "%.*s", (int)kv[2 * i + 1].len, (char *)kv[2 * i + 1].data);
            sum += atol(v);
        }
        printf("%zu results, sum of squares %ld\n", np, sum);
        free(kv);
    }
    conc_mproxy_close(tasks);
    conc_mproxy_close(results);
    conc_mproxy_close(done);
    conc_manager_free(m); /* stops the server this process started */
    return 0;
}
