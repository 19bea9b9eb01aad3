/* Waiting for a child: join, exitcode, is_alive (Popen.poll/wait of each start method).
 *
 * A join polls the child's end fd - the pidfd for fork and spawn, the server's status socket for
 * forkserver - and then reaps without blocking, under the object's mutex so two joiners reap once.
 * The poll is base's conc__wait_fds, which in the main thread after conc_init ends with -EINTR on
 * SIGINT without the race between checking for it and going to sleep. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int conc__pidfd_open(pid_t pid) {
    long r = syscall(SYS_pidfd_open, pid, 0);
    return r < 0 ? -errno : (int)r;
}

int conc__pidfd_signal(int pidfd, int sig) {
    if (pidfd < 0) return -ESRCH;
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

static int code_of(int wstatus) {
    if (WIFSIGNALED(wstatus)) return -WTERMSIG(wstatus);
    return WEXITSTATUS(wstatus);
}

static bool fd_readable(int fd) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0;
}

/* The child's status if it ended; false while it runs. Under p->mu. The forkserver's status is
 * peeked, not read: left in the socket, it keeps the sentinel readable for good, as a pidfd stays
 * readable (the server closing its end a moment later would do it too, but not at once). */
static bool try_reap(conc_process_t *p) {
    if (p->method == CONC_START_FORKSERVER && !__atomic_load_n(&p->lost, __ATOMIC_RELAXED)) {
        int32_t st;
        ssize_t n = recv(p->status_fd, &st, sizeof st, MSG_DONTWAIT | MSG_PEEK);
        if (n == (ssize_t)sizeof st) {
            p->code = code_of(st);
            return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
        /* EOF (or a torn message): the server died. Its child may still run; from now on its
         * pidfd tells when it ends, and its status is unknown, 255 as in Python. */
        __atomic_store_n(&p->lost, 1, __ATOMIC_RELEASE);
    }
    if (p->method == CONC_START_FORKSERVER) {
        if (!fd_readable(p->pidfd)) return false;
        p->code = 255;
        return true;
    }
    siginfo_t si;
    si.si_pid = 0;
    if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0) {
        if (errno == EINTR) return false;
        /* ECHILD: someone else reaped it (a SIGCHLD handler calling waitpid(-1)). It has ended
         * once the pidfd says so; its status went to whoever reaped it. */
        if (!fd_readable(p->pidfd)) return false;
        p->code = 255;
        return true;
    }
    if (si.si_pid == 0) return false;
    p->code = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
    return true;
}

bool conc__proc_reap(conc_process_t *p) {
    if (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) return true;
    if (p->owner != conc__self_pid()) return false;
    pthread_mutex_lock(&p->mu);
    bool done = __atomic_load_n(&p->done, __ATOMIC_RELAXED);
    if (!done && try_reap(p)) {
        __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
        done = true;
    }
    pthread_mutex_unlock(&p->mu);
    return done;
}

int conc__poll_intr(int fd, double deadline) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = conc__wait_fds(&pfd, 1, deadline, true);
    return r > 0 ? 0 : r;
}

/* The fd that becomes readable when the child ends (or, forkserver, when its status is lost). */
static int end_fd(conc_process_t *p) {
    if (p->method == CONC_START_FORKSERVER && !__atomic_load_n(&p->lost, __ATOMIC_ACQUIRE))
        return p->status_fd;
    return p->pidfd;
}

int conc_process_join(conc_process_t *p, double timeout) {
    if (!p) return -EINVAL;
    double deadline = conc_deadline(timeout);
    for (;;) {
        if (conc__proc_reap(p)) return 0;
        if (p->owner != conc__self_pid()) return -ECHILD; /* Python: "can only join a child" */
        int r = conc__poll_intr(end_fd(p), deadline);
        if (r == -ETIMEDOUT) return conc__proc_reap(p) ? 0 : -ETIMEDOUT;
        if (r < 0) return r;
    }
}

int conc_process_exitcode(conc_process_t *p, int *code) {
    if (!p) return -EINVAL;
    if (!conc__proc_reap(p)) return p->owner != conc__self_pid() ? -ECHILD : -EAGAIN;
    if (code) *code = p->code;
    return 0;
}

bool conc_process_is_alive(conc_process_t *p) {
    return p && p->owner == conc__self_pid() && !conc__proc_reap(p);
}
