/* The demo's echo process: the "server" the IO-bound job talks to.
 *
 * It is a separate process so it never shares a GIL or a CPU budget with what is measured; the
 * demo starts it with conc_process_start (fork method) as the first thing, and every thread, task
 * and worker process connects to it by an abstract Unix socket address, which needs no file to
 * clean up. Each connection first sends its mode: 'F' echoes every byte at once (the convoy
 * panel: the round trip is as short as the machine allows), 'D' echoes each byte after a fixed
 * delay (the IO job: a server across a LAN, so a round trip is mostly waiting). One thread, ppoll
 * with a nanosecond timeout: with every delay equal, replies fall due in arrival order, so a FIFO
 * is the whole timer queue. A connection's slot carries a generation so a reply queued for a
 * closed connection never goes to a new one that reused the slot. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "demo.h"

#define MAXCONN 128
#define MAXQ    4096

typedef struct {
    int listen_fd;
    int delay_us;
} echo_arg_t;

typedef struct {
    int slot;
    unsigned gen;
    char byte;
    double due;
} reply_t;

static void put(int fd, char c) {
    while (send(fd, &c, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

static int demo_echo(const void *arg, size_t len) {
    echo_arg_t a;
    if (len != sizeof a) return 2;
    memcpy(&a, arg, sizeof a);
    static struct pollfd pf[MAXCONN + 1];
    static char mode[MAXCONN + 1];
    static unsigned gen[MAXCONN + 1];
    static reply_t q[MAXQ];
    size_t qhead = 0, qlen = 0;
    double delay = a.delay_us / 1e6;
    pf[0] = (struct pollfd){.fd = a.listen_fd, .events = POLLIN};
    for (int i = 1; i <= MAXCONN; i++) pf[i].fd = -1;
    for (;;) {
        struct timespec ts, *tp = NULL;
        if (qlen) {
            double left = q[qhead].due - conc_monotonic();
            if (left < 0) left = 0;
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
            tp = &ts;
        }
        int n = ppoll(pf, MAXCONN + 1, tp, NULL);
        if (n < 0 && errno != EINTR) return 1;
        double now = conc_monotonic();
        while (qlen && q[qhead].due <= now) {
            reply_t *r = &q[qhead];
            if (gen[r->slot] == r->gen && pf[r->slot].fd >= 0) put(pf[r->slot].fd, r->byte);
            qhead = (qhead + 1) % MAXQ;
            qlen--;
        }
        if (n <= 0) continue;
        if (pf[0].revents & POLLIN) {
            int c = accept4(a.listen_fd, NULL, NULL, SOCK_CLOEXEC);
            int i = 1;
            while (c >= 0 && i <= MAXCONN && pf[i].fd >= 0) i++;
            if (c >= 0 && i <= MAXCONN) {
                pf[i] = (struct pollfd){.fd = c, .events = POLLIN};
                mode[i] = 0;
                gen[i]++;
            } else if (c >= 0) {
                close(c);
            }
        }
        for (int i = 1; i <= MAXCONN; i++) {
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            char buf[256];
            ssize_t k = recv(pf[i].fd, buf, sizeof buf, MSG_DONTWAIT);
            if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (k <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                gen[i]++;
                continue;
            }
            for (ssize_t j = 0; j < k; j++) {
                if (!mode[i]) {
                    mode[i] = buf[j];
                } else if (mode[i] == 'D' && qlen < MAXQ) {
                    q[(qhead + qlen++) % MAXQ] = (reply_t){i, gen[i], buf[j], now + delay};
                } else {
                    put(pf[i].fd, buf[j]);
                }
            }
            pf[i].revents = 0;
        }
    }
}
CONC_TARGET(demo_echo)

int demo_echo_start(demo_t *d) {
    memset(&d->echo_addr, 0, sizeof d->echo_addr);
    d->echo_addr.sun_family = AF_UNIX;
    int n = snprintf(d->echo_addr.sun_path + 1, sizeof d->echo_addr.sun_path - 1,
                     "conc-demo-echo-%d", (int)getpid());
    d->echo_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (struct sockaddr *)&d->echo_addr, d->echo_addrlen) != 0 || listen(fd, 64) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    /* the fork child inherits fd (fork keeps fds; CLOEXEC only matters to exec) */
    echo_arg_t a = {fd, d->io_delay_us};
    conc_process_opts_t o = {.method = CONC_START_FORK, .daemon = true, .name = "demo-echo"};
    int r = conc_process_start(&d->echo, "demo_echo", &a, sizeof a, &o);
    close(fd); /* the listener lives on in the echo process; connections queue in its backlog */
    if (r < 0) d->echo = NULL;
    return r < 0 ? r : 0;
}

void demo_echo_stop(demo_t *d) {
    if (!d->echo) return;
    conc_process_terminate(d->echo);
    if (conc_process_join(d->echo, 5) != 0) {
        conc_process_kill(d->echo);
        conc_process_join(d->echo, 5);
    }
    conc_process_free(d->echo);
    d->echo = NULL;
}

int demo_echo_connect(const struct sockaddr_un *addr, socklen_t len, char mode) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (const struct sockaddr *)addr, len) != 0 || send(fd, &mode, 1, 0) != 1) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}
