/* multiprocessing.Pipe: framed byte messages between two processes.
 *
 * Python:
 *     parent, child = multiprocessing.Pipe()
 *     p = Process(target=worker, args=(child,)); p.start()
 *     parent.send_bytes(b"3 4"); print(parent.recv_bytes())
 *     for c in wait([parent], timeout=5): ...
 *
 * The child end is handed to the child (conc_process_opts_t.pass): under spawn and forkserver its
 * socket travels with SCM_RIGHTS, under fork the child has it already. Messages keep their
 * boundaries and can be of any size; the wire format is Python's own, so a Python process could
 * hold the other end. A message from the child, or its exit, wakes conc_wait. */
#include <conc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int worker(const void *arg, size_t len) {
    (void)arg;
    (void)len;
    conc_conn_t *c = conc_passed_conn(0);
    for (;;) {
        void *msg;
        size_t n;
        int r = conc_conn_recv(c, &msg, &n, 10);
        if (r == CONC_ECLOSED) return 0; /* the parent closed its end: done */
        if (r < 0) return 1;
        char text[64], reply[96]; /* a message is bytes, not a C string */
        snprintf(text, sizeof text, "%.*s", (int)n, (char *)msg);
        free(msg);
        int a, b;
        if (sscanf(text, "%d %d", &a, &b) == 2)
            snprintf(reply, sizeof reply, "%d", a * b);
        else
            snprintf(reply, sizeof reply, "cannot parse \"%s\"", text);
        conc_conn_send(c, reply, strlen(reply));
    }
}
CONC_TARGET(worker)

int main(int argc, char **argv) {
    conc_init(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    conc_conn_t *parent, *child;
    conc_pipe(&parent, &child, true);
    conc_obj_t pass[] = {CONC_OBJ_CONN(child)};
    conc_process_opts_t opts = {.pass = pass, .n_pass = 1}; /* the default start method */
    conc_process_t *p;
    int r = conc_process_start(&p, "worker", NULL, 0, &opts);
    if (r < 0) {
        fprintf(stderr, "start: %s\n", conc_strerror(r));
        return 1;
    }
    conc_conn_close(child); /* the child has its own now */
    const char *questions[] = {"6 7", "12 12", "hello"};
    for (int i = 0; i < 3; i++) {
        conc_conn_send(parent, questions[i], strlen(questions[i]));
        conc_obj_t w[] = {CONC_OBJ_CONN(parent)};
        bool ready[1];
        if (conc_wait(w, 1, 5, ready) != 1) return 1; /* multiprocessing.connection.wait */
        void *answer;
        size_t n;
        if (conc_conn_recv(parent, &answer, &n, 5) != 0) return 1;
        printf("asked \"%s\", got \"%.*s\"\n", questions[i], (int)n, (char *)answer);
        free(answer);
    }
    conc_conn_close(parent); /* the worker reads CONC_ECLOSED and returns */
    conc_process_join(p, 10);
    int code = -1;
    conc_process_exitcode(p, &code);
    printf("worker exit code %d\n", code);
    conc_process_free(p);
    return code;
}
