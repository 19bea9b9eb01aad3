/* Shutting a server down cleanly on SIGTERM (or SIGINT): the handler runs on the loop, as an
 * ordinary callback; it sets an event, and the main task stops accepting, cancels the clients
 * (each one gets -ECANCELED from the read it is blocked in, says goodbye and returns), waits for
 * them, and returns - so the program exits 0 with every connection closed properly.
 *
 * Run with an argument to wait for a real `kill -TERM <pid>`; without one, the demo sends SIGTERM
 * to itself once a client is connected. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "conc.h"

static conc_aevent_t stop;

static void on_signal(int signo, void *arg) {
    (void)arg;
    printf("got %s, shutting down\n", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    conc_aevent_set(&stop);
}

static void client(conc_stream_t *s, void *arg) {
    (void)arg;
    char line[128];
    ssize_t n;
    while ((n = conc_stream_readline(s, line, sizeof line)) > 0)
        conc_stream_write(s, line, (size_t)n);
    if (n == -ECANCELED) {
        conc_stream_write(s, "server shutting down\n", 21); /* sent before the stream closes */
        printf("client task: cancelled, said goodbye\n");
    }
}

static void *main_task(void *arg) {
    bool demo = arg == NULL;
    conc_aevent_init(&stop);
    conc_loop_add_signal_handler(NULL, SIGTERM, on_signal, NULL);
    conc_loop_add_signal_handler(NULL, SIGINT, on_signal, NULL);
    conc_server_t *srv;
    int r = conc_start_server(NULL, "127.0.0.1", 0, client, NULL, &srv);
    if (r < 0) return conc_task_error(r);
    printf("pid %d serving on port %d\n", (int)getpid(), conc_server_port(srv));
    fflush(stdout);

    conc_stream_t *c = NULL;
    if (demo) {
        conc_open_connection("127.0.0.1", conc_server_port(srv), &c);
        while (conc_server_clients(srv) < 1) conc_sleep(0.001);
        kill(getpid(), SIGTERM); /* as `kill -TERM <pid>` would */
    }
    conc_aevent_wait(&stop, -1);
    conc_server_close(srv);          /* stop accepting */
    conc_server_cancel_clients(srv); /* ask the client tasks to finish */
    conc_server_wait_closed(srv);    /* and wait until they have */
    conc_server_free(srv);
    if (c) {
        char line[64];
        ssize_t n = conc_stream_readline(c, line, sizeof line - 1);
        if (n > 0) {
            line[n] = 0;
            printf("client read: %s", line);
        }
        conc_stream_close(c);
    }
    conc_loop_remove_signal_handler(NULL, SIGTERM);
    conc_loop_remove_signal_handler(NULL, SIGINT);
    printf("clean exit\n");
    return NULL;
}

int main(int argc, char **argv) {
    (void)argv;
    int r = conc_run(main_task, argc > 1 ? (void *)1 : NULL, NULL);
    if (r < 0) fprintf(stderr, "failed: %s\n", conc_strerror(r));
    return r < 0;
}
