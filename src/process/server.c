/* The forkserver itself (forkserver.py's main): a single-threaded process that forks one child per
 * request and reports each child's pid and exit status to the client.
 *
 * It runs in a fresh exec of the program, entered from conc_init before anything there could start
 * a thread, so every fork it makes is a fork of a single-threaded process. It waits in poll() on
 * the control socket and on a signalfd for SIGCHLD: a message on the control socket is a request
 * (one fd, the child's socket: forkserver.c), EOF means the client died or let go, and the server
 * exits - its daemon children die with it through their parent-death signal, the others live on as
 * in Python. SIGINT is ignored, as in Python: a Ctrl+C reaches the whole foreground process group,
 * and the client decides what happens to its children.
 *
 * A forked child drops everything of the server's (the control socket, the signalfd, the other
 * children's sockets, the blocked SIGCHLD, the ignored SIGINT) and reads its start request from its
 * copy of the control message, or from its socket if it was too large to ride there. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

CONC_HIDDEN int conc__interrupt_install(void);

struct child {
    pid_t pid;
    int fd;
};

static struct child *kids;
static size_t nkids, capkids;
static int ctl_fd, sig_fd;

/* The last control message: the request if inline, and its fds (the child's socket first). Static:
 * a child reads it from its copy, and nobody writes it while a child could. */
static char msg_buf[sizeof(struct conc__ctl_hdr) + CONC__INLINE_MAX];
static size_t msg_len;
static int msg_fds[CONC__MAX_FDS];
static size_t msg_nfds;

static void child_side(int fd, pid_t server) {
    close(ctl_fd);
    close(sig_fd);
    for (size_t i = 0; i < nkids; i++) close(kids[i].fd);
    nkids = 0; /* not freed: every page the child writes costs a copy-on-write fault */
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    conc__interrupt_install();
    struct conc__ctl_hdr h;
    memcpy(&h, msg_buf, sizeof h);
    if (h.inline_len)
        conc__child_main(fd, msg_buf + sizeof h, h.inline_len, msg_fds + 1, msg_nfds - 1, server,
                         true);
    conc__child_main(fd, NULL, 0, NULL, 0, server, true);
}

static void send_reply(int fd, int32_t v, int pidfd) {
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {&v, sizeof v};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (pidfd >= 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pidfd, sizeof pidfd);
    }
    /* Never blocks: the client reads the reply before anything else, and a client that went away
     * makes it fail, which is fine. */
    while (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno == EINTR) {
    }
}

static void drop_fds(void) {
    for (size_t i = 0; i < msg_nfds; i++) close(msg_fds[i]);
    msg_nfds = 0;
}

static void serve_request(int fd) {
    if (nkids == capkids) {
        size_t ncap = capkids ? capkids * 2 : 16;
        struct child *k = realloc(kids, ncap * sizeof *k);
        if (!k) {
            send_reply(fd, -ENOMEM, -1);
            drop_fds();
            return;
        }
        kids = k;
        capkids = ncap;
    }
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0) child_side(fd, server);
    for (size_t i = 1; i < msg_nfds; i++) close(msg_fds[i]); /* the child's now */
    if (pid < 0) {
        send_reply(fd, -errno, -1);
        close(fd);
        return;
    }
    /* Not reaped before this returns, so the pidfd names this child. */
    int pidfd = conc__pidfd_open(pid);
    send_reply(fd, pid, pidfd);
    if (pidfd >= 0) close(pidfd);
    kids[nkids].pid = pid;
    kids[nkids].fd = fd;
    nkids++;
}

static void reap_children(void) {
    struct signalfd_siginfo si;
    while (read(sig_fd, &si, sizeof si) > 0) {
    }
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < nkids; i++) {
            if (kids[i].pid != pid) continue;
            int32_t v = st;
            while (send(kids[i].fd, &v, sizeof v, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                   errno == EINTR) {
            }
            close(kids[i].fd);
            kids[i] = kids[--nkids];
            break;
        }
    }
}

/* One control message into msg_*: 1 for a request (its socket is msg_fds[0]), 0 at EOF, -EAGAIN
 * for nothing usable. */
static int recv_request(void) {
    union {
        char buf[CMSG_SPACE(CONC__MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {msg_buf, sizeof msg_buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    ssize_t n = recvmsg(ctl_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? -EAGAIN : 0;
    if (n == 0) return 0;
    msg_len = (size_t)n;
    msg_nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(msg_fds + msg_nfds, CMSG_DATA(c), k * sizeof(int));
        msg_nfds += k;
    }
    struct conc__ctl_hdr h;
    if (msg_len < sizeof h || msg_nfds < 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        drop_fds();
        return -EAGAIN;
    }
    memcpy(&h, msg_buf, sizeof h);
    if (h.magic != CONC__CTL_MAGIC || h.inline_len != msg_len - sizeof h) {
        drop_fds();
        return -EAGAIN;
    }
    return 1;
}

void conc__forkserver_main(int ctl, bool pdeathsig, pid_t ppid, bool bound_now) {
    if (pdeathsig) conc__die_with_parent(ppid);
    /* The client set LD_BIND_NOW for this exec only (forkserver.c); the children's environment is
     * the user's. */
    if (bound_now) unsetenv("LD_BIND_NOW");
    signal(SIGINT, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, NULL);
    ctl_fd = ctl;
    sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sig_fd < 0) _exit(255);
    for (;;) {
        struct pollfd pfd[2] = {{.fd = ctl_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) continue;
        if (pfd[1].revents) reap_children();
        if (pfd[0].revents) {
            int r = recv_request();
            if (r == 0) _exit(0);
            if (r > 0) serve_request(msg_fds[0]);
        }
    }
}
