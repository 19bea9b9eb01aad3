/* The forkserver start method, client side (forkserver.py, popen_forkserver.py).
 *
 * The server is started on first use by exec'ing this program afresh (exec.c) with the marker
 * "forkserver:<our pid>:<pdeathsig>", so it forks from a process that never ran a thread however
 * many threads we have by then - CPython does the same with a fresh interpreter. Its control
 * socket is one end of a private SOCK_SEQPACKET socketpair, so nobody else can connect to it and
 * each request is one message however many threads send at once. The end we keep is close-on-exec
 * and closed in our fork children (atfork), so the server sees EOF, and exits, when we die.
 *
 * A request is a socketpair made for the child: one end goes to the server with SCM_RIGHTS, with
 * the start request itself (request.c) when it is small, and the server forks - the child finds
 * the request in its copy of the server's memory - and writes back the child's pid and pidfd, and
 * later its wait status. The other end is the process's sentinel. A large request (over
 * CONC__INLINE_MAX) is streamed into the child's socket once the reply came, as to a spawned child.
 *
 * If the server dies (someone killed it) the next start finds the control socket closed and starts
 * a new one; a start racing with the death fails with -EPIPE, since whether the server forked the
 * child before dying cannot be known, and a retry could run the target twice. Why not a pidfd as for the other methods: only a parent can read a
 * child's exit status, and the server is the parent. The server's pidfd is still kept, for signals
 * that cannot hit a recycled pid and for telling when the child ended if the server dies.
 *
 * The server gets the parent-death signal only when the main thread starts it: the kernel sends it
 * when the *thread* that forked the server exits, and a server started from a short-lived thread
 * would die with that thread. EOF on the control socket covers every case anyway. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ctl = -1;
static pid_t server;

#define NO_RSEQ "glibc.pthread.rseq=0"

static int start_server_locked(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    /* The server resolves every dynamic symbol at load (LD_BIND_NOW), once, rather than each of
     * its children resolving those the server never called: a lazy binding in a child writes the
     * GOT, a copy-on-write fault per page per child. And it runs without glibc's restartable
     * sequence area (a tunable): the kernel writes that area, in the thread's TLS page, each time
     * the server or a child is scheduled in, a copy-on-write fault per start in each of them. The
     * server gives its children the user's environment back; they inherit the unregistered area
     * (sched_getcpu asks the kernel instead). A user who set the tunable either way keeps it. */
    bool bind_now = !getenv("LD_BIND_NOW");
    const char *tun = getenv("GLIBC_TUNABLES");
    int rseq_mode = !tun ? 1 : strstr(tun, "glibc.pthread.rseq") ? 0 : 2;
    char *tun_var = NULL;
    if (rseq_mode == 1) tun_var = strdup("GLIBC_TUNABLES=" NO_RSEQ);
    if (rseq_mode == 2 && asprintf(&tun_var, "GLIBC_TUNABLES=%s:" NO_RSEQ, tun) < 0) tun_var = NULL;
    if (!tun_var) rseq_mode = 0;
    const char *extra[3];
    size_t k = 0;
    if (bind_now) extra[k++] = "LD_BIND_NOW=1";
    if (tun_var) extra[k++] = tun_var;
    extra[k] = NULL;
    char marker[64];
    snprintf(marker, sizeof marker, "forkserver:%d:%d:%d:%d", (int)getpid(),
             conc__is_main_thread() ? 1 : 0, bind_now ? 1 : 0, rseq_mode);
    pid_t pid;
    int r = conc__exec_self(&pid, sv[1], marker, extra);
    free(tun_var);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    ctl = sv[0];
    server = pid;
    return 0;
}

static void stop_server_locked(void) {
    close(ctl);
    ctl = -1;
    waitpid(server, NULL, 0); /* it exits on EOF, if it had not died already */
    server = 0;
}

/* One control message: the header, the request if inline, and the child's socket plus (inline)
 * the passed objects' fds. */
static int send_ctl(int sock, int fd, conc__wire_t *m) {
    struct conc__ctl_hdr h = {.magic = CONC__CTL_MAGIC, .inline_len = m ? (uint32_t)m->total : 0};
    struct iovec iov[7] = {{&h, sizeof h}};
    int niov = 1;
    int fds[CONC__MAX_FDS];
    size_t nfds = 1;
    fds[0] = fd;
    if (m) {
        memcpy(iov + 1, m->iov, (size_t)m->niov * sizeof *iov);
        niov += m->niov;
        memcpy(fds + 1, m->fds, m->nfds * sizeof *fds);
        nfds += m->nfds;
    }
    /* SOCK_SEQPACKET: one message or nothing, so a partial send cannot happen. */
    return conc__sendmsg_all(sock, iov, niov, fds, nfds);
}

/* Hand the child's socket (and an inline request) to the server, starting it (again, if it
 * died) as needed. */
static int submit(int fd, conc__wire_t *m) {
    pthread_mutex_lock(&lock);
    int r = server ? 0 : start_server_locked();
    if (r == 0) r = send_ctl(ctl, fd, m);
    if (r == -EPIPE || r == -ECONNRESET || r == -ECONNREFUSED) {
        stop_server_locked();
        r = start_server_locked();
        if (r == 0) r = send_ctl(ctl, fd, m);
    }
    pthread_mutex_unlock(&lock);
    return r;
}

/* The server's reply: the child's pid (negative: the fork failed) and its pidfd. */
static int read_reply(int fd, pid_t *pid, int *pidfd) {
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    int32_t v;
    struct iovec iov = {&v, sizeof v};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    ssize_t n;
    while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL)) < 0 && errno == EINTR) {
    }
    *pidfd = -1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(pidfd, CMSG_DATA(c), sizeof(int));
    if (n == (ssize_t)sizeof v && v > 0 && *pidfd >= 0) {
        *pid = v;
        return 0;
    }
    if (*pidfd >= 0) close(*pidfd);
    if (n == (ssize_t)sizeof v && v < 0) return v; /* the server's fork failed */
    return -EPIPE;                                 /* the server died */
}

int conc__start_forkserver(conc_process_t *p, const conc__request_t *rq) {
    conc__wire_t m;
    int r = conc__request_build(rq, &m);
    if (r < 0) return r;
    bool inl = m.total <= CONC__INLINE_MAX && m.nfds < CONC__MAX_FDS;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        conc__request_done(&m);
        return -errno;
    }
    pid_t pid = 0;
    int pidfd = -1;
    r = submit(sv[1], inl ? &m : NULL);
    close(sv[1]);
    if (r == 0) r = read_reply(sv[0], &pid, &pidfd);
    /* A large request follows the reply: the child reads it as we write. */
    if (r == 0 && !inl) {
        int sent = conc__sendmsg_all(sv[0], m.iov, m.niov, m.fds, m.nfds);
        /* EPIPE: the child died before reading it all; its status will say why. */
        if (sent < 0 && sent != -EPIPE && sent != -ECONNRESET) {
            conc__pidfd_signal(pidfd, SIGKILL); /* the server reaps it */
            close(pidfd);
            r = sent;
        }
    }
    conc__request_done(&m);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    p->pid = pid;
    p->pidfd = pidfd;
    p->status_fd = sv[0];
    return 0;
}

pid_t conc__forkserver_pid(void) {
    pthread_mutex_lock(&lock);
    pid_t pid = server;
    pthread_mutex_unlock(&lock);
    return pid;
}

/* A fork child has its own children: it starts its own server if it needs one. The inherited
 * control socket is closed so the parent's server still exits when the parent does. */
static void after_fork_child(void) {
    if (ctl >= 0) close(ctl);
    ctl = -1;
    server = 0;
    pthread_mutex_unlock(&lock); /* taken by the forking thread in before_fork (see target.c) */
}

static void before_fork(void) {
    pthread_mutex_lock(&lock);
}

static void after_fork(void) {
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void forkserver_init(void) {
    pthread_atfork(before_fork, after_fork, after_fork_child);
}
