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
#include <alloca.h>
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
#include "../internal/thread.h"

CONC_HIDDEN int conc__interrupt_install(void);

struct child {
    pid_t pid;
    int fd;
};

#define FEW_KIDS 32
#define PAGE     4096

/* Everything the server writes while it serves a request, in one page-aligned block: each fork
 * makes every page of the server copy-on-write again, and in this VM the first write to such a
 * page afterwards - by the server or by the child - is a fault of some 200 us, as dear as the
 * fork itself. The counters, the first children and the head of the last control message share
 * the block's first page. The last control message holds the request if inline, and its fds (the
 * child's socket first): a child reads it from its copy, and nobody writes it while a child
 * could. */
static struct {
    struct child *kids; /* few, until there are more children than that */
    size_t nkids, capkids;
    int ctl_fd, sig_fd;
    size_t msg_len, msg_nfds;
    struct child few[FEW_KIDS];
    int msg_fds[CONC__MAX_FDS];
    char msg_buf[sizeof(struct conc__ctl_hdr) + CONC__INLINE_MAX];
} S __attribute__((aligned(PAGE)));

/* The server's forks run no atfork handlers (_Fork): the server is a fresh exec that has run no
 * thread and holds no lock, so there is nothing for them to repair, while running them costs the
 * server and every child faults on the handlers' code and on the locks they take and drop. What
 * conc's handlers would change in such a process - the cached ids and the main thread's - is
 * reset here by hand. Under ThreadSanitizer the runtime must see the fork: a plain fork(). */
static pid_t fork_child(void) {
#if defined(CONC_TSAN) || !defined(__GLIBC__) || !__GLIBC_PREREQ(2, 34)
    return fork();
#else
    pid_t pid = _Fork();
    if (pid == 0) {
        conc__ids_after_fork();
        conc__current_after_fork();
    }
    return pid;
#endif
}

/* Writes nothing of the server's state: every page written here is a copy-on-write fault. */
static void child_side(int fd, pid_t server) {
    close(S.ctl_fd);
    close(S.sig_fd);
    for (size_t i = 0; i < S.nkids; i++) close(S.kids[i].fd);
    sigset_t none;
    memset(&none, 0, sizeof none); /* sigemptyset: one more code page to fault in */
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    conc__interrupt_install();
    struct conc__ctl_hdr h;
    memcpy(&h, S.msg_buf, sizeof h);
    if (h.inline_len)
        conc__child_main(fd, S.msg_buf + sizeof h, h.inline_len, S.msg_fds + 1, S.msg_nfds - 1,
                         server, true);
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
    for (size_t i = 0; i < S.msg_nfds; i++) close(S.msg_fds[i]);
    S.msg_nfds = 0;
}

static void serve_request(int fd) {
    if (S.nkids == S.capkids) {
        size_t ncap = S.capkids * 2;
        struct child *k =
            S.kids == S.few ? malloc(ncap * sizeof *k) : realloc(S.kids, ncap * sizeof *k);
        if (!k) {
            send_reply(fd, -ENOMEM, -1);
            drop_fds();
            return;
        }
        if (S.kids == S.few) memcpy(k, S.few, sizeof S.few);
        S.kids = k;
        S.capkids = ncap;
    }
    pid_t server = getpid();
    pid_t pid = fork_child();
    if (pid == 0) child_side(fd, server);
    for (size_t i = 1; i < S.msg_nfds; i++) close(S.msg_fds[i]); /* the child's now */
    if (pid < 0) {
        send_reply(fd, -errno, -1);
        close(fd);
        return;
    }
    /* Not reaped before this returns, so the pidfd names this child. */
    int pidfd = conc__pidfd_open(pid);
    send_reply(fd, pid, pidfd);
    if (pidfd >= 0) close(pidfd);
    S.kids[S.nkids].pid = pid;
    S.kids[S.nkids].fd = fd;
    S.nkids++;
}

/* One read drains the signalfd (SIGCHLDs coalesce), and waitpid stops at our last child: a call
 * that fails writes errno, and errno's page is copy-on-write after every fork like the rest. */
static void reap_children(void) {
    struct signalfd_siginfo si;
    (void)!read(S.sig_fd, &si, sizeof si);
    int st;
    pid_t pid;
    while (S.nkids > 0 && (pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < S.nkids; i++) {
            if (S.kids[i].pid != pid) continue;
            int32_t v = st;
            while (send(S.kids[i].fd, &v, sizeof v, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                   errno == EINTR) {
            }
            close(S.kids[i].fd);
            S.kids[i] = S.kids[--S.nkids];
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
    struct iovec iov = {S.msg_buf, sizeof S.msg_buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    ssize_t n = recvmsg(S.ctl_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? -EAGAIN : 0;
    if (n == 0) return 0;
    S.msg_len = (size_t)n;
    S.msg_nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(S.msg_fds + S.msg_nfds, CMSG_DATA(c), k * sizeof(int));
        S.msg_nfds += k;
    }
    struct conc__ctl_hdr h;
    if (S.msg_len < sizeof h || S.msg_nfds < 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        drop_fds();
        return -EAGAIN;
    }
    memcpy(&h, S.msg_buf, sizeof h);
    if (h.magic != CONC__CTL_MAGIC || h.inline_len != S.msg_len - sizeof h) {
        drop_fds();
        return -EAGAIN;
    }
    return 1;
}

#define STACK_NEED 2560

__attribute__((noinline, noreturn)) static void serve_loop(void) {
    for (;;) {
        struct pollfd pfd[2] = {{.fd = S.ctl_fd, .events = POLLIN},
                                {.fd = S.sig_fd, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) continue;
        if (pfd[1].revents) reap_children();
        if (pfd[0].revents) {
            int r = recv_request();
            if (r == 0) _exit(0);
            if (r > 0) serve_request(S.msg_fds[0]);
        }
    }
}

/* Give the children the GLIBC_TUNABLES the user had (forkserver.c added the rseq setting). */
static void restore_tunables(int rseq_mode) {
    const char *suffix = ":glibc.pthread.rseq=0";
    char *tun = getenv("GLIBC_TUNABLES");
    size_t n = tun ? strlen(tun) : 0, k = strlen(suffix);
    if (rseq_mode == 1) unsetenv("GLIBC_TUNABLES");
    if (rseq_mode == 2 && n >= k && strcmp(tun + n - k, suffix) == 0) {
        char *user = strndup(tun, n - k);
        if (user) setenv("GLIBC_TUNABLES", user, 1);
        free(user);
    }
}

void conc__forkserver_main(int ctl, bool pdeathsig, pid_t ppid, bool bound_now, int rseq_mode) {
    if (pdeathsig) conc__die_with_parent(ppid);
    /* The client set LD_BIND_NOW for this exec only (forkserver.c); the children's environment is
     * the user's. */
    if (bound_now) unsetenv("LD_BIND_NOW");
    restore_tunables(rseq_mode);
    signal(SIGINT, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, NULL);
    S.ctl_fd = ctl;
    S.sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (S.sig_fd < 0) _exit(255);
    S.kids = S.few;
    S.capkids = FEW_KIDS;
    /* Likewise for the stack: the loop's frames (about 1.5 KiB deep) start near the top of a page
     * rather than wherever main left us, so that they touch one page, not two. */
    uintptr_t room = (uintptr_t)__builtin_frame_address(0) % PAGE;
    volatile char *pad = alloca(room < STACK_NEED ? room + 256 : 256);
    pad[0] = 0;
    serve_loop();
}
