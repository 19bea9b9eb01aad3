/* The fork start method (popen_fork.py): fork, run the target in the child, _exit.
 *
 * The child is a copy of the parent with only the calling thread; conc's own locks are reset by
 * the atfork handlers of each module (thread registry, ids, targets, children). It must not run the
 * parent's atexit handlers, so it ends with _exit after conc's own exit duties (request.c). stdout
 * and stderr are flushed before the fork, so nothing buffered is written twice. The objects handed
 * over are the parent's own: the child's memory is a copy, so their pointers are valid as they are.
 *
 * conc's threads block SIGINT, SIGTERM, SIGTSTP and SIGQUIT; a child forked from one of them would
 * keep them blocked in what is now its main thread, so the child unblocks them (a child of the main
 * thread keeps its mask, as in Python). The pidfd is opened
 * right after fork, before anyone can reap the child, so it always names this child.
 *
 * Cost: on a virtual machine each page a child (or its parent, while the child lives) writes
 * first is a copy-on-write fault, and faults are what a fork start costs beyond fork itself. So
 * the child writes as little as it can: no free, no flush of empty stdio buffers. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

static void unblock_async_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int conc__start_fork(conc_process_t *p, conc_target_fn fn, const void *arg, size_t len,
                     const conc_obj_t *pass, size_t n_pass, const char *identity) {
    conc__flush_std();
    pid_t parent = getpid();
    bool unblock = !conc__is_main_thread();
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        if (p->daemon) conc__die_with_parent(parent);
        if (unblock) unblock_async_signals();
        conc__proc_set_self(identity, p->name, p->daemon);
        conc__proc_set_passed(pass, n_pass);
        /* p is not on this copy of the list, so it is nobody's child here; it is left alone rather
         * than freed, since every page the child writes is a copy-on-write fault. */
        conc__child_exit_fork(fn(arg, len));
    }
    int fd = conc__pidfd_open(pid);
    if (fd < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return fd;
    }
    p->pid = pid;
    p->pidfd = fd;
    return 0;
}
