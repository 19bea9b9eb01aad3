/* An echo server and its client (asyncio's "TCP echo server/client using streams").
 *
 * The server runs each connection in a task of its own; the client, in the main task, sends a
 * few lines and reads each one back. Both run on one loop here; split them into two programs and
 * nothing changes but the host name. */
#include <stdio.h>
#include <string.h>
#include "conc.h"

static void handle_echo(conc_stream_t *s, void *arg) {
    (void)arg;
    char line[256];
    ssize_t n;
    while ((n = conc_stream_readline(s, line, sizeof line)) > 0) {
        conc_stream_write(s, line, (size_t)n);
        if (conc_stream_drain(s) < 0) break;
    }
    /* returning closes the stream */
}

static void *main_task(void *arg) {
    (void)arg;
    conc_server_t *srv;
    int r = conc_start_server(NULL, "127.0.0.1", 0, handle_echo, NULL, &srv);
    if (r < 0) return conc_task_error(r);
    printf("serving on 127.0.0.1:%d\n", conc_server_port(srv));

    conc_stream_t *c;
    r = conc_open_connection("127.0.0.1", conc_server_port(srv), &c);
    if (r < 0) return conc_task_error(r);
    const char *msgs[] = {"hello\n", "world\n", "bye\n"};
    for (int i = 0; i < 3; i++) {
        char back[256];
        conc_stream_write(c, msgs[i], strlen(msgs[i]));
        ssize_t n = conc_stream_readline(c, back, sizeof back - 1);
        if (n < 0) return conc_task_error((int)n);
        back[n] = 0;
        printf("echo: %s", back);
    }
    conc_stream_close(c);

    conc_server_close(srv);
    conc_server_wait_closed(srv);
    conc_server_free(srv);
    printf("server closed\n");
    return NULL;
}

int main(void) {
    int r = conc_run(main_task, NULL, NULL);
    if (r < 0) fprintf(stderr, "failed: %s\n", conc_strerror(r));
    return r < 0;
}
