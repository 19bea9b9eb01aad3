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
 * socket like a spawned child. */
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

#define CTL_MAGIC 0x43464b53u

CONC_HIDDEN int conc__interrupt_install(void);

struct child {
    pid_t pid;
    int fd;
};

static struct child *kids;
static size_t nkids, capkids;
static int ctl_fd, sig_fd;

static void child_side(int fd, pid_t server) {
    close(ctl_fd);
    close(sig_fd);
    for (size_t i = 0; i < nkids; i++) close(kids[i].fd);
    free(kids);
    kids = NULL;
    nkids = capkids = 0;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    conc__interrupt_install();
    conc__child_main(fd, server);
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

static void serve_request(int fd) {
    if (nkids == capkids) {
        size_t ncap = capkids ? capkids * 2 : 16;
        struct child *k = realloc(kids, ncap * sizeof *k);
        if (!k) {
            send_reply(fd, -ENOMEM, -1);
            close(fd);
            return;
        }
        kids = k;
        capkids = ncap;
    }
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0) child_side(fd, server);
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

/* One control message: the magic and one fd. 0 at EOF. */
static int recv_request(int *fd) {
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } u;
    uint32_t magic = 0;
    struct iovec iov = {&magic, sizeof magic};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    ssize_t n = recvmsg(ctl_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? -EAGAIN : 0;
    if (n == 0) return 0;
    *fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int got[4];
        memcpy(got, CMSG_DATA(c), k * sizeof(int));
        for (size_t i = 0; i < k; i++) {
            if (*fd < 0)
                *fd = got[i];
            else
                close(got[i]);
        }
    }
    if (magic != CTL_MAGIC || *fd < 0) {
        if (*fd >= 0) close(*fd);
        return -EAGAIN;
    }
    return 1;
}

void conc__forkserver_main(int ctl, bool pdeathsig, pid_t ppid) {
    if (pdeathsig) conc__die_with_parent(ppid);
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
            int fd;
            int r = recv_request(&fd);
            if (r == 0) _exit(0);
            if (r > 0) serve_request(fd);
        }
    }
}
