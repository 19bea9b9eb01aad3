/* A line-based chat server: the first line a client sends is its name, every later line goes to
 * all the other clients as "name: line".
 *
 * Each client is a task; the list of clients is plain data touched only by the loop's thread, so
 * it needs no lock (one thread, switches only at awaits - asyncio's model). A slow client cannot
 * make the server buffer without bound: write + drain waits for it, and only its own task waits.
 * The demo connects three clients from the main task. */
#include <stdio.h>
#include <string.h>
#include "conc.h"

#define MAX_CLIENTS 16

struct member {
    conc_stream_t *s;
    char name[32];
};
static struct member members[MAX_CLIENTS];

static void broadcast(const struct member *from, const char *line, size_t n) {
    char msg[320];
    int len = snprintf(msg, sizeof msg, "%s: %.*s", from->name, (int)n, line);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (members[i].s && members[i].name[0] && &members[i] != from)
            conc_stream_write(members[i].s, msg, (size_t)len);
}

static void chat_client(conc_stream_t *s, void *arg) {
    (void)arg;
    struct member *me = NULL;
    for (int i = 0; i < MAX_CLIENTS && !me; i++)
        if (!members[i].s) me = &members[i];
    if (!me) return;
    me->s = s; /* take the slot before the first await: other clients run meanwhile */
    char line[256];
    ssize_t n = conc_stream_readline(s, line, sizeof line);
    if (n > 1) snprintf(me->name, sizeof me->name, "%.*s", (int)n - 1, line);
    while (me->name[0] && (n = conc_stream_readline(s, line, sizeof line)) > 0) {
        broadcast(me, line, (size_t)n);
        if (conc_stream_drain(s) < 0) break;
    }
    me->s = NULL; /* gone: the server closes the stream when this returns */
    me->name[0] = 0;
}

static conc_stream_t *join(int port, const char *name) {
    conc_stream_t *c;
    if (conc_open_connection("127.0.0.1", port, &c) < 0) return NULL;
    conc_stream_write(c, name, strlen(name));
    conc_stream_write(c, "\n", 1);
    return c;
}

static void show(const char *who, conc_stream_t *c) {
    char line[320];
    ssize_t n = conc_stream_readline(c, line, sizeof line - 1);
    if (n > 0) {
        line[n] = 0;
        printf("%s got: %s", who, line);
    }
}

static void *main_task(void *arg) {
    (void)arg;
    conc_server_t *srv;
    int r = conc_start_server(NULL, "127.0.0.1", 0, chat_client, NULL, &srv);
    if (r < 0) return conc_task_error(r);
    int port = conc_server_port(srv);
    conc_stream_t *alice = join(port, "alice"), *bob = join(port, "bob"),
                  *carol = join(port, "carol");
    if (!alice || !bob || !carol) return conc_task_error(-ECONNREFUSED);
    while (conc_server_clients(srv) < 3) conc_sleep(0.001);
    for (int joined = 0; joined < 3;) { /* wait until all three have named themselves */
        joined = 0;
        for (int i = 0; i < MAX_CLIENTS; i++) joined += members[i].name[0] != 0;
        conc_sleep(0.001);
    }
    conc_stream_write(alice, "hi all\n", 7);
    show("bob", bob);
    show("carol", carol);
    conc_stream_write(bob, "hello alice\n", 12);
    show("alice", alice);
    show("carol", carol);
    conc_stream_close(alice);
    conc_stream_close(bob);
    conc_stream_close(carol);
    conc_server_close(srv);
    conc_server_wait_closed(srv);
    conc_server_free(srv);
    printf("chat closed\n");
    return NULL;
}

int main(void) {
    int r = conc_run(main_task, NULL, NULL);
    if (r < 0) fprintf(stderr, "failed: %s\n", conc_strerror(r));
    return r < 0;
}
