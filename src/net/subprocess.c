/* Subprocesses on the loop (asyncio.create_subprocess_exec): pipes as streams, exit through a
 * pidfd.
 *
 * The child is started with posix_spawnp (glibc: clone(CLONE_VM|CLONE_VFORK), cheap even for a big
 * parent, and exec failures come back as its return value) with an empty signal mask, since the
 * loop's thread may block signals for its signalfd. The exit is watched through a pidfd in the
 * loop's epoll set, and reaped with waitid(P_PIDFD): no SIGCHLD handler, no child watcher thread
 * (asyncio needed both over the years), nothing shared with other code that waits for children.
 *
 * communicate runs the three transfers as tasks of their own (write stdin, read stdout, read
 * stderr) so none waits for another: the classic deadlock - the child blocked writing a full
 * stderr pipe while the parent blocks writing its stdin - cannot happen. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../internal/net.h"

extern char **environ;

struct conc_subprocess {
    conc_loop_t *loop;
    pid_t pid;
    int pidfd;
    bool exited;
    int returncode;
    conc_stream_t *io[3];
    conc_aevent_t done;
};

static void reap(conc_subprocess_t *p) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG);
    if (r == 0 && si.si_pid == 0) return; /* not yet (a spurious wake-up) */
    if (r < 0)
        p->returncode = 255; /* someone else reaped it: the status is lost (Python says 255) */
    else if (si.si_code == CLD_EXITED)
        p->returncode = si.si_status;
    else
        p->returncode = -si.si_status;
    p->exited = true;
    conc__loop_unwatch(p->loop, p->pidfd);
    conc_aevent_set(&p->done);
}

static void on_exit_fd(void *arg, int fd, unsigned events) {
    (void)fd;
    (void)events;
    reap(arg);
}

/* [0] the parent's end, [1] the child's; -1 when not a pipe */
static int make_pipe(int mode, bool child_reads, int ends[2]) {
    ends[0] = ends[1] = -1;
    if (mode != CONC_SUBPROCESS_PIPE) return 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return -errno;
    ends[0] = child_reads ? p[1] : p[0];
    ends[1] = child_reads ? p[0] : p[1];
    fcntl(ends[0], F_SETFL, O_NONBLOCK);
    return 0;
}

static int add_fd(posix_spawn_file_actions_t *fa, int child_fd, int mode, int fd, int pipe_end,
                  int flags) {
    switch (mode) {
    case CONC_SUBPROCESS_INHERIT: return 0;
    case CONC_SUBPROCESS_PIPE: return posix_spawn_file_actions_adddup2(fa, pipe_end, child_fd);
    case CONC_SUBPROCESS_DEVNULL:
        return posix_spawn_file_actions_addopen(fa, child_fd, "/dev/null", flags, 0);
    case CONC_SUBPROCESS_STDOUT:
        return child_fd == 2 ? posix_spawn_file_actions_adddup2(fa, 1, 2) : EINVAL;
    case CONC_SUBPROCESS_FD:
        if (fd < 0) return EBADF;
        return posix_spawn_file_actions_adddup2(fa, fd, child_fd);
    default: return EINVAL;
    }
}

int conc_subprocess_exec(const char *file, char *const argv[], const conc_subprocess_opts_t *opts,
                         conc_subprocess_t **out) {
    if (!out) return -EINVAL;
    *out = NULL;
    if (!file || !argv) return -EINVAL;
    conc_loop_t *loop = conc_loop_current();
    if (!loop) return -EPERM;
    conc_subprocess_opts_t o = opts ? *opts : (conc_subprocess_opts_t){0};
    if (!conc__net_of(loop)) return -ENOMEM;
    conc_subprocess_t *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->loop = loop;
    p->pidfd = -1;
    conc_aevent_init(&p->done);
    int ends[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    int modes[3] = {o.stdin_mode, o.stdout_mode, o.stderr_mode};
    int fds[3] = {o.stdin_fd, o.stdout_fd, o.stderr_fd};
    int r = 0;
    for (int i = 0; i < 3 && r == 0; i++) r = make_pipe(modes[i], i == 0, ends[i]);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    int flags[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
    for (int i = 0; i < 3 && r == 0; i++)
        r = -add_fd(&fa, i, modes[i], fds[i], ends[i][1], flags[i]);
    if (r == 0 && o.cwd) r = -posix_spawn_file_actions_addchdir_np(&fa, o.cwd);
    if (r == 0) r = -posix_spawnp(&p->pid, file, &fa, &attr, argv, o.env ? o.env : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 3; i++)
        if (ends[i][1] >= 0) close(ends[i][1]);
    if (r == 0) {
        p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
        if (p->pidfd < 0) {
            r = -errno;
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
        } else {
            fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
            r = conc__net_watch(loop, p->pidfd, CONC__IO_READ, on_exit_fd, p);
            if (r < 0) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, NULL, 0);
                close(p->pidfd);
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        if (ends[i][0] < 0) continue;
        if (r == 0)
            r = conc__stream_new(loop, ends[i][0], false, &p->io[i]); /* owns the fd either way */
        else
            close(ends[i][0]);
    }
    if (r < 0) {
        for (int i = 0; i < 3; i++)
            if (p->io[i]) conc_stream_abort(p->io[i]);
        if (p->pidfd >= 0 && !p->exited) {
            conc__loop_unwatch(loop, p->pidfd);
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
            close(p->pidfd);
        }
        free(p);
        return r;
    }
    *out = p;
    return 0;
}

pid_t conc_subprocess_pid(conc_subprocess_t *p) {
    return p ? p->pid : -1;
}

conc_stream_t *conc_subprocess_stdin(conc_subprocess_t *p) {
    if (!p) return NULL;
    if (p->io[0] && p->io[0]->user_closed) p->io[0] = NULL; /* the user closed it: gone */
    return p->io[0];
}

conc_stream_t *conc_subprocess_stdout(conc_subprocess_t *p) {
    return p ? p->io[1] : NULL;
}

conc_stream_t *conc_subprocess_stderr(conc_subprocess_t *p) {
    return p ? p->io[2] : NULL;
}

int conc_subprocess_returncode(conc_subprocess_t *p, int *rc) {
    if (!p) return -EINVAL;
    if (!p->exited) return -EAGAIN;
    if (rc) *rc = p->returncode;
    return 0;
}

int conc_subprocess_wait(conc_subprocess_t *p, int *rc) {
    if (!p) return -EINVAL;
    if (!p->exited) {
        int r = conc_aevent_wait(&p->done, -1);
        if (r < 0) return r;
    }
    return conc_subprocess_returncode(p, rc);
}

int conc_subprocess_send_signal(conc_subprocess_t *p, int signo) {
    if (!p) return -EINVAL;
    if (p->exited) return -ESRCH;
    return syscall(SYS_pidfd_send_signal, p->pidfd, signo, NULL, 0) < 0 ? -errno : 0;
}

int conc_subprocess_terminate(conc_subprocess_t *p) {
    return conc_subprocess_send_signal(p, SIGTERM);
}

int conc_subprocess_kill(conc_subprocess_t *p) {
    return conc_subprocess_send_signal(p, SIGKILL);
}

void conc_subprocess_free(conc_subprocess_t *p) {
    if (!p) return;
    conc_subprocess_stdin(p);
    for (int i = 0; i < 3; i++)
        if (p->io[i]) conc_stream_close(p->io[i]);
    if (!p->exited) conc__loop_unwatch(p->loop, p->pidfd);
    close(p->pidfd);
    free(p);
}

/* ---- communicate ---- */

struct feed {
    conc_subprocess_t *p;
    const void *input;
    size_t n;
};

static void *feed_main(void *arg) {
    struct feed *f = arg;
    conc_stream_t *s = conc_subprocess_stdin(f->p);
    if (!s) return NULL;
    /* a child that exits without reading all of it is not an error (BrokenPipe is ignored) */
    if (f->n && conc_stream_write(s, f->input, f->n) == 0) conc_stream_drain(s);
    f->p->io[0] = NULL;
    conc_stream_close(s); /* sends the rest in the background, then EOF */
    return NULL;
}

struct collect {
    conc_stream_t *s;
    char *buf;
    size_t len, cap;
};

static void *collect_main(void *arg) {
    struct collect *c = arg;
    for (;;) {
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 65536 + 1;
            char *b = realloc(c->buf, cap);
            if (!b) return conc_task_error(-ENOMEM);
            c->buf = b;
            c->cap = cap;
        }
        ssize_t n = conc_stream_read(c->s, c->buf + c->len, c->cap - c->len - 1);
        if (n == 0) break;
        if (n < 0) return conc_task_error((int)n);
        c->len += (size_t)n;
    }
    if (!c->buf && !(c->buf = malloc(1))) return conc_task_error(-ENOMEM);
    c->buf[c->len] = '\0';
    return NULL;
}

int conc_subprocess_communicate(conc_subprocess_t *p, const void *input, size_t n, char **out,
                                size_t *outlen, char **err, size_t *errlen) {
    if (out) *out = NULL;
    if (err) *err = NULL;
    if (outlen) *outlen = 0;
    if (errlen) *errlen = 0;
    if (!p || (!input && n)) return -EINVAL;
    if (!conc__net_task(p->loop)) return -EPERM;
    struct feed f = {p, input, n};
    struct collect c[2] = {{p->io[1], NULL, 0, 0}, {p->io[2], NULL, 0, 0}};
    conc_task_t *t[3] = {NULL, NULL, NULL};
    conc_future_t *fs[3];
    size_t nf = 0;
    int r = 0;
    if (conc_subprocess_stdin(p)) {
        t[0] = conc_task_spawn(p->loop, feed_main, &f, NULL);
        if (!t[0]) r = -ENOMEM;
    }
    for (int i = 0; i < 2 && r == 0; i++)
        if (c[i].s && !(t[i + 1] = conc_task_spawn(p->loop, collect_main, &c[i], NULL)))
            r = -ENOMEM;
    for (int i = 0; i < 3; i++)
        if (t[i]) fs[nf++] = conc_task_future(t[i]);
    if (r < 0) {
        for (int i = 0; i < 3; i++)
            if (t[i]) conc_task_cancel(t[i]);
    }
    /* every helper must be finished before this frame (which they point into) goes */
    int g = conc_gather(fs, nf, true);
    if (g == -ECANCELED) r = g;
    for (int i = 0; i < 2; i++) {
        void *v;
        int e = t[i + 1] ? conc_future_result(conc_task_future(t[i + 1]), &v) : 0;
        if (e < 0 && r == 0) r = e;
    }
    for (int i = 0; i < 3; i++) conc_task_release(t[i]);
    if (r == 0) r = conc_subprocess_wait(p, NULL);
    if (r < 0) {
        free(c[0].buf);
        free(c[1].buf);
        return r;
    }
    if (out) {
        *out = c[0].buf;
        if (outlen) *outlen = c[0].len;
    } else {
        free(c[0].buf);
    }
    if (err) {
        *err = c[1].buf;
        if (errlen) *errlen = c[1].len;
    } else {
        free(c[1].buf);
    }
    return 0;
}
