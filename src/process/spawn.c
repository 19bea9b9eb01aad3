/* The spawn start method (popen_spawn_posix.py): a fresh exec of this program that reads its
 * request over a socket.
 *
 * The child is started with exec.c's posix_spawn, holding its end of a socketpair as fd 3 and the
 * marker "spawn:<parent pid>"; conc_init in the child reads the request there (request.c). The
 * parent writes the request, then closes its end: what it wrote stays readable after the close.
 * Its sentinel is a pidfd opened before anyone could reap the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

int conc__start_spawn(conc_process_t *p, const conc__request_t *rq) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    char marker[64];
    snprintf(marker, sizeof marker, "spawn:%d", (int)getpid());
    pid_t pid;
    int r = conc__exec_self(&pid, sv[1], marker, NULL);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    int fd = conc__pidfd_open(pid);
    if (fd < 0) {
        close(sv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return fd;
    }
    p->pid = pid;
    p->pidfd = fd;
    r = conc__request_send(sv[0], rq);
    close(sv[0]);
    /* EPIPE: the child died before reading it all; it exists, and its status will say why. */
    if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
        conc__pidfd_signal(fd, SIGKILL);
        waitpid(pid, NULL, 0);
        return r;
    }
    return 0;
}
