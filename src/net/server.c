/* Servers (asyncio.start_server) and open_connection.
 *
 * The listening socket is watched for reading; the callback accepts what is pending (a bounded
 * batch, so one busy listener cannot monopolise an iteration) and spawns a task per connection.
 * Each client node holds its task's handle (to cancel it) and is cleaned up by a done-callback on
 * the task's future, not by code at the end of the task: a task cancelled before it first ran
 * never runs that code, and its stream must be closed all the same. When the fd table is full
 * (EMFILE), accepting pauses for a second instead of spinning on a listener that stays readable,
 * as asyncio does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../internal/net.h"

#define ACCEPT_BATCH 64

struct client {
    conc_server_t *srv;
    conc_stream_t *s;
    conc_task_t *task;
    struct client *prev, *next;
};

struct conc_server {
    conc_loop_t *loop;
    int fd;
    bool closed, freed, is_unix;
    char *path; /* a Unix server's socket file, removed on close */
    void (*client)(conc_stream_t *, void *);
    void *arg;
    size_t limit;
    unsigned refs; /* the user's, one per client */
    size_t nclients;
    struct client *clients;
    conc_aevent_t all_closed;
    conc_handle_t *resume; /* accepting paused after EMFILE */
};

static void server_unref(conc_server_t *srv) {
    if (--srv->refs > 0) return;
    if (srv->resume) conc_handle_cancel(srv->resume);
    free(srv->path);
    free(srv);
}

static void check_closed(conc_server_t *srv) {
    if (srv->closed && srv->nclients == 0) conc_aevent_set(&srv->all_closed);
}

static void *client_main(void *arg) {
    struct client *c = arg;
    c->srv->client(c->s, c->srv->arg);
    return NULL;
}

static void client_done(conc_future_t *f, void *arg) {
    (void)f;
    struct client *c = arg;
    conc_server_t *srv = c->srv;
    if (!c->s->user_closed) {
        c->s->user_closed = true;
        conc__stream_begin_close(c->s);
        conc__stream_unref(c->s); /* the client's reference */
    }
    conc__stream_unref(c->s); /* the server's */
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->nclients--;
    conc_task_release(c->task); /* safe: the runtime holds the task until its callbacks ran */
    free(c);
    check_closed(srv);
    server_unref(srv);
}

static void serve(conc_server_t *srv, int fd) {
    struct client *c = calloc(1, sizeof *c);
    conc_stream_t *s = NULL;
    if (!c) {
        close(fd);
        return;
    }
    if (conc__stream_new(srv->loop, fd, true, &s) < 0) { /* it closed fd */
        free(c);
        return;
    }
    if (!srv->is_unix) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    s->limit = srv->limit;
    s->refs = 2;
    c->srv = srv;
    c->s = s;
    c->task = conc_task_spawn(srv->loop, client_main, c, NULL);
    if (!c->task || conc_future_add_done_callback(conc_task_future(c->task), client_done, c) < 0) {
        /* out of memory: drop this connection */
        if (c->task) {
            conc_task_cancel(c->task);
            conc_task_release(c->task);
        }
        s->refs = 1;
        conc_stream_abort(s);
        free(c);
        return;
    }
    srv->refs++;
    srv->nclients++;
    c->next = srv->clients;
    if (srv->clients) srv->clients->prev = c;
    srv->clients = c;
}

static void on_accept(void *arg, int fd, unsigned events);

static void resume_accepting(void *arg) {
    conc_server_t *srv = arg;
    srv->resume = NULL;
    if (!srv->closed) conc__net_watch(srv->loop, srv->fd, CONC__IO_READ, on_accept, srv);
}

static void on_accept(void *arg, int fd, unsigned events) {
    (void)events;
    conc_server_t *srv = arg;
    for (int i = 0; i < ACCEPT_BATCH && !srv->closed; i++) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
            serve(srv, c);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            conc__loop_unwatch(srv->loop, fd);
            srv->resume = conc_call_later(srv->loop, 1.0, resume_accepting, srv);
        }
        break;
    }
}

int conc_server_from_fd(conc_loop_t *loop, int fd, void (*client)(conc_stream_t *, void *),
                        void *arg, conc_server_t **out) {
    if (out) *out = NULL;
    if (!loop) loop = conc_loop_current();
    if (!loop || !client || !out || fd < 0) {
        if (fd >= 0) close(fd);
        return -EINVAL;
    }
    conc_server_t *srv = calloc(1, sizeof *srv);
    if (!srv || !conc__net_of(loop)) {
        free(srv);
        close(fd);
        return -ENOMEM;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK); /* accept in batches */
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    srv->is_unix = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_UNIX;
    srv->loop = loop;
    srv->fd = fd;
    srv->client = client;
    srv->arg = arg;
    srv->limit = 64 * 1024;
    srv->refs = 1;
    conc_aevent_init(&srv->all_closed);
    int r = conc__net_watch(loop, fd, CONC__IO_READ, on_accept, srv);
    if (r < 0) {
        close(fd);
        free(srv);
        return r;
    }
    *out = srv;
    return 0;
}

int conc_start_server(conc_loop_t *loop, const char *host, int port,
                      void (*client)(conc_stream_t *, void *), void *arg, conc_server_t **srv) {
    if (srv) *srv = NULL;
    if (!client || !srv) return -EINVAL;
    int fd = conc_tcp_listen(host ? host : "0.0.0.0", port, 0);
    if (fd < 0) return fd;
    return conc_server_from_fd(loop, fd, client, arg, srv);
}

int conc_start_unix_server(conc_loop_t *loop, const char *path,
                           void (*client)(conc_stream_t *, void *), void *arg,
                           conc_server_t **srv) {
    if (srv) *srv = NULL;
    if (!client || !srv || !path) return -EINVAL;
    char *copy = strdup(path);
    if (!copy) return -ENOMEM;
    int fd = conc_unix_listen(path, 0);
    if (fd < 0) {
        free(copy);
        return fd;
    }
    int r = conc_server_from_fd(loop, fd, client, arg, srv);
    if (r < 0) {
        unlink(copy);
        free(copy);
        return r;
    }
    (*srv)->path = copy;
    return 0;
}

int conc_server_port(conc_server_t *srv) {
    if (!srv || srv->is_unix || srv->fd < 0) return -EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(srv->fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EINVAL;
}

int conc_server_close(conc_server_t *srv) {
    if (!srv) return -EINVAL;
    if (srv->closed) return 0;
    srv->closed = true;
    if (srv->resume) {
        conc_handle_cancel(srv->resume);
        srv->resume = NULL;
    }
    conc__loop_unwatch(srv->loop, srv->fd);
    close(srv->fd);
    srv->fd = -1;
    if (srv->path) unlink(srv->path);
    check_closed(srv);
    return 0;
}

int conc_server_wait_closed(conc_server_t *srv) {
    if (!srv) return -EINVAL;
    if (!srv->closed) conc_server_close(srv);
    if (srv->nclients == 0) return 0;
    if (!conc__net_task(srv->loop)) return -EPERM;
    srv->refs++;
    int r = conc_aevent_wait(&srv->all_closed, -1);
    server_unref(srv);
    return r;
}

void conc_server_cancel_clients(conc_server_t *srv) {
    if (!srv) return;
    for (struct client *c = srv->clients; c; c = c->next) conc_task_cancel(c->task);
}

size_t conc_server_clients(conc_server_t *srv) {
    return srv ? srv->nclients : 0;
}

int conc_server_set_limit(conc_server_t *srv, size_t limit) {
    if (!srv || limit == 0) return -EINVAL;
    srv->limit = limit;
    return 0;
}

void conc_server_free(conc_server_t *srv) {
    if (!srv || srv->freed) return;
    srv->freed = true;
    conc_server_close(srv);
    server_unref(srv);
}

/* ---- open_connection ---- */

int conc_open_connection(const char *host, int port, conc_stream_t **s) {
    if (!s) return -EINVAL;
    *s = NULL;
    if (!conc__task_running) return -EPERM;
    int fd = conc_tcp_connect(host, port, -1);
    if (fd < 0) return fd;
    return conc__stream_new(conc__task_running->loop, fd, true, s);
}

int conc_open_unix_connection(const char *path, conc_stream_t **s) {
    if (!s) return -EINVAL;
    *s = NULL;
    if (!conc__task_running) return -EPERM;
    int fd = conc_unix_connect(path, -1);
    if (fd < 0) return fd;
    return conc__stream_new(conc__task_running->loop, fd, true, s);
}
