/* The forkserver start method, client side (forkserver.py, popen_forkserver.py).
 *
 * The server is started on first use by exec'ing this program afresh (exec.c) with the marker
 * "forkserver:<our pid>:<pdeathsig>", so it forks from a process that never ran a thread however
 * many threads we have by then - CPython does the same with a fresh interpreter. Its control
 * socket is one end of a private SOCK_SEQPACKET socketpair, so nobody else can connect to it and
 * each request is one message however many threads send at once. The end we keep is close-on-exec
 * and closed in our fork children (atfork), so the server sees EOF, and exits, when we die.
 *
 * A request is a socketpair made for the child: one end goes to the server with SCM_RIGHTS and the
 * server forks; the server writes back the child's pid and pidfd, then the child reads the start
 * request from it (the same bytes a spawned child reads), and the server later writes the child's
 * wait status. The other end is the process's sentinel. Why not a pidfd as for the other methods: only a parent can read a
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
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

#define CTL_MAGIC 0x43464b53u /* "CFKS" */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ctl = -1;
static pid_t server;

static int start_server_locked(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    char marker[64];
    snprintf(marker, sizeof marker, "forkserver:%d:%d", (int)getpid(),
             conc__is_main_thread() ? 1 : 0);
    pid_t pid;
    int r = conc__exec_self(&pid, sv[1], marker);
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

static int send_fd(int sock, int fd) {
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    uint32_t magic = CTL_MAGIC;
    struct iovec iov = {&magic, sizeof magic};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n;
    while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return n < 0 ? -errno : 0;
}

/* Hand the child's socket to the server, starting it (again, if it died) as needed. *used is the
 * server that got it. */
static int submit(int fd, pid_t *used) {
    pthread_mutex_lock(&lock);
    int r = server ? 0 : start_server_locked();
    if (r == 0) r = send_fd(ctl, fd);
    if (r == -EPIPE || r == -ECONNRESET || r == -ECONNREFUSED) {
        stop_server_locked();
        r = start_server_locked();
        if (r == 0) r = send_fd(ctl, fd);
    }
    *used = server;
    pthread_mutex_unlock(&lock);
    return r;
}

/* The server died after taking a request (killed by someone): forget it, unless another thread
 * already started a new one. */
static void server_died(pid_t pid) {
    pthread_mutex_lock(&lock);
    if (server == pid) stop_server_locked();
    pthread_mutex_unlock(&lock);
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
    if (n == (ssize_t)sizeof v && v < 0) return v;         /* the server's fork failed */
    return n < 0 && errno != ECONNRESET ? -errno : -EPIPE; /* the server died */
}

/* One child from the server: its status socket, pid and pidfd. The request is written only once
 * the reply came, so that when the server dies half-way no child has it: a child it forked
 * before dying reads EOF and exits without running anything, and the start can be retried. */
static int fork_one(int *status_fd, pid_t *pid, int *pidfd) {
    for (int attempt = 0;; attempt++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
        pid_t used;
        int r = submit(sv[1], &used);
        close(sv[1]);
        if (r == 0) r = read_reply(sv[0], pid, pidfd);
        if (r == 0) {
            *status_fd = sv[0];
            return 0;
        }
        close(sv[0]);
        if (r != -EPIPE || attempt > 0) return r;
        server_died(used);
    }
}

int conc__start_forkserver(conc_process_t *p, const conc__request_t *rq) {
    int fd = -1, pidfd = -1;
    pid_t pid = 0;
    int r = fork_one(&fd, &pid, &pidfd);
    if (r < 0) return r;
    r = conc__request_send(fd, rq);
    /* EPIPE: the child died before reading it all; its status will say why. */
    if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
        conc__pidfd_signal(pidfd, SIGKILL); /* the server reaps it */
        close(pidfd);
        close(fd);
        return r;
    }
    p->pid = pid;
    p->pidfd = pidfd;
    p->status_fd = fd;
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
    pthread_mutex_init(&lock, NULL);
    if (ctl >= 0) close(ctl);
    ctl = -1;
    server = 0;
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
