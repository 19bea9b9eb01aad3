/* The resource tracker, client side: each process that creates segments gets one tracker process,
 * started on its first conc_shm_create, which unlinks whatever that process created and did not
 * unlink, once the process is gone.
 *
 * Design (CPython: resource_tracker.py, one tracker per process tree, spawned as a fresh
 * interpreter, warning at exit):
 * - The tracker holds one end of a SOCK_SEQPACKET socketpair; the creator holds the other
 *   (close-on-exec, and closed in fork children by an atfork handler, so only the creator keeps it).
 *   Create sends "+name", unlink "-name": fixed-size records, one message each, atomic. When the
 *   creator dies - SIGKILL included - or exits or execs, the kernel closes its end and the tracker
 *   reads EOF: it unlinks every name still registered, silently, and exits. A creator that exits
 *   without unlinking therefore gets its segments removed, as in CPython, without the warning: a
 *   library does not print. Segments unlinked properly leave nothing for it to do.
 * - The tracker is forked, not exec'ed: conc cannot rely on an executable to exec (in a program that
 *   loads libconc.so, /proc/self/exe is someone else's). A fork of a threaded process may inherit
 *   locks held by threads that do not exist in the child, so the tracker runs only
 *   async-signal-safe code (raw syscalls on stack and mmap'ed memory; tracker_main.c), never malloc
 *   or stdio, and is forked with _Fork, which runs no atfork handlers (see fork_bare). The cost of not exec'ing: the tracker shares the creator's pages copy-on-write, so the
 *   creator's first write to each page afterwards copies it; the tracker is started once per process.
 * - It is forked twice (an intermediate child forks it and exits at once), so it is never this
 *   process's child: a program reaping every child with wait(-1) neither blocks on it nor reaps it
 *   by surprise. It calls setsid and ignores SIGINT/SIGTERM/SIGHUP, so a Ctrl+C to the terminal's
 *   process group kills the creator but not the tracker that must clean up after it.
 * - Each record carries the segment's device and inode: the tracker unlinks a name only while it
 *   still names the segment that was registered, never a later segment that reused the name.
 * - If the tracker was killed (send fails with EPIPE), the next create starts a new one; names
 *   registered with the dead one are no longer tracked. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../internal/shm.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;     /* our end, under mu */
static pid_t tracker_pid; /* for tests */
static int atfork_done;
static __thread int forking_tracker; /* our own fork: the atfork handlers stay out of it */

/* The tracker's forks skip every module's atfork handlers (_Fork): they are written for children
 * that go on to run conc - the signal module's, for one, starts a dispatcher thread in the child -
 * and the tracker runs none of it. Under ThreadSanitizer the runtime must see the fork (its own
 * locks are reset in its fork interceptor), so there it is a plain fork(), handlers and all. */
static pid_t fork_bare(void) {
#if defined(CONC_TSAN) || !defined(__GLIBC__) || !__GLIBC_PREREQ(2, 34)
    return fork();
#else
    return _Fork();
#endif
}

static void before_fork(void) {
    if (!forking_tracker) pthread_mutex_lock(&mu);
}
static void after_fork_parent(void) {
    if (!forking_tracker) pthread_mutex_unlock(&mu);
}
static void after_fork_child(void) {
    if (forking_tracker) return;
    /* The child is not the creator: it must not keep the parent's tracker from seeing EOF. */
    if (sock >= 0) close(sock);
    sock = -1;
    tracker_pid = 0;
    pthread_mutex_unlock(&mu);
}

static int start(void) {
    if (!atfork_done) {
        int r = pthread_atfork(before_fork, after_fork_parent, after_fork_child);
        if (r) return -r;
        atfork_done = 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    forking_tracker = 1;
    pid_t pid = fork_bare();
    if (pid == 0) {
        close(sv[1]);
        pid_t g = fork_bare();
        if (g == 0) conc__shm_tracker_main(sv[0]);
        _exit(0);
    }
    forking_tracker = 0;
    int e = errno;
    close(sv[0]);
    if (pid < 0) {
        close(sv[1]);
        return -e;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    /* The tracker sends its pid once it has closed every other inherited fd; EOF means the second
     * fork failed. */
    pid_t tp;
    ssize_t n;
    while ((n = recv(sv[1], &tp, sizeof tp, 0)) < 0 && errno == EINTR) {
    }
    if (n != sizeof tp) {
        close(sv[1]);
        return -EAGAIN;
    }
    sock = sv[1];
    tracker_pid = tp;
    return 0;
}

int conc__shm_track(char op, const conc_shm_t *s) {
    struct conc__shm_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.op = op;
    rec.dev = s->dev;
    rec.ino = s->ino;
    memcpy(rec.name, s->name, sizeof rec.name);
    pthread_mutex_lock(&mu);
    int r = 0;
    for (int tries = 0; tries < 2; tries++) {
        if (sock < 0) {
            if (op != '+') break; /* no tracker here: nothing registered to take back */
            r = start();
            if (r < 0) break;
        }
        ssize_t n;
        while ((n = send(sock, &rec, sizeof rec, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
        }
        if (n == (ssize_t)sizeof rec) {
            r = 0;
            break;
        }
        r = n < 0 ? -errno : -EIO;
        close(sock); /* the tracker died: start a new one for a '+' */
        sock = -1;
    }
    pthread_mutex_unlock(&mu);
    return r;
}

pid_t conc__shm_tracker_pid(void) {
    pthread_mutex_lock(&mu);
    pid_t p = sock >= 0 ? tracker_pid : 0;
    pthread_mutex_unlock(&mu);
    return p;
}
